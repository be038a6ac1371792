//! dgramx-core: datagram sockets (udp4, udp6, Unix) on socket2 and mio.
//!
//! The crate is readiness-agnostic and knows nothing of JavaScript: sockets are non-blocking,
//! receives come in batches, sends that the kernel refuses with EAGAIN wait in an ordered queue,
//! and every failure is a [`SysError`] naming its errno and syscall. The Node binding
//! (`dgramx-node`) drives it from Node's event loop.

#![warn(missing_docs)]

pub mod addr;
#[cfg(unix)]
pub mod adopt;
pub mod cmsg;
pub mod error;
pub mod icmp;
pub mod meta;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod mmsg;
pub mod offload;
#[cfg(unix)]
pub mod pair;
pub mod reactor;
pub mod recv;
pub mod send_control;
pub mod send_queue;
pub mod sender;
pub mod socket;
#[cfg(unix)]
mod sys;
pub mod unix_file;

pub use addr::Endpoint;
pub use error::{SysError, SysResult};
pub use socket::{BindFlags, DgramSocket, Kind};
pub use socket2::SockAddr;

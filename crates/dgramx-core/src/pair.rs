//! Connected pairs of unnamed unix_dgram sockets (socketpair(2)), for `socketpair()`.
//!
//! Both ends are created close-on-exec (SOCK_CLOEXEC, or fcntl where the flag does not exist:
//! socket2 applies the same flags as for a new socket), so neither leaks into a child process
//! unless it is handed over on purpose (child_process stdio dup2()s it, which clears the flag).

use socket2::{Domain, Socket, Type};

use crate::error::{SysResult, Syscall};
use crate::socket::{DgramSocket, Kind};

impl DgramSocket {
    /// Two unix_dgram sockets connected to each other, non-blocking and close-on-exec.
    pub fn unix_pair() -> SysResult<(DgramSocket, DgramSocket)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::DGRAM, None).syscall("socketpair")?;
        a.set_nonblocking(true).syscall("socketpair")?;
        b.set_nonblocking(true).syscall("socketpair")?;
        Ok((
            DgramSocket::from_parts(a, Kind::Unix),
            DgramSocket::from_parts(b, Kind::Unix),
        ))
    }
}

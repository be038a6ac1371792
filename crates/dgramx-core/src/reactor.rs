//! Readiness through mio, in a form any event loop can drive.
//!
//! The reactor never blocks on its own: `poll_ready` asks mio for what is ready *now*. An owner
//! that has an event loop watches `fd()` (readable whenever some registered socket has news)
//! and calls `poll_ready` then. An owner without one (Windows, where mio's poller has no
//! descriptor) moves the reactor to a thread of its own that blocks in `wait_ready`, and
//! registers sockets from its own thread through a [`Registrar`].
//!
//! mio is edge-triggered, so a socket whose work was cut short by a budget is not reported
//! again by the kernel. `kick()` makes the reactor report itself ready once more so its owner
//! comes back.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::socket::DgramSocket;

const WAKER: Token = Token(usize::MAX);

/// One readiness event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// The token the socket was registered with.
    pub token: usize,
    /// The socket has datagrams to receive.
    pub readable: bool,
    /// The socket can take sends again.
    pub writable: bool,
}

/// A mio poll that the binding's reactor thread waits on.
pub struct Reactor {
    poll: Poll,
    events: Events,
    waker: Arc<Waker>,
}

/// Registers sockets and wakes the reactor from any thread, while the reactor itself may be
/// waiting on another.
pub struct Registrar {
    registry: Registry,
    waker: Arc<Waker>,
}

impl Reactor {
    /// A poll with its own event buffer.
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Reactor {
            poll,
            events: Events::with_capacity(256),
            waker,
        })
    }

    /// The descriptor to watch for readability (epoll/kqueue fd).
    #[cfg(unix)]
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.poll.as_raw_fd()
    }

    /// A handle that registers sockets with this poll from any thread.
    pub fn registrar(&self) -> io::Result<Registrar> {
        Ok(Registrar {
            registry: self.poll.registry().try_clone()?,
            waker: self.waker.clone(),
        })
    }

    /// What is ready right now, without blocking.
    pub fn poll_ready(&mut self, out: &mut Vec<Ready>) -> io::Result<()> {
        self.wait_ready(out, Some(Duration::ZERO)).map(|_| ())
    }

    /// Waits up to `timeout` for readiness (None waits forever). Returns whether the wait
    /// ended because of a `kick()`.
    pub fn wait_ready(
        &mut self,
        out: &mut Vec<Ready>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        loop {
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let mut kicked = false;
        for ev in self.events.iter() {
            if ev.token() == WAKER {
                kicked = true;
                continue;
            }
            out.push(Ready {
                token: ev.token().0,
                // Errors and hang-ups are surfaced by the next read, so treat them as readable.
                readable: ev.is_readable() || ev.is_error() || ev.is_read_closed(),
                writable: ev.is_writable() || ev.is_error(),
            });
        }
        Ok(kicked)
    }
}

impl Registrar {
    /// Makes `sock` report exactly `want` under `token`; `was` is what it reported before
    /// (None if not registered).
    pub fn set_interest(
        &self,
        sock: &mut DgramSocket,
        token: usize,
        was: Option<Interest>,
        want: Option<Interest>,
    ) -> io::Result<()> {
        sock.set_interest(&self.registry, token, was, want)
    }

    /// Makes the reactor report itself ready again (see the module notes).
    pub fn kick(&self) -> io::Result<()> {
        self.waker.wake()
    }
}

//! Readiness through mio, in a form any event loop can drive.
//!
//! The reactor never blocks on its own: `poll_ready` asks mio for what is ready *now*. An owner
//! that has an event loop watches `fd()` (readable whenever some registered socket has news)
//! and calls `poll_ready` then; tests call `wait_ready` with a timeout instead.
//!
//! mio is edge-triggered, so a socket whose work was cut short by a budget is not reported
//! again by the kernel. `kick()` makes `fd()` readable once more so its owner comes back.

use std::io;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token, Waker};

const WAKER: Token = Token(usize::MAX);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    pub token: usize,
    pub readable: bool,
    pub writable: bool,
}

pub struct Reactor {
    poll: Poll,
    events: Events,
    waker: Waker,
}

impl Reactor {
    pub fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
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

    /// Registers, re-registers or deregisters `fd` so that it reports exactly the given interest.
    /// `was` is what it reported before (None if not registered).
    #[cfg(unix)]
    pub fn set_interest(
        &self,
        fd: i32,
        token: usize,
        was: Option<Interest>,
        want: Option<Interest>,
    ) -> io::Result<()> {
        use mio::unix::SourceFd;
        let registry = self.poll.registry();
        match (was, want) {
            (None, None) => Ok(()),
            (None, Some(i)) => registry.register(&mut SourceFd(&fd), Token(token), i),
            (Some(_), Some(i)) => registry.reregister(&mut SourceFd(&fd), Token(token), i),
            (Some(_), None) => registry.deregister(&mut SourceFd(&fd)),
        }
    }

    /// Makes the reactor report itself ready again (see the module notes).
    pub fn kick(&self) -> io::Result<()> {
        self.waker.wake()
    }

    /// What is ready right now, without blocking.
    pub fn poll_ready(&mut self, out: &mut Vec<Ready>) -> io::Result<()> {
        self.wait_ready(out, Some(Duration::ZERO))
    }

    /// Waits up to `timeout` for readiness (None waits forever).
    pub fn wait_ready(
        &mut self,
        out: &mut Vec<Ready>,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        loop {
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        for ev in self.events.iter() {
            if ev.token() == WAKER {
                continue;
            }
            out.push(Ready {
                token: ev.token().0,
                // Errors and hang-ups are surfaced by the next read, so treat them as readable.
                readable: ev.is_readable() || ev.is_error() || ev.is_read_closed(),
                writable: ev.is_writable() || ev.is_error(),
            });
        }
        Ok(())
    }
}

//! The one owner of a socket's sends: whether a datagram goes out now or waits, how a burst
//! leaves (sendmmsg, GSO), and what each request's outcome is.
//!
//! Every send request gets its own outcome: sent (bytes), failed (its error), or queued under a
//! [`RequestId`] that its [`Completion`] carries later. Callers match completions to requests by
//! that id, never by position. "Something is queued for this destination, so queue behind it"
//! is decided here only, so datagrams to one destination leave in the order they were sent, and
//! a destination that cannot take more holds up only itself (see [`crate::send_queue`]).

use socket2::SockAddr;

use crate::error::{SysError, SysResult};
use crate::offload::{gso_run, gso_supported, gso_unavailable, send_gso_run, send_many, Outgoing};
use crate::send_queue::SendQueue;
pub use crate::send_queue::{Completion, Limit, QueueFull, QueueLimits, RequestId, Scope};
use crate::socket::DgramSocket;

/// What became of one send request.
#[derive(Debug)]
pub enum Outcome {
    /// The kernel took it whole: the bytes sent.
    Sent(usize),
    /// It waits in the queue; its completion will carry this id.
    Queued(RequestId),
    /// It failed on its own (the socket stays usable).
    Failed(SysError),
    /// It had to wait, but waiting would take the queue past a bound: nothing was queued.
    Refused(QueueFull),
}

/// What became of a request of several datagrams to one destination (sendMany, GSO segments).
#[derive(Debug, Default)]
pub struct ManyOutcome {
    /// Datagrams that went out at once, from the front.
    pub sent: usize,
    /// Bytes of those.
    pub bytes: usize,
    /// One id per datagram left waiting, in order.
    pub queued: Vec<RequestId>,
}

/// Whether UDP GSO works on this socket. Probed on first use; a send the path cannot segment
/// turns it off for good (the datagrams then leave by sendmmsg).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Gso {
    /// Not tried yet on this socket.
    #[default]
    Unprobed,
    /// The kernel segments for us.
    Available,
    /// Refused once; sends go one datagram each from then on.
    Unavailable,
}

/// A socket's send side. Holds no descriptor: every call is given the socket it sends on.
#[derive(Default)]
pub struct Sender {
    queue: SendQueue,
    limits: QueueLimits,
    gso: Gso,
    last_id: RequestId,
    /// IP_RECVERR is on: each send must retry past a reported ICMP error, which only the
    /// one-datagram path does, so bursts leave one by one.
    recv_err: bool,
}

impl Sender {
    /// A sender with nothing queued.
    pub fn new() -> Sender {
        Sender::default()
    }

    fn next_id(&mut self) -> RequestId {
        self.last_id += 1;
        self.last_id
    }

    /// Whether anything waits for the socket to turn writable.
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Bounds what may wait (checked for each datagram about to be queued by send, send_fds
    /// and send_with; the multi-datagram requests queue their rest whole).
    pub fn set_limits(&mut self, limits: QueueLimits) {
        self.limits = limits;
    }

    /// The bounds in force.
    pub fn limits(&self) -> QueueLimits {
        self.limits
    }

    /// Destinations with datagrams waiting.
    pub fn queued_destinations(&self) -> usize {
        self.queue.destinations()
    }

    /// Bytes waiting (64-bit: a queue may exceed 4 GiB).
    pub fn queued_bytes(&self) -> u64 {
        self.queue.bytes()
    }

    /// Datagrams waiting.
    pub fn queued_count(&self) -> u64 {
        self.queue.len()
    }

    /// What is known of UDP GSO on this socket.
    pub fn gso(&self) -> Gso {
        self.gso
    }

    /// Whether IP_RECVERR is on, so that a failed send is retried once after its ICMP error.
    pub fn recv_err(&self) -> bool {
        self.recv_err
    }

    /// Records that IP_RECVERR was turned on or off on the socket.
    pub fn set_recv_err(&mut self, on: bool) {
        self.recv_err = on;
    }

    /// Whether GSO can be used on `sock`, probing once.
    pub fn gso_available(&mut self, sock: &DgramSocket) -> bool {
        if self.gso == Gso::Unprobed {
            self.gso = if gso_supported(sock) {
                Gso::Available
            } else {
                Gso::Unavailable
            };
        }
        self.gso == Gso::Available
    }

    /// Sends one datagram now, or queues it behind earlier sends or a full buffer.
    pub fn send(&mut self, sock: &DgramSocket, data: &[u8], dest: Option<SockAddr>) -> Outcome {
        if !self.queue.has_waiting(dest.as_ref()) {
            match sock.send_to(data, dest.as_ref()) {
                Ok(n) => return Outcome::Sent(n),
                Err(e) if e.is_would_block() => {}
                Err(e) => return Outcome::Failed(e),
            }
        }
        if let Err(full) = self.queue.admit(dest.as_ref(), data.len(), &self.limits) {
            return Outcome::Refused(full);
        }
        let id = self.next_id();
        self.queue.push(id, data.to_vec(), dest);
        Outcome::Queued(id)
    }

    /// Like [`Sender::send`], passing `fds` (SCM_RIGHTS). The caller keeps its descriptors: a
    /// queued datagram carries our own duplicates.
    #[cfg(unix)]
    pub fn send_fds(
        &mut self,
        sock: &DgramSocket,
        data: &[u8],
        dest: Option<SockAddr>,
        fds: &[i32],
    ) -> Outcome {
        if !self.queue.has_waiting(dest.as_ref()) {
            match sock.send_with_fds(data, dest.as_ref(), fds) {
                Ok(n) => return Outcome::Sent(n),
                Err(e) if e.is_would_block() => {}
                Err(e) => return Outcome::Failed(e),
            }
        }
        if let Err(full) = self.queue.admit(dest.as_ref(), data.len(), &self.limits) {
            return Outcome::Refused(full);
        }
        let owned = match dup_all(fds) {
            Ok(owned) => owned,
            Err(e) => return Outcome::Failed(SysError::from_io(&e, "send")),
        };
        let id = self.next_id();
        self.queue.push_with_fds(id, data.to_vec(), dest, owned);
        Outcome::Queued(id)
    }

    /// Like [`Sender::send`], with a chosen source address, interface and/or TOS.
    pub fn send_with(
        &mut self,
        sock: &DgramSocket,
        data: &[u8],
        dest: Option<SockAddr>,
        opts: crate::send_control::SendOptions,
    ) -> Outcome {
        if !self.queue.has_waiting(dest.as_ref()) {
            match crate::send_control::send_with(sock, data, dest.as_ref(), &opts) {
                Ok(n) => return Outcome::Sent(n),
                Err(e) if e.is_would_block() => {}
                Err(e) => return Outcome::Failed(e),
            }
        }
        #[cfg(unix)]
        {
            if let Err(full) = self.queue.admit(dest.as_ref(), data.len(), &self.limits) {
                return Outcome::Refused(full);
            }
            let id = self.next_id();
            self.queue.push_with_options(id, data.to_vec(), dest, opts);
            Outcome::Queued(id)
        }
        // send_with never reports WouldBlock there: it is unavailable.
        #[cfg(not(unix))]
        {
            let _ = (dest, opts);
            Outcome::Failed(SysError::einval("send"))
        }
    }

    /// Sends `data` as datagrams of `segment` bytes (the last may be shorter) with one GSO
    /// syscall; what the kernel does not take waits as separate datagrams, each with its id.
    /// An immediate failure is returned as the error.
    pub fn send_segments(
        &mut self,
        sock: &DgramSocket,
        data: &[u8],
        segment: u16,
        dest: Option<SockAddr>,
    ) -> SysResult<ManyOutcome> {
        if segment == 0 {
            return Err(SysError::einval("send"));
        }
        if !self.queue.has_waiting(dest.as_ref()) {
            match crate::offload::send_segments(sock, data, segment, dest.as_ref()) {
                Ok(n) => {
                    return Ok(ManyOutcome {
                        sent: data.len().div_ceil(segment as usize),
                        bytes: n,
                        queued: Vec::new(),
                    })
                }
                Err(e) if e.is_would_block() => {}
                Err(e) => return Err(e),
            }
        }
        let mut out = ManyOutcome::default();
        for piece in data.chunks(segment as usize) {
            let id = self.next_id();
            self.queue.push(id, piece.to_vec(), dest.clone());
            out.queued.push(id);
        }
        Ok(out)
    }

    /// Sends several datagrams to one destination in as few syscalls as possible (sendmmsg;
    /// with `gso`, runs of equal-sized UDP datagrams as GSO super-datagrams). What the kernel
    /// does not take at once is queued in order. Only a failure of the first datagram is an
    /// error; after a later failure the rest is queued and completes (or fails) from the queue.
    pub fn send_many(
        &mut self,
        sock: &DgramSocket,
        datagrams: &[&[u8]],
        dest: Option<SockAddr>,
        gso: bool,
    ) -> SysResult<ManyOutcome> {
        let items: Vec<Outgoing<'_>> = datagrams
            .iter()
            .map(|d| Outgoing {
                data: d,
                dest: dest.as_ref(),
            })
            .collect();
        let mut use_gso = gso && self.gso_available(sock);
        let mut sent = 0usize;
        if !self.queue.has_waiting(dest.as_ref()) {
            while sent < items.len() {
                let run = if use_gso { gso_run(&items[sent..]) } else { 0 };
                let result = if run > 1 {
                    match send_gso_run(sock, &items[sent..sent + run]) {
                        Ok(_) => Ok(run),
                        Err(e) if gso_unavailable(&e) => {
                            // This path cannot segment: plain batches from now on.
                            self.gso = Gso::Unavailable;
                            use_gso = false;
                            continue;
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    send_many(sock, &items[sent..])
                };
                match result {
                    Ok(0) => break,
                    Ok(k) => sent += k,
                    Err(e) if e.is_would_block() => break,
                    Err(e) if sent == 0 => return Err(e),
                    Err(_) => break,
                }
            }
        }
        let mut out = ManyOutcome {
            sent,
            bytes: datagrams[..sent].iter().map(|d| d.len()).sum(),
            queued: Vec::with_capacity(datagrams.len() - sent),
        };
        for d in &datagrams[sent..] {
            let id = self.next_id();
            self.queue.push(id, d.to_vec(), dest.clone());
            out.queued.push(id);
        }
        Ok(out)
    }

    /// The sends of one burst, each with its own destination (or its own error, which fails
    /// only that datagram), in as few syscalls as possible. Each gets the outcome it would
    /// have had if sent alone and in order.
    pub fn send_batch(
        &mut self,
        sock: &DgramSocket,
        datagrams: &[&[u8]],
        dests: &[SysResult<Option<SockAddr>>],
    ) -> Vec<Outcome> {
        let n = datagrams.len();
        debug_assert_eq!(n, dests.len());
        // Filled strictly in order: `outcomes.len()` is the next datagram to decide.
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(n);
        let one_by_one = n == 1 || self.recv_err;
        // IP destinations only (the caller is UDP's tick batch): they share one lane, so
        // "anything queued" is "queued for them".
        while outcomes.len() < n && self.queue.is_empty() {
            let next = outcomes.len();
            let dest = match &dests[next] {
                Ok(d) => d.as_ref(),
                Err(e) => {
                    outcomes.push(Outcome::Failed(e.clone()));
                    continue;
                }
            };
            let result = if one_by_one {
                sock.send_to(datagrams[next], dest).map(|_| 1)
            } else {
                // The run of datagrams up to the next bad destination.
                let run: Vec<Outgoing<'_>> = (next..n)
                    .map_while(|j| {
                        dests[j].as_ref().ok().map(|d| Outgoing {
                            data: datagrams[j],
                            dest: d.as_ref(),
                        })
                    })
                    .collect();
                send_many(sock, &run)
            };
            match result {
                Ok(0) => break,
                Ok(k) => {
                    let taken = datagrams[next..next + k].iter();
                    outcomes.extend(taken.map(|d| Outcome::Sent(d.len())));
                }
                Err(e) if e.is_would_block() => break,
                // sendmmsg reports an error only for its first datagram: that one failed.
                Err(e) => outcomes.push(Outcome::Failed(e)),
            }
        }
        for j in outcomes.len()..n {
            outcomes.push(match &dests[j] {
                Ok(d) => {
                    let id = self.next_id();
                    self.queue.push(id, datagrams[j].to_vec(), d.clone());
                    Outcome::Queued(id)
                }
                Err(e) => Outcome::Failed(e.clone()),
            });
        }
        outcomes
    }

    /// Sends what the kernel will take now, appending one completion per finished request;
    /// destinations take turns, and one the kernel refuses waits for the next flush while the
    /// others go on. Returns true once nothing is left waiting.
    pub fn flush(&mut self, sock: &DgramSocket, out: &mut Vec<Completion>) -> bool {
        self.queue.flush(sock, out)
    }

    /// Drops everything waiting (the socket is closing); returns the dropped requests' ids.
    pub fn clear(&mut self) -> Vec<RequestId> {
        self.queue.clear()
    }
}

/// Our own close-on-exec duplicates, so a queued datagram still carries the descriptors even
/// if the caller closes its copies before the queue drains.
#[cfg(unix)]
fn dup_all(fds: &[i32]) -> std::io::Result<Vec<std::os::fd::OwnedFd>> {
    use std::os::fd::BorrowedFd;
    fds.iter()
        .map(|&fd| {
            if fd < 0 {
                return Err(std::io::Error::from_raw_os_error(libc::EBADF));
            }
            // SAFETY: the caller vouches that fd is open for the duration of this call.
            unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()
        })
        .collect()
}

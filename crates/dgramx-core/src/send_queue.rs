//! Sends the kernel could not take yet, kept in order until the socket turns writable.
//!
//! Order is the promise: once anything is queued, later sends queue behind it, so datagrams
//! leave in the order they were sent and none is dropped because a buffer was full.

use std::collections::VecDeque;

use socket2::SockAddr;

use crate::error::SysResult;
use crate::socket::DgramSocket;

/// Names one queued datagram from the moment it is queued until its completion is reported.
pub type RequestId = u64;

/// A queued datagram's result, reported under the id it was queued with.
#[derive(Debug)]
pub struct Completion {
    /// The request this outcome belongs to.
    pub id: RequestId,
    /// The bytes sent, or why the send failed.
    pub result: SysResult<usize>,
}

struct Pending {
    id: RequestId,
    data: Vec<u8>,
    dest: Option<SockAddr>,
    /// Our own duplicates of descriptors to pass, closed once sent or dropped.
    #[cfg(unix)]
    fds: Vec<std::os::fd::OwnedFd>,
    /// Per-send source/interface/TOS, kept so a queued datagram leaves as it was asked to.
    #[cfg(unix)]
    opts: Option<Box<crate::send_control::SendOptions>>,
}

/// Datagrams the kernel refused with EAGAIN, in the order they were asked for.
#[derive(Default)]
pub struct SendQueue {
    items: VecDeque<Pending>,
    /// 64-bit on every target: a queue may hold more than 4 GiB.
    bytes: u64,
}

impl SendQueue {
    /// An empty queue.
    pub fn new() -> SendQueue {
        SendQueue::default()
    }

    /// Queues a copy of a datagram behind the ones already waiting.
    pub fn push(&mut self, id: RequestId, data: Vec<u8>, dest: Option<SockAddr>) {
        self.bytes += data.len() as u64;
        self.items.push_back(Pending {
            id,
            data,
            dest,
            #[cfg(unix)]
            fds: Vec::new(),
            #[cfg(unix)]
            opts: None,
        });
    }

    /// Queues a datagram with per-send options.
    #[cfg(unix)]
    pub fn push_with_options(
        &mut self,
        id: RequestId,
        data: Vec<u8>,
        dest: Option<SockAddr>,
        opts: crate::send_control::SendOptions,
    ) {
        self.bytes += data.len() as u64;
        self.items.push_back(Pending {
            id,
            data,
            dest,
            fds: Vec::new(),
            opts: Some(Box::new(opts)),
        });
    }

    /// Queues a datagram that carries descriptors (already duplicated by the caller).
    #[cfg(unix)]
    pub fn push_with_fds(
        &mut self,
        id: RequestId,
        data: Vec<u8>,
        dest: Option<SockAddr>,
        fds: Vec<std::os::fd::OwnedFd>,
    ) {
        self.bytes += data.len() as u64;
        self.items.push_back(Pending {
            id,
            data,
            dest,
            fds,
            opts: None,
        });
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Datagrams waiting.
    pub fn len(&self) -> u64 {
        self.items.len() as u64
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Sends from the front until the kernel pushes back, appending one completion per finished
    /// datagram (bytes sent, or the error that ended it). Returns true once the queue is empty.
    /// Runs of plain datagrams go out in batches (sendmmsg where the platform has it).
    pub fn flush(&mut self, sock: &DgramSocket, results: &mut Vec<Completion>) -> bool {
        while !self.items.is_empty() {
            let sent = self.send_front_batch(sock);
            for _ in 0..sent {
                if let Some(p) = self.items.pop_front() {
                    self.bytes -= p.data.len() as u64;
                    results.push(Completion {
                        id: p.id,
                        result: Ok(p.data.len()),
                    });
                }
            }
            if sent > 0 {
                continue;
            }
            // The front datagram alone: its own error, or the kernel pushing back.
            let Some(front) = self.items.front() else {
                break;
            };
            match send_one(sock, front) {
                Err(e) if e.is_would_block() => return false,
                result => {
                    self.bytes -= front.data.len() as u64;
                    let id = front.id;
                    self.items.pop_front();
                    results.push(Completion { id, result });
                }
            }
        }
        true
    }

    /// Sends the longest run of descriptor-free datagrams at the front in one batch; returns
    /// how many the kernel took (0 when it took none or the front carries descriptors).
    #[cfg(unix)]
    fn send_front_batch(&self, sock: &DgramSocket) -> usize {
        use crate::offload::{send_many, Outgoing, SEND_BATCH};
        let run: Vec<Outgoing<'_>> = self
            .items
            .iter()
            .take(SEND_BATCH)
            .take_while(|p| p.fds.is_empty() && p.opts.is_none())
            .map(|p| Outgoing {
                data: &p.data,
                dest: p.dest.as_ref(),
            })
            .collect();
        if run.len() < 2 {
            return 0;
        }
        send_many(sock, &run).unwrap_or(0)
    }

    #[cfg(not(unix))]
    fn send_front_batch(&self, _sock: &DgramSocket) -> usize {
        0
    }

    /// Drops everything queued (the socket is closing); returns the dropped requests' ids.
    pub fn clear(&mut self) -> Vec<RequestId> {
        let ids = self.items.iter().map(|p| p.id).collect();
        self.items.clear();
        self.bytes = 0;
        ids
    }
}

#[cfg(unix)]
fn send_one(sock: &DgramSocket, p: &Pending) -> SysResult<usize> {
    use std::os::fd::AsRawFd;
    if let Some(opts) = &p.opts {
        return crate::send_control::send_with(sock, &p.data, p.dest.as_ref(), opts);
    }
    if p.fds.is_empty() {
        return sock.send_to(&p.data, p.dest.as_ref());
    }
    let raw: Vec<i32> = p.fds.iter().map(|f| f.as_raw_fd()).collect();
    sock.send_with_fds(&p.data, p.dest.as_ref(), &raw)
}

#[cfg(not(unix))]
fn send_one(sock: &DgramSocket, p: &Pending) -> SysResult<usize> {
    sock.send_to(&p.data, p.dest.as_ref())
}

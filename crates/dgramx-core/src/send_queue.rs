//! Sends the kernel could not take yet, kept per destination until they can leave.
//!
//! Why per destination: on an unconnected unix_dgram socket, EAGAIN means that one receiver's
//! queue is full, not that our socket is. One FIFO for all destinations would let a single peer
//! that stopped reading hold up every reply to every other peer. So each unix destination waits
//! in its own lane: a refused lane is parked for the rest of that flush while the others go on.
//!
//! UDP (and every connected socket, which has one destination) keeps one shared lane: there
//! EAGAIN is about our own socket's send buffer, which every destination shares, so sending to
//! another address after a refusal could only be refused too (and would reorder for nothing).
//!
//! Order is the promise within a lane: once a destination has anything queued, later sends to
//! it queue behind, so its datagrams leave in the order they were sent and none is dropped
//! because a buffer was full. Between destinations there is no order to keep.

use std::collections::{HashMap, VecDeque};

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

/// A bound on waiting datagrams (64-bit on every target: a queue may hold more than 4 GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Datagrams that may wait.
    pub datagrams: u64,
    /// Bytes that may wait.
    pub bytes: u64,
}

impl Limit {
    /// No bound at all.
    pub const UNBOUNDED: Limit = Limit {
        datagrams: u64::MAX,
        bytes: u64::MAX,
    };

    /// Whether this is no bound at all.
    pub fn is_unbounded(&self) -> bool {
        *self == Limit::UNBOUNDED
    }
}

/// How much may wait: per destination, and for the whole socket.
///
/// The policy (documented in docs/unix-dgram.md): a send to a destination with nothing waiting
/// is always tried on the kernel first. A datagram that has to wait is refused (nothing is
/// queued, the queue is unchanged) if it would take its destination's lane past
/// `per_destination` or the socket past `total`, except that an empty lane (or an empty
/// queue) always takes one datagram, so a datagram larger than a byte bound can still wait
/// alone. Each bound is therefore exceeded by at most that one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// What one destination's queue may hold.
    pub per_destination: Limit,
    /// What the socket's queues may hold together.
    pub total: Limit,
}

impl QueueLimits {
    /// No bound (UDP, as node:dgram: libuv's queue has none either).
    pub const UNBOUNDED: QueueLimits = QueueLimits {
        per_destination: Limit::UNBOUNDED,
        total: Limit::UNBOUNDED,
    };

    /// unix_dgram's default: a peer that stops reading can hold at most 16,384 datagrams or
    /// 16 MiB of ours, and all peers together 65,536 datagrams or 64 MiB. Room for a burst of
    /// sends written as a plain loop (a receiver's own queue, net.unix.max_dgram_qlen, holds
    /// only 10 by default, so a burst waits almost whole), far below what exhausts a server's
    /// memory.
    pub const UNIX_DEFAULT: QueueLimits = QueueLimits {
        per_destination: Limit {
            datagrams: 16384,
            bytes: 16 << 20,
        },
        total: Limit {
            datagrams: 65536,
            bytes: 64 << 20,
        },
    };
}

impl Default for QueueLimits {
    fn default() -> QueueLimits {
        QueueLimits::UNBOUNDED
    }
}

/// Which bound refused a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The destination's own lane is full.
    Destination,
    /// The socket's whole queue is full.
    Socket,
}

/// A datagram refused because it would take the queue past a bound. Nothing was queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueFull {
    /// Which bound refused it.
    pub scope: Scope,
    /// Datagrams waiting in that scope.
    pub datagrams: u64,
    /// Bytes waiting in that scope.
    pub bytes: u64,
    /// The bound that refused it.
    pub limit: Limit,
}

/// The lane a datagram waits in: unix destinations each have their own; everything else
/// (IP destinations, the connected peer) shares one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LaneKey {
    Shared,
    Unix(Box<[u8]>),
}

impl LaneKey {
    fn of(dest: Option<&SockAddr>) -> LaneKey {
        match dest {
            Some(a) if a.as_socket().is_none() => {
                // SAFETY: as_ptr points at the address's storage, valid for len() bytes.
                let raw = unsafe {
                    std::slice::from_raw_parts(a.as_ptr() as *const u8, a.len() as usize)
                };
                LaneKey::Unix(raw.into())
            }
            _ => LaneKey::Shared,
        }
    }
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

#[derive(Default)]
struct Lane {
    items: VecDeque<Pending>,
    bytes: u64,
}

/// How a lane's turn in a flush ended.
enum Turn {
    /// Nothing left in it.
    Empty,
    /// It used its share; more waits.
    More,
    /// The kernel refused its front datagram: parked until the next flush.
    Refused,
}

/// The most datagrams one lane sends before the next lane's turn: one sendmmsg batch.
const QUANTUM: usize = crate::offload::SEND_BATCH;

/// Datagrams the kernel refused with EAGAIN, one lane per unix destination (see the module
/// doc), each in the order they were asked for.
#[derive(Default)]
pub struct SendQueue {
    lanes: HashMap<LaneKey, Lane>,
    /// Lanes with datagrams waiting, in the order the next flush visits them. Each lane is
    /// here exactly once while it has datagrams, and removed (with its map entry) once empty,
    /// so memory follows what waits, not how many peers were ever seen.
    ring: VecDeque<LaneKey>,
    len: u64,
    bytes: u64,
}

impl SendQueue {
    /// An empty queue.
    pub fn new() -> SendQueue {
        SendQueue::default()
    }

    /// Whether a send to `dest` has to queue behind earlier ones.
    pub fn has_waiting(&self, dest: Option<&SockAddr>) -> bool {
        !self.lanes.is_empty() && self.lanes.contains_key(&LaneKey::of(dest))
    }

    /// Whether a datagram of `len` bytes to `dest` may wait, under `limits`.
    pub fn admit(
        &self,
        dest: Option<&SockAddr>,
        len: usize,
        limits: &QueueLimits,
    ) -> Result<(), QueueFull> {
        let len = len as u64;
        let over = |count: u64, bytes: u64, limit: &Limit| {
            count > 0
                && (count.saturating_add(1) > limit.datagrams
                    || bytes.saturating_add(len) > limit.bytes)
        };
        let lane = self.lanes.get(&LaneKey::of(dest));
        let (lane_count, lane_bytes) = lane.map_or((0, 0), |l| (l.items.len() as u64, l.bytes));
        if over(lane_count, lane_bytes, &limits.per_destination) {
            return Err(QueueFull {
                scope: Scope::Destination,
                datagrams: lane_count,
                bytes: lane_bytes,
                limit: limits.per_destination,
            });
        }
        if over(self.len, self.bytes, &limits.total) {
            return Err(QueueFull {
                scope: Scope::Socket,
                datagrams: self.len,
                bytes: self.bytes,
                limit: limits.total,
            });
        }
        Ok(())
    }

    /// Queues a copy of a datagram behind the ones already waiting for its destination.
    pub fn push(&mut self, id: RequestId, data: Vec<u8>, dest: Option<SockAddr>) {
        self.push_pending(Pending {
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
        self.push_pending(Pending {
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
        self.push_pending(Pending {
            id,
            data,
            dest,
            fds,
            opts: None,
        });
    }

    fn push_pending(&mut self, p: Pending) {
        let key = LaneKey::of(p.dest.as_ref());
        let size = p.data.len() as u64;
        let lane = match self.lanes.get_mut(&key) {
            Some(lane) => lane,
            None => {
                self.ring.push_back(key.clone());
                self.lanes.entry(key).or_default()
            }
        };
        lane.bytes += size;
        lane.items.push_back(p);
        self.len += 1;
        self.bytes += size;
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Datagrams waiting.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Destinations with datagrams waiting (the shared lane counts as one).
    pub fn destinations(&self) -> usize {
        self.lanes.len()
    }

    /// Sends what the kernel takes, appending one completion per finished datagram (bytes
    /// sent, or the error that ended it). Returns true once the queue is empty.
    ///
    /// Lanes take turns of at most [`QUANTUM`] datagrams, round-robin, so one busy destination
    /// cannot starve the others. A lane the kernel refuses is not tried again in this flush
    /// (no busy loop: the caller retries on the next writable event or timer tick); the lanes
    /// refused keep their relative order so the next flush starts with them in turn.
    pub fn flush(&mut self, sock: &DgramSocket, results: &mut Vec<Completion>) -> bool {
        let mut refused = VecDeque::new();
        while let Some(key) = self.ring.pop_front() {
            let Some(lane) = self.lanes.get_mut(&key) else {
                continue;
            };
            let (len, bytes) = (lane.items.len() as u64, lane.bytes);
            let turn = lane.take_turn(sock, results);
            self.len -= len - lane.items.len() as u64;
            self.bytes -= bytes - lane.bytes;
            match turn {
                Turn::Empty => {
                    self.lanes.remove(&key);
                }
                Turn::More => self.ring.push_back(key),
                Turn::Refused => refused.push_back(key),
            }
        }
        self.ring = refused;
        self.is_empty()
    }

    /// Drops everything queued (the socket is closing); returns the dropped requests' ids, in
    /// the order the lanes would have sent them.
    pub fn clear(&mut self) -> Vec<RequestId> {
        let mut ids = Vec::with_capacity(self.len as usize);
        for key in self.ring.drain(..) {
            if let Some(lane) = self.lanes.remove(&key) {
                ids.extend(lane.items.iter().map(|p| p.id));
            }
        }
        // Every lane is on the ring; this only guards the invariant.
        for (_, lane) in self.lanes.drain() {
            ids.extend(lane.items.iter().map(|p| p.id));
        }
        self.len = 0;
        self.bytes = 0;
        ids
    }
}

impl Lane {
    /// Sends from the front until the lane is empty, its quantum is used or the kernel pushes
    /// back. Runs of plain datagrams go out in batches (sendmmsg where the platform has it).
    fn take_turn(&mut self, sock: &DgramSocket, results: &mut Vec<Completion>) -> Turn {
        let mut done = 0usize;
        while !self.items.is_empty() {
            if done >= QUANTUM {
                return Turn::More;
            }
            let sent = match self.send_front_batch(sock, QUANTUM - done) {
                Ok(sent) => sent,
                // The kernel refused the batch's first datagram: trying it again alone would
                // only be refused too (one wasted syscall per retry of a stuck peer).
                Err(e) if e.is_would_block() => return Turn::Refused,
                // Its own error: the one-datagram path below reports it (and retries past a
                // reported ICMP error where IP_RECVERR is on).
                Err(_) => 0,
            };
            for _ in 0..sent {
                if let Some(p) = self.items.pop_front() {
                    self.bytes -= p.data.len() as u64;
                    results.push(Completion {
                        id: p.id,
                        result: Ok(p.data.len()),
                    });
                }
            }
            done += sent;
            if sent > 0 {
                continue;
            }
            // The front datagram alone: its own error, or the kernel pushing back.
            let Some(front) = self.items.front() else {
                break;
            };
            match send_one(sock, front) {
                Err(e) if e.is_would_block() => return Turn::Refused,
                result => {
                    self.bytes -= front.data.len() as u64;
                    let id = front.id;
                    self.items.pop_front();
                    results.push(Completion { id, result });
                    done += 1;
                }
            }
        }
        Turn::Empty
    }

    /// Sends the longest run (at most `max`) of descriptor-free datagrams at the front in one
    /// batch; returns how many the kernel took (0 when there is no run of two: the front
    /// carries descriptors or options, or waits alone), or the error of the run's first.
    #[cfg(unix)]
    fn send_front_batch(&self, sock: &DgramSocket, max: usize) -> SysResult<usize> {
        use crate::offload::{send_many, Outgoing};
        let run: Vec<Outgoing<'_>> = self
            .items
            .iter()
            .take(max)
            .take_while(|p| p.fds.is_empty() && p.opts.is_none())
            .map(|p| Outgoing {
                data: &p.data,
                dest: p.dest.as_ref(),
            })
            .collect();
        if run.len() < 2 {
            return Ok(0);
        }
        send_many(sock, &run)
    }

    #[cfg(not(unix))]
    fn send_front_batch(&self, _sock: &DgramSocket, _max: usize) -> SysResult<usize> {
        Ok(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(path: &str) -> SockAddr {
        SockAddr::unix(path).unwrap()
    }

    #[test]
    fn unix_destinations_get_their_own_lanes_and_ip_shares_one() {
        let mut q = SendQueue::new();
        q.push(1, vec![0; 3], Some(unix("/a")));
        q.push(2, vec![0; 5], Some(unix("/b")));
        q.push(3, vec![0; 7], Some(unix("/a")));
        q.push(
            4,
            vec![0; 1],
            Some(
                "127.0.0.1:9"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            ),
        );
        q.push(
            5,
            vec![0; 1],
            Some(
                "127.0.0.2:9"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            ),
        );
        q.push(6, vec![0; 1], None);
        assert_eq!(q.destinations(), 3, "/a, /b and the shared lane");
        assert_eq!((q.len(), q.bytes()), (6, 18));
        assert!(q.has_waiting(Some(&unix("/a"))));
        assert!(!q.has_waiting(Some(&unix("/c"))));
        assert!(q.has_waiting(None));
        // Lanes in the order they first waited; each lane's datagrams in send order.
        assert_eq!(q.clear(), vec![1, 3, 2, 4, 5, 6]);
        assert_eq!((q.len(), q.bytes(), q.destinations()), (0, 0, 0));
    }

    #[test]
    fn admission_checks_the_lane_then_the_socket() {
        let limits = QueueLimits {
            per_destination: Limit {
                datagrams: 2,
                bytes: 100,
            },
            total: Limit {
                datagrams: 3,
                bytes: 1000,
            },
        };
        let mut q = SendQueue::new();
        // An empty lane in an empty queue takes anything, even past the byte bounds.
        assert_eq!(q.admit(Some(&unix("/a")), 5000, &limits), Ok(()));
        q.push(1, vec![0; 10], Some(unix("/a")));
        q.push(2, vec![0; 10], Some(unix("/a")));
        let full = q.admit(Some(&unix("/a")), 1, &limits).unwrap_err();
        assert_eq!(full.scope, Scope::Destination);
        assert_eq!((full.datagrams, full.bytes), (2, 20));
        // Another destination is not held up by /a's bound.
        assert_eq!(q.admit(Some(&unix("/b")), 1, &limits), Ok(()));
        q.push(3, vec![0; 10], Some(unix("/b")));
        // Now the socket's bound: three datagrams wait in all.
        let full = q.admit(Some(&unix("/c")), 1, &limits).unwrap_err();
        assert_eq!(full.scope, Scope::Socket);
        assert_eq!((full.datagrams, full.bytes), (3, 30));
        // A byte bound refuses too.
        let mut q = SendQueue::new();
        q.push(1, vec![0; 90], Some(unix("/a")));
        assert_eq!(
            q.admit(Some(&unix("/a")), 11, &limits).unwrap_err().scope,
            Scope::Destination
        );
        assert_eq!(q.admit(Some(&unix("/a")), 10, &limits), Ok(()));
    }

    #[test]
    fn counts_are_64_bit() {
        let limits = QueueLimits {
            per_destination: Limit::UNBOUNDED,
            total: Limit {
                datagrams: u64::MAX,
                bytes: 5 << 30,
            },
        };
        let mut q = SendQueue::new();
        q.push(1, Vec::new(), None);
        q.bytes = 5 << 30;
        assert_eq!(q.admit(None, 1, &limits).unwrap_err().scope, Scope::Socket);
        assert_eq!(q.admit(None, 0, &limits), Ok(()));
    }
}

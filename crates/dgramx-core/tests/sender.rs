//! The core sender without Node: every request gets its own outcome, and queued requests
//! complete under the id they were queued with (never by position).
#![cfg(unix)]

use dgramx_core::recv::{recv_batch, RecvArena};
use dgramx_core::sender::{Completion, Outcome, Sender};
use dgramx_core::{DgramSocket, Kind};

struct Pair {
    dir: std::path::PathBuf,
    rx: DgramSocket,
    tx: DgramSocket,
}

impl Drop for Pair {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// A connected unix_dgram pair in a fresh temp dir.
fn pair(name: &str) -> Pair {
    let dir = std::env::temp_dir().join(format!("dgramx-sender-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rx.sock");
    let rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(path.to_str().unwrap().as_bytes()).unwrap();
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    tx.connect_unix(path.to_str().unwrap().as_bytes()).unwrap();
    Pair { dir, rx, tx }
}

/// Sends until the peer's queue is full and the sender holds one queued datagram (bounded).
fn fill(sender: &mut Sender, tx: &DgramSocket) -> Vec<u64> {
    for _ in 0..100_000 {
        if let Outcome::Queued(id) = sender.send(tx, b"fill", None) {
            return vec![id];
        }
    }
    panic!("the peer never pushed back");
}

/// Receives and flushes until nothing is queued (bounded); returns the completions.
fn drain(sender: &mut Sender, p: &Pair) -> Vec<Completion> {
    let mut arena = RecvArena::new();
    arena.reserve(64, 64);
    let mut done = Vec::new();
    for _ in 0..100_000 {
        let _ = recv_batch(&p.rx, &mut arena, false, |_| {});
        if sender.flush(&p.tx, &mut done) {
            return done;
        }
    }
    panic!("the queue never drained");
}

#[test]
fn queued_gso_segments_complete_by_their_own_ids() {
    let p = pair("segments");
    let mut sender = Sender::new();
    let mut expected = fill(&mut sender, &p.tx);
    // Behind a queue, a GSO request is queued as its segments, each with its own id.
    let out = sender.send_segments(&p.tx, b"0123456789", 4, None).unwrap();
    assert_eq!(out.sent, 0);
    assert_eq!(out.queued.len(), 3, "three segments: 4 + 4 + 2 bytes");
    expected.extend(&out.queued);
    let many = sender
        .send_many(&p.tx, &[b"ab".as_slice(), b"cde".as_slice()], None, false)
        .unwrap();
    assert_eq!(many.queued.len(), 2);
    expected.extend(&many.queued);
    let mut unique = expected.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), expected.len(), "ids are never reused");

    let done = drain(&mut sender, &p);
    let got: Vec<u64> = done.iter().map(|c| c.id).collect();
    assert_eq!(got, expected);
    let bytes: Vec<usize> = done.iter().map(|c| *c.result.as_ref().unwrap()).collect();
    assert_eq!(bytes, [4, 4, 4, 2, 2, 3]);
    assert_eq!(sender.queued_bytes(), 0);
    assert_eq!(sender.queued_count(), 0);
}

#[test]
fn clear_reports_exactly_the_requests_that_never_left() {
    let p = pair("clear");
    let mut sender = Sender::new();
    let first = fill(&mut sender, &p.tx);
    let mut queued = first.clone();
    for i in 0u8..5 {
        match sender.send(&p.tx, &[i], None) {
            Outcome::Queued(id) => queued.push(id),
            other => panic!("behind a queue every send queues: {other:?}"),
        }
    }
    assert_eq!(sender.queued_count(), 6);
    assert_eq!(sender.queued_bytes(), 4 + 5);
    // Let the kernel take some of them, then close.
    let mut arena = RecvArena::new();
    arena.reserve(2, 64);
    let _ = recv_batch(&p.rx, &mut arena, false, |_| {});
    let mut done = Vec::new();
    sender.flush(&p.tx, &mut done);
    let dropped = sender.clear();
    let mut all: Vec<u64> = done.iter().map(|c| c.id).chain(dropped).collect();
    all.sort();
    assert_eq!(
        all, queued,
        "each request is completed or dropped, exactly once"
    );
    assert!(!sender.has_queued());
}

#[test]
fn a_failed_request_fails_alone() {
    let p = pair("failed");
    let mut sender = Sender::new();
    let outcomes = sender.send_batch(
        &p.tx,
        &[b"a".as_slice(), b"b".as_slice(), b"c".as_slice()],
        &[
            Ok(None),
            Err(dgramx_core::SysError::einval("send")),
            Ok(None),
        ],
    );
    assert!(matches!(outcomes[0], Outcome::Sent(1)));
    assert!(matches!(&outcomes[1], Outcome::Failed(e) if e.code == "EINVAL"));
    assert!(matches!(outcomes[2], Outcome::Sent(1)));
}

/// An unconnected sender and two receivers, A and B, in a fresh temp dir.
struct Fan {
    dir: std::path::PathBuf,
    tx: DgramSocket,
    a: DgramSocket,
    b: DgramSocket,
    to_a: dgramx_core::SockAddr,
    to_b: dgramx_core::SockAddr,
}

impl Drop for Fan {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn fan(name: &str) -> Fan {
    let dir = std::env::temp_dir().join(format!("dgramx-fan-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bind = |n: &str| {
        let path = dir.join(n);
        let s = DgramSocket::new(Kind::Unix).unwrap();
        s.bind_unix(path.to_str().unwrap().as_bytes()).unwrap();
        let to =
            dgramx_core::addr::unix_sockaddr(path.to_str().unwrap().as_bytes(), "send").unwrap();
        (s, to)
    };
    let (a, to_a) = bind("a.sock");
    let (b, to_b) = bind("b.sock");
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    Fan {
        dir,
        tx,
        a,
        b,
        to_a,
        to_b,
    }
}

/// Sends to `to` until the receiver's queue is full and one datagram waits (bounded).
fn fill_to(sender: &mut Sender, tx: &DgramSocket, to: &dgramx_core::SockAddr) -> u64 {
    for _ in 0..100_000 {
        if let Outcome::Queued(id) = sender.send(tx, b"fill", Some(to.clone())) {
            return id;
        }
    }
    panic!("the peer never pushed back");
}

/// Everything waiting at `rx`, as byte strings (bounded).
fn received(rx: &DgramSocket) -> Vec<Vec<u8>> {
    let mut arena = RecvArena::new();
    arena.reserve(64, 64);
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let mut got = 0;
        let _ = recv_batch(rx, &mut arena, false, |r| {
            got += 1;
            out.push(r.data.to_vec());
        });
        if got == 0 {
            return out;
        }
    }
    panic!("the receiver never ran dry");
}

#[test]
fn a_stuck_destination_holds_up_only_itself() {
    let f = fan("stuck");
    let mut sender = Sender::new();
    // A stops reading: its receive queue fills and a datagram to A waits.
    let first = fill_to(&mut sender, &f.tx, &f.to_a);
    assert!(matches!(
        sender.send(&f.tx, b"a1", Some(f.to_a.clone())),
        Outcome::Queued(_)
    ));
    // B is not behind A: its sends go out at once, while A's wait.
    for i in 0..10u8 {
        match sender.send(&f.tx, &[b'b', i], Some(f.to_b.clone())) {
            Outcome::Sent(2) => {}
            other => panic!("a send to B waited behind A: {other:?}"),
        }
    }
    assert_eq!(sender.queued_count(), 2);
    assert_eq!(sender.queued_destinations(), 1);
    let got = received(&f.b);
    assert_eq!(got.len(), 10);
    assert!(got.iter().enumerate().all(|(i, d)| d == &[b'b', i as u8]));
    // A flush while A is still stuck parks A and reports nothing (no spin inside the flush).
    let mut done = Vec::new();
    assert!(!sender.flush(&f.tx, &mut done));
    assert!(done.is_empty());
    // Once A reads, its datagrams leave in the order they were sent.
    drop(received(&f.a));
    assert!(sender.flush(&f.tx, &mut done));
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].id, first);
    assert_eq!(received(&f.a), vec![b"fill".to_vec(), b"a1".to_vec()]);
}

#[test]
fn a_refused_destination_does_not_stop_a_flush_for_the_others() {
    let f = fan("rr");
    let mut sender = Sender::new();
    // Both receivers full, then more for each.
    fill_to(&mut sender, &f.tx, &f.to_a);
    fill_to(&mut sender, &f.tx, &f.to_b);
    for i in 0..100u8 {
        assert!(matches!(
            sender.send(&f.tx, &[b'a', i], Some(f.to_a.clone())),
            Outcome::Queued(_)
        ));
        assert!(matches!(
            sender.send(&f.tx, &[b'b', i], Some(f.to_b.clone())),
            Outcome::Queued(_)
        ));
    }
    assert_eq!(sender.queued_destinations(), 2);
    // Only B reads: A's lane (first in turn) is refused, B's still drains.
    drop(received(&f.b));
    let mut done = Vec::new();
    let mut b_got = Vec::new();
    for _ in 0..1000 {
        sender.flush(&f.tx, &mut done);
        let got = received(&f.b);
        if got.is_empty() && sender.queued_count() == 101 {
            break;
        }
        b_got.extend(got);
    }
    assert_eq!(sender.queued_count(), 101, "A's 101 wait, B's all left");
    assert_eq!(b_got.len(), 101);
    assert_eq!(b_got[0], b"fill");
    for (i, d) in b_got[1..].iter().enumerate() {
        assert_eq!(d, &[b'b', i as u8], "B's datagrams in the order sent");
    }
    // Then A drains too, in order.
    let mut a_got = received(&f.a);
    for _ in 0..1000 {
        if sender.flush(&f.tx, &mut done) {
            break;
        }
        a_got.extend(received(&f.a));
    }
    a_got.extend(received(&f.a));
    let tail: Vec<Vec<u8>> = (0..100u8).map(|i| vec![b'a', i]).collect();
    assert!(a_got.ends_with(&tail), "A's datagrams in the order sent");
    assert!(!sender.has_queued());
}

#[test]
fn a_flush_serves_each_waiting_destination() {
    let f = fan("turns");
    let mut sender = Sender::new();
    fill_to(&mut sender, &f.tx, &f.to_a);
    fill_to(&mut sender, &f.tx, &f.to_b);
    for i in 0..200u8 {
        sender.send(&f.tx, &[i], Some(f.to_a.clone()));
    }
    sender.send(&f.tx, b"b-last", Some(f.to_b.clone()));
    // Both read; A has far more waiting than fits in one turn, but B is not served after all
    // of A: B's few datagrams complete before A's last.
    drop(received(&f.a));
    drop(received(&f.b));
    let mut done = Vec::new();
    sender.flush(&f.tx, &mut done);
    let ids: Vec<u64> = done.iter().map(|c| c.id).collect();
    assert!(!ids.is_empty());
    let b_done = done
        .iter()
        .filter(|c| c.result.as_ref().ok() == Some(&6))
        .count();
    assert_eq!(
        b_done, 1,
        "B's turn came within the first flush although A had more than a turn's worth"
    );
}

#[test]
fn the_default_unix_bound_refuses_past_the_per_destination_cap() {
    use dgramx_core::sender::{QueueLimits, Scope};
    let f = fan("bound");
    let mut sender = Sender::new();
    sender.set_limits(QueueLimits::UNIX_DEFAULT);
    fill_to(&mut sender, &f.tx, &f.to_a);
    let cap = QueueLimits::UNIX_DEFAULT.per_destination.datagrams;
    for _ in 1..cap {
        assert!(matches!(
            sender.send(&f.tx, b"x", Some(f.to_a.clone())),
            Outcome::Queued(_)
        ));
    }
    assert_eq!(sender.queued_count(), cap);
    match sender.send(&f.tx, b"x", Some(f.to_a.clone())) {
        Outcome::Refused(full) => {
            assert_eq!(full.scope, Scope::Destination);
            assert_eq!(full.datagrams, cap);
        }
        other => panic!("past the bound a send is refused: {other:?}"),
    }
    assert_eq!(sender.queued_count(), cap, "a refused send queues nothing");
    // Another destination still gets through.
    assert!(matches!(
        sender.send(&f.tx, b"y", Some(f.to_b.clone())),
        Outcome::Sent(1)
    ));
}

/// A small deterministic generator (no dependency): the same seed, the same run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn random_sends_reads_and_flushes_keep_every_destination_in_order() {
    const PEERS: usize = 4;
    let dir = std::env::temp_dir().join(format!("dgramx-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let peers: Vec<(DgramSocket, dgramx_core::SockAddr)> = (0..PEERS)
        .map(|i| {
            let path = dir.join(format!("p{i}.sock"));
            let s = DgramSocket::new(Kind::Unix).unwrap();
            s.bind_unix(path.to_str().unwrap().as_bytes()).unwrap();
            let to = dgramx_core::addr::unix_sockaddr(path.to_str().unwrap().as_bytes(), "send")
                .unwrap();
            (s, to)
        })
        .collect();
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    for seed in 1..=20u64 {
        let mut rng = Lcg(seed);
        let mut sender = Sender::new();
        let mut next = [0u32; PEERS];
        let mut got: Vec<Vec<u32>> = vec![Vec::new(); PEERS];
        let mut outcomes = std::collections::HashMap::new();
        let mut arena = RecvArena::new();
        arena.reserve(4, 64);
        let mut read = |p: usize, got: &mut Vec<Vec<u32>>| {
            let _ = recv_batch(&peers[p].0, &mut arena, false, |r| {
                got[p].push(u32::from_be_bytes(r.data[..4].try_into().unwrap()));
            });
        };
        for _ in 0..2000 {
            match rng.below(10) {
                0..=5 => {
                    let p = rng.below(PEERS as u64) as usize;
                    let data = next[p].to_be_bytes();
                    match sender.send(&tx, &data, Some(peers[p].1.clone())) {
                        Outcome::Sent(4) => {}
                        Outcome::Queued(id) => {
                            outcomes.insert(id, (p, next[p]));
                        }
                        other => panic!("seed {seed}: unexpected {other:?}"),
                    }
                    next[p] += 1;
                }
                // Peer 0 reads least often: it is the slow one.
                6 | 7 => {
                    let p = 1 + rng.below(PEERS as u64 - 1) as usize;
                    read(p, &mut got);
                }
                8 if rng.below(4) == 0 => read(0, &mut got),
                _ => {
                    let mut done = Vec::new();
                    sender.flush(&tx, &mut done);
                    for c in done {
                        assert_eq!(c.result.as_ref().ok(), Some(&4), "seed {seed}");
                        assert!(
                            outcomes.remove(&c.id).is_some(),
                            "seed {seed}: completed twice or unknown"
                        );
                    }
                }
            }
            // The queue's own counts agree with what is outstanding.
            assert_eq!(sender.queued_count(), outcomes.len() as u64, "seed {seed}");
            assert_eq!(
                sender.queued_bytes(),
                4 * outcomes.len() as u64,
                "seed {seed}"
            );
        }
        // Drain everything (bounded), then check order and completeness per peer.
        for _ in 0..10_000 {
            for p in 0..PEERS {
                read(p, &mut got);
            }
            let mut done = Vec::new();
            let empty = sender.flush(&tx, &mut done);
            for c in done {
                assert!(outcomes.remove(&c.id).is_some(), "seed {seed}");
            }
            if empty {
                break;
            }
        }
        for p in 0..PEERS {
            read(p, &mut got);
        }
        assert!(
            outcomes.is_empty(),
            "seed {seed}: {} never completed",
            outcomes.len()
        );
        for p in 0..PEERS {
            let want: Vec<u32> = (0..next[p]).collect();
            assert_eq!(
                got[p], want,
                "seed {seed}: peer {p} got its datagrams in order, each once"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

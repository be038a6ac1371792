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

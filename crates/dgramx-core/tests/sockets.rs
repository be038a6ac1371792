//! End-to-end behaviour of the core over loopback and temp-dir Unix paths.
#![cfg(unix)]

use std::time::Duration;

use dgramx_core::reactor::{Reactor, Ready};
use dgramx_core::recv::{recv_batch, RecvArena};
use dgramx_core::sender::{Outcome, Sender};
use dgramx_core::{BindFlags, DgramSocket, Endpoint, Kind};
use mio::Interest;

fn temp_dir() -> std::path::PathBuf {
    let base = std::env::temp_dir().join(format!(
        "dgramx-core-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&base).unwrap();
    base
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn port_of(s: &DgramSocket) -> u16 {
    match s.local_endpoint().unwrap() {
        Endpoint::Ip(a) => a.port(),
        other => panic!("not an IP socket: {other:?}"),
    }
}

/// Waits (bounded) until `token` is readable, then receives one batch.
fn receive(
    reactor: &mut Reactor,
    sock: &DgramSocket,
    token: usize,
    arena: &mut RecvArena,
) -> Vec<(Vec<u8>, usize, Endpoint)> {
    let mut got = Vec::new();
    for _ in 0..50 {
        let mut ready: Vec<Ready> = Vec::new();
        reactor
            .wait_ready(&mut ready, Some(Duration::from_millis(100)))
            .unwrap();
        if ready.iter().any(|r| r.token == token && r.readable) || !got.is_empty() {
            let _ = recv_batch(sock, arena, false, |d| {
                got.push((d.data.to_vec(), d.size, Endpoint::from_sockaddr(&d.from)))
            });
            if !got.is_empty() {
                return got;
            }
        }
    }
    panic!("nothing arrived within 5 s");
}

#[test]
fn udp4_round_trip_in_one_batch() {
    let mut reactor = Reactor::new().unwrap();
    let mut rx = DgramSocket::new(Kind::Udp4).unwrap();
    rx.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 1, None, Some(Interest::READABLE))
        .unwrap();
    let tx = DgramSocket::new(Kind::Udp4).unwrap();
    let dest = tx.ip_sockaddr("127.0.0.1", port_of(&rx), "send").unwrap();
    for i in 0..5u8 {
        assert_eq!(tx.send_to(&[i; 3], Some(&dest)).unwrap(), 3);
    }
    let mut arena = RecvArena::new();
    arena.reserve(65536, 32);
    let got = receive(&mut reactor, &rx, 1, &mut arena);
    assert_eq!(got.len(), 5, "all five datagrams in one batch");
    for (i, (data, size, from)) in got.iter().enumerate() {
        assert_eq!(data, &vec![i as u8; 3]);
        assert_eq!(*size, 3);
        // The sender was bound implicitly to 0.0.0.0:port; loopback reports 127.0.0.1:port.
        assert_eq!(
            from,
            &Endpoint::Ip(format!("127.0.0.1:{}", port_of(&tx)).parse().unwrap())
        );
    }
}

#[test]
fn udp6_round_trip() {
    let mut reactor = Reactor::new().unwrap();
    let mut rx = DgramSocket::new(Kind::Udp6).unwrap();
    rx.bind_ip("::1", 0, BindFlags::default()).unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 7, None, Some(Interest::READABLE))
        .unwrap();
    let tx = DgramSocket::new(Kind::Udp6).unwrap();
    tx.connect_ip("::1", port_of(&rx)).unwrap();
    tx.send_to(b"hello6", None).unwrap();
    let mut arena = RecvArena::new();
    arena.reserve(65536, 8);
    let got = receive(&mut reactor, &rx, 7, &mut arena);
    assert_eq!(got[0].0, b"hello6");
    assert_eq!(got[0].2.address_string(), "::1");
}

#[test]
fn family_mismatch_is_einval() {
    let s = DgramSocket::new(Kind::Udp4).unwrap();
    assert_eq!(s.ip_sockaddr("::1", 9, "send").unwrap_err().code, "EINVAL");
    assert_eq!(
        s.bind_ip(
            "0.0.0.0",
            0,
            BindFlags {
                ipv6_only: true,
                ..Default::default()
            }
        )
        .unwrap_err()
        .code,
        "EINVAL"
    );
}

#[test]
fn second_bind_to_same_port_is_eaddrinuse() {
    let a = DgramSocket::new(Kind::Udp4).unwrap();
    a.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
    let b = DgramSocket::new(Kind::Udp4).unwrap();
    let e = b
        .bind_ip("127.0.0.1", port_of(&a), BindFlags::default())
        .unwrap_err();
    assert_eq!((e.code, e.syscall), ("EADDRINUSE", "bind"));
}

#[test]
fn options_are_set_in_the_kernel() {
    let s = DgramSocket::new(Kind::Udp4).unwrap();
    s.set_broadcast(true).unwrap();
    assert!(s.broadcast().unwrap());
    s.set_ttl(17).unwrap();
    assert_eq!(s.ttl().unwrap(), 17);
    assert_eq!(s.set_ttl(0).unwrap_err().code, "EINVAL");
    assert_eq!(s.set_ttl(256).unwrap_err().code, "EINVAL");
    s.set_multicast_ttl(0).unwrap();
    assert_eq!(s.multicast_ttl().unwrap(), 0);
    s.set_multicast_loop(false).unwrap();
    assert!(!s.multicast_loop().unwrap());
    s.set_recv_buffer_size(65536).unwrap();
    assert!(s.recv_buffer_size().unwrap() >= 65536);
}

#[test]
fn membership_is_observable_without_traffic() {
    let s = DgramSocket::new(Kind::Udp4).unwrap();
    s.membership(true, "239.1.2.3", Some("127.0.0.1")).unwrap();
    assert_eq!(
        s.membership(true, "239.1.2.3", Some("127.0.0.1"))
            .unwrap_err()
            .code,
        "EADDRINUSE"
    );
    s.membership(false, "239.1.2.3", Some("127.0.0.1")).unwrap();
    assert_eq!(
        s.membership(false, "239.1.2.3", Some("127.0.0.1"))
            .unwrap_err()
            .code,
        "EADDRNOTAVAIL"
    );
}

#[test]
fn unix_round_trip_reports_sender_path_and_unnamed() {
    let dir = temp_dir();
    let rx_path = dir.join("rx.sock");
    let tx_path = dir.join("tx.sock");
    let mut reactor = Reactor::new().unwrap();
    let mut rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(rx_path.to_str().unwrap().as_bytes()).unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 3, None, Some(Interest::READABLE))
        .unwrap();
    let dest =
        dgramx_core::addr::unix_sockaddr(rx_path.to_str().unwrap().as_bytes(), "send").unwrap();

    let named = DgramSocket::new(Kind::Unix).unwrap();
    named
        .bind_unix(tx_path.to_str().unwrap().as_bytes())
        .unwrap();
    named.send_to(b"from named", Some(&dest)).unwrap();
    let unnamed = DgramSocket::new(Kind::Unix).unwrap();
    unnamed.send_to(b"from unnamed", Some(&dest)).unwrap();

    let mut arena = RecvArena::new();
    arena.reserve(256 * 1024, 4);
    let got = receive(&mut reactor, &rx, 3, &mut arena);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].2,
        Endpoint::Unix(tx_path.to_str().unwrap().as_bytes().to_vec())
    );
    assert_eq!(got[1].2, Endpoint::Unix(Vec::new()));
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_names_round_trip() {
    let name = format!(
        "\0dgramx-core-test-{}-{}",
        std::process::id(),
        rand_suffix()
    );
    let rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(name.as_bytes()).unwrap();
    assert_eq!(
        rx.local_endpoint().unwrap(),
        Endpoint::Unix(name.as_bytes().to_vec())
    );
}

#[test]
fn oversized_unix_datagram_is_reported_truncated() {
    let dir = temp_dir();
    let path = dir.join("big.sock");
    let mut reactor = Reactor::new().unwrap();
    let mut rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(path.to_str().unwrap().as_bytes()).unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 4, None, Some(Interest::READABLE))
        .unwrap();
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    tx.connect_unix(path.to_str().unwrap().as_bytes()).unwrap();
    tx.send_to(&vec![9u8; 5000], None).unwrap();
    let mut arena = RecvArena::new();
    arena.reserve(1024, 2);
    let got = receive(&mut reactor, &rx, 4, &mut arena);
    assert_eq!(got[0].0.len(), 1024);
    assert_eq!(got[0].1, 5000, "the real size is reported");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn send_queue_keeps_order_when_the_peer_is_full() {
    let dir = temp_dir();
    let path = dir.join("slow.sock");
    let mut reactor = Reactor::new().unwrap();
    let mut rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(path.to_str().unwrap().as_bytes()).unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 1, None, Some(Interest::READABLE))
        .unwrap();
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    tx.connect_unix(path.to_str().unwrap().as_bytes()).unwrap();

    // Fill the receiver's queue until the kernel pushes back, then queue the rest.
    const N: u32 = 2000;
    let mut queue = Sender::new();
    let mut direct = 0u32;
    let mut ids = Vec::new();
    for i in 0..N {
        match queue.send(&tx, &i.to_be_bytes(), None) {
            Outcome::Sent(4) => direct += 1,
            Outcome::Queued(id) => ids.push(id),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        queue.has_queued(),
        "the peer's queue (max_dgram_qlen) should have filled"
    );
    assert_eq!(queue.queued_bytes(), queue.queued_count() * 4);

    let mut arena = RecvArena::new();
    arena.reserve(64, 64);
    let mut received = Vec::new();
    let mut results = Vec::new();
    for _ in 0..10_000 {
        let _ = recv_batch(&rx, &mut arena, false, |d| {
            received.push(u32::from_be_bytes(d.data.try_into().unwrap()))
        });
        queue.flush(&tx, &mut results);
        if received.len() as u32 == N {
            break;
        }
    }
    assert_eq!(results.len() as u32, N - direct);
    assert!(results.iter().all(|c| c.result == Ok(4)));
    assert_eq!(
        results.iter().map(|c| c.id).collect::<Vec<_>>(),
        ids,
        "each completion names its request"
    );
    assert_eq!(
        received,
        (0..N).collect::<Vec<_>>(),
        "nothing lost, nothing reordered"
    );
    let _ = &mut reactor;
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(target_os = "linux")]
#[test]
fn credentials_and_descriptors_arrive_only_when_asked_for() {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let dir = temp_dir();
    let path = dir.join("anc.sock");
    let name = path.to_str().unwrap().as_bytes().to_vec();
    let rx = DgramSocket::new(Kind::Unix).unwrap();
    rx.bind_unix(&name).unwrap();
    rx.set_pass_credentials(true).unwrap();
    let tx = DgramSocket::new(Kind::Unix).unwrap();
    tx.connect_unix(&name).unwrap();
    let mut file = std::fs::File::create(dir.join("f")).unwrap();
    file.write_all(b"through the fd").unwrap();
    let file = std::fs::File::open(dir.join("f")).unwrap();

    // Not asked for: the kernel discards the descriptor and no credentials are decoded.
    tx.send_with_fds(b"one", None, &[file.as_raw_fd()]).unwrap();
    // Asked for: both arrive.
    tx.send_with_fds(b"two", None, &[file.as_raw_fd()]).unwrap();

    let mut arena = RecvArena::new();
    arena.reserve(1024, 1);
    let mut first = None;
    recv_batch(&rx, &mut arena, false, |d| {
        first = Some(d.ancillary.is_none())
    })
    .unwrap();
    assert_eq!(first, Some(true));
    let mut anc = None;
    recv_batch(&rx, &mut arena, true, |d| anc = d.ancillary).unwrap();
    let anc = anc.expect("ancillary data");
    let creds = anc.credentials.expect("credentials");
    assert_eq!(creds.pid, std::process::id() as i32);
    assert_eq!(anc.fds.len(), 1);
    // Close-on-exec from the moment it exists: a child spawned later must not inherit it.
    // SAFETY: F_GETFD on a descriptor we own.
    let fd_flags = unsafe { libc::fcntl(anc.fds[0].as_raw_fd(), libc::F_GETFD) };
    assert_eq!(fd_flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    let mut received = std::fs::File::from(anc.fds.into_iter().next().unwrap());
    received.rewind().unwrap();
    let mut text = String::new();
    received.read_to_string(&mut text).unwrap();
    assert_eq!(text, "through the fd");
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(target_os = "linux")]
#[test]
fn metadata_reports_destination_ttl_tos_and_timestamp() {
    use dgramx_core::meta::{set_recv_meta, MetaFlags};
    use dgramx_core::send_control::{send_with, SendOptions};
    let mut rx = DgramSocket::new(Kind::Udp4).unwrap();
    rx.bind_ip("0.0.0.0", 0, BindFlags::default()).unwrap();
    set_recv_meta(&rx, MetaFlags(15)).unwrap();
    let tx = DgramSocket::new(Kind::Udp4).unwrap();
    let dest = tx.ip_sockaddr("127.0.0.2", port_of(&rx), "send").unwrap();
    let opts = SendOptions {
        source: Some("127.0.0.3".parse().unwrap()),
        interface_index: 0,
        tos: Some(0xb8),
    };
    send_with(&tx, b"meta", Some(&dest), &opts).unwrap();
    let mut reactor = Reactor::new().unwrap();
    reactor
        .registrar()
        .unwrap()
        .set_interest(&mut rx, 1, None, Some(Interest::READABLE))
        .unwrap();
    let mut ready = Vec::new();
    reactor
        .wait_ready(&mut ready, Some(Duration::from_secs(5)))
        .unwrap();
    let mut arena = RecvArena::new();
    arena.reserve(2048, 4);
    let mut seen = None;
    recv_batch(&rx, &mut arena, true, |d| {
        seen = Some((Endpoint::from_sockaddr(&d.from), d.ancillary))
    })
    .unwrap();
    let (from, anc) = seen.unwrap();
    let anc = anc.unwrap();
    assert_eq!(
        from.address_string(),
        "127.0.0.3",
        "the chosen source address"
    );
    assert_eq!(
        anc.local_ip,
        Some("127.0.0.2".parse().unwrap()),
        "the address it was sent to"
    );
    assert!(anc.interface_index.unwrap() > 0);
    assert_eq!(anc.ttl, Some(64));
    assert_eq!(anc.tos, Some(0xb8));
    assert!(anc.timestamp.unwrap().0 > 1_600_000_000);
}

#[cfg(target_os = "linux")]
#[test]
fn gso_send_arrives_as_separate_datagrams_and_gro_reports_segments() {
    use dgramx_core::offload::{gso_supported, send_segments, set_gro};
    let rx = DgramSocket::new(Kind::Udp4).unwrap();
    rx.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
    let tx = DgramSocket::new(Kind::Udp4).unwrap();
    if !gso_supported(&tx) {
        eprintln!("kernel without UDP GSO: nothing to check");
        return;
    }
    let dest = tx.ip_sockaddr("127.0.0.1", port_of(&rx), "send").unwrap();
    let payload: Vec<u8> = (0..(1000 * 3 + 10)).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        send_segments(&tx, &payload, 1000, Some(&dest)).unwrap(),
        payload.len()
    );
    // Without GRO: four datagrams, cut exactly at the segment size.
    let mut arena = RecvArena::new();
    arena.reserve(65536, 8);
    let mut sizes = Vec::new();
    let mut joined = Vec::new();
    for _ in 0..50 {
        let _ = recv_batch(&rx, &mut arena, false, |d| {
            sizes.push(d.data.len());
            joined.extend_from_slice(d.data);
        });
        if sizes.len() == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sizes, vec![1000, 1000, 1000, 10]);
    assert_eq!(joined, payload);

    // With GRO: the kernel may coalesce; whatever it hands over, the segment size says how to cut.
    set_gro(&rx, true).unwrap();
    send_segments(&tx, &payload, 1000, Some(&dest)).unwrap();
    let mut total = 0;
    for _ in 0..50 {
        let _ = recv_batch(&rx, &mut arena, true, |d| {
            let seg = d
                .ancillary
                .as_ref()
                .and_then(|a| a.gro_segment)
                .map(usize::from);
            if d.data.len() > 1000 {
                assert_eq!(
                    seg,
                    Some(1000),
                    "a coalesced buffer carries its segment size"
                );
            }
            total += d.data.len();
        });
        if total == payload.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(total, payload.len());
}

#[cfg(target_os = "linux")]
#[test]
fn port_unreachable_lands_in_the_error_queue() {
    use dgramx_core::icmp::{read_error_queue, set_recv_err};
    let closed_port = {
        let s = DgramSocket::new(Kind::Udp4).unwrap();
        s.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
        port_of(&s)
    };
    let tx = DgramSocket::new(Kind::Udp4).unwrap();
    tx.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
    set_recv_err(&tx, true).unwrap();
    let dest = tx.ip_sockaddr("127.0.0.1", closed_port, "send").unwrap();
    tx.send_to(b"anyone?", Some(&dest)).unwrap();
    let mut found = None;
    for _ in 0..100 {
        if let Some(e) = read_error_queue(&tx).unwrap() {
            found = Some(e);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let e = found.expect("an ICMP error within 1 s");
    assert_eq!(e.errno, libc::ECONNREFUSED);
    assert_eq!(
        (e.origin, e.icmp_type, e.icmp_code),
        (2, 3, 3),
        "ICMP port unreachable"
    );
    assert_eq!(e.destination.unwrap().port(), closed_port);
    assert_eq!(read_error_queue(&tx).unwrap(), None, "drained");
}

#[cfg(target_os = "linux")]
#[test]
fn send_many_sends_in_order() {
    use dgramx_core::offload::{send_many, Outgoing};
    let rx = DgramSocket::new(Kind::Udp4).unwrap();
    rx.bind_ip("127.0.0.1", 0, BindFlags::default()).unwrap();
    let tx = DgramSocket::new(Kind::Udp4).unwrap();
    let dest = tx.ip_sockaddr("127.0.0.1", port_of(&rx), "send").unwrap();
    let bodies: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 8]).collect();
    let items: Vec<Outgoing<'_>> = bodies
        .iter()
        .map(|b| Outgoing {
            data: b,
            dest: Some(&dest),
        })
        .collect();
    assert_eq!(send_many(&tx, &items).unwrap(), 40);
    let mut arena = RecvArena::new();
    arena.reserve(64, 64);
    let mut got = Vec::new();
    for _ in 0..50 {
        let _ = recv_batch(&rx, &mut arena, false, |d| got.push(d.data[0]));
        if got.len() == 40 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(got, (0..40u8).collect::<Vec<_>>());
}

#[test]
#[cfg(target_os = "linux")]
fn forced_buffer_sizes_pass_the_sysctl_limit_as_root() {
    use dgramx_core::meta::set_buffer_size_force;
    let s = DgramSocket::new(Kind::Udp4).unwrap();
    let size = 8 * 1024 * 1024;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        set_buffer_size_force(&s, true, size).unwrap();
        set_buffer_size_force(&s, false, size).unwrap();
        // The kernel doubles the value, past net.core.rmem_max / wmem_max.
        assert_eq!(s.recv_buffer_size().unwrap(), 2 * size as usize);
        assert_eq!(s.send_buffer_size().unwrap(), 2 * size as usize);
    } else {
        let e = set_buffer_size_force(&s, true, size).unwrap_err();
        assert_eq!(e.code, "EPERM");
    }
    assert_eq!(
        set_buffer_size_force(&s, true, u32::MAX).unwrap_err().code,
        "EINVAL"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn bind_device_refuses_an_embedded_nul_instead_of_truncating() {
    let s = DgramSocket::new(Kind::Udp4).unwrap();
    let e = dgramx_core::meta::bind_device(&s, "lo\0eth0").unwrap_err();
    assert_eq!(e.errno, libc::EINVAL);
    // Nothing was bound: SO_BINDTODEVICE still reads empty.
    let mut buf = [0u8; 16];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: getsockopt into a local buffer of the given length.
    let rc = unsafe {
        libc::getsockopt(
            s.raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            buf.as_mut_ptr() as *mut libc::c_void,
            &mut len,
        )
    };
    assert_eq!(rc, 0);
    assert_eq!(len, 0);
}

//! Adopting descriptors: the right kinds are taken over and work, the wrong ones are refused
//! with libuv's handle type and stay open for their owner.

#![cfg(unix)]

use std::net::UdpSocket;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::os::unix::net::{UnixDatagram, UnixStream};

use dgramx_core::adopt::AdoptError;
use dgramx_core::{DgramSocket, Endpoint, Kind};

fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

#[test]
fn a_bound_udp_descriptor_is_adopted_with_its_address() {
    let std_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = std_sock.local_addr().unwrap().port();
    let fd = std_sock.into_raw_fd();
    let sock = DgramSocket::adopt(Kind::Udp4, fd).unwrap();
    assert_eq!(sock.raw_fd(), fd);
    match sock.local_endpoint().unwrap() {
        Endpoint::Ip(addr) => assert_eq!(addr.port(), port),
        other => panic!("unexpected endpoint {other:?}"),
    }
    // Non-blocking now: a receive with nothing queued fails with EAGAIN instead of hanging.
    let mut buf = [0u8; 16];
    // SAFETY: buf is a live, writable buffer of the given length.
    let rc = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert_eq!(rc, -1);
    assert_eq!(
        std::io::Error::last_os_error().kind(),
        std::io::ErrorKind::WouldBlock
    );
    drop(sock);
    assert!(
        !is_open(fd),
        "the adopted descriptor is closed with the socket"
    );
}

#[test]
fn a_unix_datagram_descriptor_is_adopted() {
    let dir = std::env::temp_dir().join(format!("dgramx-adopt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adopted.sock");
    let _ = std::fs::remove_file(&path);
    let fd = UnixDatagram::bind(&path).unwrap().into_raw_fd();
    let sock = DgramSocket::adopt(Kind::Unix, fd).unwrap();
    match sock.local_endpoint().unwrap() {
        Endpoint::Unix(bytes) => assert_eq!(bytes, path.as_os_str().as_encoded_bytes()),
        other => panic!("unexpected endpoint {other:?}"),
    }
    drop(sock);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_descriptors_are_refused_and_left_open() {
    let file = std::fs::File::open("/proc/self/status").unwrap();
    assert_eq!(
        DgramSocket::adopt(Kind::Udp4, file.as_raw_fd()).unwrap_err(),
        AdoptError::WrongType("FILE")
    );
    assert!(is_open(file.as_raw_fd()));

    let (a, _b) = UnixStream::pair().unwrap();
    assert_eq!(
        DgramSocket::adopt(Kind::Unix, a.as_raw_fd()).unwrap_err(),
        AdoptError::WrongType("PIPE")
    );
    assert!(is_open(a.as_raw_fd()));

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        DgramSocket::adopt(Kind::Udp6, udp.as_raw_fd()).unwrap_err(),
        AdoptError::WrongFamily
    );
    assert_eq!(
        DgramSocket::adopt(Kind::Unix, udp.as_raw_fd()).unwrap_err(),
        AdoptError::WrongType("UDP")
    );
    assert!(is_open(udp.as_raw_fd()));

    let unix = UnixDatagram::unbound().unwrap();
    assert_eq!(
        DgramSocket::adopt(Kind::Udp4, unix.as_raw_fd()).unwrap_err(),
        AdoptError::WrongType("UNKNOWN")
    );

    // A descriptor number nobody opened.
    assert_eq!(
        DgramSocket::adopt(Kind::Udp4, 1_000_000).unwrap_err(),
        AdoptError::WrongType("UNKNOWN")
    );
}

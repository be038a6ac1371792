//! socketpair(): two connected, unnamed, non-blocking, close-on-exec unix_dgram sockets.

#![cfg(unix)]

use dgramx_core::DgramSocket;

fn fd_flags(fd: i32) -> i32 {
    // SAFETY: F_GETFD only inspects the descriptor.
    unsafe { libc::fcntl(fd, libc::F_GETFD) }
}

fn fl_flags(fd: i32) -> i32 {
    // SAFETY: F_GETFL only inspects the descriptor.
    unsafe { libc::fcntl(fd, libc::F_GETFL) }
}

fn send(fd: i32, data: &[u8]) -> isize {
    // SAFETY: data is a live buffer of the given length.
    unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), 0) }
}

fn recv(fd: i32, buf: &mut [u8]) -> isize {
    // SAFETY: buf is a live, writable buffer of the given length.
    unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) }
}

#[test]
fn the_two_ends_are_connected_both_ways_and_keep_datagram_boundaries() {
    let (a, b) = DgramSocket::unix_pair().unwrap();
    assert_eq!(send(a.raw_fd(), b"one"), 3);
    assert_eq!(send(a.raw_fd(), b"two!"), 4);
    let mut buf = [0u8; 16];
    assert_eq!(recv(b.raw_fd(), &mut buf), 3);
    assert_eq!(&buf[..3], b"one");
    assert_eq!(recv(b.raw_fd(), &mut buf), 4);
    assert_eq!(&buf[..4], b"two!");
    assert_eq!(send(b.raw_fd(), b"back"), 4);
    assert_eq!(recv(a.raw_fd(), &mut buf), 4);
    assert_eq!(&buf[..4], b"back");
}

#[test]
fn both_ends_are_close_on_exec_non_blocking_and_datagram_sockets() {
    let (a, b) = DgramSocket::unix_pair().unwrap();
    for fd in [a.raw_fd(), b.raw_fd()] {
        assert_ne!(
            fd_flags(fd) & libc::FD_CLOEXEC,
            0,
            "fd {fd} is not close-on-exec"
        );
        assert_ne!(fl_flags(fd) & libc::O_NONBLOCK, 0, "fd {fd} is blocking");
        let mut ty: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: ty and len describe a c_int owned by this frame.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut ty as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_eq!(ty, libc::SOCK_DGRAM);
    }
    // Nothing queued: a receive fails with EAGAIN instead of hanging.
    let mut buf = [0u8; 4];
    assert_eq!(recv(a.raw_fd(), &mut buf), -1);
    assert_eq!(
        std::io::Error::last_os_error().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[test]
fn once_one_end_is_closed_the_other_cannot_send() {
    let (a, b) = DgramSocket::unix_pair().unwrap();
    drop(b);
    assert_eq!(send(a.raw_fd(), b"x"), -1);
    let err = std::io::Error::last_os_error().raw_os_error();
    assert!(
        err == Some(libc::ECONNREFUSED) || err == Some(libc::EPIPE) || err == Some(libc::ENOTCONN),
        "{err:?}"
    );
}

#[test]
fn into_raw_fd_hands_the_descriptor_over_open() {
    let (a, b) = DgramSocket::unix_pair().unwrap();
    let fd = a.into_raw_fd();
    assert!(fd_flags(fd) != -1);
    assert_eq!(send(fd, b"hi"), 2);
    let mut buf = [0u8; 4];
    assert_eq!(recv(b.raw_fd(), &mut buf), 2);
    // SAFETY: fd is ours since into_raw_fd.
    unsafe { libc::close(fd) };
}

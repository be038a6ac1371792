//! Adopting a descriptor someone else opened (`bind({ fd })`, e.g. systemd socket activation).
//!
//! The descriptor is classified the way libuv's `uv_guess_handle` does, so a wrong kind of fd
//! is refused with the handle type node:dgram names in `ERR_INVALID_FD_TYPE`. On success the
//! socket owns the descriptor: closing it closes the fd, as with node:dgram.

use std::os::fd::{FromRawFd, RawFd};

use socket2::Socket;

use crate::error::{SysError, SysResult, Syscall};
use crate::socket::{DgramSocket, Kind};

/// Why a descriptor cannot back a socket of the requested kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdoptError {
    /// Not a datagram socket of a usable family; the payload is libuv's handle type name
    /// (`FILE`, `PIPE`, `TCP`, `UDP`, `TTY`, `UNKNOWN`).
    WrongType(&'static str),
    /// A datagram socket, but of the other family (an IPv6 socket for udp4, or the reverse).
    WrongFamily,
    /// The descriptor could not be inspected.
    Sys(SysError),
}

impl From<SysError> for AdoptError {
    fn from(e: SysError) -> Self {
        AdoptError::Sys(e)
    }
}

/// The handle type libuv would report for `fd`, plus the socket domain when it is a socket.
fn classify(fd: RawFd) -> (&'static str, Option<(libc::c_int, libc::c_int)>) {
    // SAFETY: fstat writes into a zeroed stat owned by this frame; a bad fd only yields -1.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return ("UNKNOWN", None);
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => ("FILE", None),
        libc::S_IFCHR => {
            // SAFETY: isatty only inspects the descriptor.
            if unsafe { libc::isatty(fd) } == 1 {
                ("TTY", None)
            } else {
                ("FILE", None)
            }
        }
        libc::S_IFIFO => ("PIPE", None),
        libc::S_IFSOCK => {
            let ty = sockopt_int(fd, libc::SO_TYPE);
            let domain = sockopt_domain(fd);
            match (ty, domain) {
                (Some(t), Some(d)) => {
                    let name = match (t, d) {
                        (libc::SOCK_STREAM, libc::AF_INET | libc::AF_INET6) => "TCP",
                        (libc::SOCK_STREAM, libc::AF_UNIX) => "PIPE",
                        (libc::SOCK_DGRAM, libc::AF_INET | libc::AF_INET6) => "UDP",
                        _ => "UNKNOWN",
                    };
                    (name, Some((t, d)))
                }
                _ => ("UNKNOWN", None),
            }
        }
        _ => ("UNKNOWN", None),
    }
}

fn sockopt_int(fd: RawFd, opt: libc::c_int) -> Option<libc::c_int> {
    crate::sys::int_option(fd, libc::SOL_SOCKET, opt).ok()
}

fn sockopt_domain(fd: RawFd) -> Option<libc::c_int> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        sockopt_int(fd, libc::SO_DOMAIN)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        // No SO_DOMAIN: the local address's family tells the same thing.
        // SAFETY: storage and len describe a sockaddr_storage owned by this frame.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockname(
                fd,
                (&mut storage as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        (rc == 0).then_some(storage.ss_family as libc::c_int)
    }
}

impl DgramSocket {
    /// Takes ownership of `fd` if it is a datagram socket matching `kind`, and makes it
    /// non-blocking and close-on-exec. On any error the descriptor is left untouched and
    /// still belongs to the caller.
    pub fn adopt(kind: Kind, fd: RawFd) -> Result<DgramSocket, AdoptError> {
        let (handle, sock) = classify(fd);
        let wanted = match kind {
            Kind::Udp4 => libc::AF_INET,
            Kind::Udp6 => libc::AF_INET6,
            Kind::Unix => libc::AF_UNIX,
        };
        match sock {
            Some((libc::SOCK_DGRAM, domain)) if domain == wanted => {}
            Some((libc::SOCK_DGRAM, libc::AF_INET | libc::AF_INET6)) if kind.is_udp() => {
                return Err(AdoptError::WrongFamily)
            }
            _ => return Err(AdoptError::WrongType(handle)),
        }
        // SAFETY: fd is an open datagram socket (checked above); from here the Socket owns it.
        let sock = unsafe { Socket::from_raw_fd(fd) };
        if let Err(e) = prepare(&sock) {
            // Hand the descriptor back untouched rather than closing the caller's fd.
            std::mem::forget(sock);
            return Err(e.into());
        }
        Ok(DgramSocket::from_parts(sock, kind))
    }
}

fn prepare(sock: &Socket) -> SysResult<()> {
    sock.set_nonblocking(true).syscall("open")?;
    sock.set_cloexec(true).syscall("open")?;
    Ok(())
}

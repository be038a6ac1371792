//! ICMP errors from the socket's error queue (IP_RECVERR / IPV6_RECVERR, Linux): turning it
//! on, reading it, and the one retry of a send that failed only because such an error was
//! waiting.

use std::net::{IpAddr, SocketAddr};

use crate::error::{SysError, SysResult};
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::meta::{getsockopt_int, setsockopt_int};
use crate::socket::DgramSocket;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::socket::Kind;

/// An ICMP (or local) error the kernel queued for this socket (IP_RECVERR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError {
    /// The errno the error maps to (ECONNREFUSED for port unreachable, EMSGSIZE for
    /// "fragmentation needed", EHOSTUNREACH, ...).
    pub errno: i32,
    /// SO_EE_ORIGIN_*: 2 = ICMP, 3 = ICMPv6, 1 = local.
    pub origin: u8,
    /// The ICMP type of the error.
    pub icmp_type: u8,
    /// The ICMP code of the error.
    pub icmp_code: u8,
    /// For "fragmentation needed" / "packet too big": the reported MTU.
    pub mtu: Option<u32>,
    /// The destination of the datagram that failed.
    pub destination: Option<SocketAddr>,
    /// The node that reported it (router or host), when known.
    pub offender: Option<IpAddr>,
}

/// IP_RECVERR / IPV6_RECVERR on or off.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_recv_err(sock: &DgramSocket, on: bool) -> SysResult<()> {
    let v = on as libc::c_int;
    match sock.kind() {
        Kind::Udp4 => setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVERR, v),
        Kind::Udp6 => {
            setsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, v)?;
            let _ = setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVERR, v);
            Ok(())
        }
        Kind::Unix => Err(SysError::coded(
            "ERR_SOCKET_DGRAM_UNSUPPORTED",
            "setsockopt",
        )),
    }
}

/// IP_RECVERR is Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_recv_err(_sock: &DgramSocket, _on: bool) -> SysResult<()> {
    Err(SysError::unavailable("setsockopt"))
}

/// With IP_RECVERR on, Linux also reports a queued ICMP error on the socket's next send: that
/// send fails once (its own datagram unsent) with the ICMP's errno. Such a failure is not about
/// this datagram, so it is tried once more; the error itself stays in the error queue and
/// reaches JavaScript as an Icmp event. Without IP_RECVERR (node:dgram's behaviour) nothing
/// changes, and a failure that repeats is reported as usual.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn retry_after_icmp<T>(
    sock: &DgramSocket,
    result: SysResult<T>,
    again: impl FnOnce() -> SysResult<T>,
) -> SysResult<T> {
    match &result {
        Err(e)
            if matches!(
                e.errno,
                libc::ECONNREFUSED
                    | libc::EHOSTUNREACH
                    | libc::ENETUNREACH
                    | libc::EHOSTDOWN
                    | libc::ENONET
                    | libc::EMSGSIZE
                    | libc::EPROTO
                    | libc::EACCES
            ) && recv_err_enabled(sock) =>
        {
            again()
        }
        _ => result,
    }
}

/// Without an error queue there is nothing to retry after: the first outcome stands.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn retry_after_icmp<T>(
    _sock: &DgramSocket,
    result: SysResult<T>,
    _again: impl FnOnce() -> SysResult<T>,
) -> SysResult<T> {
    result
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_err_enabled(sock: &DgramSocket) -> bool {
    match sock.kind() {
        Kind::Udp4 => getsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVERR).unwrap_or(0) != 0,
        Kind::Udp6 => {
            getsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_RECVERR).unwrap_or(0) != 0
                || getsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVERR).unwrap_or(0) != 0
        }
        Kind::Unix => false,
    }
}

/// Reads one entry of the error queue; `Ok(None)` when it is empty.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn read_error_queue(sock: &DgramSocket) -> SysResult<Option<IcmpError>> {
    use std::mem;
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr() as *mut libc::c_void,
        iov_len: 1,
    };
    let mut name = socket2::SockAddrStorage::zeroed();
    let mut control = [0u64; 64];
    // SAFETY: msghdr is plain old data; every pointer set below outlives the call.
    let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
    hdr.msg_name = &mut name as *mut socket2::SockAddrStorage as *mut libc::c_void;
    hdr.msg_namelen = mem::size_of::<socket2::SockAddrStorage>() as libc::socklen_t;
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    hdr.msg_controllen = mem::size_of_val(&control) as _;
    // SAFETY: hdr describes valid memory for the duration of the call.
    let rc = unsafe {
        libc::recvmsg(
            sock.raw_fd(),
            &mut hdr,
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
        )
    };
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EAGAIN) => Ok(None),
            _ => Err(SysError::from_io(&err, "recvmsg")),
        };
    }
    let destination = {
        let len = hdr.msg_namelen;
        // SAFETY: the kernel initialised `len` bytes of the storage.
        let addr = unsafe { socket2::SockAddr::new(name, len) };
        addr.as_socket()
    };
    let mut found = None;
    // SAFETY: the kernel filled the control buffer described by hdr.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&hdr);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let is_err = (c.cmsg_level == libc::IPPROTO_IP && c.cmsg_type == libc::IP_RECVERR)
                || (c.cmsg_level == libc::IPPROTO_IPV6 && c.cmsg_type == libc::IPV6_RECVERR);
            if is_err {
                let ee_ptr = libc::CMSG_DATA(cmsg) as *const libc::sock_extended_err;
                let ee = std::ptr::read_unaligned(ee_ptr);
                let offender = {
                    let off = libc::SO_EE_OFFENDER(ee_ptr) as *const libc::sockaddr;
                    match (*off).sa_family as libc::c_int {
                        libc::AF_INET => {
                            let sin = std::ptr::read_unaligned(off as *const libc::sockaddr_in);
                            Some(IpAddr::from(
                                u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                            ))
                        }
                        libc::AF_INET6 => {
                            let sin6 = std::ptr::read_unaligned(off as *const libc::sockaddr_in6);
                            Some(IpAddr::from(sin6.sin6_addr.s6_addr))
                        }
                        _ => None,
                    }
                };
                let mtu = (ee.ee_errno as i32 == libc::EMSGSIZE).then_some(ee.ee_info);
                found = Some(IcmpError {
                    errno: ee.ee_errno as i32,
                    origin: ee.ee_origin,
                    icmp_type: ee.ee_type,
                    icmp_code: ee.ee_code,
                    mtu,
                    destination,
                    offender,
                });
            }
            cmsg = libc::CMSG_NXTHDR(&hdr, cmsg);
        }
    }
    Ok(found.or(Some(IcmpError {
        errno: 0,
        origin: 0,
        icmp_type: 0,
        icmp_code: 0,
        mtu: None,
        destination,
        offender: None,
    })))
}

/// Without an error queue there is never an ICMP error to read.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn read_error_queue(_sock: &DgramSocket) -> SysResult<Option<IcmpError>> {
    Ok(None)
}

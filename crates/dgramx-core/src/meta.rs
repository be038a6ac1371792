//! Beyond node:dgram: per-datagram metadata, per-send source and TOS, device binding, path-MTU
//! control and ICMP errors from the socket error queue. Linux first; where a platform lacks an
//! option the call fails with ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, never silently.

use std::net::{IpAddr, SocketAddr};

use socket2::SockAddr;

use crate::error::{SysError, SysResult};
use crate::socket::DgramSocket;
#[cfg(unix)]
use crate::socket::Kind;

/// Which metadata to receive with each datagram (bit flags, shared with JavaScript).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaFlags(pub u32);

impl MetaFlags {
    /// The destination address and arrival interface (IP_PKTINFO / IPV6_RECVPKTINFO).
    pub const PKTINFO: u32 = 1;
    /// The IP TTL / hop limit.
    pub const TTL: u32 = 2;
    /// The TOS byte / traffic class.
    pub const TOS: u32 = 4;
    /// The kernel's receive timestamp (SO_TIMESTAMPNS).
    pub const TIMESTAMP: u32 = 8;

    /// Whether any metadata is asked for.
    pub fn any(self) -> bool {
        self.0 != 0
    }
}

#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
fn unavailable(syscall: &'static str) -> SysError {
    SysError::coded("ERR_FEATURE_UNAVAILABLE_ON_PLATFORM", syscall)
}

#[cfg(unix)]
fn setsockopt_int(
    sock: &DgramSocket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> SysResult<()> {
    crate::sys::set_int_option(sock.raw_fd(), level, name, value)
}

#[cfg(unix)]
fn getsockopt_int(sock: &DgramSocket, level: libc::c_int, name: libc::c_int) -> SysResult<i32> {
    crate::sys::int_option(sock.raw_fd(), level, name)
}

/// Turns the receive-metadata socket options on or off to match `flags`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_recv_meta(sock: &DgramSocket, flags: MetaFlags) -> SysResult<()> {
    let on = |bit: u32| (flags.0 & bit != 0) as libc::c_int;
    match sock.kind() {
        Kind::Udp4 => {
            setsockopt_int(
                sock,
                libc::IPPROTO_IP,
                libc::IP_PKTINFO,
                on(MetaFlags::PKTINFO),
            )?;
            setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVTTL, on(MetaFlags::TTL))?;
            setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVTOS, on(MetaFlags::TOS))?;
        }
        Kind::Udp6 => {
            setsockopt_int(
                sock,
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVPKTINFO,
                on(MetaFlags::PKTINFO),
            )?;
            setsockopt_int(
                sock,
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVHOPLIMIT,
                on(MetaFlags::TTL),
            )?;
            setsockopt_int(
                sock,
                libc::IPPROTO_IPV6,
                libc::IPV6_RECVTCLASS,
                on(MetaFlags::TOS),
            )?;
            // IPv4-mapped traffic on a dual-stack socket reports through the IPv4 options.
            let _ = setsockopt_int(
                sock,
                libc::IPPROTO_IP,
                libc::IP_PKTINFO,
                on(MetaFlags::PKTINFO),
            );
            let _ = setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVTTL, on(MetaFlags::TTL));
            let _ = setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_RECVTOS, on(MetaFlags::TOS));
        }
        Kind::Unix => {
            if flags.0 & !MetaFlags::TIMESTAMP != 0 {
                return Err(SysError::coded(
                    "ERR_SOCKET_DGRAM_UNSUPPORTED",
                    "setsockopt",
                ));
            }
        }
    }
    setsockopt_int(
        sock,
        libc::SOL_SOCKET,
        libc::SO_TIMESTAMPNS,
        on(MetaFlags::TIMESTAMP),
    )
}

/// Receive metadata is Linux-only: asking for any is ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_recv_meta(_sock: &DgramSocket, flags: MetaFlags) -> SysResult<()> {
    if flags.any() {
        Err(unavailable("setsockopt"))
    } else {
        Ok(())
    }
}

/// IP_TOS / IPV6_TCLASS for every datagram this socket sends (DSCP << 2 | ECN).
#[cfg(unix)]
pub fn set_tos(sock: &DgramSocket, tos: u8) -> SysResult<()> {
    match sock.kind() {
        Kind::Udp4 => setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_TOS, tos as libc::c_int),
        Kind::Udp6 => setsockopt_int(
            sock,
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            tos as libc::c_int,
        ),
        Kind::Unix => Err(SysError::coded(
            "ERR_SOCKET_DGRAM_UNSUPPORTED",
            "setsockopt",
        )),
    }
}

/// The socket's TOS byte (IPv4) or traffic class (IPv6).
#[cfg(unix)]
pub fn tos(sock: &DgramSocket) -> SysResult<u8> {
    match sock.kind() {
        Kind::Udp4 => getsockopt_int(sock, libc::IPPROTO_IP, libc::IP_TOS).map(|v| v as u8),
        Kind::Udp6 => getsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_TCLASS).map(|v| v as u8),
        Kind::Unix => Err(SysError::coded(
            "ERR_SOCKET_DGRAM_UNSUPPORTED",
            "getsockopt",
        )),
    }
}

/// Windows sets TOS only through its QoS API, not per socket option.
#[cfg(not(unix))]
pub fn set_tos(_sock: &DgramSocket, _tos: u8) -> SysResult<()> {
    Err(unavailable("setsockopt"))
}

/// No TOS here: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(unix))]
pub fn tos(_sock: &DgramSocket) -> SysResult<u8> {
    Err(unavailable("getsockopt"))
}

/// SO_BINDTODEVICE: only traffic of the named interface ('' unbinds). Needs CAP_NET_RAW on
/// older kernels.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn bind_device(sock: &DgramSocket, name: &str) -> SysResult<()> {
    // The kernel reads the name up to its first NUL: "lo\0eth0" would bind to lo.
    if name.contains('\0') {
        return Err(SysError::einval("setsockopt"));
    }
    sock.socket()
        .bind_device(if name.is_empty() {
            None
        } else {
            Some(name.as_bytes())
        })
        .map_err(|e| SysError::from_io(&e, "setsockopt"))
}

/// SO_BINDTODEVICE is Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn bind_device(_sock: &DgramSocket, _name: &str) -> SysResult<()> {
    Err(unavailable("setsockopt"))
}

/// Path-MTU discovery mode: "want" (kernel default), "do" (set DF, never fragment), "dont"
/// (fragment, no DF), "probe" (set DF, ignore the cached path MTU).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_mtu_discover(sock: &DgramSocket, mode: &str) -> SysResult<()> {
    let v4 = match mode {
        "want" => libc::IP_PMTUDISC_WANT,
        "do" => libc::IP_PMTUDISC_DO,
        "dont" => libc::IP_PMTUDISC_DONT,
        "probe" => libc::IP_PMTUDISC_PROBE,
        _ => return Err(SysError::coded("ERR_INVALID_ARG_VALUE", "setsockopt")),
    };
    match sock.kind() {
        Kind::Udp4 => setsockopt_int(sock, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, v4),
        // The IPV6_PMTUDISC_* values equal the IPv4 ones on Linux.
        Kind::Udp6 => setsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, v4),
        Kind::Unix => Err(SysError::coded(
            "ERR_SOCKET_DGRAM_UNSUPPORTED",
            "setsockopt",
        )),
    }
}

/// IP_MTU_DISCOVER is Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_mtu_discover(_sock: &DgramSocket, _mode: &str) -> SysResult<()> {
    Err(unavailable("setsockopt"))
}

/// The kernel's current path MTU towards the connected peer (IP_MTU; connected sockets only).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn path_mtu(sock: &DgramSocket) -> SysResult<u32> {
    match sock.kind() {
        Kind::Udp4 => getsockopt_int(sock, libc::IPPROTO_IP, libc::IP_MTU).map(|v| v as u32),
        Kind::Udp6 => getsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_MTU).map(|v| v as u32),
        Kind::Unix => Err(SysError::coded(
            "ERR_SOCKET_DGRAM_UNSUPPORTED",
            "getsockopt",
        )),
    }
}

/// IP_MTU is Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn path_mtu(_sock: &DgramSocket) -> SysResult<u32> {
    Err(unavailable("getsockopt"))
}

/// SO_RCVBUFFORCE / SO_SNDBUFFORCE: a buffer size beyond `net.core.{r,w}mem_max`. Needs
/// CAP_NET_ADMIN (EPERM otherwise). The kernel doubles the value, as for SO_RCVBUF.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_buffer_size_force(sock: &DgramSocket, recv: bool, size: u32) -> SysResult<()> {
    let size = libc::c_int::try_from(size).map_err(|_| SysError::einval("setsockopt"))?;
    let name = if recv {
        libc::SO_RCVBUFFORCE
    } else {
        libc::SO_SNDBUFFORCE
    };
    setsockopt_int(sock, libc::SOL_SOCKET, name, size)
}

/// SO_RCVBUFFORCE/SO_SNDBUFFORCE are Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_buffer_size_force(_sock: &DgramSocket, _recv: bool, _size: u32) -> SysResult<()> {
    Err(unavailable("setsockopt"))
}

/// Per-send overrides (see `send_with`).
#[derive(Debug, Default, Clone)]
pub struct SendOptions {
    /// Source address for this datagram (must be local).
    pub source: Option<IpAddr>,
    /// Outgoing interface index (0 = routing decides).
    pub interface_index: u32,
    /// TOS / traffic class byte for this datagram.
    pub tos: Option<u8>,
}

/// One datagram with per-send source address / interface (IP_PKTINFO, IPV6_PKTINFO) and TOS.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn send_with(
    sock: &DgramSocket,
    data: &[u8],
    dest: Option<&SockAddr>,
    opts: &SendOptions,
) -> SysResult<usize> {
    use std::mem;
    let mut control = vec![0u64; 16];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut hdr = crate::sys::msghdr(crate::sys::name_of(dest), &mut iov, &mut control);
    let mut used = 0usize;
    // SAFETY: each message is written inside the 128-byte aligned control buffer; CMSG_NXTHDR
    // is only used while msg_controllen spans the whole buffer.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&hdr);
        let mut push = |level: libc::c_int, kind: libc::c_int, bytes: &[u8]| {
            (*cmsg).cmsg_level = level;
            (*cmsg).cmsg_type = kind;
            (*cmsg).cmsg_len = libc::CMSG_LEN(bytes.len() as u32) as _;
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), libc::CMSG_DATA(cmsg), bytes.len());
            used += libc::CMSG_SPACE(bytes.len() as u32) as usize;
            cmsg = libc::CMSG_NXTHDR(&hdr, cmsg);
        };
        let v6 = sock.kind() == Kind::Udp6;
        if opts.source.is_some() || opts.interface_index != 0 {
            match (v6, opts.source) {
                (false, src) => {
                    let mut p: libc::in_pktinfo = mem::zeroed();
                    p.ipi_ifindex = opts.interface_index as _;
                    if let Some(IpAddr::V4(a)) = src {
                        p.ipi_spec_dst.s_addr = u32::from(a).to_be();
                    } else if src.is_some() {
                        return Err(SysError::einval("send"));
                    }
                    push(libc::IPPROTO_IP, libc::IP_PKTINFO, as_bytes(&p));
                }
                (true, src) => {
                    let mut p: libc::in6_pktinfo = mem::zeroed();
                    p.ipi6_ifindex = opts.interface_index;
                    match src {
                        Some(IpAddr::V6(a)) => p.ipi6_addr.s6_addr = a.octets(),
                        Some(IpAddr::V4(a)) => p.ipi6_addr.s6_addr = a.to_ipv6_mapped().octets(),
                        None => {}
                    }
                    push(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, as_bytes(&p));
                }
            }
        }
        if let Some(tos) = opts.tos {
            let v = tos as libc::c_int;
            if v6 {
                push(libc::IPPROTO_IPV6, libc::IPV6_TCLASS, as_bytes(&v));
            } else {
                push(libc::IPPROTO_IP, libc::IP_TOS, &[tos]);
            }
        }
    }
    hdr.msg_controllen = used as _;
    if used == 0 {
        hdr.msg_control = std::ptr::null_mut();
    }
    let first = sendmsg_once(sock, &hdr);
    retry_after_icmp(sock, first, || sendmsg_once(sock, &hdr))
}

/// `sendmsg` of a prepared header, retried on EINTR.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn sendmsg_once(sock: &DgramSocket, hdr: &libc::msghdr) -> SysResult<usize> {
    // SAFETY: hdr describes valid memory for the duration of the call.
    crate::sys::retry_eintr("send", || unsafe {
        libc::sendmsg(sock.raw_fd(), hdr, libc::MSG_NOSIGNAL)
    })
}

/// Per-send control messages are Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn send_with(
    _: &DgramSocket,
    _: &[u8],
    _: Option<&SockAddr>,
    _: &SendOptions,
) -> SysResult<usize> {
    Err(unavailable("send"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: T is a plain C struct or integer; viewing its bytes is sound.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

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
    Err(unavailable("setsockopt"))
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
        let addr = unsafe { SockAddr::new(name, len) };
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

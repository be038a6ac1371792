//! Beyond node:dgram, the socket options: per-datagram receive metadata, TOS, device binding,
//! path-MTU control and forced buffer sizes. Per-send control messages are in `send_control`,
//! ICMP errors in `icmp`. Linux first; where a platform lacks an option the call fails with
//! ERR_FEATURE_UNAVAILABLE_ON_PLATFORM, never silently.

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

#[cfg(unix)]
pub(crate) fn setsockopt_int(
    sock: &DgramSocket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> SysResult<()> {
    crate::sys::set_int_option(sock.raw_fd(), level, name, value)
}

#[cfg(unix)]
pub(crate) fn getsockopt_int(
    sock: &DgramSocket,
    level: libc::c_int,
    name: libc::c_int,
) -> SysResult<i32> {
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
        Err(SysError::unavailable("setsockopt"))
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
    Err(SysError::unavailable("setsockopt"))
}

/// No TOS here: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(unix))]
pub fn tos(_sock: &DgramSocket) -> SysResult<u8> {
    Err(SysError::unavailable("getsockopt"))
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
    Err(SysError::unavailable("setsockopt"))
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
    Err(SysError::unavailable("setsockopt"))
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
    Err(SysError::unavailable("getsockopt"))
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
    Err(SysError::unavailable("setsockopt"))
}

//! Per-send control messages (beyond node:dgram): the source address, outgoing interface and
//! TOS of one datagram, as IP_PKTINFO / IPV6_PKTINFO / IP_TOS / IPV6_TCLASS in a `sendmsg`.

use std::net::IpAddr;

use socket2::SockAddr;

use crate::error::{SysError, SysResult};
use crate::socket::DgramSocket;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::socket::Kind;

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
    crate::icmp::retry_after_icmp(sock, first, || sendmsg_once(sock, &hdr))
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
    Err(SysError::unavailable("send"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: T is a plain C struct or integer; viewing its bytes is sound.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

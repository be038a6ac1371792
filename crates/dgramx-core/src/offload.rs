//! Batched and offloaded sends: `sendmmsg` for many datagrams in one syscall, UDP GSO
//! (`UDP_SEGMENT`) for one buffer the kernel cuts into equal datagrams, and UDP GRO on receive.
//! Each is probed at runtime and falls back to plain sends where the kernel lacks it.

use socket2::SockAddr;

use crate::error::{SysError, SysResult};
use crate::socket::DgramSocket;

/// The most datagrams one `sendmmsg` call carries.
pub const SEND_BATCH: usize = 64;
/// The kernel's limit on segments in one GSO send.
pub const MAX_GSO_SEGMENTS: usize = 64;

/// One datagram of a batch.
pub struct Outgoing<'a> {
    /// The datagram's bytes.
    pub data: &'a [u8],
    /// Where it goes; `None` on a connected socket.
    pub dest: Option<&'a SockAddr>,
}

/// Sends as many of `items` as the kernel takes, in order. Returns how many went out; an error
/// is returned only when the very first one failed (sendmmsg's own contract), so the caller
/// can tell "sent k, then blocked/failed" from "failed at once".
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn send_many(sock: &DgramSocket, items: &[Outgoing<'_>]) -> SysResult<usize> {
    use std::mem;
    let n = items.len().min(SEND_BATCH);
    if n == 0 {
        return Ok(0);
    }
    let mut iovs: Vec<libc::iovec> = items[..n]
        .iter()
        .map(|o| libc::iovec {
            iov_base: o.data.as_ptr() as *mut libc::c_void,
            iov_len: o.data.len(),
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = items[..n]
        .iter()
        .zip(iovs.iter_mut())
        .map(|(o, iov)| {
            // SAFETY: mmsghdr is plain old data; the pointers set here outlive the call.
            let mut h: libc::mmsghdr = unsafe { mem::zeroed() };
            if let Some(d) = o.dest {
                h.msg_hdr.msg_name = d.as_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = d.len();
            }
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    // SAFETY: hdrs/iovs describe memory borrowed from `items` for the duration of the call.
    crate::sys::retry_eintr("send", || unsafe {
        crate::mmsg::sys_sendmmsg(
            sock.raw_fd(),
            hdrs.as_mut_ptr(),
            n as u32,
            libc::MSG_NOSIGNAL,
        ) as isize
    })
}

/// One `send_to` per datagram where there is no `sendmmsg`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn send_many(sock: &DgramSocket, items: &[Outgoing<'_>]) -> SysResult<usize> {
    let mut sent = 0;
    for o in items.iter().take(SEND_BATCH) {
        match sock.send_to(o.data, o.dest) {
            Ok(_) => sent += 1,
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(sent)
}

/// The most bytes one GSO send carries (the UDP length field, less headroom for headers).
pub const MAX_GSO_BYTES: usize = 65000;

/// How many of `items`, from the front, can leave as one GSO super-datagram: equal sizes, the
/// last one possibly shorter, one destination, within the kernel's segment and byte limits.
pub fn gso_run(items: &[Outgoing<'_>]) -> usize {
    let Some(first) = items.first() else {
        return 0;
    };
    let segment = first.data.len();
    if segment == 0 {
        return 1;
    }
    let mut n = 1;
    let mut bytes = segment;
    while n < items.len() && n < MAX_GSO_SEGMENTS {
        let o = &items[n];
        let len = o.data.len();
        if len == 0 || len > segment || bytes + len > MAX_GSO_BYTES || o.dest != first.dest {
            break;
        }
        n += 1;
        bytes += len;
        if len < segment {
            break;
        }
    }
    n
}

/// Sends `items` (a run from `gso_run`, all to one destination) as one GSO super-datagram that
/// the kernel cuts back into the same datagrams: one syscall, no copy into a joined buffer.
/// Returns the bytes sent.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn send_gso_run(sock: &DgramSocket, items: &[Outgoing<'_>]) -> SysResult<usize> {
    let Some(first) = items.first() else {
        return Ok(0);
    };
    let segment = u16::try_from(first.data.len()).map_err(|_| SysError::einval("send"))?;
    let mut iovs: Vec<libc::iovec> = items
        .iter()
        .map(|o| libc::iovec {
            iov_base: o.data.as_ptr() as *mut libc::c_void,
            iov_len: o.data.len(),
        })
        .collect();
    send_gso(sock, &mut iovs, segment, first.dest)
}

/// No GSO here: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn send_gso_run(_: &DgramSocket, _: &[Outgoing<'_>]) -> SysResult<usize> {
    Err(SysError::unavailable("send"))
}

/// Whether a GSO failure means "this path cannot segment" (fall back for good) rather than a
/// failure of the datagrams themselves: EIO from drivers without checksum offload, EINVAL /
/// EOPNOTSUPP / ENOPROTOOPT from kernels or sockets that reject UDP_SEGMENT.
pub fn gso_unavailable(e: &SysError) -> bool {
    matches!(
        e.code,
        "EIO" | "EINVAL" | "EOPNOTSUPP" | "ENOTSUP" | "ENOPROTOOPT"
    )
}

/// Whether this socket can do UDP GSO: a trial `UDP_SEGMENT` setsockopt, reset right after so
/// segmentation applies only to sends that ask for it.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn gso_supported(sock: &DgramSocket) -> bool {
    let set = |v: libc::c_int| {
        crate::sys::set_int_option(sock.raw_fd(), libc::SOL_UDP, libc::UDP_SEGMENT, v)
    };
    sock.kind().is_udp() && set(1200).is_ok() && set(0).is_ok()
}

/// No GSO here.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn gso_supported(_sock: &DgramSocket) -> bool {
    false
}

/// Sends `data` as datagrams of `segment` bytes each (the last may be shorter) in one syscall
/// using GSO. Callers check `gso_supported` first and fall back to `send_many` otherwise.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn send_segments(
    sock: &DgramSocket,
    data: &[u8],
    segment: u16,
    dest: Option<&SockAddr>,
) -> SysResult<usize> {
    if segment == 0 || data.len().div_ceil(segment as usize) > MAX_GSO_SEGMENTS {
        return Err(SysError::einval("send"));
    }
    let mut iov = [libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    }];
    send_gso(sock, &mut iov, segment, dest)
}

/// One `sendmsg` of the bytes in `iovs` with a UDP_SEGMENT control message: the kernel cuts
/// them into datagrams of `segment` bytes (the last may be shorter).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_gso(
    sock: &DgramSocket,
    iovs: &mut [libc::iovec],
    segment: u16,
    dest: Option<&SockAddr>,
) -> SysResult<usize> {
    use std::mem;
    // SAFETY: pure size computation.
    let space = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    // SAFETY: msghdr is plain old data; every pointer set below outlives the call.
    let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
    if let Some(d) = dest {
        hdr.msg_name = d.as_ptr() as *mut libc::c_void;
        hdr.msg_namelen = d.len();
    }
    hdr.msg_iov = iovs.as_mut_ptr();
    hdr.msg_iovlen = iovs.len() as _;
    hdr.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    hdr.msg_controllen = space as _;
    // SAFETY: the control buffer is aligned and CMSG_SPACE(u16) long.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&hdr);
        (*cmsg).cmsg_level = libc::SOL_UDP;
        (*cmsg).cmsg_type = libc::UDP_SEGMENT;
        (*cmsg).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut u16, segment);
    }
    crate::send_control::sendmsg_once(sock, &hdr)
}

/// No GSO here: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn send_segments(_: &DgramSocket, _: &[u8], _: u16, _: Option<&SockAddr>) -> SysResult<usize> {
    Err(SysError::unavailable("send"))
}

/// Turns UDP GRO on or off: the kernel may then hand over several same-sized datagrams from
/// one sender as a single buffer, with the segment size in a control message.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn set_gro(sock: &DgramSocket, on: bool) -> SysResult<()> {
    if !sock.kind().is_udp() {
        return Err(SysError::unavailable("setsockopt"));
    }
    crate::sys::set_int_option(
        sock.raw_fd(),
        libc::SOL_UDP,
        libc::UDP_GRO,
        on as libc::c_int,
    )
}

/// No GRO here: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn set_gro(_: &DgramSocket, _: bool) -> SysResult<()> {
    Err(SysError::unavailable("setsockopt"))
}

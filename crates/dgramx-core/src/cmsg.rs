//! Ancillary data on Unix datagram sockets: peer credentials and passed descriptors.
//!
//! Received descriptors are owned (`OwnedFd`) from the moment they leave the kernel, so any
//! that nobody takes are closed when dropped, including those in a truncated control message.

#[cfg(unix)]
use std::mem;
#[cfg(unix)]
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// A descriptor received with a datagram. Windows has no descriptor passing, so there the type
/// has no values and `Ancillary::fds` is always empty.
#[cfg(unix)]
pub type PassedFd = OwnedFd;
/// No descriptor passing without Unix sockets.
#[cfg(not(unix))]
pub type PassedFd = std::convert::Infallible;

/// Most descriptors accepted in one datagram (the kernel allows up to 253).
pub const MAX_FDS: usize = 32;

/// The sender's credentials (SCM_CREDENTIALS / SCM_CREDS) as the kernel reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// Process id.
    pub pid: i32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// What the control messages of one received datagram carried.
#[derive(Debug, Default)]
pub struct Ancillary {
    /// The sender's credentials, when the socket asked for them.
    pub credentials: Option<Credentials>,
    /// Descriptors passed with the datagram (SCM_RIGHTS), now owned by the receiver.
    pub fds: Vec<PassedFd>,
    /// The kernel had more ancillary data than fit (MSG_CTRUNC): some of it was discarded.
    pub truncated: bool,
    /// With UDP_GRO on: the segment size the kernel coalesced this buffer from.
    pub gro_segment: Option<u16>,
    /// The datagram's destination address and arrival interface (IP_PKTINFO / IPV6_PKTINFO).
    pub local_ip: Option<std::net::IpAddr>,
    /// The interface the datagram arrived on (IP_PKTINFO / IPV6_PKTINFO).
    pub interface_index: Option<u32>,
    /// Received TTL / hop limit.
    pub ttl: Option<u8>,
    /// Received TOS / traffic class byte (DSCP in the upper six bits, ECN in the lower two).
    pub tos: Option<u8>,
    /// Kernel receive timestamp (SO_TIMESTAMPNS): seconds and nanoseconds since the epoch.
    pub timestamp: Option<(i64, u32)>,
}

impl Ancillary {
    /// Hands the received descriptors over as plain numbers: whoever takes them must close them.
    pub fn take_fd_numbers(&mut self) -> Vec<i64> {
        #[cfg(unix)]
        let numbers = self
            .fds
            .drain(..)
            .map(|fd| fd.into_raw_fd() as i64)
            .collect();
        #[cfg(not(unix))]
        let numbers = Vec::new();
        numbers
    }
}

/// Bytes of control buffer one datagram needs for credentials plus `MAX_FDS` descriptors.
#[cfg(unix)]
pub fn control_space() -> usize {
    // SAFETY: CMSG_SPACE is a pure size computation.
    unsafe {
        let rights = libc::CMSG_SPACE((MAX_FDS * mem::size_of::<RawFd>()) as u32) as usize;
        // Room for the small IP/UDP-level messages (GRO segment size and friends).
        rights + creds_space() + 128
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn creds_space() -> usize {
    // SAFETY: pure size computation.
    unsafe { libc::CMSG_SPACE(mem::size_of::<libc::ucred>() as u32) as usize }
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn creds_space() -> usize {
    0
}

#[cfg(unix)]
/// Decodes the control messages the kernel wrote into `hdr`.
///
/// # Safety
/// `hdr.msg_control`/`msg_controllen` must describe a control buffer the kernel just filled.
// msg_controllen is usize on glibc but socklen_t on musl and the BSDs: the cast is needed there.
#[allow(clippy::unnecessary_cast)]
pub unsafe fn decode(hdr: &libc::msghdr) -> Ancillary {
    let mut out = Ancillary {
        truncated: hdr.msg_flags & libc::MSG_CTRUNC != 0,
        ..Default::default()
    };
    if hdr.msg_control.is_null() || (hdr.msg_controllen as usize) < mem::size_of::<libc::cmsghdr>()
    {
        return out;
    }
    let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
    while !cmsg.is_null() {
        let c = &*cmsg;
        let data = libc::CMSG_DATA(cmsg);
        let payload = c.cmsg_len as usize - (data as usize - cmsg as usize);
        if c.cmsg_level == libc::SOL_SOCKET && c.cmsg_type == libc::SCM_RIGHTS {
            let n = payload / mem::size_of::<RawFd>();
            for i in 0..n {
                let fd = std::ptr::read_unaligned((data as *const RawFd).add(i));
                if fd >= 0 {
                    mark_cloexec(fd);
                    out.fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if c.cmsg_level == libc::SOL_SOCKET
            && c.cmsg_type == libc::SCM_CREDENTIALS
            && payload >= mem::size_of::<libc::ucred>()
        {
            let u = std::ptr::read_unaligned(data as *const libc::ucred);
            out.credentials = Some(Credentials {
                pid: u.pid,
                uid: u.uid,
                gid: u.gid,
            });
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if c.cmsg_level == libc::SOL_UDP
            && c.cmsg_type == libc::UDP_GRO
            && payload >= mem::size_of::<u16>()
        {
            // The kernel writes an int on most versions and a u16 on some: read the low bytes.
            let seg = if payload >= mem::size_of::<i32>() {
                std::ptr::read_unaligned(data as *const i32) as u16
            } else {
                std::ptr::read_unaligned(data as *const u16)
            };
            out.gro_segment = Some(seg);
        }
        decode_ip(c.cmsg_level, c.cmsg_type, data, payload, &mut out);
        cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
    }
    out
}

#[cfg(unix)]
/// A control buffer carrying `fds` as SCM_RIGHTS, 8-byte aligned as cmsghdr requires.
pub fn encode_rights(fds: &[RawFd]) -> Vec<u64> {
    if fds.is_empty() {
        return Vec::new();
    }
    let bytes = mem::size_of_val(fds);
    // SAFETY: pure size computation.
    let space = unsafe { libc::CMSG_SPACE(bytes as u32) } as usize;
    let mut buf = vec![0u64; space.div_ceil(8)];
    // SAFETY: buf is zeroed, aligned and CMSG_SPACE(bytes) long; the msghdr only points at it
    // while CMSG_FIRSTHDR computes the first header's address.
    unsafe {
        let mut hdr: libc::msghdr = mem::zeroed();
        hdr.msg_control = buf.as_mut_ptr() as *mut libc::c_void;
        hdr.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&hdr);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(bytes as u32) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr() as *const u8, libc::CMSG_DATA(cmsg), bytes);
    }
    buf
}

#[cfg(unix)]
/// IP-level metadata (see `crate::meta`), read without assuming alignment.
unsafe fn decode_ip(
    level: libc::c_int,
    kind: libc::c_int,
    data: *const u8,
    len: usize,
    out: &mut Ancillary,
) {
    use std::net::{IpAddr, Ipv6Addr};
    let int = || -> Option<i32> {
        if len >= mem::size_of::<i32>() {
            Some(std::ptr::read_unaligned(data as *const i32))
        } else if len >= 1 {
            Some(*data as i32)
        } else {
            None
        }
    };
    match (level, kind) {
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios"
        ))]
        (libc::IPPROTO_IP, libc::IP_PKTINFO) if len >= mem::size_of::<libc::in_pktinfo>() => {
            let p = std::ptr::read_unaligned(data as *const libc::in_pktinfo);
            out.local_ip = Some(IpAddr::V4(std::net::Ipv4Addr::from(u32::from_be(
                p.ipi_addr.s_addr,
            ))));
            out.interface_index = Some(p.ipi_ifindex as u32);
        }
        (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) if len >= mem::size_of::<libc::in6_pktinfo>() => {
            let p = std::ptr::read_unaligned(data as *const libc::in6_pktinfo);
            out.local_ip = Some(IpAddr::V6(Ipv6Addr::from(p.ipi6_addr.s6_addr)));
            out.interface_index = Some(p.ipi6_ifindex as u32);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (libc::IPPROTO_IP, libc::IP_TTL) => out.ttl = int().map(|v| v as u8),
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        (libc::IPPROTO_IP, libc::IP_RECVTTL) => out.ttl = Some(*data),
        (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => out.ttl = int().map(|v| v as u8),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (libc::IPPROTO_IP, libc::IP_TOS) => out.tos = if len >= 1 { Some(*data) } else { None },
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        (libc::IPPROTO_IP, libc::IP_RECVTOS) => out.tos = if len >= 1 { Some(*data) } else { None },
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => out.tos = int().map(|v| v as u8),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) if len >= mem::size_of::<libc::timespec>() => {
            let t = std::ptr::read_unaligned(data as *const libc::timespec);
            out.timestamp = Some((t.tv_sec as i64, t.tv_nsec as u32));
        }
        _ => {}
    }
}

/// Flags for every receive that may carry SCM_RIGHTS: the kernel installs received descriptors
/// close-on-exec atomically, so no child spawned later (even from another thread) inherits them.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
pub const RECV_CLOEXEC: libc::c_int = libc::MSG_CMSG_CLOEXEC;

/// macOS has no MSG_CMSG_CLOEXEC: [`mark_cloexec`] sets the flag right after the receive instead
/// (a fork/exec on another thread in between could still inherit it; documented).
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))
))]
pub const RECV_CLOEXEC: libc::c_int = 0;

/// Sets FD_CLOEXEC where the receive could not (RECV_CLOEXEC is 0); a no-op elsewhere.
#[cfg(unix)]
fn mark_cloexec(fd: RawFd) {
    if RECV_CLOEXEC == 0 {
        // SAFETY: fd was just received and is owned by this decoder; F_SETFD touches only it.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

//! Socket addresses: IP endpoints and the three kinds of Unix datagram address.
//!
//! A Unix address travels as raw bytes: a filesystem path, a Linux abstract name written with
//! its leading NUL (`b"\0name"`, whose length is part of the name), or empty for an unnamed
//! socket. Keeping bytes (not `String`/`Path`) means a reply to `rinfo.address` reaches exactly
//! the name the kernel reported.

use std::net::{IpAddr, SocketAddr};

use socket2::SockAddr;

use crate::error::{SysError, SysResult};

/// What the kernel reports for either end of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// An IP address and port (udp4, udp6).
    Ip(SocketAddr),
    /// Path bytes, `\0`-prefixed abstract name, or empty when unnamed.
    Unix(Vec<u8>),
}

impl Endpoint {
    /// The endpoint a socket address names: IP, or the raw bytes of a Unix name.
    pub fn from_sockaddr(addr: &SockAddr) -> Endpoint {
        if let Some(ip) = addr.as_socket() {
            return Endpoint::Ip(ip);
        }
        Endpoint::Unix(unix_name(addr))
    }

    /// The address as JavaScript shows it: an IP string, or the unix name (lossy UTF-8).
    pub fn address_string(&self) -> String {
        match self {
            Endpoint::Ip(sa) => ip_string(sa),
            Endpoint::Unix(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        }
    }
}

/// An IP endpoint's address as node:dgram reports it: a link-local IPv6 address (fe80::/10)
/// carries its zone, `fe80::1%eth0`, because without it a reply to `rinfo.address` cannot
/// leave (the kernel needs the interface). Node appends libuv's `uv_if_indextoiid`: the
/// interface name on Unix, the index on Windows.
pub fn ip_string(sa: &SocketAddr) -> String {
    match sa {
        SocketAddr::V6(v6) if is_link_local(v6.ip()) && v6.scope_id() > 0 => {
            format!("{}%{}", v6.ip(), zone_id(v6.scope_id()))
        }
        _ => sa.ip().to_string(),
    }
}

/// fe80::/10, the test libuv's callers make with IN6_IS_ADDR_LINKLOCAL.
fn is_link_local(ip: &std::net::Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The interface's name; its index when it has none any more (node would throw from
/// `address()` there, which helps nobody: the index is still a valid zone for a reply).
#[cfg(unix)]
fn zone_id(index: u32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname may write, NUL included.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if name.is_null() {
        return index.to_string();
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated string into buf.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(unix))]
fn zone_id(index: u32) -> String {
    index.to_string()
}

#[cfg(unix)]
fn unix_name(addr: &SockAddr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    if let Some(path) = addr.as_pathname() {
        return path.as_os_str().as_bytes().to_vec();
    }
    if let Some(name) = addr.as_abstract_namespace() {
        let mut v = Vec::with_capacity(name.len() + 1);
        v.push(0);
        v.extend_from_slice(name);
        return v;
    }
    Vec::new()
}

#[cfg(not(unix))]
fn unix_name(_addr: &SockAddr) -> Vec<u8> {
    Vec::new()
}

/// Builds a Unix address from raw name bytes.
///
/// `sun_path` is fixed-size (108 bytes on Linux, 104 on macOS/BSD): a longer name is an error,
/// never a silently truncated name. A path must not contain NUL; an abstract name may.
#[cfg(unix)]
pub fn unix_sockaddr(name: &[u8], syscall: &'static str) -> SysResult<SockAddr> {
    use socket2::SockAddrStorage;
    use std::mem;
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: SockAddrStorage is large and aligned enough for sockaddr_un.
    let un: &mut libc::sockaddr_un = unsafe { storage.view_as() };
    un.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let capacity = un.sun_path.len();
    let is_abstract = name.first() == Some(&0);
    if !is_abstract && name.contains(&0) {
        return Err(SysError::coded("ERR_INVALID_ARG_VALUE", syscall));
    }
    // A path needs room for its terminating NUL; an abstract name is length-delimited.
    let limit = if is_abstract { capacity } else { capacity - 1 };
    if name.len() > limit {
        return Err(SysError::coded("ERR_SOCKET_PATH_TOO_LONG", syscall));
    }
    for (dst, src) in un.sun_path.iter_mut().zip(name) {
        *dst = *src as libc::c_char;
    }
    let base = mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = if is_abstract || name.is_empty() {
        base + name.len()
    } else {
        base + name.len() + 1
    };
    // SAFETY: storage holds an initialised sockaddr_un and len never exceeds its size.
    Ok(unsafe { SockAddr::new(storage, len as libc::socklen_t) })
}

/// Windows has no Unix datagram sockets (its AF_UNIX is stream-only).
#[cfg(not(unix))]
pub fn unix_sockaddr(_name: &[u8], syscall: &'static str) -> SysResult<SockAddr> {
    Err(SysError::coded(
        "ERR_SOCKET_UNIX_DGRAM_UNSUPPORTED",
        syscall,
    ))
}

/// The longest path `bind`/`connect` accept on this platform (excluding the NUL).
#[cfg(unix)]
pub fn max_unix_path_len() -> usize {
    let s: libc::sockaddr_un = unsafe {
        // SAFETY: plain old data, only used for its field size.
        std::mem::zeroed()
    };
    s.sun_path.len() - 1
}

/// Parses an IP literal, rejecting anything else (names are resolved before reaching us).
pub fn parse_ip(text: &str, syscall: &'static str) -> SysResult<IpAddr> {
    // A scope suffix (`fe80::1%eth0`) names an interface; only the address part matters here.
    let bare = text.split('%').next().unwrap_or(text);
    bare.parse::<IpAddr>()
        .map_err(|_| SysError::einval(syscall))
}

/// The IPv6 scope id in `addr%scope` (an interface name or number), 0 when absent.
#[cfg(unix)]
pub fn parse_scope(text: &str) -> u32 {
    let Some((_, scope)) = text.split_once('%') else {
        return 0;
    };
    if let Ok(n) = scope.parse::<u32>() {
        return n;
    }
    let Ok(c) = std::ffi::CString::new(scope) else {
        return 0;
    };
    // SAFETY: c is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// Scope ids by number only: interface names need `if_nametoindex`.
#[cfg(not(unix))]
pub fn parse_scope(text: &str) -> u32 {
    text.split_once('%')
        .and_then(|(_, s)| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn path_round_trips() {
        let a = unix_sockaddr(b"/tmp/x.sock", "bind").unwrap();
        assert_eq!(
            Endpoint::from_sockaddr(&a),
            Endpoint::Unix(b"/tmp/x.sock".to_vec())
        );
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn abstract_name_keeps_exact_length() {
        let a = unix_sockaddr(b"\0name", "bind").unwrap();
        let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        assert_eq!(a.len() as usize, base + 5);
        assert_eq!(
            Endpoint::from_sockaddr(&a),
            Endpoint::Unix(b"\0name".to_vec())
        );
    }

    #[test]
    fn too_long_path_is_an_error_not_a_truncation() {
        let long = vec![b'a'; max_unix_path_len() + 1];
        let err = unix_sockaddr(&long, "bind").unwrap_err();
        assert_eq!(err.code, "ERR_SOCKET_PATH_TOO_LONG");
        assert!(unix_sockaddr(&long[..max_unix_path_len()], "bind").is_ok());
    }

    #[test]
    fn nul_inside_a_path_is_rejected() {
        assert_eq!(
            unix_sockaddr(b"/tmp/a\0b", "bind").unwrap_err().code,
            "ERR_INVALID_ARG_VALUE"
        );
    }

    #[test]
    fn ip_literals_only() {
        assert!(parse_ip("127.0.0.1", "send").is_ok());
        assert!(parse_ip("::1", "send").is_ok());
        assert!(parse_ip("fe80::1%1", "send").is_ok());
        assert_eq!(parse_ip("localhost", "send").unwrap_err().code, "EINVAL");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn link_local_addresses_carry_their_zone() {
        use std::net::SocketAddrV6;
        // SAFETY: a NUL-terminated literal.
        let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        assert!(lo > 0);
        let ll: std::net::Ipv6Addr = "fe80::fc:ff:fe00:1".parse().unwrap();
        let scoped = SocketAddr::V6(SocketAddrV6::new(ll, 9, 0, lo));
        assert_eq!(ip_string(&scoped), "fe80::fc:ff:fe00:1%lo");
        // No scope id, or not link-local: no zone, as with node.
        assert_eq!(
            ip_string(&SocketAddr::V6(SocketAddrV6::new(ll, 9, 0, 0))),
            "fe80::fc:ff:fe00:1"
        );
        let global: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            ip_string(&SocketAddr::V6(SocketAddrV6::new(global, 9, 0, lo))),
            "2001:db8::1"
        );
        // An index no interface has: the number stands in for the name.
        assert_eq!(
            ip_string(&SocketAddr::V6(SocketAddrV6::new(ll, 9, 0, 999_999))),
            "fe80::fc:ff:fe00:1%999999"
        );
    }
}

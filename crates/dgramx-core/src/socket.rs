//! One datagram socket: creation, addressing and options, all through socket2.
//!
//! Every method is non-blocking and returns `SysResult`, tagging failures with the syscall name
//! Node would report. Nothing here knows about readiness; see `reactor` for that.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use crate::addr::{parse_ip, parse_scope, Endpoint};
use crate::error::{SysError, SysResult, Syscall};

/// The three socket types of the dgram API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UDP over IPv4.
    Udp4,
    /// UDP over IPv6 (dual-stack unless `ipv6_only`).
    Udp6,
    /// Unix-domain datagrams (AF_UNIX, SOCK_DGRAM).
    Unix,
}

impl Kind {
    /// The kind for node's type name (`udp4`, `udp6`, `unix_dgram`).
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "udp4" => Some(Kind::Udp4),
            "udp6" => Some(Kind::Udp6),
            "unix_dgram" => Some(Kind::Unix),
            _ => None,
        }
    }

    /// Whether this is a UDP kind.
    pub fn is_udp(self) -> bool {
        self != Kind::Unix
    }
}

/// Options applied at bind time, with node:dgram's meaning.
#[derive(Debug, Clone, Copy, Default)]
pub struct BindFlags {
    /// SO_REUSEADDR before bind.
    pub reuse_addr: bool,
    /// IPV6_V6ONLY before bind.
    pub ipv6_only: bool,
    /// SO_REUSEPORT before bind (ENOTSUP where the platform has none).
    pub reuse_port: bool,
}

impl BindFlags {
    /// Bit for `reuse_addr`.
    pub const REUSE_ADDR: u32 = 1;
    /// Bit for `ipv6_only`.
    pub const IPV6_ONLY: u32 = 2;
    /// Bit for `reuse_port`.
    pub const REUSE_PORT: u32 = 4;

    /// The flags from the binding's bit set.
    pub fn from_bits(bits: u32) -> BindFlags {
        BindFlags {
            reuse_addr: bits & Self::REUSE_ADDR != 0,
            ipv6_only: bits & Self::IPV6_ONLY != 0,
            reuse_port: bits & Self::REUSE_PORT != 0,
        }
    }
}

/// One non-blocking datagram socket of a [`Kind`].
#[derive(Debug)]
pub struct DgramSocket {
    sock: OsSocket,
    kind: Kind,
}

/// What owns the descriptor. On Windows mio can only watch its own socket type, and its
/// readiness re-arms only after an operation through `try_io` hit WouldBlock, so there the
/// socket lives inside mio and every I/O call goes through [`DgramSocket::io`].
#[cfg(unix)]
type OsSocket = Socket;
#[cfg(windows)]
type OsSocket = mio::net::UdpSocket;

#[cfg(unix)]
fn into_os_socket(sock: Socket) -> OsSocket {
    sock
}

#[cfg(windows)]
fn into_os_socket(sock: Socket) -> OsSocket {
    mio::net::UdpSocket::from_std(std::net::UdpSocket::from(sock))
}

impl DgramSocket {
    /// A new non-blocking, close-on-exec socket of the given kind.
    pub fn new(kind: Kind) -> SysResult<DgramSocket> {
        let (domain, proto) = match kind {
            Kind::Udp4 => (Domain::IPV4, Some(Protocol::UDP)),
            Kind::Udp6 => (Domain::IPV6, Some(Protocol::UDP)),
            Kind::Unix => (unix_domain()?, None),
        };
        let sock = Socket::new(domain, Type::DGRAM, proto).syscall("socket")?;
        sock.set_nonblocking(true).syscall("socket")?;
        Ok(DgramSocket::from_parts(sock, kind))
    }

    pub(crate) fn from_parts(sock: Socket, kind: Kind) -> DgramSocket {
        DgramSocket {
            sock: into_os_socket(sock),
            kind,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The socket, for options and I/O. Non-blocking calls that may hit WouldBlock go
    /// through [`DgramSocket::io`] instead.
    pub fn socket(&self) -> SockRef<'_> {
        SockRef::from(&self.sock)
    }

    /// Runs one non-blocking operation. On Windows this is mio's `try_io`, which re-arms the
    /// socket's readiness when the operation would block; elsewhere it is just the call.
    pub fn io<T>(&self, op: impl FnOnce(&Socket) -> std::io::Result<T>) -> std::io::Result<T> {
        #[cfg(windows)]
        return self.sock.try_io(|| op(&self.socket()));
        #[cfg(unix)]
        op(&self.sock)
    }

    /// The descriptor number; -1 on Windows, where node:dgram has none to show either.
    #[cfg(unix)]
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.sock.as_raw_fd()
    }

    /// No Unix descriptor here: -1.
    #[cfg(not(unix))]
    pub fn raw_fd(&self) -> i32 {
        -1
    }

    /// Gives the descriptor up (e.g. to adopt it elsewhere): the caller owns it from now on.
    #[cfg(unix)]
    pub fn into_raw_fd(self) -> i32 {
        use std::os::fd::IntoRawFd;
        self.sock.into_raw_fd()
    }

    /// Registers, re-registers or deregisters this socket with `registry` so that it reports
    /// exactly `want`; `was` is what it reported before (None if not registered).
    pub fn set_interest(
        &mut self,
        registry: &mio::Registry,
        token: usize,
        was: Option<mio::Interest>,
        want: Option<mio::Interest>,
    ) -> std::io::Result<()> {
        #[cfg(unix)]
        let fd = self.raw_fd();
        #[cfg(unix)]
        let source = &mut mio::unix::SourceFd(&fd);
        #[cfg(windows)]
        let source = &mut self.sock;
        let token = mio::Token(token);
        match (was, want) {
            (None, None) => Ok(()),
            (None, Some(i)) => registry.register(source, token, i),
            (Some(_), Some(i)) => registry.reregister(source, token, i),
            (Some(_), None) => registry.deregister(source),
        }
    }

    // ---- addressing -------------------------------------------------------------------------

    /// Binds a UDP socket. `ip` must be a literal of the socket's family.
    pub fn bind_ip(&self, ip: &str, port: u16, flags: BindFlags) -> SysResult<()> {
        const SYSCALL: &str = "bind";
        if self.kind == Kind::Udp4 && flags.ipv6_only {
            // libuv refuses IPV6_V6ONLY on an IPv4 socket, and node:dgram reports it as bind EINVAL.
            return Err(SysError::einval(SYSCALL));
        }
        let addr = self.ip_sockaddr(ip, port, SYSCALL)?;
        if flags.reuse_addr {
            self.socket().set_reuse_address(true).syscall(SYSCALL)?;
        }
        if flags.reuse_port {
            set_reuse_port(&self.socket()).syscall(SYSCALL)?;
        }
        if self.kind == Kind::Udp6 {
            // Explicit either way: the platform default differs (Linux off, Windows on).
            self.socket()
                .set_only_v6(flags.ipv6_only)
                .syscall(SYSCALL)?;
        }
        self.socket().bind(&addr).syscall(SYSCALL)
    }

    /// Connects to an IP literal and port.
    pub fn connect_ip(&self, ip: &str, port: u16) -> SysResult<()> {
        let addr = self.ip_sockaddr(ip, port, "connect")?;
        self.socket().connect(&addr).syscall("connect")
    }

    /// Binds to a Unix path (or an abstract name, first byte NUL).
    pub fn bind_unix(&self, name: &[u8]) -> SysResult<()> {
        let addr = crate::addr::unix_sockaddr(name, "bind")?;
        self.socket().bind(&addr).syscall("bind")
    }

    /// Connects to a Unix path (or an abstract name).
    pub fn connect_unix(&self, name: &[u8]) -> SysResult<()> {
        let addr = crate::addr::unix_sockaddr(name, "connect")?;
        self.socket().connect(&addr).syscall("connect")
    }

    /// Dissolves a datagram association by connecting to AF_UNSPEC (an all-zero `sockaddr`,
    /// as libuv does on every platform).
    pub fn disconnect(&self) -> SysResult<()> {
        use socket2::{socklen_t, SockAddrStorage};
        // AF_UNSPEC is 0 everywhere, so the zeroed storage already says it; `struct sockaddr`
        // is 16 bytes on every platform we build for.
        let storage = SockAddrStorage::zeroed();
        // SAFETY: the storage is initialised (zeroed) well past 16 bytes.
        let addr = unsafe { SockAddr::new(storage, 16 as socklen_t) };
        match self.socket().connect(&addr) {
            Ok(()) => Ok(()),
            // Linux reports EAFNOSUPPORT on some socket types even though the peer is cleared.
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Ok(()),
            Err(e) => Err(SysError::from_io(&e, "connect")),
        }
    }

    /// The address it is bound to.
    pub fn local_endpoint(&self) -> SysResult<Endpoint> {
        let a = self.socket().local_addr().syscall("getsockname")?;
        Ok(Endpoint::from_sockaddr(&a))
    }

    /// The address it is connected to.
    pub fn peer_endpoint(&self) -> SysResult<Endpoint> {
        let a = self.socket().peer_addr().syscall("getpeername")?;
        Ok(Endpoint::from_sockaddr(&a))
    }

    /// The destination for an unconnected UDP send.
    pub fn ip_sockaddr(&self, ip: &str, port: u16, syscall: &'static str) -> SysResult<SockAddr> {
        let parsed = parse_ip(ip, syscall)?;
        let sa = match (self.kind, parsed) {
            (Kind::Udp4, IpAddr::V4(v4)) => SocketAddr::new(IpAddr::V4(v4), port),
            (Kind::Udp6, IpAddr::V6(v6)) => {
                SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, parse_scope(ip)))
            }
            // A literal of the other family is EINVAL in libuv, before any syscall.
            _ => return Err(SysError::einval(syscall)),
        };
        Ok(SockAddr::from(sa))
    }

    // ---- data -------------------------------------------------------------------------------

    /// One non-blocking send. `WouldBlock` comes back as an EAGAIN `SysError`.
    pub fn send_to(&self, data: &[u8], dest: Option<&SockAddr>) -> SysResult<usize> {
        let first = self.send_to_once(data, dest);
        crate::icmp::retry_after_icmp(self, first, || self.send_to_once(data, dest))
    }

    fn send_to_once(&self, data: &[u8], dest: Option<&SockAddr>) -> SysResult<usize> {
        let flags = send_flags();
        self.io(|s| match dest {
            Some(d) => s.send_to_with_flags(data, d, flags),
            None => s.send_with_flags(data, flags),
        })
        .syscall("send")
    }

    /// One non-blocking send carrying descriptors (SCM_RIGHTS) on a Unix socket.
    #[cfg(unix)]
    pub fn send_with_fds(
        &self,
        data: &[u8],
        dest: Option<&SockAddr>,
        fds: &[std::os::fd::RawFd],
    ) -> SysResult<usize> {
        if fds.is_empty() {
            return self.send_to(data, dest);
        }
        if fds.len() > crate::cmsg::MAX_FDS {
            return Err(SysError::coded("ERR_SOCKET_TOO_MANY_FDS", "send"));
        }
        let mut control = crate::cmsg::encode_rights(fds);
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let hdr = crate::sys::msghdr(crate::sys::name_of(dest), &mut iov, &mut control);
        // SAFETY: hdr borrows data, dest and control, all alive for the call.
        crate::sys::retry_eintr("send", || unsafe {
            libc::sendmsg(self.raw_fd(), &hdr, send_flags())
        })
    }

    /// Asks the kernel to attach the sender's credentials to every datagram received (Linux).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn set_pass_credentials(&self, on: bool) -> SysResult<()> {
        self.socket().set_passcred(on).syscall("setsockopt")
    }

    /// SO_PASSCRED is Linux-only: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn set_pass_credentials(&self, _on: bool) -> SysResult<()> {
        Err(SysError::unavailable("setsockopt"))
    }

    // ---- options ----------------------------------------------------------------------------

    /// SO_BROADCAST.
    pub fn set_broadcast(&self, on: bool) -> SysResult<()> {
        self.socket().set_broadcast(on).syscall("setBroadcast")
    }

    /// Whether SO_BROADCAST is on.
    pub fn broadcast(&self) -> SysResult<bool> {
        self.socket().broadcast().syscall("getsockopt")
    }

    /// Unicast TTL (IPv4) or hop limit (IPv6); libuv accepts 1..=255.
    pub fn set_ttl(&self, ttl: i64) -> SysResult<()> {
        const SYSCALL: &str = "setTTL";
        if !(1..=255).contains(&ttl) {
            return Err(SysError::einval(SYSCALL));
        }
        match self.kind {
            Kind::Udp4 => self.socket().set_ttl_v4(ttl as u32),
            Kind::Udp6 => self.socket().set_unicast_hops_v6(ttl as u32),
            Kind::Unix => return Err(SysError::coded("ERR_SOCKET_DGRAM_UNSUPPORTED", SYSCALL)),
        }
        .syscall(SYSCALL)
    }

    /// The unicast TTL / hop limit.
    pub fn ttl(&self) -> SysResult<u32> {
        match self.kind {
            Kind::Udp4 => self.socket().ttl_v4(),
            _ => self.socket().unicast_hops_v6(),
        }
        .syscall("getsockopt")
    }

    /// The multicast TTL / hop limit.
    pub fn set_multicast_ttl(&self, ttl: i64) -> SysResult<()> {
        const SYSCALL: &str = "setMulticastTTL";
        if !(0..=255).contains(&ttl) {
            return Err(SysError::einval(SYSCALL));
        }
        match self.kind {
            Kind::Udp4 => self.socket().set_multicast_ttl_v4(ttl as u32),
            _ => self.socket().set_multicast_hops_v6(ttl as u32),
        }
        .syscall(SYSCALL)
    }

    /// The multicast TTL / hop limit in force.
    pub fn multicast_ttl(&self) -> SysResult<u32> {
        match self.kind {
            Kind::Udp4 => self.socket().multicast_ttl_v4(),
            _ => self.socket().multicast_hops_v6(),
        }
        .syscall("getsockopt")
    }

    /// Whether multicast sent here loops back to this host.
    pub fn set_multicast_loop(&self, on: bool) -> SysResult<()> {
        match self.kind {
            Kind::Udp4 => self.socket().set_multicast_loop_v4(on),
            _ => self.socket().set_multicast_loop_v6(on),
        }
        .syscall("setMulticastLoopback")
    }

    /// Whether multicast loopback is on.
    pub fn multicast_loop(&self) -> SysResult<bool> {
        match self.kind {
            Kind::Udp4 => self.socket().multicast_loop_v4(),
            _ => self.socket().multicast_loop_v6(),
        }
        .syscall("getsockopt")
    }

    /// The argument's family picks the option level, as libuv does, whatever the socket's
    /// family: an IPv4 address sets IP_MULTICAST_IF (a dual-stack udp6 socket accepts it), an
    /// IPv6 text sets IPV6_MULTICAST_IF from its `%scope` (name or index); the kernel answers
    /// for a level the socket does not have (ENOPROTOOPT on a udp4 socket).
    pub fn set_multicast_interface(&self, iface: &str) -> SysResult<()> {
        const SYSCALL: &str = "setMulticastInterface";
        self.require_ip(SYSCALL)?;
        if let Ok(ip) = iface.parse::<Ipv4Addr>() {
            return self.socket().set_multicast_if_v4(&ip).syscall(SYSCALL);
        }
        let index = v6_interface_index(iface, SYSCALL)?;
        self.socket().set_multicast_if_v6(index).syscall(SYSCALL)
    }

    /// The group's family picks IP_ADD/DROP_MEMBERSHIP or the IPv6 ones (libuv's rule), so a
    /// dual-stack udp6 socket joins IPv4 groups and the kernel reports what it refuses
    /// (EADDRNOTAVAIL for a group never joined, ENOPROTOOPT for IPv6 on a udp4 socket).
    pub fn membership(&self, join: bool, group: &str, iface: Option<&str>) -> SysResult<()> {
        let syscall = if join {
            "addMembership"
        } else {
            "dropMembership"
        };
        self.require_ip(syscall)?;
        match parse_ip(group, syscall)? {
            IpAddr::V4(g) => {
                let i = v4_interface(iface, syscall)?;
                if join {
                    self.socket().join_multicast_v4(&g, &i)
                } else {
                    self.socket().leave_multicast_v4(&g, &i)
                }
                .syscall(syscall)
            }
            IpAddr::V6(g) => {
                let index = match iface {
                    Some(t) => v6_interface_index(t, syscall)?,
                    None => parse_scope(group),
                };
                if join {
                    self.socket().join_multicast_v6(&g, index)
                } else {
                    self.socket().leave_multicast_v6(&g, index)
                }
                .syscall(syscall)
            }
        }
    }

    /// As [`Self::membership`]: the group's family decides, and the source must match it.
    pub fn source_membership(
        &self,
        join: bool,
        source: &str,
        group: &str,
        iface: Option<&str>,
    ) -> SysResult<()> {
        let syscall = if join {
            "addSourceSpecificMembership"
        } else {
            "dropSourceSpecificMembership"
        };
        self.require_ip(syscall)?;
        match (parse_ip(group, syscall)?, parse_ip(source, syscall)?) {
            (IpAddr::V4(g), IpAddr::V4(s)) => {
                let i = v4_interface(iface, syscall)?;
                if join {
                    self.socket().join_ssm_v4(&s, &g, &i)
                } else {
                    self.socket().leave_ssm_v4(&s, &g, &i)
                }
                .syscall(syscall)
            }
            (IpAddr::V6(g), IpAddr::V6(s)) => {
                let index = match iface {
                    Some(t) => v6_interface_index(t, syscall)?,
                    None => 0,
                };
                ssm_v6(&self.socket(), join, s, g, index).syscall(syscall)
            }
            _ => Err(SysError::einval(syscall)),
        }
    }

    /// IP-level options exist on UDP sockets only.
    fn require_ip(&self, syscall: &'static str) -> SysResult<()> {
        if self.kind.is_udp() {
            Ok(())
        } else {
            Err(SysError::einval(syscall))
        }
    }

    /// SO_RCVBUF (the kernel may double or clamp it).
    pub fn set_recv_buffer_size(&self, size: usize) -> SysResult<()> {
        self.socket()
            .set_recv_buffer_size(size)
            .syscall("setsockopt")
    }

    /// SO_RCVBUF as the kernel reports it.
    pub fn recv_buffer_size(&self) -> SysResult<usize> {
        self.socket().recv_buffer_size().syscall("getsockopt")
    }

    /// SO_SNDBUF (the kernel may double or clamp it).
    pub fn set_send_buffer_size(&self, size: usize) -> SysResult<()> {
        self.socket()
            .set_send_buffer_size(size)
            .syscall("setsockopt")
    }

    /// SO_SNDBUF as the kernel reports it.
    pub fn send_buffer_size(&self) -> SysResult<usize> {
        self.socket().send_buffer_size().syscall("getsockopt")
    }
}

/// The interface an IPv6 multicast call names: like libuv, the text must be an IPv6 address,
/// and its `%scope` (name or index) picks the interface; no scope means the kernel's default.
/// Anything else is EINVAL, never a silent fallback to the default interface.
/// An IPv4 interface address, or any interface when none is given.
fn v4_interface(iface: Option<&str>, syscall: &'static str) -> SysResult<Ipv4Addr> {
    match iface {
        Some(t) => t.parse().map_err(|_| SysError::einval(syscall)),
        None => Ok(Ipv4Addr::UNSPECIFIED),
    }
}

fn v6_interface_index(text: &str, syscall: &'static str) -> SysResult<u32> {
    let addr = text.split_once('%').map_or(text, |(a, _)| a);
    addr.parse::<Ipv6Addr>()
        .map_err(|_| SysError::einval(syscall))?;
    Ok(parse_scope(text))
}

#[cfg(unix)]
fn unix_domain() -> SysResult<Domain> {
    Ok(Domain::UNIX)
}

#[cfg(not(unix))]
fn unix_domain() -> SysResult<Domain> {
    Err(SysError::coded(
        "ERR_SOCKET_UNIX_DGRAM_UNSUPPORTED",
        "socket",
    ))
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
fn set_reuse_port(sock: &Socket) -> std::io::Result<()> {
    sock.set_reuse_port(true)
}

// libuv refuses UV_UDP_REUSEPORT where the OS has no load-balancing SO_REUSEPORT, and node:dgram
// reports it as `bind ENOTSUP`; an io::Error with a raw OS number keeps that code across.
#[cfg(windows)]
fn set_reuse_port(_sock: &Socket) -> std::io::Result<()> {
    const WSAEOPNOTSUPP: i32 = 10045;
    Err(std::io::Error::from_raw_os_error(WSAEOPNOTSUPP))
}

#[cfg(any(target_os = "solaris", target_os = "illumos"))]
fn set_reuse_port(_sock: &Socket) -> std::io::Result<()> {
    Err(std::io::Error::from_raw_os_error(libc::ENOTSUP))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_flags() -> i32 {
    // A datagram peer that shut down must surface as EPIPE, never as a process-killing SIGPIPE.
    libc::MSG_NOSIGNAL
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_flags() -> i32 {
    0
}

/// IPv6 source-specific multicast (socket2 has only the IPv4 form).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn ssm_v6(
    sock: &Socket,
    join: bool,
    source: Ipv6Addr,
    group: Ipv6Addr,
    iface: u32,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: group_source_req is plain old data; zero is a valid starting value.
    let mut req: libc::group_source_req = unsafe { std::mem::zeroed() };
    req.gsr_interface = iface;
    let put = |dst: &mut libc::sockaddr_storage, ip: Ipv6Addr| {
        // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
        let sin6 = unsafe { &mut *(dst as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6) };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_addr.s6_addr = ip.octets();
    };
    put(&mut req.gsr_source, source);
    put(&mut req.gsr_group, group);
    let opt = if join {
        libc::MCAST_JOIN_SOURCE_GROUP
    } else {
        libc::MCAST_LEAVE_SOURCE_GROUP
    };
    // SAFETY: req is a valid group_source_req and its size is passed alongside.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IPV6,
            opt,
            &req as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::group_source_req>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn ssm_v6(_: &Socket, _: bool, _: Ipv6Addr, _: Ipv6Addr, _: u32) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

//! `NativeSocket`: the JavaScript-facing handle. Thin by design; see
//! packages/dgram/src/native-types.ts for the contract the facade relies on.

use std::ptr;
use std::rc::Rc;

use dgramx_core::offload::{gso_supported, set_gro};
use dgramx_core::sender::{Limit, ManyOutcome, Outcome, QueueFull, QueueLimits, Scope, Sender};
use dgramx_core::unix_file;
use dgramx_core::{icmp, meta, send_control};
use dgramx_core::{BindFlags, DgramSocket, Endpoint, Kind, SockAddr, SysError};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::driver::{self, Driver, SocketCell};
use crate::error::{closed, to_js, Code, IntoJs};
use crate::state::SocketState;

#[napi(object)]
pub struct SendManyResult {
    pub sent: u32,
    /// Bytes of the datagrams sent at once.
    pub bytes: f64,
    /// The request id of each datagram left waiting, in order (completed by a SendsDone event).
    pub queued: Vec<f64>,
}

/// Outcomes of `sendBatch`: the first `sent` datagrams went out whole; `rest` holds one
/// outcome per later datagram: bytes sent, -1 queued (completes with the queue), or -2 failed,
/// with that datagram's error code next in `codes`. The usual burst is all sent, so nothing
/// per datagram has to cross back into JavaScript.
#[napi(object)]
pub struct BatchResult {
    pub sent: u32,
    pub rest: Vec<i64>,
    pub codes: Vec<String>,
    /// The request id of each datagram in `rest` that was queued, in order.
    pub ids: Vec<f64>,
}

const BATCH_QUEUED: i64 = -1;
const BATCH_FAILED: i64 = -2;

/// The socket file a path bind created (as numbers, the way fs.Stats reports them).
#[napi(object)]
pub struct NativeSocketFile {
    pub dev: f64,
    pub ino: f64,
}

impl From<unix_file::SocketFile> for NativeSocketFile {
    fn from(f: unix_file::SocketFile) -> Self {
        NativeSocketFile {
            dev: f.dev as f64,
            ino: f.ino as f64,
        }
    }
}

#[napi(object)]
pub struct NativeAddress {
    pub address: String,
    pub family: Option<String>,
    pub port: Option<u32>,
}

impl From<Endpoint> for NativeAddress {
    fn from(e: Endpoint) -> Self {
        match e {
            Endpoint::Ip(sa) => NativeAddress {
                address: dgramx_core::addr::ip_string(&sa),
                family: Some(if sa.is_ipv4() { "IPv4" } else { "IPv6" }.to_string()),
                port: Some(sa.port() as u32),
            },
            unix => NativeAddress {
                address: unix.address_string(),
                family: None,
                port: None,
            },
        }
    }
}

#[napi(custom_finalize)]
pub struct NativeSocket {
    cell: Rc<SocketCell>,
    driver: Rc<Driver>,
    kind: Kind,
}

impl NativeSocket {
    /// Runs `f` on the open socket, or fails with EBADF once closed.
    fn with<T>(
        &self,
        syscall: &'static str,
        f: impl FnOnce(&DgramSocket) -> std::result::Result<T, SysError>,
    ) -> Result<T, Code> {
        let st = self.cell.borrow();
        let sock = st.sock.as_ref().ok_or_else(|| closed(syscall))?;
        f(sock).js()
    }

    /// Runs one send request on the core sender, then arms writability if it queued anything.
    fn sending<T>(&self, f: impl FnOnce(&mut Sender, &DgramSocket) -> T) -> Result<T, Code> {
        let mut guard = self.cell.borrow_mut();
        let st = &mut *guard;
        let sock = st.sock.as_ref().ok_or_else(|| closed("send"))?;
        let before = st.sender.queued_count();
        let out = f(&mut st.sender, sock);
        if st.sender.queued_count() > before {
            st.sync(&self.driver).js()?;
            self.driver.stall(st.token, false);
        }
        Ok(out)
    }

    /// An IP destination (None: the connected peer).
    fn ip_dest(&self, address: Option<String>, port: u32) -> Result<Option<SockAddr>, Code> {
        match address {
            Some(a) => {
                let port = Self::port(port)?;
                Ok(Some(
                    self.with("send", |s| s.ip_sockaddr(&a, port, "send"))?,
                ))
            }
            None => Ok(None),
        }
    }

    fn port(port: u32) -> Result<u16, Code> {
        u16::try_from(port).map_err(|_| {
            napi::Error::new(
                Code("ERR_SOCKET_BAD_PORT"),
                format!("Port should be >= 0 and < 65536. Received {port}."),
            )
        })
    }
}

#[napi]
impl NativeSocket {
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        kind: String,
        on_event: Unknown,
        resource: Option<Unknown>,
    ) -> Result<Self, Code> {
        let kind = Kind::parse(&kind).ok_or_else(|| {
            napi::Error::new(
                Code("ERR_SOCKET_BAD_TYPE"),
                "Bad socket type specified. Valid types are: udp4, udp6, unix_dgram".to_string(),
            )
        })?;
        let driver = driver::current(env.raw()).js()?;
        let sock = DgramSocket::new(kind).js()?;
        let mut callback = ptr::null_mut();
        // SAFETY: on_event is a live value of this env; the weak (count 0) reference is
        // strengthened only while events can arrive (see SocketState::sync).
        unsafe { sys::napi_create_reference(env.raw(), on_event.raw(), 0, &mut callback) };
        // With a resource object, events run in an async context made here, in the creation
        // context (node's UDPWRAP does the same), so JavaScript need not enter one itself.
        let mut async_context = ptr::null_mut();
        let mut resource_ref = ptr::null_mut();
        if let Some(resource) = resource {
            let name = crate::js::string(env.raw(), "UDPWRAP");
            // SAFETY: resource and name are live values of this env. napi_async_init holds the
            // resource only weakly, and once it is collected AsyncLocalStorage loses the
            // creation context, so a strong reference keeps it for the socket's lifetime.
            unsafe {
                sys::napi_async_init(env.raw(), resource.raw(), name, &mut async_context);
                sys::napi_create_reference(env.raw(), resource.raw(), 1, &mut resource_ref);
            }
        }
        let mut state = SocketState::new(sock, env.raw(), callback, async_context);
        state.resource = resource_ref;
        if kind == Kind::Unix {
            state.sender.set_limits(QueueLimits::UNIX_DEFAULT);
        }
        let cell = Rc::new(SocketCell::new(state));
        let token = driver.insert(&cell).js()?;
        cell.borrow_mut().token = token;
        Ok(NativeSocket { cell, driver, kind })
    }

    #[napi(catch_unwind)]
    pub fn bind(&self, address: String, port: u32, flags: u32) -> Result<(), Code> {
        let port = Self::port(port)?;
        self.with("bind", |s| {
            s.bind_ip(&address, port, BindFlags::from_bits(flags))
        })
    }

    #[napi(catch_unwind)]
    pub fn connect(&self, address: String, port: u32) -> Result<(), Code> {
        let port = Self::port(port)?;
        self.with("connect", |s| s.connect_ip(&address, port))
    }

    /// Binds to a path, an abstract name or (empty) an autobound name; `mode` is applied without
    /// following links (see `dgramx_core::unix_file`). Returns the created file's identity.
    #[napi(catch_unwind)]
    pub fn bind_unix(
        &self,
        path: BufferSlice,
        mode: Option<u32>,
    ) -> Result<Option<NativeSocketFile>, Code> {
        self.with("bind", |s| unix_file::bind(s, &path, mode))
            .map(|file| file.map(NativeSocketFile::from))
    }

    #[napi(catch_unwind)]
    pub fn connect_unix(&self, path: BufferSlice) -> Result<(), Code> {
        self.with("connect", |s| s.connect_unix(&path))
    }

    #[napi(catch_unwind)]
    pub fn disconnect(&self) -> Result<(), Code> {
        self.with("connect", |s| s.disconnect())
    }

    #[napi(catch_unwind)]
    pub fn local_address(&self) -> Result<NativeAddress, Code> {
        self.with("getsockname", |s| s.local_endpoint())
            .map(NativeAddress::from)
    }

    #[napi(catch_unwind)]
    pub fn remote_address(&self) -> Result<NativeAddress, Code> {
        self.with("getpeername", |s| s.peer_endpoint())
            .map(NativeAddress::from)
    }

    #[napi(catch_unwind)]
    pub fn send(&self, data: BufferSlice, address: Option<String>, port: u32) -> Result<i64, Code> {
        let dest = self.ip_dest(address, port)?;
        single(self.sending(|tx, s| tx.send(s, &data, dest))?)
    }

    /// `fds` are passed as SCM_RIGHTS; the caller keeps its own descriptors (we send dups when
    /// the datagram has to wait in the queue).
    #[napi(catch_unwind)]
    pub fn send_unix(
        &self,
        data: BufferSlice,
        path: Option<BufferSlice>,
        fds: Option<Vec<i32>>,
    ) -> Result<i64, Code> {
        let dest = match path {
            Some(p) => Some(dgramx_core::addr::unix_sockaddr(&p, "send").js()?),
            None => None,
        };
        single(self.sending(|tx, s| match fds {
            #[cfg(unix)]
            Some(fds) if !fds.is_empty() => tx.send_fds(s, &data, dest, &fds),
            _ => tx.send(s, &data, dest),
        })?)
    }

    /// Sends several datagrams to one destination in as few syscalls as possible (sendmmsg;
    /// with `gso`, GSO where the socket can: see Sender::send_many). Returns `{ sent, queued }`;
    /// an immediate failure of the first datagram throws.
    #[napi(catch_unwind)]
    pub fn send_many(
        &self,
        datagrams: Vec<BufferSlice>,
        address: Option<String>,
        port: u32,
        gso: Option<bool>,
    ) -> Result<SendManyResult, Code> {
        let dest = self.ip_dest(address, port)?;
        let gso = gso == Some(true) && self.kind.is_udp();
        let slices: Vec<&[u8]> = datagrams.iter().map(|d| &d[..]).collect();
        let out = self
            .sending(|tx, s| tx.send_many(s, &slices, dest, gso))?
            .js()?;
        Ok(many(out))
    }

    /// The sends of one tick, each with its own destination (`ips[i]` empty: the connected
    /// peer; one entry in `ips`/`ports` applies to all), in as few syscalls as possible. Each
    /// datagram gets its own outcome (see Sender::send_batch). Never throws for a datagram's
    /// own failure.
    #[napi(catch_unwind)]
    pub fn send_batch(
        &self,
        datagrams: Vec<BufferSlice>,
        ips: Vec<String>,
        ports: Vec<u32>,
    ) -> Result<BatchResult, Code> {
        let n = datagrams.len();
        // One destination for the whole batch (the usual burst) comes as a single entry.
        let shared = ips.len() == 1 && ports.len() == 1;
        if !shared && (ips.len() != n || ports.len() != n) {
            return Err(to_js(SysError::einval("send")));
        }
        let slices: Vec<&[u8]> = datagrams.iter().map(|d| &d[..]).collect();
        let outcomes = self.sending(|tx, sock| {
            let parse = |ip: &String, port: u32| {
                if ip.is_empty() {
                    return Ok(None);
                }
                let port = u16::try_from(port).map_err(|_| SysError::einval("send"))?;
                sock.ip_sockaddr(ip, port, "send").map(Some)
            };
            // A bad destination fails its own datagram only.
            let dests: Vec<_> = if shared {
                vec![parse(&ips[0], ports[0]); n]
            } else {
                ips.iter()
                    .zip(&ports)
                    .map(|(ip, &p)| parse(ip, p))
                    .collect()
            };
            tx.send_batch(sock, &slices, &dests)
        })?;
        // The usual burst is all sent: only what follows the first other outcome crosses back.
        let sent = outcomes
            .iter()
            .zip(&slices)
            .take_while(|(o, d)| matches!(o, Outcome::Sent(k) if *k == d.len()))
            .count();
        let mut codes = Vec::new();
        let mut ids = Vec::new();
        let rest = outcomes[sent..]
            .iter()
            .map(|o| match o {
                Outcome::Sent(k) => *k as i64,
                Outcome::Queued(id) => {
                    ids.push(*id as f64);
                    BATCH_QUEUED
                }
                Outcome::Failed(e) => {
                    codes.push(e.code.to_string());
                    BATCH_FAILED
                }
                Outcome::Refused(_) => {
                    codes.push(QUEUE_FULL.to_string());
                    BATCH_FAILED
                }
            })
            .collect();
        Ok(BatchResult {
            sent: sent as u32,
            rest,
            codes,
            ids,
        })
    }

    /// Whether this socket can send with UDP GSO (Linux >= 4.18 with a capable route).
    #[napi(catch_unwind)]
    pub fn gso_supported(&self) -> Result<bool, Code> {
        self.with("setsockopt", |s| Ok(gso_supported(s)))
    }

    /// Sends `data` as datagrams of `segment` bytes (the last may be shorter) with one GSO
    /// syscall. What waits is queued as separate datagrams, one request id each.
    #[napi(catch_unwind)]
    pub fn send_segments(
        &self,
        data: BufferSlice,
        segment: u32,
        address: Option<String>,
        port: u32,
    ) -> Result<SendManyResult, Code> {
        let segment = u16::try_from(segment)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| to_js(SysError::einval("send")))?;
        let dest = self.ip_dest(address, port)?;
        let out = self
            .sending(|tx, s| tx.send_segments(s, &data, segment, dest))?
            .js()?;
        Ok(many(out))
    }

    /// UDP GRO on receive: fewer, larger reads; datagrams are still delivered one by one.
    #[napi(catch_unwind)]
    pub fn set_gro(&self, on: bool) -> Result<(), Code> {
        self.with("setsockopt", |s| set_gro(s, on))?;
        self.cell.borrow_mut().gro = on;
        Ok(())
    }

    /// Whole batches to the facade (its 'messages' event): one callback per receive batch, its
    /// per-datagram fields laid out column by column (see driver::EV_BATCH).
    #[napi(catch_unwind)]
    pub fn set_batch_delivery(&self, on: bool) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        if st.sock.is_none() {
            return Err(closed("setBatchDelivery"));
        }
        st.batch = on;
        Ok(())
    }

    /// Linux: attach the sender's pid/uid/gid to every datagram received (SO_PASSCRED).
    #[napi(catch_unwind)]
    pub fn set_pass_credentials(&self, on: bool) -> Result<(), Code> {
        self.with("setsockopt", |s| s.set_pass_credentials(on))?;
        let mut st = self.cell.borrow_mut();
        st.pass_credentials = on;
        st.unix_ancillary = st.pass_credentials || st.receive_fds;
        Ok(())
    }

    /// Accept descriptors (SCM_RIGHTS) with received datagrams; without it the kernel drops them.
    #[napi(catch_unwind)]
    pub fn set_receive_fds(&self, on: bool) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        if st.sock.is_none() {
            return Err(closed("setsockopt"));
        }
        // Turning one of the two off must not turn the other off (they share the control
        // buffer); descriptors that arrive while only credentials are wanted are closed by the
        // facade.
        st.receive_fds = on;
        st.unix_ancillary = st.pass_credentials || st.receive_fds;
        Ok(())
    }

    // ---- beyond node:dgram: metadata, per-send control, options, ICMP errors ---------------

    /// Receive metadata with each datagram: bit 1 destination address + interface, 2 TTL/hop
    /// limit, 4 TOS/traffic class, 8 kernel timestamp. 0 turns it all off (zero cost).
    #[napi(catch_unwind)]
    pub fn set_recv_metadata(&self, flags: u32) -> Result<(), Code> {
        self.with("setsockopt", |s| {
            meta::set_recv_meta(s, meta::MetaFlags(flags))
        })?;
        self.cell.borrow_mut().meta = flags != 0;
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn set_tos(&self, tos: u32) -> Result<(), Code> {
        let tos = u8::try_from(tos).map_err(|_| to_js(SysError::einval("setsockopt")))?;
        self.with("setsockopt", |s| meta::set_tos(s, tos))
    }

    #[napi(catch_unwind)]
    pub fn get_tos(&self) -> Result<u32, Code> {
        self.with("getsockopt", |s| meta::tos(s).map(u32::from))
    }

    #[napi(catch_unwind)]
    pub fn bind_to_device(&self, name: String) -> Result<(), Code> {
        self.with("setsockopt", |s| meta::bind_device(s, &name))
    }

    #[napi(catch_unwind)]
    pub fn set_mtu_discover(&self, mode: String) -> Result<(), Code> {
        self.with("setsockopt", |s| meta::set_mtu_discover(s, &mode))
    }

    #[napi(catch_unwind)]
    pub fn get_path_mtu(&self) -> Result<u32, Code> {
        self.with("getsockopt", meta::path_mtu)
    }

    /// Report ICMP errors (port/host unreachable, fragmentation needed) as Icmp events.
    #[napi(catch_unwind)]
    pub fn set_recv_errors(&self, on: bool) -> Result<(), Code> {
        self.with("setsockopt", |s| icmp::set_recv_err(s, on))?;
        self.cell.borrow_mut().sender.set_recv_err(on);
        Ok(())
    }

    /// SO_RCVBUFFORCE (recv) / SO_SNDBUFFORCE: past the sysctl limits; needs CAP_NET_ADMIN.
    #[napi(catch_unwind)]
    pub fn set_buffer_size_force(&self, recv: bool, size: u32) -> Result<(), Code> {
        let actual = self.with("setsockopt", |s| {
            meta::set_buffer_size_force(s, recv, size)?;
            s.recv_buffer_size()
        })?;
        if recv {
            self.cell.borrow_mut().recv_slot = actual;
        }
        Ok(())
    }

    /// One datagram with a chosen source address / interface and/or TOS. Same return
    /// convention as send().
    #[napi(catch_unwind)]
    pub fn send_with(
        &self,
        data: BufferSlice,
        address: Option<String>,
        port: u32,
        source: Option<String>,
        interface_index: Option<u32>,
        tos: Option<u32>,
    ) -> Result<i64, Code> {
        let dest = self.ip_dest(address, port)?;
        let opts = send_control::SendOptions {
            source: match source {
                Some(s) => Some(dgramx_core::addr::parse_ip(&s, "send").js()?),
                None => None,
            },
            interface_index: interface_index.unwrap_or(0),
            tos: match tos {
                Some(t) => Some(u8::try_from(t).map_err(|_| to_js(SysError::einval("send")))?),
                None => None,
            },
        };
        single(self.sending(|tx, s| tx.send_with(s, &data, dest, opts))?)
    }

    #[napi(catch_unwind)]
    pub fn recv_start(&self) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        if st.sock.is_none() {
            return Err(closed("recvmsg"));
        }
        st.receiving = true;
        st.sync(&self.driver).js()
    }

    #[napi(catch_unwind)]
    pub fn recv_stop(&self) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        st.receiving = false;
        st.sync(&self.driver).js()
    }

    #[napi(js_name = "ref", catch_unwind)]
    pub fn ref_(&self) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        st.refd = true;
        st.sync(&self.driver).js()
    }

    #[napi(catch_unwind)]
    pub fn unref(&self) -> Result<(), Code> {
        let mut st = self.cell.borrow_mut();
        st.refd = false;
        st.sync(&self.driver).js()
    }

    #[napi(catch_unwind)]
    /// Closes; returns the request ids of the sends dropped unsent.
    pub fn close(&self) -> Vec<f64> {
        let dropped = self.cell.borrow_mut().close(&self.driver);
        dropped.into_iter().map(|id| id as f64).collect()
    }

    #[napi(catch_unwind)]
    pub fn fd(&self) -> i32 {
        self.cell
            .borrow()
            .sock
            .as_ref()
            .map(|s| s.raw_fd())
            .unwrap_or(-1)
    }

    /// Replaces this still-unused socket's descriptor with `fd` and owns it from now on
    /// (`bind({ fd })`, e.g. systemd socket activation). A descriptor of the wrong kind is
    /// refused with node:dgram's `ERR_INVALID_FD_TYPE` and stays the caller's. With `copy`,
    /// the socket owns a duplicate and `fd` stays the caller's in every case (a cluster
    /// worker's socket shares the descriptor of a handle that node's cluster closes itself).
    #[napi(catch_unwind)]
    pub fn adopt(&self, fd: i32, copy: Option<bool>) -> Result<(), Code> {
        #[cfg(unix)]
        return if copy == Some(true) {
            self.adopt_copy(fd)
        } else {
            self.adopt_fd(fd)
        };
        #[cfg(not(unix))]
        {
            // Windows sockets are handles, not small integers: there is nothing to adopt.
            let _ = (fd, copy);
            Err(to_js(SysError::unavailable("open")))
        }
    }
}

impl NativeSocket {
    #[cfg(unix)]
    fn adopt_copy(&self, fd: i32) -> Result<(), Code> {
        // SAFETY: fcntl on any integer is safe; a bad fd only yields -1.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if copy < 0 {
            return Err(to_js(SysError::from_io(
                &std::io::Error::last_os_error(),
                "open",
            )));
        }
        let result = self.adopt_fd(copy);
        if result.is_err() {
            // SAFETY: `copy` is ours and was not adopted.
            unsafe { libc::close(copy) };
        }
        result
    }

    #[cfg(unix)]
    fn adopt_fd(&self, fd: i32) -> Result<(), Code> {
        use dgramx_core::adopt::AdoptError;
        let mut st = self.cell.borrow_mut();
        if st.sock.is_none() {
            return Err(closed("open"));
        }
        if st.receiving || st.sender.has_queued() {
            return Err(to_js(SysError::ebusy("open")));
        }
        let invalid = |what: &str| {
            napi::Error::new(
                Code("ERR_INVALID_FD_TYPE"),
                format!("Unsupported fd type: {what}"),
            )
        };
        match DgramSocket::adopt(self.kind, fd) {
            Ok(sock) => {
                // SO_PASSCRED lives on the descriptor being replaced (createSocket's
                // passCredentials): the adopted one gets it too. On failure the descriptor is
                // handed back open, as for any refused adoption.
                if st.pass_credentials {
                    if let Err(e) = sock.set_pass_credentials(true) {
                        let _ = sock.into_raw_fd();
                        return Err(to_js(e));
                    }
                }
                // Not registered with the reactor (not receiving, nothing queued): just drop it.
                st.sock = Some(sock);
                Ok(())
            }
            Err(AdoptError::WrongType(handle)) => Err(invalid(handle)),
            Err(AdoptError::WrongFamily) => Err(invalid("UDP (a socket of the other IP family)")),
            Err(AdoptError::Sys(e)) => Err(to_js(e)),
        }
    }
}

#[napi]
impl NativeSocket {
    #[napi(catch_unwind)]
    pub fn kind(&self) -> String {
        match self.kind {
            Kind::Udp4 => "udp4",
            Kind::Udp6 => "udp6",
            Kind::Unix => "unix_dgram",
        }
        .to_string()
    }

    // ---- options ----------------------------------------------------------------------------

    #[napi(catch_unwind)]
    pub fn set_broadcast(&self, on: bool) -> Result<(), Code> {
        self.with("setBroadcast", |s| s.set_broadcast(on))
    }

    #[napi(catch_unwind)]
    pub fn get_broadcast(&self) -> Result<bool, Code> {
        self.with("getsockopt", |s| s.broadcast())
    }

    #[napi(catch_unwind)]
    pub fn set_ttl(&self, ttl: f64) -> Result<(), Code> {
        self.with("setTTL", |s| s.set_ttl(as_int(ttl)))
    }

    #[napi(catch_unwind)]
    pub fn get_ttl(&self) -> Result<u32, Code> {
        self.with("getsockopt", |s| s.ttl())
    }

    #[napi(catch_unwind)]
    pub fn set_multicast_ttl(&self, ttl: f64) -> Result<(), Code> {
        self.with("setMulticastTTL", |s| s.set_multicast_ttl(as_int(ttl)))
    }

    #[napi(catch_unwind)]
    pub fn get_multicast_ttl(&self) -> Result<u32, Code> {
        self.with("getsockopt", |s| s.multicast_ttl())
    }

    #[napi(catch_unwind)]
    pub fn set_multicast_loopback(&self, on: bool) -> Result<(), Code> {
        self.with("setMulticastLoopback", |s| s.set_multicast_loop(on))
    }

    #[napi(catch_unwind)]
    pub fn get_multicast_loopback(&self) -> Result<bool, Code> {
        self.with("getsockopt", |s| s.multicast_loop())
    }

    #[napi(catch_unwind)]
    pub fn set_multicast_interface(&self, iface: String) -> Result<(), Code> {
        self.with("setMulticastInterface", |s| {
            s.set_multicast_interface(&iface)
        })
    }

    #[napi(catch_unwind)]
    pub fn add_membership(&self, group: String, iface: Option<String>) -> Result<(), Code> {
        self.with("addMembership", |s| {
            s.membership(true, &group, iface.as_deref())
        })
    }

    #[napi(catch_unwind)]
    pub fn drop_membership(&self, group: String, iface: Option<String>) -> Result<(), Code> {
        self.with("dropMembership", |s| {
            s.membership(false, &group, iface.as_deref())
        })
    }

    #[napi(catch_unwind)]
    pub fn add_source_specific_membership(
        &self,
        source: String,
        group: String,
        iface: Option<String>,
    ) -> Result<(), Code> {
        self.with("addSourceSpecificMembership", |s| {
            s.source_membership(true, &source, &group, iface.as_deref())
        })
    }

    #[napi(catch_unwind)]
    pub fn drop_source_specific_membership(
        &self,
        source: String,
        group: String,
        iface: Option<String>,
    ) -> Result<(), Code> {
        self.with("dropSourceSpecificMembership", |s| {
            s.source_membership(false, &source, &group, iface.as_deref())
        })
    }

    #[napi(catch_unwind)]
    pub fn set_recv_buffer_size(&self, size: u32) -> Result<(), Code> {
        let actual = self.with("setsockopt", |s| {
            s.set_recv_buffer_size(size as usize)?;
            s.recv_buffer_size()
        })?;
        self.cell.borrow_mut().recv_slot = actual;
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn get_recv_buffer_size(&self) -> Result<u32, Code> {
        self.with("getsockopt", |s| s.recv_buffer_size().map(|n| n as u32))
    }

    #[napi(catch_unwind)]
    pub fn set_send_buffer_size(&self, size: u32) -> Result<(), Code> {
        self.with("setsockopt", |s| s.set_send_buffer_size(size as usize))
    }

    #[napi(catch_unwind)]
    pub fn get_send_buffer_size(&self) -> Result<u32, Code> {
        self.with("getsockopt", |s| s.send_buffer_size().map(|n| n as u32))
    }

    #[napi(catch_unwind)]
    pub fn get_send_queue_size(&self) -> f64 {
        // A JS number: exact up to 2^53 bytes, where a u32 would wrap at 4 GiB.
        self.cell.borrow().sender.queued_bytes() as f64
    }

    #[napi(catch_unwind)]
    pub fn get_send_queue_count(&self) -> f64 {
        self.cell.borrow().sender.queued_count() as f64
    }

    /// Bounds the send queue (validated by the facade: integers >= 0 or Infinity). Each bound
    /// left undefined keeps the socket type's default (unix_dgram: QueueLimits::UNIX_DEFAULT).
    #[napi(catch_unwind)]
    pub fn set_send_queue_limit(
        &self,
        per_destination_datagrams: Option<f64>,
        per_destination_bytes: Option<f64>,
        total_datagrams: Option<f64>,
        total_bytes: Option<f64>,
    ) {
        let base = if self.kind == Kind::Unix {
            QueueLimits::UNIX_DEFAULT
        } else {
            QueueLimits::UNBOUNDED
        };
        let limits = QueueLimits {
            per_destination: Limit {
                datagrams: limit_value(per_destination_datagrams, base.per_destination.datagrams),
                bytes: limit_value(per_destination_bytes, base.per_destination.bytes),
            },
            total: Limit {
                datagrams: limit_value(total_datagrams, base.total.datagrams),
                bytes: limit_value(total_bytes, base.total.bytes),
            },
        };
        self.cell.borrow_mut().sender.set_limits(limits);
    }
}

/// JS numbers become option values; out-of-range ones must fail the range check, not wrap.
fn as_int(n: f64) -> i64 {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        n as i64
    } else {
        -1
    }
}

impl ObjectFinalize for NativeSocket {
    fn finalize(self, env: Env) -> napi::Result<()> {
        let mut st = self.cell.borrow_mut();
        st.close(&self.driver);
        st.release_callback(env.raw());
        Ok(())
    }
}

/// One request's outcome as send() returns it: bytes sent (>= 0), or queued as request `-n`
/// (ids start at 1); a failure throws.
fn single(outcome: Outcome) -> Result<i64, Code> {
    match outcome {
        Outcome::Sent(n) => Ok(n as i64),
        Outcome::Queued(id) => Ok(-(id as i64)),
        Outcome::Failed(e) => Err(to_js(e)),
        Outcome::Refused(full) => Err(napi::Error::new(
            Code(QUEUE_FULL),
            queue_full_message(&full),
        )),
    }
}

const QUEUE_FULL: &str = "ERR_SOCKET_DGRAM_QUEUE_FULL";

/// The refusal's Node-style text; the facade passes it on as the error's message.
fn queue_full_message(full: &QueueFull) -> String {
    let mut limit = Vec::new();
    if full.limit.datagrams != u64::MAX {
        limit.push(format!("{} datagrams", full.limit.datagrams));
    }
    if full.limit.bytes != u64::MAX {
        limit.push(format!("{} bytes", full.limit.bytes));
    }
    let whose = match full.scope {
        Scope::Destination => "for this destination",
        Scope::Socket => "of this socket",
    };
    format!(
        "The send queue {whose} is full ({} datagrams, {} bytes waiting; limit {}); wait for 'drain'",
        full.datagrams,
        full.bytes,
        limit.join(", ")
    )
}

/// A limit from JavaScript: undefined keeps `default`, Infinity (or anything at or past
/// 2**64) lifts it.
fn limit_value(v: Option<f64>, default: u64) -> u64 {
    match v {
        None => default,
        Some(n) if n >= u64::MAX as f64 => u64::MAX,
        Some(n) => n as u64,
    }
}

fn many(out: ManyOutcome) -> SendManyResult {
    SendManyResult {
        sent: out.sent as u32,
        bytes: out.bytes as f64,
        queued: out.queued.into_iter().map(|id| id as f64).collect(),
    }
}

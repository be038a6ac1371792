//! The syscall ceiling for `pnpm bench`: what plain and batched datagram syscalls achieve on
//! this machine with no runtime in between (blocking sockets, no event loop, no allocation on
//! the hot path). The bench drives it as a child process; every subcommand prints one JSON
//! object per line on stdout: first `{"ready":...}` where it has an address to announce, then
//! `{"result":...}`.
//!
//! ```text
//! dgramx-ceiling recv  <kind> <plain|mmsg|gro> <warmup_ms> <ms> [path]
//! dgramx-ceiling send  <kind> <plain|mmsg|gso> <size> <ms> <port|path>
//! dgramx-ceiling sink  <kind> <drain|hold> <max_ms> [path]
//! dgramx-ceiling echo  <kind> <max_ms> [path]
//! dgramx-ceiling rtt   <kind> <size> <warmup> <count> <port|path> [own_path]
//! ```
//!
//! `kind` is udp4, udp6 or unix. Every loop is bounded by a deadline or a count.

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("{{\"error\":\"the ceiling program needs Linux (recvmmsg/sendmmsg/UDP_SEGMENT)\"}}");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match linux::run(&args) {
        Ok(()) => 0,
        Err(e) => {
            println!("{{\"error\":{:?}}}", e);
            1
        }
    };
    std::process::exit(code);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::Write;
    use std::mem;
    use std::time::{Duration, Instant};

    const BATCH: usize = 64;
    const RECV_SLOTS: usize = 32;
    const SLOT: usize = 65536;
    const GSO_MAX_SEGMENTS: usize = 64;
    const GSO_MAX_BYTES: usize = 65000;

    type Res<T> = Result<T, String>;

    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Udp4,
        Udp6,
        Unix,
    }

    fn kind(s: &str) -> Res<Kind> {
        match s {
            "udp4" => Ok(Kind::Udp4),
            "udp6" => Ok(Kind::Udp6),
            "unix" | "unix_dgram" => Ok(Kind::Unix),
            _ => Err(format!("bad kind {s}")),
        }
    }

    fn arg<'a>(args: &'a [String], i: usize, what: &str) -> Res<&'a str> {
        args.get(i)
            .map(|s| s.as_str())
            .ok_or_else(|| format!("missing {what}"))
    }

    fn num(args: &[String], i: usize, what: &str) -> Res<u64> {
        arg(args, i, what)?
            .parse()
            .map_err(|_| format!("bad {what}"))
    }

    fn os_err(what: &str) -> String {
        format!("{what}: {}", std::io::Error::last_os_error())
    }

    /// A socket address in the form the syscalls take.
    struct Addr {
        storage: libc::sockaddr_storage,
        len: libc::socklen_t,
    }

    impl Addr {
        fn empty() -> Addr {
            // SAFETY: sockaddr_storage is plain old data.
            Addr {
                storage: unsafe { mem::zeroed() },
                len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
            }
        }

        fn ip(kind: Kind, port: u16) -> Addr {
            let mut a = Addr::empty();
            match kind {
                Kind::Udp4 => {
                    // SAFETY: sockaddr_storage is large enough and suitably aligned.
                    let sin = unsafe { &mut *(&mut a.storage as *mut _ as *mut libc::sockaddr_in) };
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_port = port.to_be();
                    sin.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
                    a.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
                }
                _ => {
                    // SAFETY: as above.
                    let sin6 =
                        unsafe { &mut *(&mut a.storage as *mut _ as *mut libc::sockaddr_in6) };
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_port = port.to_be();
                    sin6.sin6_addr.s6_addr[15] = 1;
                    a.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
                }
            }
            a
        }

        fn unix(path: &str) -> Res<Addr> {
            let mut a = Addr::empty();
            // SAFETY: as above.
            let sun = unsafe { &mut *(&mut a.storage as *mut _ as *mut libc::sockaddr_un) };
            sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
            let bytes = path.as_bytes();
            if bytes.len() >= sun.sun_path.len() {
                return Err(format!("path too long: {path}"));
            }
            for (d, s) in sun.sun_path.iter_mut().zip(bytes) {
                *d = *s as libc::c_char;
            }
            a.len = (mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
            Ok(a)
        }

        fn ptr(&self) -> *const libc::sockaddr {
            &self.storage as *const _ as *const libc::sockaddr
        }

        fn port(&self) -> u16 {
            // SAFETY: both layouts put the port at the same offset.
            let sin = unsafe { &*(&self.storage as *const _ as *const libc::sockaddr_in) };
            u16::from_be(sin.sin_port)
        }
    }

    struct Sock(libc::c_int);

    impl Drop for Sock {
        fn drop(&mut self) {
            // SAFETY: we own the descriptor.
            unsafe { libc::close(self.0) };
        }
    }

    impl Sock {
        fn new(kind: Kind) -> Res<Sock> {
            let domain = match kind {
                Kind::Udp4 => libc::AF_INET,
                Kind::Udp6 => libc::AF_INET6,
                Kind::Unix => libc::AF_UNIX,
            };
            // SAFETY: plain syscall.
            let fd = unsafe { libc::socket(domain, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
            if fd < 0 {
                return Err(os_err("socket"));
            }
            Ok(Sock(fd))
        }

        fn bind(&self, a: &Addr) -> Res<()> {
            // SAFETY: a describes a valid address of a.len bytes.
            if unsafe { libc::bind(self.0, a.ptr(), a.len) } != 0 {
                return Err(os_err("bind"));
            }
            Ok(())
        }

        fn local(&self) -> Res<Addr> {
            let mut a = Addr::empty();
            // SAFETY: a has room for any address.
            if unsafe { libc::getsockname(self.0, &mut a.storage as *mut _ as *mut _, &mut a.len) }
                != 0
            {
                return Err(os_err("getsockname"));
            }
            Ok(a)
        }

        fn set_int(&self, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> Res<()> {
            // SAFETY: v is an int option of the size passed.
            let rc = unsafe {
                libc::setsockopt(
                    self.0,
                    level,
                    name,
                    &v as *const _ as *const libc::c_void,
                    mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(os_err("setsockopt"));
            }
            Ok(())
        }

        /// Blocking calls give up after `ms` so deadlines are checked.
        fn set_timeout(&self, ms: u64) -> Res<()> {
            let tv = libc::timeval {
                tv_sec: (ms / 1000) as libc::time_t,
                tv_usec: ((ms % 1000) * 1000) as libc::suseconds_t,
            };
            for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
                // SAFETY: tv is a timeval of the size passed.
                let rc = unsafe {
                    libc::setsockopt(
                        self.0,
                        libc::SOL_SOCKET,
                        opt,
                        &tv as *const _ as *const libc::c_void,
                        mem::size_of::<libc::timeval>() as libc::socklen_t,
                    )
                };
                if rc != 0 {
                    return Err(os_err("setsockopt"));
                }
            }
            Ok(())
        }
    }

    /// Binds a receiving socket: loopback port 0 for UDP, `path` for unix.
    fn bound(kind: Kind, path: Option<&str>) -> Res<(Sock, String)> {
        let s = Sock::new(kind)?;
        match kind {
            Kind::Unix => {
                let p = path.ok_or("unix needs a path")?;
                let _ = std::fs::remove_file(p);
                s.bind(&Addr::unix(p)?)?;
                Ok((s, format!("{{\"path\":{p:?}}}")))
            }
            _ => {
                s.bind(&Addr::ip(kind, 0))?;
                let port = s.local()?.port();
                Ok((s, format!("{{\"port\":{port}}}")))
            }
        }
    }

    fn dest(kind: Kind, target: &str) -> Res<Addr> {
        match kind {
            Kind::Unix => Addr::unix(target),
            _ => Ok(Addr::ip(
                kind,
                target.parse().map_err(|_| "bad port".to_string())?,
            )),
        }
    }

    /// CPU seconds (user + system) this process has used so far: the bench reports receive
    /// capacity per CPU-second, which holds up better than a rate on a shared machine.
    fn cpu_secs() -> f64 {
        // SAFETY: getrusage fills the zeroed struct.
        let mut u: libc::rusage = unsafe { mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
        let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
        t(u.ru_utime) + t(u.ru_stime)
    }

    fn say(line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn is_timeout(e: &std::io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ETIMEDOUT)
        )
    }

    /// Reusable recvmmsg buffers: RECV_SLOTS slots of SLOT bytes, with room for a GRO cmsg.
    struct RecvBufs {
        data: Vec<u8>,
        iovs: Vec<libc::iovec>,
        hdrs: Vec<libc::mmsghdr>,
        control: Vec<[u64; 8]>,
    }

    impl RecvBufs {
        fn new(slots: usize) -> RecvBufs {
            let mut b = RecvBufs {
                data: vec![0u8; slots * SLOT],
                iovs: Vec::with_capacity(slots),
                hdrs: Vec::with_capacity(slots),
                control: vec![[0u64; 8]; slots],
            };
            for i in 0..slots {
                b.iovs.push(libc::iovec {
                    // SAFETY: in bounds of data.
                    iov_base: unsafe { b.data.as_mut_ptr().add(i * SLOT) } as *mut libc::c_void,
                    iov_len: SLOT,
                });
            }
            for i in 0..slots {
                // SAFETY: plain old data.
                let mut h: libc::mmsghdr = unsafe { mem::zeroed() };
                h.msg_hdr.msg_iov = &mut b.iovs[i];
                h.msg_hdr.msg_iovlen = 1;
                b.hdrs.push(h);
            }
            b
        }

        /// Resets the per-call fields; with `control`, space for a GRO segment-size cmsg.
        fn arm(&mut self, control: bool) {
            for (i, h) in self.hdrs.iter_mut().enumerate() {
                if control {
                    h.msg_hdr.msg_control = self.control[i].as_mut_ptr() as *mut libc::c_void;
                    h.msg_hdr.msg_controllen = mem::size_of::<[u64; 8]>();
                }
                h.msg_len = 0;
            }
        }

        /// One `recvmmsg` into every slot, returning after the first datagram (MSG_WAITFORONE).
        fn recv_many(&mut self, fd: libc::c_int) -> libc::c_int {
            // SAFETY: hdrs describe hdrs.len() valid buffers, armed by `arm`.
            unsafe {
                libc::recvmmsg(
                    fd,
                    self.hdrs.as_mut_ptr(),
                    self.hdrs.len() as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            }
        }

        /// Datagrams in message `i`: a GRO buffer holds several of `segment` bytes.
        fn datagrams(&self, i: usize) -> u64 {
            let h = &self.hdrs[i];
            let len = h.msg_len as usize;
            if h.msg_hdr.msg_controllen == 0 {
                return 1;
            }
            // SAFETY: the kernel filled msg_control/msg_controllen for this message.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                        let seg = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const u16);
                        if seg > 0 {
                            return len.div_ceil(seg as usize).max(1) as u64;
                        }
                    }
                    c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
                }
            }
            1
        }
    }

    /// Receive capacity: counts datagrams for `ms` after a warm-up that starts at the first
    /// arrival. Gives up when nothing arrives for 5 s.
    fn recv(args: &[String]) -> Res<()> {
        let kind = kind(arg(args, 1, "kind")?)?;
        let mode = arg(args, 2, "mode")?.to_string();
        let warmup = Duration::from_millis(num(args, 3, "warmup_ms")?);
        let span = Duration::from_millis(num(args, 4, "ms")?);
        let (s, ready) = bound(kind, args.get(5).map(|s| s.as_str()))?;
        s.set_timeout(50)?;
        let gro = mode == "gro";
        if gro {
            s.set_int(libc::SOL_UDP, libc::UDP_GRO, 1)?;
        }
        say(&format!("{{\"ready\":{ready}}}"));
        let mut bufs = RecvBufs::new(if mode == "plain" { 1 } else { RECV_SLOTS });
        let mut count: u64 = 0;
        let mut bytes: u64 = 0;
        let mut first: Option<Instant> = None;
        let mut window: Option<(Instant, u64, u64, f64)> = None;
        let started = Instant::now();
        let result;
        loop {
            let now = Instant::now();
            match (first, window) {
                (None, _) if now - started > Duration::from_secs(5) => {
                    result = (0u64, 0u64, 0.0f64, 0.0f64);
                    break;
                }
                (Some(f), None) if now - f >= warmup => {
                    window = Some((now, count, bytes, cpu_secs()))
                }
                (_, Some((t0, c0, b0, cpu0))) if now - t0 >= span => {
                    result = (
                        count - c0,
                        bytes - b0,
                        (now - t0).as_secs_f64(),
                        cpu_secs() - cpu0,
                    );
                    break;
                }
                _ => {}
            }
            let got = if mode == "plain" {
                // SAFETY: the buffer has SLOT bytes.
                let rc = unsafe {
                    libc::recv(s.0, bufs.data.as_mut_ptr() as *mut libc::c_void, SLOT, 0)
                };
                if rc >= 0 {
                    count += 1;
                    bytes += rc as u64;
                    1
                } else {
                    -1
                }
            } else {
                bufs.arm(gro);
                let rc = bufs.recv_many(s.0);
                if rc > 0 {
                    for i in 0..rc as usize {
                        count += if gro { bufs.datagrams(i) } else { 1 };
                        bytes += bufs.hdrs[i].msg_len as u64;
                    }
                }
                rc
            };
            if got < 0 {
                let e = std::io::Error::last_os_error();
                if !is_timeout(&e) {
                    return Err(format!("recv: {e}"));
                }
                if first.is_none() {
                    continue;
                }
            } else if first.is_none() {
                first = Some(Instant::now());
            }
        }
        let (n, b, secs, cpu) = result;
        say(&format!(
            "{{\"result\":{{\"count\":{n},\"bytes\":{b},\"secs\":{secs},\"cpu\":{cpu}}}}}"
        ));
        Ok(())
    }

    /// Send-only / sender side: sends datagrams of `size` bytes for `ms`.
    fn send(args: &[String]) -> Res<()> {
        let kind = kind(arg(args, 1, "kind")?)?;
        let mode = arg(args, 2, "mode")?.to_string();
        let size = num(args, 3, "size")? as usize;
        let span = Duration::from_millis(num(args, 4, "ms")?);
        let to = dest(kind, arg(args, 5, "target")?)?;
        let s = Sock::new(kind)?;
        s.set_timeout(50)?;
        let payload = vec![0x5au8; size.max(1) * GSO_MAX_SEGMENTS];
        let mut iovs: Vec<libc::iovec> = (0..BATCH)
            .map(|_| libc::iovec {
                iov_base: payload.as_ptr() as *mut libc::c_void,
                iov_len: size,
            })
            .collect();
        let mut hdrs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .map(|iov| {
                // SAFETY: plain old data; pointers outlive every call below.
                let mut h: libc::mmsghdr = unsafe { mem::zeroed() };
                h.msg_hdr.msg_name = to.ptr() as *mut libc::c_void;
                h.msg_hdr.msg_namelen = to.len;
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // GSO: one buffer of up to 64 segments, cut by the kernel.
        let segments = (GSO_MAX_BYTES / size.max(1)).clamp(1, GSO_MAX_SEGMENTS);
        let mut gso_iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: segments * size,
        };
        // SAFETY: pure size computation.
        let space = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as u32) } as usize;
        let mut control = [0u64; 4];
        // SAFETY: plain old data.
        let mut gso_hdr: libc::msghdr = unsafe { mem::zeroed() };
        gso_hdr.msg_name = to.ptr() as *mut libc::c_void;
        gso_hdr.msg_namelen = to.len;
        gso_hdr.msg_iov = &mut gso_iov;
        gso_hdr.msg_iovlen = 1;
        gso_hdr.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        gso_hdr.msg_controllen = space;
        // SAFETY: control is aligned and at least CMSG_SPACE(u16) long.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&gso_hdr);
            (*c).cmsg_level = libc::SOL_UDP;
            (*c).cmsg_type = libc::UDP_SEGMENT;
            (*c).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, size as u16);
        }
        let start = Instant::now();
        let mut sent: u64 = 0;
        let mut errors: u64 = 0;
        let mut last_error = String::new();
        let mut calls: u64 = 0;
        // Feeding a receiver that stops first (a unix peer then refuses everything), the rate
        // that counts is over the time the datagrams went somewhere: up to the last success.
        let mut last_ok = start;
        loop {
            if calls & 15 == 0 && start.elapsed() >= span {
                break;
            }
            calls += 1;
            let n: i64 = match mode.as_str() {
                // SAFETY: payload and `to` are valid for the call.
                "plain" => unsafe {
                    let rc = libc::sendto(
                        s.0,
                        payload.as_ptr() as *const libc::c_void,
                        size,
                        0,
                        to.ptr(),
                        to.len,
                    );
                    if rc >= 0 {
                        1
                    } else {
                        -1
                    }
                },
                // SAFETY: hdrs describe valid memory.
                "mmsg" => unsafe { libc::sendmmsg(s.0, hdrs.as_mut_ptr(), BATCH as u32, 0) as i64 },
                // SAFETY: gso_hdr describes valid memory.
                "gso" => unsafe {
                    if libc::sendmsg(s.0, &gso_hdr, 0) >= 0 {
                        segments as i64
                    } else {
                        -1
                    }
                },
                m => return Err(format!("bad mode {m}")),
            };
            if n > 0 {
                sent += n as u64;
                last_ok = Instant::now();
            } else if n < 0 {
                let e = std::io::Error::last_os_error();
                if !is_timeout(&e) {
                    errors += 1;
                    last_error = e.to_string();
                    if errors > 1000 && sent == 0 {
                        return Err(format!("send: {e}"));
                    }
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let active = (last_ok - start).as_secs_f64();
        say(&format!(
            "{{\"result\":{{\"count\":{sent},\"bytes\":{},\"secs\":{secs},\"activeSecs\":{active},\"errors\":{errors},\"lastError\":{last_error:?}}}}}",
            sent * size as u64
        ));
        Ok(())
    }

    /// A destination for send-only runs: `hold` never reads (UDP drops what overflows),
    /// `drain` reads and discards (unix senders would block on a full peer otherwise).
    fn sink(args: &[String]) -> Res<()> {
        let kind = kind(arg(args, 1, "kind")?)?;
        let drain = arg(args, 2, "mode")? == "drain";
        let max = Duration::from_millis(num(args, 3, "max_ms")?);
        let (s, ready) = bound(kind, args.get(4).map(|s| s.as_str()))?;
        s.set_timeout(50)?;
        say(&format!("{{\"ready\":{ready}}}"));
        let start = Instant::now();
        let mut bufs = RecvBufs::new(RECV_SLOTS);
        let mut count: u64 = 0;
        while start.elapsed() < max {
            if drain {
                bufs.arm(false);
                let rc = bufs.recv_many(s.0);
                if rc > 0 {
                    count += rc as u64;
                }
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        say(&format!("{{\"result\":{{\"count\":{count}}}}}"));
        Ok(())
    }

    /// Echo server for the round-trip runs: sends every datagram back to its sender.
    fn echo(args: &[String]) -> Res<()> {
        let kind = kind(arg(args, 1, "kind")?)?;
        let max = Duration::from_millis(num(args, 2, "max_ms")?);
        let (s, ready) = bound(kind, args.get(3).map(|s| s.as_str()))?;
        s.set_timeout(50)?;
        say(&format!("{{\"ready\":{ready}}}"));
        let start = Instant::now();
        let mut buf = vec![0u8; SLOT];
        let mut count: u64 = 0;
        while start.elapsed() < max {
            let mut from = Addr::empty();
            // SAFETY: buf and from have the sizes passed.
            let n = unsafe {
                libc::recvfrom(
                    s.0,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    SLOT,
                    0,
                    &mut from.storage as *mut _ as *mut libc::sockaddr,
                    &mut from.len,
                )
            };
            if n < 0 {
                continue;
            }
            // SAFETY: as above; `from` is what the kernel filled in.
            unsafe {
                libc::sendto(
                    s.0,
                    buf.as_ptr() as *const libc::c_void,
                    n as usize,
                    0,
                    from.ptr(),
                    from.len,
                )
            };
            count += 1;
        }
        say(&format!("{{\"result\":{{\"count\":{count}}}}}"));
        Ok(())
    }

    /// Round-trip client: one request in flight, `warmup` unrecorded, then `count` samples.
    fn rtt(args: &[String]) -> Res<()> {
        let kind = kind(arg(args, 1, "kind")?)?;
        let size = num(args, 2, "size")? as usize;
        let warmup = num(args, 3, "warmup")?;
        let count = num(args, 4, "count")?;
        let to = dest(kind, arg(args, 5, "target")?)?;
        let s = Sock::new(kind)?;
        if kind == Kind::Unix {
            let own = arg(args, 6, "own_path")?;
            let _ = std::fs::remove_file(own);
            s.bind(&Addr::unix(own)?)?;
        }
        s.set_timeout(1000)?;
        let payload = vec![0x5au8; size];
        let mut buf = vec![0u8; SLOT];
        let mut samples: Vec<f64> = Vec::with_capacity(count as usize);
        let mut lost: u64 = 0;
        for i in 0..warmup + count {
            let t = Instant::now();
            // SAFETY: payload/buf/to are valid for the calls.
            let ok = unsafe {
                libc::sendto(
                    s.0,
                    payload.as_ptr() as *const libc::c_void,
                    size,
                    0,
                    to.ptr(),
                    to.len,
                ) >= 0
                    && libc::recv(s.0, buf.as_mut_ptr() as *mut libc::c_void, SLOT, 0) >= 0
            };
            if !ok {
                lost += 1;
                continue;
            }
            if i >= warmup {
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let pick = |q: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            samples[((samples.len() - 1) as f64 * q).round() as usize]
        };
        say(&format!(
            "{{\"result\":{{\"p50\":{},\"p99\":{},\"samples\":{},\"lost\":{lost}}}}}",
            pick(0.5),
            pick(0.99),
            samples.len()
        ));
        Ok(())
    }

    pub fn run(args: &[String]) -> Res<()> {
        match args.first().map(|s| s.as_str()) {
            Some("recv") => recv(args),
            Some("send") => send(args),
            Some("sink") => sink(args),
            Some("echo") => echo(args),
            Some("rtt") => rtt(args),
            _ => Err("usage: dgramx-ceiling recv|send|sink|echo|rtt ...".into()),
        }
    }
}

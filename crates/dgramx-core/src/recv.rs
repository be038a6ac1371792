//! Batched, non-blocking receive into a reusable arena.
//!
//! Linux uses one `recvmmsg` for up to `slots` datagrams; other Unix systems loop `recvmsg`,
//! and Windows loops `recvfrom` (no ancillary data there).
//! Every datagram is reported with its real size, so a datagram larger than its slot is marked
//! truncated instead of being passed off as whole (quinn-udp drops that information).

use socket2::{SockAddr, SockAddrStorage};

#[cfg(unix)]
use crate::cmsg;
use crate::cmsg::Ancillary;
use crate::error::SysResult;
use crate::socket::DgramSocket;

/// Where a batch lands. One arena can serve every socket on a thread, since a batch is
/// consumed before the next receive starts.
pub struct RecvArena {
    buf: Vec<u8>,
    slot_size: usize,
    slots: usize,
    #[cfg_attr(not(unix), allow(dead_code))]
    names: Vec<SockAddrStorage>,
    /// Per-slot control buffers, allocated only once a socket asks for ancillary data.
    #[cfg_attr(not(unix), allow(dead_code))]
    control: Vec<u64>,
}

/// One received datagram, borrowed from the arena.
pub struct Received<'a> {
    /// The bytes that fit in the slot (the first `size` bytes, or fewer when truncated).
    pub data: &'a [u8],
    /// The datagram's size on the wire; larger than `data.len()` when truncated.
    pub size: usize,
    /// The sender's address.
    pub from: SockAddr,
    /// Credentials and descriptors, when the receive asked for them.
    pub ancillary: Option<Ancillary>,
}

impl Received<'_> {
    /// Whether the datagram was larger than its slot.
    pub fn truncated(&self) -> bool {
        self.size > self.data.len()
    }
}

impl Default for RecvArena {
    fn default() -> Self {
        RecvArena::new()
    }
}

impl RecvArena {
    /// An empty arena; [`RecvArena::reserve`] sizes it before the first receive.
    pub fn new() -> RecvArena {
        RecvArena {
            buf: Vec::new(),
            slot_size: 0,
            slots: 0,
            names: Vec::new(),
            control: Vec::new(),
        }
    }

    /// Makes room for `slots` datagrams of up to `slot_size` bytes each.
    pub fn reserve(&mut self, slot_size: usize, slots: usize) {
        if self.slot_size == slot_size && self.slots == slots {
            return;
        }
        self.slot_size = slot_size;
        self.slots = slots;
        // Pages are only touched where datagrams land, so a large arena costs address space,
        // not resident memory, for small datagrams.
        self.buf = vec![0u8; slot_size * slots];
        self.names = (0..slots).map(|_| SockAddrStorage::zeroed()).collect();
        self.control = Vec::new();
    }

    #[cfg(unix)]
    fn control_per_slot() -> usize {
        cmsg::control_space().div_ceil(8)
    }

    #[cfg(unix)]
    fn ensure_control(&mut self) {
        let want = Self::control_per_slot() * self.slots;
        if self.control.len() != want {
            self.control = vec![0u64; want];
        }
    }

    /// The bytes each slot holds.
    pub fn slot_size(&self) -> usize {
        self.slot_size
    }
}

/// Receives up to one arena-full of datagrams, calling `each` for every one in arrival order.
/// Returns how many arrived; `Err` with EAGAIN when none were waiting.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn recv_batch(
    sock: &DgramSocket,
    arena: &mut RecvArena,
    with_ancillary: bool,
    mut each: impl FnMut(Received<'_>),
) -> SysResult<usize> {
    use std::mem;
    let slots = arena.slots;
    let slot = arena.slot_size;
    let per_control = RecvArena::control_per_slot();
    if with_ancillary {
        arena.ensure_control();
    }
    let control_base = arena.control.as_mut_ptr();
    let mut iovs: Vec<libc::iovec> = arena
        .buf
        .chunks_exact_mut(slot)
        .map(|chunk| libc::iovec {
            iov_base: chunk.as_mut_ptr() as *mut libc::c_void,
            iov_len: slot,
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .zip(arena.names.iter_mut())
        .map(|(iov, name)| {
            // SAFETY: mmsghdr is plain old data; every pointer we need is set here.
            let mut h: libc::mmsghdr = unsafe { mem::zeroed() };
            h.msg_hdr.msg_name = name as *mut SockAddrStorage as *mut libc::c_void;
            h.msg_hdr.msg_namelen = mem::size_of::<SockAddrStorage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .enumerate()
        .map(|(i, mut h)| {
            if with_ancillary {
                // SAFETY: i * per_control stays inside `control`, sized slots * per_control.
                h.msg_hdr.msg_control =
                    unsafe { control_base.add(i * per_control) } as *mut libc::c_void;
                h.msg_hdr.msg_controllen = (per_control * 8) as _;
            }
            h
        })
        .collect();
    // SAFETY: hdrs, iovs, names and buf outlive the call and describe valid memory.
    // MSG_TRUNC makes msg_len the datagram's real size, which is how truncation is seen.
    let n = crate::sys::retry_eintr("recvmsg", || unsafe {
        libc::recvmmsg(
            sock.raw_fd(),
            hdrs.as_mut_ptr(),
            slots as u32,
            (libc::MSG_TRUNC | cmsg::RECV_CLOEXEC) as _,
            std::ptr::null_mut(),
        ) as isize
    })?;
    for (i, h) in hdrs.iter().take(n).enumerate() {
        let size = h.msg_len as usize;
        let kept = size.min(slot);
        let namelen = h.msg_hdr.msg_namelen;
        let from = copy_name(&arena.names[i], namelen);
        let data = &arena.buf[i * slot..i * slot + kept];
        // SAFETY: the kernel filled this header's control buffer in the call above.
        let ancillary = with_ancillary.then(|| unsafe { cmsg::decode(&h.msg_hdr) });
        each(Received {
            data,
            size,
            from,
            ancillary,
        });
    }
    Ok(n)
}

/// One `recvmsg` per datagram where there is no `recvmmsg`.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub fn recv_batch(
    sock: &DgramSocket,
    arena: &mut RecvArena,
    with_ancillary: bool,
    mut each: impl FnMut(Received<'_>),
) -> SysResult<usize> {
    use std::mem;
    let slot = arena.slot_size;
    if with_ancillary {
        arena.ensure_control();
    }
    let mut count = 0;
    while count < arena.slots {
        let mut iov = libc::iovec {
            iov_base: arena.buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: slot,
        };
        let name = (
            &mut arena.names[0] as *mut SockAddrStorage as *mut libc::c_void,
            mem::size_of::<SockAddrStorage>() as libc::socklen_t,
        );
        let control = if with_ancillary {
            &mut arena.control[..RecvArena::control_per_slot()]
        } else {
            &mut [][..]
        };
        let mut h = crate::sys::msghdr(Some(name), &mut iov, control);
        // SAFETY: h describes valid memory owned by the arena.
        let got = crate::sys::retry_eintr("recvmsg", || unsafe {
            libc::recvmsg(sock.raw_fd(), &mut h, cmsg::RECV_CLOEXEC)
        });
        let kept = match got {
            Ok(kept) => kept,
            Err(e) if count > 0 && e.is_would_block() => break,
            Err(e) => return Err(e),
        };
        // Without MSG_TRUNC's size report, a truncated datagram is known only by its flag.
        let size = if h.msg_flags & libc::MSG_TRUNC != 0 {
            kept + 1
        } else {
            kept
        };
        let from = copy_name(&arena.names[0], h.msg_namelen);
        // SAFETY: the kernel filled the control buffer in the call above.
        let ancillary = with_ancillary.then(|| unsafe { cmsg::decode(&h) });
        each(Received {
            data: &arena.buf[..kept],
            size,
            from,
            ancillary,
        });
        count += 1;
    }
    Ok(count)
}

/// One `recv_from` per datagram (Windows: no ancillary data).
#[cfg(not(unix))]
pub fn recv_batch(
    sock: &DgramSocket,
    arena: &mut RecvArena,
    _with_ancillary: bool,
    mut each: impl FnMut(Received<'_>),
) -> SysResult<usize> {
    use std::io::ErrorKind;
    use std::mem::MaybeUninit;
    let slot = arena.slot_size;
    let mut count = 0;
    // Skipped receives count too, so the loop is bounded even if every one is skipped.
    for _ in 0..arena.slots * 2 {
        if count == arena.slots {
            break;
        }
        let buf = &mut arena.buf[..slot];
        // SAFETY: MaybeUninit<u8> has u8's layout, and recv_from only writes into the buffer.
        let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        match sock.io(|s| s.recv_from(uninit)) {
            Ok((n, from)) => {
                each(Received {
                    data: &arena.buf[..n],
                    size: n,
                    from,
                    ancillary: None,
                });
                count += 1;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && count > 0 => break,
            // An ICMP unreachable caused by an earlier send (WSAECONNRESET, WSAENETRESET):
            // libuv skips these on UDP receives, and so does node:dgram there.
            Err(e) if matches!(e.raw_os_error(), Some(10052) | Some(10054)) => continue,
            Err(e) => return Err(crate::error::SysError::from_io(&e, "recvmsg")),
        }
    }
    Ok(count)
}

/// Copies a sender address out of the arena so the arena can be reused at once.
#[cfg(unix)]
fn copy_name(src: &SockAddrStorage, len: libc::socklen_t) -> SockAddr {
    let size = std::mem::size_of::<SockAddrStorage>();
    // SAFETY: both sides are SockAddrStorage-sized; the kernel initialised `len` bytes of src
    // and the rest was zeroed when the arena was made.
    let result = unsafe {
        SockAddr::try_init(|dst, dst_len| {
            std::ptr::copy_nonoverlapping(
                src as *const SockAddrStorage as *const u8,
                dst as *mut u8,
                size,
            );
            *dst_len = len.min(size as libc::socklen_t);
            Ok(())
        })
    };
    match result {
        Ok(((), addr)) => addr,
        // try_init only fails if the closure does, and ours cannot.
        Err(_) => unreachable!("copying a socket address cannot fail"),
    }
}

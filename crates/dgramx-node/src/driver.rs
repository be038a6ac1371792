//! The per-env event driver: one mio reactor, and a wake-up source (see `wake`) that brings
//! its news to the JavaScript thread.
//!
//! Each JavaScript environment (the main thread, each worker) runs on its own thread, so the
//! driver is thread-local. When sockets are ready, `dispatch` runs on the JS thread; it drains
//! the ready sockets and hands each one's datagrams to JavaScript in a single call.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::ptr;
use std::rc::{Rc, Weak};

use dgramx_core::reactor::{Ready, Registrar};
use dgramx_core::recv::{recv_batch, RecvArena};
use dgramx_core::{DgramSocket, Endpoint, Kind, SysError};
use mio::Interest;
use napi::sys;

use crate::js;
use crate::state::SocketState;
use crate::wake::{Callbacks, Mode, Wake};

/// Event numbers shared with packages/dgram/src/native-types.ts.
const EV_MESSAGES: f64 = 1.0;
const EV_SENDS_DONE: f64 = 2.0;
const EV_ERROR: f64 = 3.0;
const EV_ICMP: f64 = 4.0;
/// "Deliver the batch's next datagram": one callback per datagram after the first.
const EV_NEXT_MESSAGE: f64 = 5.0;
/// A batch the facade delivers at its own pace (thread mode, see deliver_messages).
const EV_MESSAGES_PACED: f64 = 6.0;
/// A whole batch for the facade's 'messages' event, delivered in one callback; its metadata
/// is column by column (offsets, then lengths, ports, real sizes), so each column is a view.
const EV_BATCH: f64 = 7.0;
/// Error-queue entries read per wake-up (the rest wait for the next one).
const ICMP_BUDGET: usize = 64;
/// Receives retried per wake-up after a pending ICMP error failed one (IP_RECVERR on).
const ICMP_RETRIES: usize = 4;

/// Datagrams one socket may deliver per wake-up before others get a turn.
const RECV_BUDGET: usize = 256;
const UDP_SLOT: usize = 65536;
const UDP_SLOTS: usize = 32;
/// Unix datagrams are limited by the sender's buffer, not by 64 KiB.
const UNIX_SLOT: usize = 256 * 1024;
const UNIX_SLOTS: usize = 8;
const UNIX_ARENA: usize = UNIX_SLOT * UNIX_SLOTS;

pub type SocketCell = RefCell<SocketState>;

pub struct Driver {
    pub env: sys::napi_env,
    wake: Wake,
    registrar: Registrar,
    retry_delay: Cell<u64>,
    stalled: RefCell<Vec<usize>>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<usize>>,
    /// Sockets currently keeping the event loop alive.
    holding: Cell<usize>,
    udp_arena: RefCell<RecvArena>,
    unix_arena: RefCell<RecvArena>,
    /// Sockets whose receive budget ran out while data remained.
    backlog: RefCell<Vec<usize>>,
}

struct Slot {
    generation: u32,
    socket: Weak<SocketCell>,
}

thread_local! {
    static DRIVER: RefCell<Option<Rc<Driver>>> = const { RefCell::new(None) };
}

/// The driver of the env running on this thread, created on first use.
pub fn current(env: sys::napi_env) -> Result<Rc<Driver>, SysError> {
    if let Some(d) = DRIVER.with(|d| d.borrow().clone()) {
        return Ok(d);
    }
    let callbacks = Callbacks {
        on_ready,
        on_retry,
        on_batch,
    };
    let (wake, registrar) = Wake::start(env, Mode::for_this_process(), callbacks)?;
    let driver = Rc::new(Driver {
        env,
        wake,
        registrar,
        retry_delay: Cell::new(0),
        stalled: RefCell::new(Vec::new()),
        slots: RefCell::new(Vec::new()),
        free: RefCell::new(Vec::new()),
        holding: Cell::new(0),
        udp_arena: RefCell::new(RecvArena::new()),
        unix_arena: RefCell::new(RecvArena::new()),
        backlog: RefCell::new(Vec::new()),
    });
    DRIVER.with(|d| *d.borrow_mut() = Some(driver.clone()));
    // SAFETY: registering a teardown hook for this env; the hook runs on this thread.
    unsafe {
        match driver.wake.mode() {
            // libuv handles close asynchronously, so Node must wait for them (async hook).
            Mode::UvPoll => {
                sys::napi_add_async_cleanup_hook(
                    env,
                    Some(on_env_teardown),
                    ptr::null_mut(),
                    ptr::null_mut(),
                );
            }
            // The thread stops synchronously: a plain hook does. Deno (which always gets the
            // thread) frees an async hook's handle itself after the hook removed it, a double
            // free at exit; its plain env cleanup hooks are sound.
            Mode::Thread => {
                sys::napi_add_env_cleanup_hook(env, Some(on_env_cleanup), ptr::null_mut());
            }
        }
    }
    Ok(driver)
}

/// How this process's envs are woken (`"uv-poll"` or `"thread"`).
pub fn mode_name() -> &'static str {
    match DRIVER.with(|d| d.borrow().as_ref().map(|d| d.wake.mode())) {
        Some(m) => m.name(),
        None => Mode::for_this_process().name(),
    }
}

impl Driver {
    /// Reserves a token for a new socket; EMFILE once every index a token can carry is in use
    /// (only reachable on 32-bit targets, see `INDEX_BITS`).
    pub fn insert(&self, socket: &Rc<SocketCell>) -> Result<usize, SysError> {
        let mut slots = self.slots.borrow_mut();
        let index = match self.free.borrow_mut().pop() {
            Some(i) => {
                slots[i].generation = next_generation(slots[i].generation);
                slots[i].socket = Rc::downgrade(socket);
                i
            }
            None if slots.len() > MAX_INDEX => return Err(too_many_sockets()),
            None => {
                slots.push(Slot {
                    generation: 0,
                    socket: Rc::downgrade(socket),
                });
                slots.len() - 1
            }
        };
        Ok(token(index, slots[index].generation))
    }

    pub fn remove(&self, token: usize) {
        let index = token_index(token);
        let mut slots = self.slots.borrow_mut();
        if let Some(slot) = slots.get_mut(index) {
            if token_generation(token) == slot.generation {
                slot.socket = Weak::new();
                self.free.borrow_mut().push(index);
            }
        }
    }

    fn lookup(&self, token: usize) -> Option<Rc<SocketCell>> {
        let slots = self.slots.borrow();
        let slot = slots.get(token_index(token))?;
        if slot.generation != token_generation(token) {
            return None;
        }
        slot.socket.upgrade()
    }

    /// Applies a socket's wanted interest to the reactor.
    pub fn set_interest(
        &self,
        sock: &mut DgramSocket,
        token: usize,
        was: Option<Interest>,
        want: Option<Interest>,
    ) -> Result<(), SysError> {
        if was == want {
            return Ok(());
        }
        self.registrar
            .set_interest(sock, token, was, want)
            .map_err(|e| SysError::from_io(&e, "epoll_ctl"))
    }

    /// Counts a socket in or out of the set that keeps the event loop alive.
    pub fn set_holding(&self, was: bool, now: bool) {
        if was == now {
            return;
        }
        let before = self.holding.get();
        let after = if now {
            before + 1
        } else {
            before.saturating_sub(1)
        };
        self.holding.set(after);
        if (before == 0) != (after == 0) {
            self.wake.set_ref(self.env, after > 0);
        }
    }

    /// One wake-up: everything ready now, plus sockets left over from the last budget.
    fn dispatch(&self) {
        let mut ready: Vec<Ready> = Vec::new();
        self.wake.take_ready(&mut ready);
        for token in self.backlog.borrow_mut().drain(..) {
            ready.push(Ready {
                token,
                readable: true,
                writable: false,
            });
        }
        if ready.is_empty() {
            return;
        }
        let _scope = js::HandleScope::open(self.env);
        for r in ready {
            let Some(cell) = self.lookup(r.token) else {
                continue;
            };
            if r.writable {
                self.flush_sends(&cell);
            }
            if r.readable {
                self.deliver_messages(&cell, r.token);
            }
        }
    }

    fn flush_sends(&self, cell: &Rc<SocketCell>) {
        let (results, callback, still_queued, token) = {
            let mut st = cell.borrow_mut();
            let results = st.flush_queue(self);
            (results, st.callback(), st.sender.has_queued(), st.token)
        };
        if still_queued {
            self.stall(token, !results.is_empty());
        }
        if results.is_empty() {
            return;
        }
        let env = self.env;
        let items: Vec<js::Value> = results
            .iter()
            .map(|c| match &c.result {
                Ok(n) => js::number(env, *n as f64),
                Err(e) => js::string(env, e.code),
            })
            .collect();
        let ids: Vec<js::Value> = results
            .iter()
            .map(|c| js::number(env, c.id as f64))
            .collect();
        let args = [
            js::number(env, EV_SENDS_DONE),
            js::array(env, &ids),
            js::array(env, &items),
        ];
        js::make_callback(env, callback, &args);
    }

    fn deliver_messages(&self, cell: &Rc<SocketCell>, token: usize) {
        let env = self.env;
        let mut bytes: Vec<u8> = Vec::new();
        let mut meta: Vec<i32> = Vec::new();
        let mut addresses: Vec<js::Value> = Vec::new();
        let mut extras: Vec<js::Value> = Vec::new();
        let mut icmp: Vec<js::Value> = Vec::new();
        let mut last_from: Option<(dgramx_core::SockAddr, js::Value)> = None;
        let mut failure: Option<SysError> = None;
        let mut exhausted = false;
        let whole_batch;
        let callback = {
            let st = cell.borrow();
            let Some(sock) = st.receiving_socket() else {
                return;
            };
            whole_batch = st.batch;
            let with_ancillary = st.unix_ancillary || st.meta;
            let with_control = with_ancillary || st.gro;
            if st.sender.recv_err() {
                drain_error_queue(env, sock, &mut icmp);
            }
            let kind = sock.kind();
            let mut arena = if kind == Kind::Unix {
                self.unix_arena.borrow_mut()
            } else {
                self.udp_arena.borrow_mut()
            };
            let slots = if kind == Kind::Unix {
                // A unix datagram can be as large as its sender's buffer; a receiver that raised
                // its own buffer gets slots that large, so such datagrams arrive whole. The arena
                // only grows, so sockets with different sizes do not make it thrash.
                let slot = UNIX_SLOT.max(st.recv_slot).max(arena.slot_size());
                let slots = (UNIX_ARENA / slot).clamp(1, UNIX_SLOTS);
                arena.reserve(slot, slots);
                slots
            } else {
                arena.reserve(UDP_SLOT, UDP_SLOTS);
                UDP_SLOTS
            };
            let mut count = 0;
            let mut icmp_retries = 0;
            loop {
                let got = recv_batch(sock, &mut arena, with_control, |d| {
                    let port = match d.from.as_socket() {
                        Some(sa) => sa.port() as i32,
                        None => 0,
                    };
                    // Consecutive datagrams usually share a sender: reuse its string.
                    let addr_value = match &last_from {
                        Some((prev, v)) if prev == &d.from => *v,
                        _ => {
                            let v =
                                js::string(env, &Endpoint::from_sockaddr(&d.from).address_string());
                            last_from = Some((d.from.clone(), v));
                            v
                        }
                    };
                    // A GRO buffer holds several datagrams of `segment` bytes: hand them out one
                    // by one, as they were sent.
                    let segment = match d.ancillary.as_ref().and_then(|a| a.gro_segment) {
                        Some(s) if s > 0 && !d.truncated() => s as usize,
                        _ => d.data.len().max(1),
                    };
                    let truncated_size = if d.truncated() { d.size as i32 } else { 0 };
                    let extra = if with_ancillary {
                        d.ancillary.map(|a| js::ancillary(env, a))
                    } else {
                        None
                    };
                    for piece in d
                        .data
                        .chunks(segment)
                        .chain(d.data.is_empty().then_some(&[][..]))
                    {
                        meta.extend_from_slice(&[
                            bytes.len() as i32,
                            piece.len() as i32,
                            port,
                            truncated_size,
                        ]);
                        bytes.extend_from_slice(piece);
                        addresses.push(addr_value);
                        if let Some(x) = extra {
                            extras.push(x);
                        }
                    }
                });
                match got {
                    Ok(n) => {
                        count += n;
                        // A short batch means the queue was empty a moment ago; a new arrival
                        // brings a new edge, so there is no need to wait for EAGAIN.
                        if n < slots {
                            break;
                        }
                        if count >= RECV_BUDGET {
                            exhausted = true;
                            break;
                        }
                    }
                    Err(e) if e.is_would_block() => break,
                    // With IP_RECVERR an ICMP error also becomes the socket's pending error,
                    // which one receive reports: its entry is in the error queue, so deliver
                    // that as an Icmp event instead of failing the receive.
                    Err(e) if st.sender.recv_err() && icmp_retries < ICMP_RETRIES => {
                        icmp_retries += 1;
                        let before = icmp.len();
                        drain_error_queue(env, sock, &mut icmp);
                        if icmp.len() == before && e.errno == 0 {
                            failure = Some(e);
                            break;
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            st.callback()
        };
        if exhausted {
            self.backlog.borrow_mut().push(token);
            self.wake.kick(&self.registrar);
        }
        if !meta.is_empty() {
            // One sender for the whole batch (the usual case) goes over as a single string.
            let senders = if addresses.iter().all(|a| *a == addresses[0]) {
                addresses[0]
            } else {
                js::array(env, &addresses)
            };
            // In thread mode this runs inside the threadsafe function's callback scope, where a
            // nested callback drains nothing: the facade paces the batch itself.
            let native_paced = self.wake.mode() == Mode::UvPoll && !whole_batch;
            let event = if whole_batch {
                EV_BATCH
            } else if native_paced {
                EV_MESSAGES
            } else {
                EV_MESSAGES_PACED
            };
            let meta_value = if whole_batch {
                js::int32_array(env, &columns(&meta))
            } else {
                js::int32_array(env, &meta)
            };
            let mut args = vec![
                js::number(env, event),
                js::buffer(env, bytes),
                meta_value,
                senders,
            ];
            if !extras.is_empty() {
                args.push(js::array(env, &extras));
            }
            js::make_callback(env, callback, &args);
            // node:dgram delivers each datagram from its own callback, after which node runs
            // the nextTick queue and the microtasks. So one batch, then one callback per
            // further datagram: JavaScript sees node's order, and the syscalls stay batched.
            let pieces = if native_paced { meta.len() / 4 } else { 1 };
            let next = [js::number(env, EV_NEXT_MESSAGE)];
            for _ in 1..pieces {
                // Closed by a listener or a tick: the facade closed what was left. A paused
                // socket (recvStop) still gets the batch it had already taken.
                if cell.borrow().sock.is_none() {
                    break;
                }
                js::make_callback(env, callback, &next);
            }
        }
        if !icmp.is_empty() {
            let args = [js::number(env, EV_ICMP), js::array(env, &icmp)];
            js::make_callback(env, callback, &args);
        }
        if let Some(e) = failure {
            // The receive error may have closed the socket meanwhile; only report while receiving.
            if cell.borrow().receiving_socket().is_some() {
                let args = [
                    js::number(env, EV_ERROR),
                    js::string(env, e.code),
                    js::string(env, "recvmsg"),
                ];
                js::make_callback(env, callback, &args);
            }
        }
    }

    /// Notes a socket whose queue the kernel refused, and makes sure the retry timer runs.
    /// The delay doubles while nothing moves (1 ms up to 16 ms) so a stuck peer costs little.
    pub fn stall(&self, token: usize, progressed: bool) {
        let mut stalled = self.stalled.borrow_mut();
        if !stalled.contains(&token) {
            stalled.push(token);
        }
        let delay = match (progressed, self.retry_delay.get()) {
            (true, _) | (false, 0) => 1,
            (false, d) => (d * 2).min(16),
        };
        self.retry_delay.set(delay);
        self.wake.schedule_retry(delay, &self.registrar);
    }

    fn retry_stalled(&self) {
        let tokens: Vec<usize> = self.stalled.borrow_mut().drain(..).collect();
        if tokens.is_empty() {
            self.retry_delay.set(0);
            return;
        }
        let _scope = js::HandleScope::open(self.env);
        for token in tokens {
            if let Some(cell) = self.lookup(token) {
                self.flush_sends(&cell);
            }
        }
        if self.stalled.borrow().is_empty() {
            self.retry_delay.set(0);
        }
    }

    /// Closes every socket and stops the wake-up source: the env is going away. Returns how
    /// many libuv handles are still closing.
    fn teardown(&self) -> usize {
        let sockets: Vec<Rc<SocketCell>> = self
            .slots
            .borrow()
            .iter()
            .filter_map(|s| s.socket.upgrade())
            .collect();
        for s in sockets {
            s.borrow_mut().close(self);
        }
        self.wake.shut_down(&self.registrar)
    }
}

/// Rows of four (offset, length, port, real size) to four columns.
fn columns(meta: &[i32]) -> Vec<i32> {
    let n = meta.len() / 4;
    let mut out = vec![0; meta.len()];
    for (i, row) in meta.chunks_exact(4).enumerate() {
        for (c, v) in row.iter().enumerate() {
            out[c * n + i] = *v;
        }
    }
    out
}

/// Reads queued ICMP errors; they count against the receive buffer, so they must not pile up.
fn drain_error_queue(
    env: sys::napi_env,
    sock: &dgramx_core::DgramSocket,
    out: &mut Vec<js::Value>,
) {
    for _ in 0..ICMP_BUDGET {
        match dgramx_core::icmp::read_error_queue(sock) {
            Ok(Some(e)) => out.push(js::icmp_error(env, &e)),
            _ => break,
        }
    }
}

// A token is a slot index in the low bits and the slot's generation above it, so an event
// still queued for a closed socket never reaches the socket that reuses its slot. It must fit
// a usize (mio's Token): 32 + 32 bits on 64-bit targets; on 32-bit ones (armv7) 20 index bits,
// as many descriptors as Linux's default nr_open allows, and 12 generation bits, so a stale
// token would need 4096 reuses of one slot before it is looked up. usize::MAX is mio's waker
// token (dgramx-core's reactor); the highest index is never handed out, so no token equals it.
const INDEX_BITS: u32 = if usize::BITS >= 64 { 32 } else { 20 };
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
const MAX_INDEX: usize = INDEX_MASK - 1;
const GENERATION_MASK: u32 = (usize::MAX >> INDEX_BITS) as u32;
const _: () = assert!(usize::BITS - INDEX_BITS >= 12 && MAX_INDEX >= (1 << 20) - 2);

fn token(index: usize, generation: u32) -> usize {
    debug_assert!(index <= MAX_INDEX);
    ((generation as usize) << INDEX_BITS) | index
}

fn token_index(token: usize) -> usize {
    token & INDEX_MASK
}

fn token_generation(token: usize) -> u32 {
    (token >> INDEX_BITS) as u32
}

fn next_generation(generation: u32) -> u32 {
    generation.wrapping_add(1) & GENERATION_MASK
}

#[cfg(unix)]
fn too_many_sockets() -> SysError {
    SysError::from_raw(libc::EMFILE, "socket")
}

#[cfg(not(unix))]
fn too_many_sockets() -> SysError {
    SysError::coded("EMFILE", "socket")
}

unsafe extern "C" fn on_ready(_handle: *mut c_void, _status: c_int, _events: c_int) {
    // A panic must never unwind into libuv.
    let _ = std::panic::catch_unwind(|| {
        if let Some(d) = DRIVER.with(|d| d.borrow().clone()) {
            d.dispatch();
        }
    });
}

unsafe extern "C" fn on_retry(_handle: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(d) = DRIVER.with(|d| d.borrow().clone()) {
            d.retry_stalled();
        }
    });
}

/// Thread mode: a batch handed over by the reactor thread, on the JS thread.
fn on_batch(retry_due: bool) {
    if let Some(d) = DRIVER.with(|d| d.borrow().clone()) {
        if retry_due {
            d.retry_stalled();
        }
        d.dispatch();
    }
}

/// Thread mode's teardown: nothing outlives it, so it finishes before returning.
unsafe extern "C" fn on_env_cleanup(_arg: *mut c_void) {
    if let Some(d) = DRIVER.with(|d| d.borrow_mut().take()) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.teardown()));
    }
}

unsafe extern "C" fn on_env_teardown(
    handle: sys::napi_async_cleanup_hook_handle,
    _arg: *mut c_void,
) {
    let driver = DRIVER.with(|d| d.borrow_mut().take());
    match driver {
        // Node waits for this hook until our handles have really closed (see handle_closed),
        // so a worker's loop never closes with one of them still open.
        Some(d) => {
            TEARDOWN.with(|t| t.set(handle));
            let closing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.teardown()))
                .unwrap_or(0);
            count_closing(closing);
            if closing == 0 {
                // Nothing to wait for (thread mode): finish now.
                let handle = TEARDOWN.with(|t| t.replace(ptr::null_mut()));
                sys::napi_remove_async_cleanup_hook(handle);
            }
        }
        None => {
            sys::napi_remove_async_cleanup_hook(handle);
        }
    }
}

thread_local! {
    static TEARDOWN: Cell<sys::napi_async_cleanup_hook_handle> = const { Cell::new(ptr::null_mut()) };
    static CLOSING: Cell<usize> = const { Cell::new(0) };
}

/// Notes libuv handles whose close callbacks are still to come.
pub fn count_closing(n: usize) {
    CLOSING.with(|c| c.set(c.get() + n));
}

#[cfg_attr(not(unix), allow(dead_code))]
/// Called by each handle's close callback: once all are closed the env may finish tearing down.
pub fn handle_closed() {
    let left = CLOSING.with(|c| {
        let n = c.get().saturating_sub(1);
        c.set(n);
        n
    });
    if left > 0 {
        return;
    }
    let handle = TEARDOWN.with(|t| t.replace(ptr::null_mut()));
    if !handle.is_null() {
        // SAFETY: handle came from napi_add_async_cleanup_hook and is removed exactly once.
        unsafe { sys::napi_remove_async_cleanup_hook(handle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_metadata_goes_column_by_column() {
        let rows = [0, 3, 53, 0, 3, 5, 54, 0, 8, 1, 55, 9];
        assert_eq!(columns(&rows), [0, 3, 8, 3, 5, 1, 53, 54, 55, 0, 0, 9]);
        assert!(columns(&[]).is_empty());
    }

    #[test]
    fn a_token_carries_its_index_and_generation_back() {
        for index in [0, 1, 12_345, MAX_INDEX] {
            for generation in [0, 1, GENERATION_MASK / 2, GENERATION_MASK] {
                let t = token(index, generation);
                assert_eq!((token_index(t), token_generation(t)), (index, generation));
            }
        }
    }

    #[test]
    fn generations_wrap_within_the_bits_a_token_has() {
        assert_eq!(next_generation(GENERATION_MASK), 0);
        assert_eq!(next_generation(0), 1);
        let t = token(7, next_generation(GENERATION_MASK));
        assert_eq!((token_index(t), token_generation(t)), (7, 0));
    }

    #[test]
    fn a_reused_slot_gives_a_different_token() {
        let mut generation = 0;
        let first = token(3, generation);
        generation = next_generation(generation);
        assert_ne!(token(3, generation), first);
    }

    #[test]
    fn no_token_is_the_reactor_wakers() {
        assert_ne!(token(MAX_INDEX, GENERATION_MASK), usize::MAX);
    }
}

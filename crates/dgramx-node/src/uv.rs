//! The few libuv calls we need, resolved from the host process (Node exports libuv).
//!
//! One `uv_poll_t` watches the reactor's epoll/kqueue descriptor from Node's own event loop, so
//! readiness reaches JavaScript with no extra thread and no cross-thread wake-up. One
//! `uv_timer_t` retries sends that the kernel refused without promising a wake-up.

use std::ffi::{c_int, c_void};

use napi::sys;

// uv_handle_type values (uv.h: UV_UNKNOWN_HANDLE = 0, then ASYNC, CHECK, FS_EVENT, FS_POLL,
// HANDLE, IDLE, NAMED_PIPE, POLL, PREPARE, PROCESS, STREAM, TCP, TIMER, ...).
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;
const UV_READABLE: c_int = 1;

type PollCb = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
type TimerCb = unsafe extern "C" fn(handle: *mut c_void);
type CloseCb = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(lp: *mut sys::uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: PollCb) -> c_int;
    fn uv_timer_init(lp: *mut sys::uv_loop_s, handle: *mut c_void) -> c_int;
    fn uv_timer_start(handle: *mut c_void, cb: TimerCb, timeout: u64, repeat: u64) -> c_int;
    fn uv_close(handle: *mut c_void, cb: CloseCb);
    fn uv_ref(handle: *mut c_void);
    fn uv_unref(handle: *mut c_void);
}

/// The libuv functions `Handle` calls, by their exported names.
const SYMBOLS: [&std::ffi::CStr; 8] = [
    c"uv_handle_size",
    c"uv_poll_init",
    c"uv_poll_start",
    c"uv_timer_init",
    c"uv_timer_start",
    c"uv_close",
    c"uv_ref",
    c"uv_unref",
];

/// Whether the process exports every libuv function we call. The binding is loaded with lazy
/// binding, so a missing one would only show (as a fatal symbol lookup error) at its first call.
pub fn symbols_present() -> bool {
    SYMBOLS.iter().all(|name| {
        // SAFETY: dlsym with RTLD_DEFAULT only looks the name up.
        !unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }.is_null()
    })
}

/// This env's libuv loop, if the host has one to give.
pub fn event_loop(env: sys::napi_env) -> Option<*mut sys::uv_loop_s> {
    let mut lp = std::ptr::null_mut();
    // SAFETY: env is the live env of this thread.
    let status = unsafe { sys::napi_get_uv_event_loop(env, &mut lp) };
    (status == sys::Status::napi_ok && !lp.is_null()).then_some(lp)
}

/// An owned uv handle. Its memory is released once libuv confirms the close.
pub struct Handle {
    raw: *mut c_void,
}

impl Handle {
    /// Allocates and initialises a handle of `kind` with `init`; starts unreferenced.
    unsafe fn new(kind: c_int, init: impl FnOnce(*mut c_void) -> c_int) -> Result<Handle, c_int> {
        let size = uv_handle_size(kind);
        let layout = std::alloc::Layout::from_size_align(size, 16).map_err(|_| -22)?;
        let raw = std::alloc::alloc_zeroed(layout) as *mut c_void;
        if raw.is_null() {
            return Err(-12);
        }
        let rc = init(raw);
        if rc != 0 {
            std::alloc::dealloc(raw as *mut u8, layout);
            return Err(rc);
        }
        // The first field of every uv handle is `void* data`: it carries the size for freeing.
        *(raw as *mut usize) = size;
        uv_unref(raw);
        Ok(Handle { raw })
    }

    /// A poll handle watching `fd` for readability.
    ///
    /// # Safety
    /// `lp` must be the running env's loop and this must run on that env's thread.
    pub unsafe fn poll(lp: *mut sys::uv_loop_s, fd: c_int, cb: PollCb) -> Result<Handle, c_int> {
        let h = Handle::new(UV_POLL, |raw| uv_poll_init(lp, raw, fd))?;
        let rc = uv_poll_start(h.raw, UV_READABLE, cb);
        if rc != 0 {
            h.close();
            return Err(rc);
        }
        Ok(h)
    }

    /// A stopped timer handle.
    ///
    /// # Safety
    /// As for `poll`.
    pub unsafe fn timer(lp: *mut sys::uv_loop_s) -> Result<Handle, c_int> {
        Handle::new(UV_TIMER, |raw| uv_timer_init(lp, raw))
    }

    /// (Re)starts a timer handle to fire once after `ms`.
    pub fn timer_start(&self, cb: TimerCb, ms: u64) {
        // SAFETY: raw is a live timer handle owned by this thread.
        unsafe { uv_timer_start(self.raw, cb, ms, 0) };
    }

    pub fn set_ref(&self, on: bool) {
        // SAFETY: raw is a live, initialised uv handle owned by this thread.
        unsafe {
            if on {
                uv_ref(self.raw)
            } else {
                uv_unref(self.raw)
            }
        }
    }

    /// Closes the handle; `crate::driver::handle_closed` runs once libuv is done with it.
    pub fn close(self) {
        // SAFETY: raw is live and is never used again after this call.
        unsafe { uv_close(self.raw, free_handle) }
    }
}

unsafe extern "C" fn free_handle(handle: *mut c_void) {
    let size = *(handle as *const usize);
    if let Ok(layout) = std::alloc::Layout::from_size_align(size, 16) {
        std::alloc::dealloc(handle as *mut u8, layout);
    }
    crate::driver::handle_closed();
}

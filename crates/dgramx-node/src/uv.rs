//! The few libuv calls we need, resolved from the host process (node exports libuv).
//!
//! One `uv_poll_t` watches the reactor's epoll/kqueue descriptor from Node's own event loop, so
//! readiness reaches JavaScript with no extra thread and no cross-thread wake-up.

use std::ffi::{c_int, c_void};

use napi::sys;

const UV_POLL: c_int = 8; // uv_handle_type: UV_UNKNOWN_HANDLE=0, ASYNC, CHECK, FS_EVENT, FS_POLL, HANDLE, IDLE, NAMED_PIPE, POLL
pub const UV_READABLE: c_int = 1;

type PollCb = unsafe extern "C" fn(handle: *mut c_void, status: c_int, events: c_int);
type CloseCb = unsafe extern "C" fn(handle: *mut c_void);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(lp: *mut sys::uv_loop_s, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: PollCb) -> c_int;
    fn uv_close(handle: *mut c_void, cb: CloseCb);
    fn uv_ref(handle: *mut c_void);
    fn uv_unref(handle: *mut c_void);
}

/// An owned, started `uv_poll_t`. Freed by `close`, after libuv is done with it.
pub struct PollHandle {
    raw: *mut c_void,
    size: usize,
}

impl PollHandle {
    /// Starts watching `fd` for readability on the env's loop; the handle begins unreferenced.
    ///
    /// # Safety
    /// `lp` must be the running env's loop and this must run on that env's thread.
    pub unsafe fn start(
        lp: *mut sys::uv_loop_s,
        fd: c_int,
        cb: PollCb,
    ) -> Result<PollHandle, c_int> {
        let size = uv_handle_size(UV_POLL);
        let layout = std::alloc::Layout::from_size_align(size, 16).map_err(|_| -22)?;
        let raw = std::alloc::alloc_zeroed(layout) as *mut c_void;
        if raw.is_null() {
            return Err(-12);
        }
        let rc = uv_poll_init(lp, raw, fd);
        if rc != 0 {
            std::alloc::dealloc(raw as *mut u8, layout);
            return Err(rc);
        }
        // The first field of every uv handle is `void* data`: remember the size for freeing.
        *(raw as *mut usize) = size;
        let rc = uv_poll_start(raw, UV_READABLE, cb);
        uv_unref(raw);
        if rc != 0 {
            uv_close(raw, free_handle);
            return Err(rc);
        }
        Ok(PollHandle { raw, size })
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

    /// Closes the handle; its memory is released once libuv calls back.
    pub fn close(self) {
        let _ = self.size;
        // SAFETY: raw is live and is never used again after this call.
        unsafe { uv_close(self.raw, free_handle) }
    }
}

unsafe extern "C" fn free_handle(handle: *mut c_void) {
    let size = *(handle as *const usize);
    if let Ok(layout) = std::alloc::Layout::from_size_align(size, 16) {
        std::alloc::dealloc(handle as *mut u8, layout);
    }
    crate::driver::poll_closed();
}

//! Raw Node-API helpers for calling into JavaScript from a libuv callback, where no napi-rs
//! call context exists.

use std::ffi::c_char;
use std::ptr;

use napi::sys;

pub type Value = sys::napi_value;

pub struct HandleScope {
    env: sys::napi_env,
    scope: sys::napi_handle_scope,
}

impl HandleScope {
    pub fn open(env: sys::napi_env) -> HandleScope {
        let mut scope = ptr::null_mut();
        // SAFETY: called on the env's thread from a libuv callback.
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        HandleScope { env, scope }
    }
}

impl Drop for HandleScope {
    fn drop(&mut self) {
        if !self.scope.is_null() {
            // SAFETY: closes the scope opened in `open`, on the same thread.
            unsafe { sys::napi_close_handle_scope(self.env, self.scope) };
        }
    }
}

pub fn string(env: sys::napi_env, s: &str) -> Value {
    let mut v = ptr::null_mut();
    // SAFETY: s is valid UTF-8 of the given length.
    unsafe {
        sys::napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len() as isize, &mut v)
    };
    v
}

pub fn number(env: sys::napi_env, n: f64) -> Value {
    let mut v = ptr::null_mut();
    // SAFETY: plain value creation on the env's thread.
    unsafe { sys::napi_create_double(env, n, &mut v) };
    v
}

pub fn array(env: sys::napi_env, items: &[Value]) -> Value {
    let mut arr = ptr::null_mut();
    // SAFETY: plain value creation; each item is a live value in the current scope.
    unsafe {
        sys::napi_create_array_with_length(env, items.len(), &mut arr);
        for (i, item) in items.iter().enumerate() {
            sys::napi_set_element(env, arr, i as u32, *item);
        }
    }
    arr
}

/// Small batches are copied into a fresh V8 buffer: an external buffer saves the copy but
/// costs a weak global handle and a finalizer per batch, which is slower for the common case
/// of a few small datagrams. Large batches keep their allocation and skip the copy.
const COPY_LIMIT: usize = 32 * 1024;

pub fn buffer(env: sys::napi_env, bytes: Vec<u8>) -> Value {
    use napi::bindgen_prelude::{Buffer, ToNapiValue};
    if bytes.len() <= COPY_LIMIT {
        let mut v = ptr::null_mut();
        let mut data = ptr::null_mut();
        // SAFETY: V8 copies `bytes.len()` bytes from a live slice.
        let status = unsafe {
            sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut v)
        };
        if status == sys::Status::napi_ok {
            return v;
        }
    }
    // SAFETY: env is live; the Vec's allocation is handed to V8 without copying.
    unsafe { Buffer::to_napi_value(env, Buffer::from(bytes)) }.unwrap_or(ptr::null_mut())
}

pub fn int32_array(env: sys::napi_env, ints: &[i32]) -> Value {
    let byte_len = std::mem::size_of_val(ints);
    let mut data = ptr::null_mut();
    let mut array_buffer = ptr::null_mut();
    let mut v = ptr::null_mut();
    // SAFETY: the new ArrayBuffer has room for exactly `byte_len` bytes, which are copied in
    // before the typed array over it is created.
    unsafe {
        if sys::napi_create_arraybuffer(env, byte_len, &mut data, &mut array_buffer)
            != sys::Status::napi_ok
        {
            return ptr::null_mut();
        }
        ptr::copy_nonoverlapping(ints.as_ptr().cast::<u8>(), data.cast::<u8>(), byte_len);
        sys::napi_create_typedarray(
            env,
            sys::TypedarrayType::int32_array,
            ints.len(),
            array_buffer,
            0,
            &mut v,
        );
    }
    v
}

/// A socket's event function and the async context it runs in.
#[derive(Clone, Copy)]
pub struct Callback {
    pub func: sys::napi_ref,
    pub async_context: sys::napi_async_context,
}

/// Calls the event function through `napi_make_callback` in the socket's async context (so
/// AsyncLocalStorage and async_hooks see the creation context, as with node's UDPWRAP, with
/// no JavaScript-side scope to enter), and so that process.nextTick callbacks and microtasks
/// run afterwards exactly as after any other I/O callback. An exception thrown by the
/// callback becomes an uncaught exception, as in node:dgram.
pub fn make_callback(env: sys::napi_env, callback: Callback, args: &[Value]) {
    let func_ref = callback.func;
    if func_ref.is_null() {
        return;
    }
    // SAFETY: all calls happen on the env's thread with a handle scope open (see HandleScope).
    unsafe {
        let mut func = ptr::null_mut();
        if sys::napi_get_reference_value(env, func_ref, &mut func) != sys::Status::napi_ok
            || func.is_null()
        {
            return;
        }
        let mut global = ptr::null_mut();
        sys::napi_get_global(env, &mut global);
        let mut result = ptr::null_mut();
        let status = sys::napi_make_callback(
            env,
            callback.async_context,
            global,
            func,
            args.len(),
            args.as_ptr(),
            &mut result,
        );
        if status == sys::Status::napi_pending_exception {
            let mut err = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut err);
            sys::napi_fatal_exception(env, err);
        }
    }
}

/// `{ pid, uid, gid, fds, truncated }` for one datagram; `pid`/`uid`/`gid` only when the kernel
/// sent credentials. Ownership of the descriptors passes to JavaScript here.
pub fn ancillary(env: sys::napi_env, mut anc: dgramx_core::cmsg::Ancillary) -> Value {
    let mut obj = ptr::null_mut();
    // SAFETY: plain value creation on the env's thread.
    unsafe { sys::napi_create_object(env, &mut obj) };
    let set = |name: &str, v: Value| {
        // SAFETY: obj and v are live values in the current scope; name is NUL-free.
        let key = string(env, name);
        unsafe { sys::napi_set_property(env, obj, key, v) };
    };
    if let Some(c) = anc.credentials {
        set("pid", number(env, c.pid as f64));
        set("uid", number(env, c.uid as f64));
        set("gid", number(env, c.gid as f64));
    }
    if let Some(ip) = anc.local_ip {
        set("localAddress", string(env, &ip.to_string()));
    }
    if let Some(i) = anc.interface_index {
        set("interfaceIndex", number(env, i as f64));
    }
    if let Some(t) = anc.ttl {
        set("ttl", number(env, t as f64));
    }
    if let Some(t) = anc.tos {
        set("tos", number(env, t as f64));
        set("ecn", number(env, (t & 3) as f64));
    }
    if let Some((s, ns)) = anc.timestamp {
        // Nanoseconds since the epoch as a double lose precision, so both parts go over and
        // JavaScript builds what it needs.
        set("timestampSeconds", number(env, s as f64));
        set("timestampNanoseconds", number(env, ns as f64));
    }
    let fds: Vec<Value> = anc
        .take_fd_numbers()
        .into_iter()
        .map(|fd| number(env, fd as f64))
        .collect();
    set("fds", array(env, &fds));
    let mut b = ptr::null_mut();
    // SAFETY: plain value creation.
    unsafe { sys::napi_get_boolean(env, anc.truncated, &mut b) };
    set("truncated", b);
    obj
}

/// One error-queue entry as `{ code, errno, origin, icmpType, icmpCode, mtu?, address?, port?,
/// offender? }`.
pub fn icmp_error(env: sys::napi_env, e: &dgramx_core::icmp::IcmpError) -> Value {
    let mut obj = ptr::null_mut();
    // SAFETY: plain value creation on the env's thread.
    unsafe { sys::napi_create_object(env, &mut obj) };
    let set = |name: &str, v: Value| {
        let key = string(env, name);
        // SAFETY: obj, key and v are live values in the current scope.
        unsafe { sys::napi_set_property(env, obj, key, v) };
    };
    set("code", string(env, dgramx_core::error::errno_name(e.errno)));
    set("errno", number(env, e.errno as f64));
    set("origin", number(env, e.origin as f64));
    set("icmpType", number(env, e.icmp_type as f64));
    set("icmpCode", number(env, e.icmp_code as f64));
    if let Some(m) = e.mtu {
        set("mtu", number(env, m as f64));
    }
    if let Some(d) = e.destination {
        set("address", string(env, &dgramx_core::addr::ip_string(&d)));
        set("port", number(env, d.port() as f64));
    }
    if let Some(o) = e.offender {
        set("offender", string(env, &o.to_string()));
    }
    obj
}

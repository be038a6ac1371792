//! Node-API binding of dgramx-core. Readiness reaches JavaScript through a libuv poll handle
//! on the reactor's descriptor, or from a reactor thread (see `wake`); the I/O itself runs on
//! the JS thread (see `driver`).

mod driver;
mod error;
mod js;
mod socket;
mod state;
#[cfg(unix)]
mod uv;
mod wake;

use napi_derive::napi;

#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// How readiness reaches JavaScript in this process: `"uv-poll"` or `"thread"`.
#[napi]
pub fn driver_mode() -> String {
    driver::mode_name().to_string()
}

/// Called by the facade before the first socket when the host runtime (Bun, Deno) has no
/// usable libuv: the default driver is then the reactor thread. `DGRAMX_DRIVER` still wins.
#[napi]
pub fn set_host_lacks_libuv(lacks: bool) {
    wake::set_host_lacks_libuv(lacks);
}

/// `socketpair()`: two connected unix_dgram descriptors (close-on-exec, non-blocking) for the
/// facade to adopt, one per socket. Returned as numbers because adopting is what `bind({ fd })`
/// already does, checks included.
#[napi(catch_unwind)]
pub fn unix_socketpair() -> napi::Result<Vec<i32>, error::Code> {
    #[cfg(unix)]
    {
        let (a, b) = dgramx_core::DgramSocket::unix_pair().map_err(error::to_js)?;
        Ok(vec![a.into_raw_fd(), b.into_raw_fd()])
    }
    #[cfg(not(unix))]
    {
        Err(error::to_js(dgramx_core::SysError::unavailable(
            "socketpair",
        )))
    }
}

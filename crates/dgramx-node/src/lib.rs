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

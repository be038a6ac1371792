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

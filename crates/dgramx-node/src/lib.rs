//! Node-API binding of dgramx-core. Readiness reaches JavaScript through a libuv poll handle
//! on the reactor's descriptor (see `driver`), on the JS thread itself.
#![cfg(unix)]

mod driver;
mod error;
mod js;
mod socket;
mod state;
mod uv;

use napi_derive::napi;

#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn main() {
    // The binding is Unix-only so far (src/lib.rs is `#![cfg(unix)]`): its driver polls the
    // reactor's epoll/kqueue descriptor from libuv, and Windows has no such descriptor. Fail the
    // build there instead of producing an addon that exports nothing.
    if std::env::var_os("CARGO_CFG_UNIX").is_none() {
        let target = std::env::var("TARGET").unwrap_or_default();
        panic!("dgramx-node builds on Unix only so far (Linux, macOS, FreeBSD); {target} is not supported yet");
    }
    napi_build::setup();
}

//! Core failures as JavaScript errors: `code` is the errno name (or an ERR_* code) and the
//! message is the syscall, which the facade turns into a Node-style system error.

use dgramx_core::SysError;

/// napi-rs shows a custom status as the error's `code`.
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

pub type JsResult<T> = napi::Result<T, Code>;

pub fn to_js(e: SysError) -> napi::Error<Code> {
    napi::Error::new(Code(e.code), e.syscall.to_string())
}

pub fn closed(syscall: &'static str) -> napi::Error<Code> {
    to_js(SysError::ebadf(syscall))
}

pub trait IntoJs<T> {
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for Result<T, SysError> {
    fn js(self) -> JsResult<T> {
        self.map_err(to_js)
    }
}

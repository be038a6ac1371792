//! Operating-system failures as values: the errno's Node-style name plus the syscall that failed.
//!
//! Names come from a table keyed on the platform's `libc::E*` constants, never from
//! `io::ErrorKind` or strerror text, so they are exactly what `util.getSystemErrorName` gives.

use std::fmt;
use std::io;

/// A failed system call, ready to cross into JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError {
    /// The errno name (`"EADDRINUSE"`), or an `ERR_*` code for failures with no OS errno.
    pub code: &'static str,
    /// The raw OS error number, or 0 when there is none.
    pub errno: i32,
    /// The operation that failed, in Node's vocabulary (`"bind"`, `"send"`, `"recvmsg"`, ...).
    pub syscall: &'static str,
}

impl SysError {
    pub fn from_io(err: &io::Error, syscall: &'static str) -> Self {
        match err.raw_os_error() {
            Some(raw) => SysError {
                code: errno_name(raw),
                errno: raw,
                syscall,
            },
            // Errors socket2/std raise themselves (e.g. a path too long for sun_path) carry no errno.
            None => SysError {
                code: "ERR_SOCKET_DGRAM_INVALID",
                errno: 0,
                syscall,
            },
        }
    }

    pub fn from_raw(raw: i32, syscall: &'static str) -> Self {
        SysError {
            code: errno_name(raw),
            errno: raw,
            syscall,
        }
    }

    /// A failure that has no OS errno (bad argument detected before any syscall).
    pub fn coded(code: &'static str, syscall: &'static str) -> Self {
        SysError {
            code,
            errno: 0,
            syscall,
        }
    }

    pub fn einval(syscall: &'static str) -> Self {
        Self::from_raw(EINVAL, syscall)
    }

    pub fn is_would_block(&self) -> bool {
        self.errno == EAGAIN || self.errno == EWOULDBLOCK
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.syscall, self.code)
    }
}

impl std::error::Error for SysError {}

pub type SysResult<T> = Result<T, SysError>;

/// Extension to tag an `io::Result` with the syscall it came from.
pub trait Syscall<T> {
    fn syscall(self, name: &'static str) -> SysResult<T>;
}

impl<T> Syscall<T> for io::Result<T> {
    fn syscall(self, name: &'static str) -> SysResult<T> {
        self.map_err(|e| SysError::from_io(&e, name))
    }
}

#[cfg(unix)]
use libc::{EAGAIN, EINVAL, EWOULDBLOCK};
#[cfg(not(unix))]
const EAGAIN: i32 = 10035;
#[cfg(not(unix))]
const EWOULDBLOCK: i32 = 10035;
#[cfg(not(unix))]
const EINVAL: i32 = 10022;

/// Node's name for an errno value. Where two names share a value, libuv's choice wins
/// (EAGAIN over EWOULDBLOCK, ENOTSUP over EOPNOTSUPP on Linux).
#[cfg(unix)]
pub fn errno_name(raw: i32) -> &'static str {
    use libc::*;
    macro_rules! table {
        ($($name:ident),* $(,)?) => {
            $( if raw == $name { return stringify!($name); } )*
        };
    }
    table!(
        EAGAIN,
        E2BIG,
        EACCES,
        EADDRINUSE,
        EADDRNOTAVAIL,
        EAFNOSUPPORT,
        EALREADY,
        EBADF,
        EBUSY,
        ECANCELED,
        ECONNABORTED,
        ECONNREFUSED,
        ECONNRESET,
        EDESTADDRREQ,
        EEXIST,
        EFAULT,
        EFBIG,
        EHOSTUNREACH,
        EINTR,
        EINVAL,
        EIO,
        EISCONN,
        EISDIR,
        ELOOP,
        EMFILE,
        EMSGSIZE,
        ENAMETOOLONG,
        ENETDOWN,
        ENETUNREACH,
        ENFILE,
        ENOBUFS,
        ENODEV,
        ENOENT,
        ENOMEM,
        ENOSPC,
        ENOSYS,
        ENOTCONN,
        ENOTDIR,
        ENOTEMPTY,
        ENOTSOCK,
        ENOTSUP,
        EOVERFLOW,
        EPERM,
        EPIPE,
        EPROTO,
        EPROTONOSUPPORT,
        EPROTOTYPE,
        ERANGE,
        EROFS,
        ESHUTDOWN,
        ESPIPE,
        ESRCH,
        ETIMEDOUT,
        ETXTBSY,
        EXDEV,
        EMLINK,
        EHOSTDOWN,
        ENOTTY,
        EILSEQ,
        ENOPROTOOPT,
        EOPNOTSUPP,
        ENXIO,
    );
    "UNKNOWN"
}

#[cfg(not(unix))]
pub fn errno_name(raw: i32) -> &'static str {
    // Winsock codes, translated the way libuv does.
    match raw {
        10035 => "EAGAIN",
        10040 => "EMSGSIZE",
        10048 => "EADDRINUSE",
        10049 => "EADDRNOTAVAIL",
        10054 => "ECONNRESET",
        10061 => "ECONNREFUSED",
        10022 => "EINVAL",
        10013 => "EACCES",
        10047 => "EAFNOSUPPORT",
        10057 => "ENOTCONN",
        10051 => "ENETUNREACH",
        10065 => "EHOSTUNREACH",
        10055 => "ENOBUFS",
        _ => "UNKNOWN",
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn names_follow_libuv() {
        assert_eq!(errno_name(libc::EADDRINUSE), "EADDRINUSE");
        assert_eq!(errno_name(libc::EWOULDBLOCK), "EAGAIN");
        assert_eq!(errno_name(libc::EMSGSIZE), "EMSGSIZE");
        assert_eq!(errno_name(-12345), "UNKNOWN");
    }

    #[test]
    fn io_errors_keep_their_errno() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let s = SysError::from_io(&e, "send");
        assert_eq!(
            (s.code, s.errno, s.syscall),
            ("ECONNREFUSED", libc::ECONNREFUSED, "send")
        );
        assert_eq!(s.to_string(), "send ECONNREFUSED");
    }
}

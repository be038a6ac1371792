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
    /// The error of a failed call, named by its errno.
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

    /// The error for a raw errno value.
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

    /// ERR_FEATURE_UNAVAILABLE_ON_PLATFORM from `syscall`: this platform has no such option.
    pub fn unavailable(syscall: &'static str) -> Self {
        SysError::coded("ERR_FEATURE_UNAVAILABLE_ON_PLATFORM", syscall)
    }

    /// EINVAL from `syscall`: an argument the platform refuses.
    pub fn einval(syscall: &'static str) -> Self {
        Self::from_raw(EINVAL, syscall)
    }

    /// The error for a call on a socket that is already closed.
    pub fn ebadf(syscall: &'static str) -> Self {
        Self::from_raw(EBADF, syscall)
    }

    /// The error for a call on a socket that is busy with something else.
    pub fn ebusy(syscall: &'static str) -> Self {
        Self::from_raw(EBUSY, syscall)
    }

    /// Whether the call would have blocked (EAGAIN / EWOULDBLOCK).
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

/// A result whose failure is a [`SysError`].
pub type SysResult<T> = Result<T, SysError>;

/// Extension to tag an `io::Result` with the syscall it came from.
pub trait Syscall<T> {
    /// Converts an `io::Error` into a [`SysError`] naming the syscall.
    fn syscall(self, name: &'static str) -> SysResult<T>;
}

impl<T> Syscall<T> for io::Result<T> {
    fn syscall(self, name: &'static str) -> SysResult<T> {
        self.map_err(|e| SysError::from_io(&e, name))
    }
}

#[cfg(unix)]
use libc::{EAGAIN, EBADF, EBUSY, EINVAL, EWOULDBLOCK};
#[cfg(not(unix))]
const EAGAIN: i32 = 10035; // WSAEWOULDBLOCK
#[cfg(not(unix))]
const EWOULDBLOCK: i32 = 10035;
#[cfg(not(unix))]
const EINVAL: i32 = 10022; // WSAEINVAL
#[cfg(not(unix))]
const EBADF: i32 = 10009; // WSAEBADF
#[cfg(not(unix))]
const EBUSY: i32 = 170; // ERROR_BUSY

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

/// Winsock and Windows error numbers by libuv's names.
#[cfg(not(unix))]
pub fn errno_name(raw: i32) -> &'static str {
    windows_error_name(raw)
}

/// Node's name for a Winsock (`WSAE*`) or Win32 (`ERROR_*`) code, translated the way libuv's
/// `uv_translate_sys_error` does, so Windows errors carry the same codes as node:dgram's there.
/// Plain data, so it is compiled (and tested) on every platform.
#[cfg_attr(unix, allow(dead_code))]
pub fn windows_error_name(raw: i32) -> &'static str {
    match raw {
        10035 => "EAGAIN",                         // WSAEWOULDBLOCK
        5 | 740 | 1920 | 10013 => "EACCES",        // ERROR_ACCESS_DENIED, WSAEACCES
        1227 | 10048 => "EADDRINUSE",              // ERROR_ADDRESS_ALREADY_ASSOCIATED
        10049 => "EADDRNOTAVAIL",                  // WSAEADDRNOTAVAIL
        10047 => "EAFNOSUPPORT",                   // WSAEAFNOSUPPORT
        10037 => "EALREADY",                       // WSAEALREADY
        6 | 1004 | 10009 => "EBADF",               // ERROR_INVALID_HANDLE, WSAEBADF
        32 | 33 | 170 | 231 => "EBUSY",            // sharing/lock violation, busy, pipe busy
        995 | 10004 => "ECANCELED",                // ERROR_OPERATION_ABORTED, WSAEINTR
        1236 | 10053 => "ECONNABORTED",            // WSAECONNABORTED
        1225 | 10061 => "ECONNREFUSED",            // WSAECONNREFUSED
        64 | 10052 | 10054 => "ECONNRESET",        // NETNAME_DELETED, WSAENETRESET, WSAECONNRESET
        10039 => "EDESTADDRREQ",                   // WSAEDESTADDRREQ
        80 | 183 => "EEXIST",                      // ERROR_FILE_EXISTS, ERROR_ALREADY_EXISTS
        111 | 10014 => "EFAULT",                   // ERROR_BUFFER_OVERFLOW, WSAEFAULT
        10064 => "EHOSTDOWN",                      // WSAEHOSTDOWN
        1232 | 10065 => "EHOSTUNREACH",            // WSAEHOSTUNREACH
        13 | 87 | 122 | 10022 | 10046 => "EINVAL", // INVALID_DATA/PARAMETER, WSAEINVAL
        10056 => "EISCONN",                        // WSAEISCONN
        4 | 10024 => "EMFILE",                     // ERROR_TOO_MANY_OPEN_FILES, WSAEMFILE
        10040 => "EMSGSIZE",                       // WSAEMSGSIZE
        206 | 10063 => "ENAMETOOLONG",             // FILENAME_EXCED_RANGE, WSAENAMETOOLONG
        10050 => "ENETDOWN",                       // WSAENETDOWN
        1231 | 10051 => "ENETUNREACH",             // WSAENETUNREACH
        10055 => "ENOBUFS",                        // WSAENOBUFS
        2 | 3 => "ENOENT",                         // FILE/PATH_NOT_FOUND
        8 | 14 => "ENOMEM",                        // NOT_ENOUGH_MEMORY, OUTOFMEMORY
        10042 => "ENOPROTOOPT",                    // WSAENOPROTOOPT
        10043 => "EPROTONOSUPPORT",                // WSAEPROTONOSUPPORT
        10041 => "EPROTOTYPE",                     // WSAEPROTOTYPE
        2250 | 10057 => "ENOTCONN",                // ERROR_NOT_CONNECTED, WSAENOTCONN
        10038 => "ENOTSOCK",                       // WSAENOTSOCK
        50 | 10045 => "ENOTSUP",                   // ERROR_NOT_SUPPORTED, WSAEOPNOTSUPP
        232 | 10058 => "EPIPE",                    // ERROR_NO_DATA, WSAESHUTDOWN
        121 | 10060 => "ETIMEDOUT",                // ERROR_SEM_TIMEOUT, WSAETIMEDOUT
        _ => "UNKNOWN",
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn windows_codes_follow_libuv() {
        assert_eq!(windows_error_name(10035), "EAGAIN");
        assert_eq!(windows_error_name(10040), "EMSGSIZE");
        assert_eq!(windows_error_name(10048), "EADDRINUSE");
        assert_eq!(windows_error_name(10054), "ECONNRESET");
        assert_eq!(windows_error_name(10061), "ECONNREFUSED");
        assert_eq!(windows_error_name(64), "ECONNRESET");
        assert_eq!(windows_error_name(10004), "ECANCELED");
        assert_eq!(windows_error_name(424242), "UNKNOWN");
    }

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

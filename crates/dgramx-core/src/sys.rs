//! The libc shapes the core needs in several places, written once: a system call retried on
//! EINTR, and a message header over one buffer. Everything else calls socket2.

use crate::error::{SysError, SysResult};

/// Calls `call` again while it fails with EINTR. A negative result is the errno as a
/// [`SysError`] naming `syscall`; anything else is returned as a count.
pub(crate) fn retry_eintr(
    syscall: &'static str,
    mut call: impl FnMut() -> isize,
) -> SysResult<usize> {
    loop {
        let rc = call();
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(SysError::from_io(&err, syscall));
        }
    }
}

/// `setsockopt` of one int option.
pub(crate) fn set_int_option(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> SysResult<()> {
    // SAFETY: value is an int of the size passed, alive for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(SysError::from_io(
            &std::io::Error::last_os_error(),
            "setsockopt",
        ))
    }
}

/// `getsockopt` of one int option.
pub(crate) fn int_option(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
) -> SysResult<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len describe an int owned by this frame.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(SysError::from_io(
            &std::io::Error::last_os_error(),
            "getsockopt",
        ))
    }
}

/// A `msghdr` over `iov`, addressed to `name` when there is one, with `control` as its
/// ancillary buffer when that is not empty. Every pointer in it borrows from the arguments, so
/// they must outlive each call that uses the header.
pub(crate) fn msghdr(
    name: Option<(*mut libc::c_void, libc::socklen_t)>,
    iov: &mut libc::iovec,
    control: &mut [u64],
) -> libc::msghdr {
    // SAFETY: msghdr is plain old data; all-zero is a valid empty header.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    if let Some((ptr, len)) = name {
        hdr.msg_name = ptr;
        hdr.msg_namelen = len;
    }
    hdr.msg_iov = iov;
    hdr.msg_iovlen = 1;
    if !control.is_empty() {
        hdr.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        hdr.msg_controllen = std::mem::size_of_val(control) as _;
    }
    hdr
}

/// The (pointer, length) of a destination, as [`msghdr`] takes it.
pub(crate) fn name_of(
    dest: Option<&socket2::SockAddr>,
) -> Option<(*mut libc::c_void, libc::socklen_t)> {
    dest.map(|d| (d.as_ptr() as *mut libc::c_void, d.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn retries_only_eintr() {
        let mut calls = 0;
        let got = retry_eintr("send", || {
            calls += 1;
            if calls < 3 {
                // SAFETY: errno is thread-local; setting it mimics a failed call.
                unsafe { *libc::__errno_location() = libc::EINTR };
                -1
            } else {
                7
            }
        });
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls, 3);
        let err = retry_eintr("recvmsg", || {
            // SAFETY: as above.
            unsafe { *libc::__errno_location() = libc::EBADF };
            -1
        })
        .unwrap_err();
        assert_eq!((err.code, err.syscall), ("EBADF", "recvmsg"));
    }

    #[test]
    fn header_points_at_its_parts() {
        let data = [1u8, 2, 3];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: 3,
        };
        let mut control = [0u64; 4];
        let hdr = msghdr(None, &mut iov, &mut control);
        assert!(hdr.msg_name.is_null());
        assert_eq!(hdr.msg_iovlen, 1);
        assert_eq!(hdr.msg_controllen as u64, 32);
        let bare = msghdr(None, &mut iov, &mut []);
        assert!(bare.msg_control.is_null());
        assert_eq!(bare.msg_controllen, 0);
    }
}

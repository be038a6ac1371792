//! The file a path-bound unix datagram socket creates: its permission bits in force from the
//! moment the name exists, and its identity (device, inode) so that close removes only it.
//!
//! A path-based `chmod` after `bind` follows symlinks: whoever can write to the socket's
//! directory could rename a symlink over the fresh socket file between the two calls and make
//! us chmod any file we own. So nothing here takes a path-based call that follows a link:
//!
//! - Linux: the socket's own inode mode is set with `fchmod` *before* `bind`; the kernel creates
//!   the file with that mode minus the umask, in the same step that creates the name. Bits the
//!   umask removed are added afterwards through an `O_PATH | O_NOFOLLOW` handle to the name,
//!   after `fstat` on that handle proves it is a socket file we own with one link; the chmod
//!   goes through `/proc/self/fd`, i.e. to exactly the inode that was checked.
//! - Other Unix systems (their `bind` ignores the socket's mode): `lstat` proves the same
//!   facts, then `fchmodat(AT_SYMLINK_NOFOLLOW)`, which never follows a symlink, and a second
//!   `lstat` proves the inode did not change. A hard link swapped in between the two calls is
//!   the remaining window there (Linux's protected_hardlinks has no equivalent on macOS).

#[cfg(unix)]
use crate::error::SysError;
use crate::error::SysResult;
use crate::socket::DgramSocket;

/// The identity of the socket file a bind created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketFile {
    /// Device of the file.
    pub dev: u64,
    /// Inode of the file.
    pub ino: u64,
}

/// Binds to `name` (a path, an abstract name or empty for autobind). For a filesystem path,
/// returns the created file's identity, after giving it exactly `mode` when asked.
///
/// A failed bind is reported with syscall `"bind"` and leaves the socket unbound. A failure
/// after the bind (the name was replaced before it could be checked, or the chmod failed) is
/// reported with syscall `"chmod"`: the socket is bound then.
#[cfg(unix)]
pub fn bind(sock: &DgramSocket, name: &[u8], mode: Option<u32>) -> SysResult<Option<SocketFile>> {
    let is_path = !name.is_empty() && name[0] != 0;
    if let (Some(m), true) = (mode, is_path) {
        if m > 0o7777 {
            return Err(SysError::einval("chmod"));
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        cvt(
            // SAFETY: fchmod on a descriptor we own changes only that socket's inode.
            unsafe { libc::fchmod(sock.raw_fd(), m as libc::mode_t) },
            "chmod",
        )?;
    }
    sock.bind_unix(name)?;
    if !is_path {
        return Ok(None);
    }
    let path = std::ffi::CString::new(name).map_err(|_| SysError::einval("bind"))?;
    platform::settle(&path, mode).map(Some)
}

/// Binds the name; without Unix file modes there is no file to settle.
#[cfg(not(unix))]
pub fn bind(sock: &DgramSocket, name: &[u8], _mode: Option<u32>) -> SysResult<Option<SocketFile>> {
    sock.bind_unix(name).map(|()| None)
}

#[cfg(unix)]
fn cvt(rc: libc::c_int, syscall: &'static str) -> SysResult<libc::c_int> {
    if rc < 0 {
        Err(SysError::from_io(&std::io::Error::last_os_error(), syscall))
    } else {
        Ok(rc)
    }
}

/// Whether `st` is what our bind just created: a socket file, ours, not hard-linked elsewhere.
#[cfg(unix)]
fn is_our_socket_file(st: &libc::stat) -> bool {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK && st.st_uid == euid && st.st_nlink == 1
}

#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // dev_t and ino_t differ in width and sign across platforms
fn identity(st: &libc::stat) -> SocketFile {
    SocketFile {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod platform {
    use super::{cvt, identity, is_our_socket_file, SocketFile};
    use crate::error::{SysError, SysResult};
    use std::ffi::CStr;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::io::AsRawFd;

    pub fn settle(path: &CStr, mode: Option<u32>) -> SysResult<SocketFile> {
        // SAFETY: open with a valid C string; O_PATH opens no file contents, O_NOFOLLOW makes a
        // symlink at the name the handle itself (then refused below) instead of its target.
        let fd = cvt(
            unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                )
            },
            "chmod",
        )?;
        // SAFETY: fd was just opened and is owned here.
        let handle = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: fstat into a zeroed stat on a valid descriptor.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        cvt(unsafe { libc::fstat(handle.as_raw_fd(), &mut st) }, "chmod")?;
        if !is_our_socket_file(&st) {
            // Someone replaced the name between bind and open: touch nothing, claim nothing.
            return Err(SysError::from_raw(libc::EEXIST, "chmod"));
        }
        if let Some(m) = mode {
            if st.st_mode & 0o7777 != m as libc::mode_t {
                let proc_path = format!("/proc/self/fd/{}\0", handle.as_raw_fd());
                // SAFETY: a NUL-terminated path; /proc/self/fd/N names exactly the checked inode.
                cvt(
                    unsafe {
                        libc::chmod(proc_path.as_ptr() as *const libc::c_char, m as libc::mode_t)
                    },
                    "chmod",
                )?;
            }
        }
        Ok(identity(&st))
    }
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
mod platform {
    use super::{cvt, identity, is_our_socket_file, SocketFile};
    use crate::error::{SysError, SysResult};
    use std::ffi::CStr;

    fn lstat(path: &CStr) -> SysResult<libc::stat> {
        // SAFETY: lstat into a zeroed stat with a valid C string; it does not follow links.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        cvt(unsafe { libc::lstat(path.as_ptr(), &mut st) }, "chmod")?;
        Ok(st)
    }

    pub fn settle(path: &CStr, mode: Option<u32>) -> SysResult<SocketFile> {
        let st = lstat(path)?;
        if !is_our_socket_file(&st) {
            return Err(SysError::from_raw(libc::EEXIST, "chmod"));
        }
        let file = identity(&st);
        if let Some(m) = mode {
            // SAFETY: a valid C string; AT_SYMLINK_NOFOLLOW never changes a link's target.
            cvt(
                unsafe {
                    libc::fchmodat(
                        libc::AT_FDCWD,
                        path.as_ptr(),
                        m as libc::mode_t,
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                },
                "chmod",
            )?;
            if identity(&lstat(path)?) != file {
                return Err(SysError::from_raw(libc::EEXIST, "chmod"));
            }
        }
        Ok(file)
    }
}

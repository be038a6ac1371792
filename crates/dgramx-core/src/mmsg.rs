//! The one door to the kernel's `sendmmsg`, so a batch is one system call on every Linux libc.
//!
//! musl's `sendmmsg()` on 64-bit targets is not the system call: it loops `sendmsg` once per
//! message (its `struct msghdr` has padding words the kernel reads as the high halves of
//! `msg_iovlen` and `msg_controllen`, and it will not write the caller's vector to clear them).
//! On Alpine a batch of 64 would then cost 64 syscalls. Every header we build starts from
//! `mem::zeroed()` (libc's musl `msghdr` has private padding, so no other constructor exists),
//! so the padding is already zero and the raw system call sees exactly the kernel's layout.
//!
//! `recvmmsg` needs no such door: musl's clears the padding itself and makes the real system
//! call (strace on the musl leg of `scripts/ci/musl.sh` shows `recvmmsg`).

/// `sendmmsg(2)` itself: the libc function where it is the system call, the raw system call on
/// musl. Same contract and return value as the libc function (-1 with `errno` on failure).
///
/// # Safety
/// `msgs` must point to `vlen` initialised headers whose buffers and names outlive the call,
/// each built from `mem::zeroed()` (padding zero), as `libc::sendmmsg` requires.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub unsafe fn sys_sendmmsg(
    fd: libc::c_int,
    msgs: *mut libc::mmsghdr,
    vlen: libc::c_uint,
    flags: libc::c_int,
) -> libc::c_int {
    #[cfg(target_env = "musl")]
    {
        // SAFETY: the caller's contract; the kernel's mmsghdr is musl's with the padding zero.
        unsafe {
            libc::syscall(
                libc::SYS_sendmmsg,
                fd as libc::c_long,
                msgs,
                vlen as libc::c_long,
                flags as libc::c_long,
            ) as libc::c_int
        }
    }
    #[cfg(not(target_env = "musl"))]
    {
        // SAFETY: the caller's contract.
        unsafe { libc::sendmmsg(fd, msgs, vlen, flags as _) }
    }
}

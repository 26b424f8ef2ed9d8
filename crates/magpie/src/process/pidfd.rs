//! Linux: a child's exit seen through a pidfd (`pidfd_open(2)`, kernel 5.3 and later), a
//! descriptor that becomes readable when the process exits. The reactor watches it; no
//! thread waits.

use crate::io::Async;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once `pidfd_open` failed in a way that will not change for this process (`ENOSYS`:
/// the kernel predates it; `EPERM`: a seccomp filter refuses it): later spawns go straight
/// to the SIGCHLD path without trying again.
static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// A pidfd for the child `pid`, registered with the current runtime's reactor.
///
/// `None` when no pidfd can be had (the caller falls back to SIGCHLD): an unsupported
/// kernel, a refusal, or any other failure of `pidfd_open` or of the registration (a full
/// descriptor table included: the SIGCHLD path needs no descriptor per child).
///
/// `pid` must be a child of this process that nobody has reaped yet, so that the pid cannot
/// have been reused: [`Child`](super::Child) calls this right after the spawn, before any
/// `waitpid`.
pub(super) fn open(pid: u32) -> Option<Async<OwnedFd>> {
    if UNSUPPORTED.load(Ordering::Relaxed) {
        return None;
    }
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: `pidfd_open(pid, 0)` reads no memory of ours; it returns a new descriptor or -1.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) {
            UNSUPPORTED.store(true, Ordering::Relaxed);
        }
        return None;
    }
    let raw = RawFd::try_from(ret).ok()?;
    // SAFETY: the call succeeded, so `raw` is a new open descriptor (close-on-exec, as
    // `pidfd_open` always makes it) that nothing else owns; it is wrapped exactly once.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // Never read or written: only its readability matters, so no `O_NONBLOCK` is needed.
    Async::new_nonblocking(fd).ok()
}

//! The SIGCHLD path: how a child is waited for where there is no pidfd (every Unix but
//! Linux, Linux before 5.3, or forced with `MAGPIE_PROCESS_SIGCHLD`).
//!
//! Each [`SigchldPipe`] owns a self-pipe: its read end is registered with the reactor, and a
//! SIGCHLD action installed through `signal-hook-registry` writes one byte to its write end.
//! Every SIGCHLD therefore wakes every waiter, and each waiter checks its own child only
//! (`waitpid(pid, WNOHANG)`), never `waitpid(-1)`. Signals coalesce (two children exiting
//! together may raise one SIGCHLD), which is why a wake-up checks rather than counts.
//!
//! This is deliberately small and private: a process-wide signal broadcaster
//! (`signal::unix`) can replace the per-waiter pipe without changing the callers, which only
//! use [`SigchldPipe::new`] and [`SigchldPipe::poll_check`].

use crate::io::Async;
use magpie_io::sys::signal as sys;
use magpie_io::Direction;
use signal_hook_registry::SigId;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::task::{Context, Poll};

/// One waiter's self-pipe and the SIGCHLD action that writes to it.
///
/// Drop order is the safety argument for the action (as for `ctrl_c`'s pipe): `Drop`
/// unregisters the action first; only then do the fields drop, deregistering and closing the
/// read end, and closing the write end the action wrote to.
pub(super) struct SigchldPipe {
    action: SigId,
    read: Async<OwnedFd>,
    /// Never read: held so that the descriptor the action writes to stays open.
    _write: OwnedFd,
}

impl SigchldPipe {
    /// Creates the pipe, registers its read end with the current runtime's reactor, then
    /// installs the SIGCHLD action. A SIGCHLD raised before this returns is not seen: the
    /// caller checks its child once after this, before it waits.
    pub(super) fn new() -> io::Result<SigchldPipe> {
        let (read, write) = sys::pipe()?;
        let read = Async::new_nonblocking(read)?;
        let raw = write.as_raw_fd();
        // `raw` stays open for as long as the action can run: `Drop` unregisters the action
        // before `_write` is closed, and `signal_hook_registry::unregister` returns only once
        // no handler still runs with the old action table.
        let action = move || {
            // SAFETY: `raw` is open while this action can run (see above).
            let fd = unsafe { BorrowedFd::borrow_raw(raw) };
            sys::notify(fd);
        };
        // `register` requires an action that is async-signal-safe and never panics: `notify`
        // is one `write(2)` of one byte, errno saved and restored, no allocation, no lock, no
        // panic. SIGCHLD is not one of the signals `register` forbids.
        // SAFETY: the action is async-signal-safe and cannot panic (see above).
        let action = unsafe { signal_hook_registry::register(libc::SIGCHLD, action)? };
        Ok(SigchldPipe {
            action,
            read,
            _write: write,
        })
    }

    /// Waits for a SIGCHLD and runs `check` after each: `Ready` with what `check` returns
    /// unless it is `WouldBlock` (the child has not exited), in which case the wait goes on.
    ///
    /// The pipe is emptied before `check` runs, so a SIGCHLD that arrives after the check
    /// leaves a byte behind and a new readiness event: it is never lost (the readiness is
    /// cleared only if no newer event arrived, see `Async::poll_with`).
    pub(super) fn poll_check<R>(
        &self,
        cx: &mut Context<'_>,
        check: &mut impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.read
            .poll_with(Direction::Read, cx, &mut |fd: &OwnedFd| {
                match sys::drain(fd.as_fd()) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                check()
            })
    }
}

impl Drop for SigchldPipe {
    fn drop(&mut self) {
        // Before the fields drop: after this, no handler writes to `self._write` any more.
        signal_hook_registry::unregister(self.action);
    }
}

/// Whether `MAGPIE_PROCESS_SIGCHLD` forces the SIGCHLD path where a pidfd would do (set to
/// anything but `0` or the empty string; read once, at the first spawn of the process).
#[cfg(target_os = "linux")]
pub(super) fn forced() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| {
        std::env::var_os("MAGPIE_PROCESS_SIGCHLD").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

//! The SIGCHLD path: how a child is waited for where there is no pidfd (every Unix but
//! Linux, Linux before 5.3, or forced with `MAGPIE_PROCESS_SIGCHLD`).
//!
//! Each [`SigchldWatch`] is a listener of the process's signal registry
//! (`signal/registry.rs`: one self-pipe and one thread per process, one SIGCHLD action
//! installed once), so waiting this way costs no descriptor and no thread per child, and
//! works on whichever runtime (or executor) polls it. Every SIGCHLD wakes every waiter, and
//! each waiter checks its own child only (`waitpid(pid, WNOHANG)`), never `waitpid(-1)`.
//! Signals coalesce (two children exiting together may raise one SIGCHLD, and deliveries
//! between two polls count as one), which is why a wake-up checks rather than counts.
//!
//! **No exit is missed.** [`SigchldWatch::poll_check`] checks the child first, then asks the
//! listener for a delivery; the listener reports every delivery made after it subscribed
//! that it has not reported yet. A child that exits after the check raises a SIGCHLD whose
//! delivery comes after the subscription (the watch exists before the first check), so the
//! listener is ready (at once, or by waking the task) and the loop checks again.

use crate::signal::registry::{self, Listener};
use std::io;
use std::task::{Context, Poll};

/// One waiter's subscription to SIGCHLD.
pub(super) struct SigchldWatch {
    listener: Listener,
}

impl SigchldWatch {
    /// Subscribes to SIGCHLD (the first subscription of the process installs the action).
    /// A SIGCHLD raised before this returns may not be seen: the caller checks its child
    /// once after this, before it waits ([`poll_check`](Self::poll_check) does).
    pub(super) fn new() -> io::Result<SigchldWatch> {
        Ok(SigchldWatch {
            listener: registry::subscribe(libc::SIGCHLD)?,
        })
    }

    /// Runs `check`, and until it returns something other than `WouldBlock` (the child has
    /// not exited), waits for a SIGCHLD and runs it again.
    pub(super) fn poll_check<R>(
        &mut self,
        cx: &mut Context<'_>,
        check: &mut impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match check() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            match self.listener.poll_recv(cx) {
                Poll::Ready(Some(())) => continue,
                Poll::Ready(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "cannot wait for the child: the process's signal thread stopped \
                         (see magpie::signal::unix)",
                    )))
                }
                Poll::Pending => return Poll::Pending,
            }
        }
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

//! Signals: [`ctrl_c`], woken through the runtime's own reactor.
//!
//! ```no_run
//! #[magpie::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = magpie::spawn(async { /* serve until cancelled */ });
//!     magpie::signal::ctrl_c().await?;
//!     println!("Ctrl-C: shutting down");
//!     server.abort();
//!     Ok(())
//! }
//! ```
//!
//! # How it works
//!
//! **Unix:** each `ctrl_c` future, at its first poll, creates its own pipe, registers the read end
//! with the runtime's reactor (as an [`Async`]), and installs a SIGINT action (through
//! `signal-hook-registry`) that writes one byte to the write end: the only thing a signal
//! handler may safely do. The byte makes the read end readable, the reactor wakes the
//! task, the task drains the pipe and completes. One pipe per waiter means one signal
//! completes every pending `ctrl_c`, on whichever runtime each waits. Completing or
//! dropping the future removes the action, then closes both ends.
//!
//! **Windows** (no signals, no self-pipe): the first `ctrl_c` poll installs a console control
//! handler (`SetConsoleCtrlHandler`), once for the process. Windows runs it on a thread of
//! its own for each Ctrl-C (`CTRL_C_EVENT`), so it may lock: it bumps a generation counter
//! and wakes every pending `ctrl_c` from a waker list; a future completes once the counter
//! has moved past the value it saw at its first poll. Other console events (Ctrl-Break,
//! closing the console, log-off, shutdown) are left to the next handler (by default: the
//! process exits).
//!
//! # What to know
//!
//! - **The default action is gone for good.** As with tokio, once a `ctrl_c` future has
//!   registered, SIGINT no longer terminates the process, for the rest of the process's
//!   life, even after every `ctrl_c` future is gone: a SIGINT with no waiter is ignored.
//!   Exit yourself when `ctrl_c` completes.
//! - **Registration happens at the first poll**, not at the call: a SIGINT that arrives
//!   before the future is first polled is not seen by it (and, if nothing registered
//!   earlier, still terminates the process).
//! - **Errors**, rather than hangs: polled outside a magpie runtime, `ctrl_c` fails at once
//!   (without touching SIGINT); once the runtime it registered with shuts down, a pending
//!   `ctrl_c` polled by another executor fails (Unix; on Windows the wait does not go
//!   through the reactor, so it keeps waiting for Ctrl-C).
//! - **Unix only:** the SIGINT machinery (`signal-hook-registry`, the self-pipe); there is
//!   no `signal::unix` for other signals on Windows.

#[cfg(windows)]
mod windows;

use crate::driver;
#[cfg(unix)]
use crate::io::Async;
#[cfg(unix)]
use magpie_io::sys::signal as sys;
#[cfg(unix)]
use signal_hook_registry::SigId;
#[cfg(unix)]
use std::ffi::c_int;
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Completes when the process next receives SIGINT (Ctrl-C in a terminal) after this future
/// was first polled.
///
/// See the [module documentation](self) for what changes for the process and how it works.
///
/// # Errors
///
/// When polled outside a magpie runtime; when the runtime has shut down (at the first poll,
/// or later while waiting); when the OS refuses a pipe or the reactor registration.
/// Windows: the console's Ctrl-C (`CTRL_C_EVENT`) instead of SIGINT, and no pipe: the
/// errors are the absent runtime and a refused `SetConsoleCtrlHandler`.
pub async fn ctrl_c() -> io::Result<()> {
    #[cfg(unix)]
    {
        let pipe = SignalPipe::register(sys::SIGINT)?;
        pipe.recv().await
    }
    #[cfg(windows)]
    {
        no_runtime_error()?;
        windows::ctrl_c().await
    }
}

/// The error for a `ctrl_c` awaited outside a magpie runtime.
fn no_runtime_error() -> io::Result<()> {
    if driver::with_current(|d| d.is_none()) {
        return Err(io::Error::other(
            "magpie::signal::ctrl_c must be awaited inside a magpie runtime \
             (Runtime::block_on, a spawned task, or #[magpie::main] / #[magpie::test])",
        ));
    }
    Ok(())
}

/// Unix: one waiter's self-pipe, and the signal action that writes to it.
///
/// Drop order is the safety argument for the action: `Drop` unregisters the action first,
/// and only then do the fields drop, closing the read end (after deregistering it from the
/// reactor) and then the write end (`_write`) the action writes to.
#[cfg(unix)]
struct SignalPipe {
    action: SigId,
    read: Async<OwnedFd>,
    /// Never read: held so that the descriptor the action writes to stays open.
    _write: OwnedFd,
}

#[cfg(unix)]
impl SignalPipe {
    /// Creates the pipe, registers its read end with the current runtime, then installs the
    /// action for `signal`. Fails before touching the signal if there is no runtime.
    fn register(signal: c_int) -> io::Result<SignalPipe> {
        no_runtime_error()?;
        let (read, write) = sys::pipe()?;
        let read = Async::new(read)?;
        let raw = write.as_raw_fd();
        // `raw` stays open for as long as the action can run: `SignalPipe::drop` unregisters
        // the action before `write` is closed, and `signal_hook_registry::unregister` returns
        // only once no handler still runs with the old action table (it swaps the table,
        // then spins until every handler that read the old one has left).
        let action = move || {
            // SAFETY: `raw` is open while this action can run (see above).
            let fd = unsafe { BorrowedFd::borrow_raw(raw) };
            sys::notify(fd);
        };
        // `register` requires an action that is async-signal-safe and never panics. The
        // action only calls `notify`: one `write(2)` of one byte, errno saved and restored,
        // no allocation, no lock, no panic (`borrow_raw` asserts only that the descriptor is
        // not -1, and `raw` is valid). SIGINT is not one of the signals `register` forbids.
        // SAFETY: the action is async-signal-safe and cannot panic (see above).
        let action = unsafe { signal_hook_registry::register(signal, action)? };
        Ok(SignalPipe {
            action,
            read,
            _write: write,
        })
    }

    /// Waits until the action has written, then empties the pipe.
    async fn recv(&self) -> io::Result<()> {
        self.read.read_with(|fd| sys::drain(fd.as_fd())).await?;
        Ok(())
    }
}

#[cfg(unix)]
impl Drop for SignalPipe {
    fn drop(&mut self) {
        // Before the fields drop: after this, no handler writes to `self._write` any more.
        signal_hook_registry::unregister(self.action);
    }
}

/// Compile-time check: a `ctrl_c` future can be spawned.
const _: () = {
    fn send<T: Send>(_: &T) {}
    #[allow(dead_code)]
    fn checks() {
        send(&ctrl_c());
    }
};

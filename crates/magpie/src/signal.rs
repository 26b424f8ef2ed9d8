//! Signals: [`ctrl_c`] everywhere, and every catchable signal on Unix ([`unix`]).
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
//! Any other Unix signal (SIGTERM, SIGHUP, SIGUSR1, …): `unix::signal`, for example to
//! stop on SIGTERM, which container orchestrators and systemd send, as well as on Ctrl-C:
//!
//! ```no_run
//! # #[cfg(unix)]
//! #[magpie::main]
//! async fn main() -> std::io::Result<()> {
//!     use magpie::signal::unix::{signal, SignalKind};
//!     let mut terminate = signal(SignalKind::terminate())?;
//!     magpie::select! {
//!         result = magpie::signal::ctrl_c() => result?,
//!         _ = terminate.recv() => {}
//!     }
//!     println!("stopping");
//!     Ok(())
//! }
//! # #[cfg(not(unix))]
//! # fn main() {}
//! ```
//!
//! # How it works
//!
//! **Unix:** one self-pipe and one thread for the whole process, created by the first
//! [`ctrl_c`] or [`unix::signal`]. For each signal something listens to, one action is
//! installed (through `signal-hook-registry`) that records the delivery in an atomic flag and
//! writes one byte to the pipe: the only things a signal handler may safely do. The thread
//! (`magpie-signal`) sleeps on the pipe's read end; when it wakes, it drains the pipe, and
//! for each flag that is set, it wakes every listener of that signal. No runtime's reactor
//! is involved, so a listener works on any executor and outlives the runtime it was created
//! on; and one signal wakes every listener, wherever it waits. `ctrl_c` is a SIGINT listener
//! that completes at its first delivery. The protocol (why no delivery is lost, how
//! deliveries coalesce) is written out in `signal/registry.rs`.
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
//! - **The default action is gone for good.** As with tokio, once a signal has a listener
//!   (a `ctrl_c` future polled, a [`unix::Signal`] created), its default action no longer
//!   runs, for the rest of the process's life, even after every listener is gone: a SIGINT
//!   or SIGTERM with no listener is ignored. Exit yourself when the signal comes.
//! - **Registration happens at the first poll** of a `ctrl_c` future, not at the call (and
//!   at the call of [`unix::signal`]): a SIGINT that arrives before the future is first
//!   polled is not seen by it (and, if nothing registered earlier, still terminates the
//!   process). One exception, on Unix: a signal that arrived a moment before, which the
//!   signal thread had not handed out yet, is seen by a listener registered in that moment.
//! - **Any executor.** Unix listeners do not need a magpie runtime (they are woken from the
//!   signal thread), so they keep working after the runtime they were created on shut down.
//!   On Windows, `ctrl_c` fails at once outside a magpie runtime.
//! - **What a process pays:** one pipe (two descriptors) and one mostly sleeping thread,
//!   created at the first listener, whatever the number of listeners; nothing per listener
//!   but a small entry in its signal's waker list.
//! - **Unix only:** the signal machinery (`signal-hook-registry`, the self-pipe, the thread)
//!   and [`unix`]; there is no `signal::unix` on Windows.

#[cfg(unix)]
pub(crate) mod registry;
#[cfg(unix)]
pub mod unix;
#[cfg(windows)]
mod windows;

#[cfg(windows)]
use crate::driver;
use std::io;

/// Completes when the process next receives SIGINT (Ctrl-C in a terminal) after this future
/// was first polled.
///
/// See the [module documentation](self) for what changes for the process and how it works.
/// On Unix it is the same as receiving once from `unix::signal(SignalKind::interrupt())`,
/// created at the first poll.
///
/// # Errors
///
/// Unix: when the first listener of the process cannot create the signal pipe or thread
/// (the OS's error, with context), or if the signal thread stopped (never expected: an OS
/// error reading its pipe). Windows: the console's Ctrl-C (`CTRL_C_EVENT`) instead of
/// SIGINT; the errors are a poll outside a magpie runtime and a refused
/// `SetConsoleCtrlHandler`.
pub async fn ctrl_c() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut sigint = unix::signal(unix::SignalKind::interrupt())?;
        sigint.recv().await.ok_or_else(|| {
            io::Error::other("magpie::signal::ctrl_c: magpie's signal thread stopped; SIGINT can no longer be seen")
        })
    }
    #[cfg(windows)]
    {
        no_runtime_error()?;
        windows::ctrl_c().await
    }
}

/// The error for a `ctrl_c` awaited outside a magpie runtime (Windows, where the wait needs
/// one).
#[cfg(windows)]
fn no_runtime_error() -> io::Result<()> {
    if driver::with_current(|d| d.is_none()) {
        return Err(io::Error::other(
            "magpie::signal::ctrl_c must be awaited inside a magpie runtime \
             (Runtime::block_on, a spawned task, or #[magpie::main] / #[magpie::test])",
        ));
    }
    Ok(())
}

/// Compile-time check: a `ctrl_c` future can be spawned.
const _: () = {
    fn send<T: Send>(_: &T) {}
    #[allow(dead_code)]
    fn checks() {
        send(&ctrl_c());
        #[cfg(unix)]
        {
            fn sync<T: Sync>(_: &T) {}
            let signal = unix::signal(unix::SignalKind::hangup()).unwrap();
            send(&signal);
            sync(&signal);
        }
    }
};

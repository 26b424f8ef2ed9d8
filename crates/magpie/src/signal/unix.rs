//! Any catchable Unix signal, as a stream of deliveries: tokio's `tokio::signal::unix`
//! names, and asyncio's `loop.add_signal_handler`.
//!
//! ```no_run
//! use magpie::signal::unix::{signal, SignalKind};
//!
//! #[magpie::main]
//! async fn main() -> std::io::Result<()> {
//!     let mut terminate = signal(SignalKind::terminate())?;
//!     let mut reload = signal(SignalKind::hangup())?;
//!     loop {
//!         magpie::select! {
//!             _ = terminate.recv() => break,
//!             _ = reload.recv() => println!("SIGHUP: reloading the configuration"),
//!         }
//!     }
//!     println!("SIGTERM: shutting down");
//!     Ok(())
//! }
//! ```
//!
//! [`signal`] starts listening at the call: each [`Signal`] sees every delivery of its kind
//! from then on, whoever else listens (two `Signal`s of SIGUSR1 both wake on one SIGUSR1).
//! Deliveries that arrive while a `Signal` is not receiving coalesce: its next
//! [`recv`](Signal::recv) completes once for all of them, and the one after waits for a new
//! delivery. So a `Signal` says "this signal arrived at least once since you last asked",
//! never how many times (the OS itself merges a signal sent twice before it is handled).
//!
//! A `Signal` needs no runtime: it is woken from magpie's signal thread (see the
//! [parent module](super)), so it works on any executor and keeps working after the runtime
//! it was created on shut down. [`Signal::recv`] returns `None` only if that thread stopped
//! (an OS error reading its pipe, never expected), after which no delivery can be seen.

use super::registry::{self, Listener};
use std::ffi::c_int;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

/// A kind of Unix signal: one of the named constructors, or any number with
/// [`from_raw`](SignalKind::from_raw).
///
/// ```
/// use magpie::signal::unix::SignalKind;
///
/// let usr1 = SignalKind::user_defined1();
/// assert_eq!(SignalKind::from_raw(usr1.as_raw_value()), usr1);
/// assert_eq!(format!("{usr1:?}"), "SignalKind(SIGUSR1)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal numbered `signum` on this OS. Any number is accepted here; [`signal`]
    /// refuses the ones that are not signals or cannot be caught.
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// This signal's number on this OS.
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// SIGALRM: a timer set by `alarm(2)` or `setitimer(2)` expired. Default: terminate.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGCHLD: a child process exited, stopped or continued. Default: ignored.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGHUP: the terminal hung up; by convention, daemons reload their configuration.
    /// Default: terminate.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGINT: Ctrl-C in a terminal (see also [`ctrl_c`](super::ctrl_c)). Default:
    /// terminate.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGPIPE: a write to a pipe or socket with no reader. Default: terminate (Rust
    /// programs ignore it from the start, so writes fail with `BrokenPipe` instead).
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGQUIT: Ctrl-\ in a terminal. Default: terminate with a core dump.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGTERM: the polite request to stop, which `kill`, systemd and container
    /// orchestrators send first. Default: terminate.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGUSR1: no meaning of its own; for the program to define. Default: terminate.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2: no meaning of its own; for the program to define. Default: terminate.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGWINCH: the terminal's window changed size. Default: ignored.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> c_int {
        kind.as_raw_value()
    }
}

/// `SignalKind(SIGTERM)`, or `SignalKind(40)` for a number without a name here.
impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.0) {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

/// Starts listening for `kind`: the returned [`Signal`] sees every delivery from now on
/// (and possibly one that arrived a moment before, not yet handed out by the signal thread).
///
/// The first `signal` for a kind replaces the OS's default action for it, for the rest of
/// the process's life, even after every `Signal` is dropped: a SIGTERM with no `Signal`
/// left is then ignored instead of terminating the process (as with tokio). The first
/// `signal` of the process also creates magpie's signal thread and its pipe (see the
/// [parent module](super)); no runtime is needed.
///
/// ```
/// use magpie::signal::unix::{signal, SignalKind};
///
/// # fn main() -> std::io::Result<()> {
/// magpie::Runtime::new()?.block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: `raise` sends a signal to this thread; SIGUSR1 has an action now.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(usr1.recv().await, Some(()));
///
///     let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
///     assert!(err.to_string().starts_with("SIGKILL cannot be caught"));
///     Ok(())
/// })
/// # }
/// ```
///
/// # Errors
///
/// `InvalidInput`, naming the signal, for SIGKILL and SIGSTOP (no handler can catch them)
/// and the faults SIGSEGV, SIGILL and SIGFPE (a handler that returns runs into the fault
/// again): "SIGKILL cannot be caught: …". `InvalidInput`, naming the number, for a number
/// that is not a signal of this OS. The OS's error, with context, when the first `signal`
/// cannot create the pipe or the thread.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal {
        kind,
        listener: registry::subscribe(kind.0)?,
    })
}

/// The deliveries of one signal kind, from [`signal`]: each [`recv`](Signal::recv)
/// completes once per burst of deliveries (see the [module documentation](self)).
///
/// Dropping a `Signal` only stops it listening: the signal's action stays installed.
pub struct Signal {
    kind: SignalKind,
    listener: Listener,
}

/// `Signal { kind: SignalKind(SIGTERM), .. }`.
impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Signal {
    /// Waits for the next delivery: completes with `Some(())` once the signal arrived since
    /// this `Signal` was created or its last completed receive (several arrivals count as
    /// one). `None` if magpie's signal thread stopped, after which every call returns `None`
    /// (see the [module documentation](self)).
    ///
    /// Cancel-safe: dropping the future before it completes loses no delivery; the next
    /// `recv` sees it.
    ///
    /// ```
    /// use magpie::signal::unix::{signal, SignalKind};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut usr2 = signal(SignalKind::user_defined2())?;
    /// // Any executor: no magpie runtime is needed.
    /// futures_lite::future::block_on(async {
    ///     // SAFETY: `raise` sends a signal to this thread; SIGUSR2 has an action now.
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     assert_eq!(usr2.recv().await, Some(()));
    /// });
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Signal::recv) as a poll: `Ready(Some(()))` if the signal arrived since the
    /// last ready poll (or since this `Signal` was created), `Ready(None)` if the signal
    /// thread stopped, otherwise `Pending`, with `cx`'s waker stored (replacing the one of
    /// the previous pending poll) and woken at the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.listener.poll_recv(cx)
    }
}

/// `SIGTERM`, or `signal 40` for a number without a name here: how errors name a signal.
pub(crate) fn describe(signum: c_int) -> String {
    match name(signum) {
        Some(name) => name.to_owned(),
        None => format!("signal {signum}"),
    }
}

/// The conventional name of signal `signum`, for the signals every Unix this builds for has.
fn name(signum: c_int) -> Option<&'static str> {
    let name = match signum {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    };
    Some(name)
}

//! The process's signal registry (Unix): one self-pipe, one driver thread, and for each
//! signal number one OS action and the listeners waiting for it.
//!
//! Everything here is created on first use and lives until the process exits: the pipe (its
//! write end is written by signal handlers at any moment, so it is never closed), the driver
//! thread (`magpie-signal`), and each installed action (as with tokio, a signal's default
//! action is gone once anything listened to it; see the parent module's "What to know").
//!
//! # Why one thread, not a runtime's reactor
//!
//! The pipe's read end could be registered with one runtime's reactor, but a process may run
//! several runtimes, and a listener may be polled by any executor: if the runtime holding the
//! read end shut down, the listeners of every other runtime would never wake again. A small
//! thread blocked on the pipe depends on no runtime: it wakes listeners through their wakers,
//! so a [`Listener`] works on any executor, inside or outside a magpie runtime, and outlives
//! the runtime it was created on. The thread costs one mostly sleeping thread per process
//! (only once something listens) and one thread hop per delivery; signals are rare.
//!
//! # The delivery protocol
//!
//! Per signal number, a [`Slot`]: `pending` (an atomic flag, written by the handler) and,
//! under the slot's lock, the delivery `generation` and the wakers of pending listeners.
//!
//! 1. **Handler** (any thread, interrupting whatever it ran): sets `pending` (`Release`),
//!    then writes one byte to the pipe ([`sys::notify`]: one `write(2)`, a full pipe
//!    ignored). Nothing else: no lock, no allocation, no waker.
//! 2. **Driver thread**: waits until the read end is readable, drains every byte, then for
//!    each slot swaps `pending` to false (`Acquire`); for each slot whose flag was set, it
//!    *delivers*: under the slot's lock it adds 1 to `generation` and takes every stored
//!    waker, then (lock released) wakes them.
//! 3. **Listener**: holds `seen`, the generation at its subscription or at its last
//!    completed receive. A poll takes the slot's lock: if `generation != seen`, it sets
//!    `seen = generation` and is ready; otherwise it stores its waker and is pending.
//!
//! **No delivery is lost.** A handler's byte is written after its flag, and the thread reads
//! the flags only after draining. A byte drained in one pass was written after its flag was
//! set, so that pass's scan sees the flag (or an earlier pass already took it); a byte not
//! drained yet makes the read end readable, so another pass follows. A full pipe drops the
//! byte, but then the pipe holds unread bytes, which give the same second pass. A listener
//! cannot miss a delivery between reading `generation` and storing its waker: both happen
//! under the lock the thread bumps and takes wakers under.
//!
//! **Deliveries coalesce.** The OS merges a signal raised again while it is still pending;
//! the flag merges deliveries that reach the thread in one pass; and a listener that is not
//! receiving while `generation` moves several times sees one delivery at its next receive,
//! never one per step. What is certain: after a signal arrives, each listener that existed
//! then completes its next receive.
//!
//! **Where "from now on" starts.** A listener sees the deliveries the thread makes after it
//! subscribed. A signal that arrived just before the subscription, but that the thread had
//! not delivered yet, is therefore seen too; one that arrives after the subscription always
//! is.
//!
//! **Every listener sees each delivery**: the generation is per slot, and `seen` per
//! listener, so a delivery is not consumed by whichever listener polls first.
//!
//! # If the thread stops
//!
//! Its only failure is an OS error while waiting on or reading the pipe (never expected: the
//! descriptor stays open). It then marks every slot `stopped`, wakes every listener (whose
//! next receives report `None` once no delivery is left unseen), and later subscriptions
//! fail with an error naming the cause. A listener never waits on a thread that is gone.
//!
//! # Why std's atomics and lock
//!
//! The handler's flag must be a real lock-free atomic in a `static` (a signal handler cannot
//! run inside a loom model), and the slots are process-wide statics that no loom model
//! creates; the protocol is small enough to argue here instead.

use super::unix::describe;
use magpie_io::sys::signal as sys;
use std::collections::HashMap;
use std::ffi::c_int;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

/// The highest signal number this OS can have (`NSIG - 1`); the registry holds a slot for
/// each of `1..=MAX_SIGNAL`.
#[cfg(target_vendor = "apple")]
const MAX_SIGNAL: c_int = 31;
/// The highest signal number this OS can have (`_SIG_MAXSIG`).
#[cfg(target_os = "freebsd")]
const MAX_SIGNAL: c_int = 128;
/// The highest signal number this OS can have (`SIGRTMAX`, at most 64).
#[cfg(not(any(target_vendor = "apple", target_os = "freebsd")))]
const MAX_SIGNAL: c_int = 64;

/// Waits for the deliveries of one signal number (crate-private: [`Signal`] wraps it, and
/// other modules may hold one directly).
///
/// Created by [`subscribe`]; its first [`poll_recv`](Listener::poll_recv) completes for the
/// first delivery after the subscription. Dropping it removes its waker; the OS action stays.
///
/// [`Signal`]: super::unix::Signal
pub(crate) struct Listener {
    slot: &'static Slot,
    /// This listener's key in the slot's waker map.
    id: u64,
    /// The slot's generation when this listener last completed a receive (or subscribed).
    seen: u64,
}

impl Listener {
    /// `Ready(Some(()))` if a delivery came since the last ready poll (or the subscription),
    /// several deliveries counting as one; `Ready(None)` if the driver thread stopped and no
    /// delivery is left unseen; otherwise stores `cx`'s waker (replacing this listener's
    /// previous one) and is pending.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let mut state = self.slot.lock();
        if state.generation != self.seen {
            self.seen = state.generation;
            state.wakers.remove(&self.id);
            return Poll::Ready(Some(()));
        }
        if state.stopped.is_some() {
            return Poll::Ready(None);
        }
        match state.wakers.get_mut(&self.id) {
            Some(waker) => waker.clone_from(cx.waker()),
            None => {
                state.wakers.insert(self.id, cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.slot.lock().wakers.remove(&self.id);
    }
}

/// Starts listening for `signum`: validates it, creates the registry (pipe and driver
/// thread) on first use, installs the signal's action once for the process, and returns a
/// listener that sees every delivery from now on.
///
/// # Errors
///
/// `InvalidInput` naming the number when it is not a signal of this OS (out of `1..=
/// MAX_SIGNAL`, or refused by `sigaction`) or a signal that cannot be caught (SIGKILL,
/// SIGSTOP, and the faults SIGSEGV, SIGILL, SIGFPE, which signal-hook-registry refuses);
/// the OS's error, with context, when the pipe or the thread cannot be created; an error
/// naming the cause once the driver thread has stopped.
pub(crate) fn subscribe(signum: c_int) -> io::Result<Listener> {
    check_catchable(signum)?;
    let registry = Registry::get()?;
    let slot = &registry.slots[signum as usize];
    let mut state = slot.lock();
    if let Some(cause) = &state.stopped {
        return Err(io::Error::other(format!(
            "cannot listen for {}: magpie's signal thread stopped ({cause})",
            describe(signum)
        )));
    }
    if !state.installed {
        registry.install(signum, slot)?;
        state.installed = true;
    }
    let id = state.next_id;
    state.next_id += 1;
    Ok(Listener {
        slot,
        id,
        seen: state.generation,
    })
}

/// Refuses what cannot be listened for, naming it: numbers outside `1..=MAX_SIGNAL`, and the
/// signals no handler can (SIGKILL, SIGSTOP) or may (signal-hook-registry's forbidden list)
/// catch.
fn check_catchable(signum: c_int) -> io::Result<()> {
    if !(1..=MAX_SIGNAL).contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal number {signum} is out of range: this OS numbers its signals 1 to {MAX_SIGNAL}"),
        ));
    }
    let why = if signum == libc::SIGKILL || signum == libc::SIGSTOP {
        "the OS acts on it without running any handler"
    } else if signal_hook_registry::FORBIDDEN.contains(&signum) {
        "it reports a fault of the thread that raised it, which a handler that returns would run into again"
    } else {
        return Ok(());
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} cannot be caught: {why}", describe(signum)),
    ))
}

/// The process's registry: the pipe, the driver thread, the slots.
struct Registry {
    /// The pipe's read end, which only the driver thread reads.
    read: OwnedFd,
    /// The pipe's write end, which every action writes to. Never closed: the registry is a
    /// `static` (statics are not dropped), so an action can never write to a closed or reused
    /// descriptor.
    write: OwnedFd,
    /// Slot `n` for signal `n` (slot 0 is unused).
    slots: Box<[Slot]>,
    /// Whether the driver thread runs; under this lock, so that exactly one starts, and a
    /// failed start is tried again by the next subscription.
    driver_started: Mutex<bool>,
}

/// The registry, once created.
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Held while the registry is created, so that exactly one pipe is (a creation that fails
/// leaves nothing behind and is tried again by the next subscription).
static CREATING: Mutex<()> = Mutex::new(());

impl Registry {
    /// The registry with its driver thread running, creating either if needed.
    fn get() -> io::Result<&'static Registry> {
        let registry = match REGISTRY.get() {
            Some(registry) => registry,
            None => {
                let _creating = CREATING.lock().unwrap_or_else(PoisonError::into_inner);
                match REGISTRY.get() {
                    Some(registry) => registry,
                    None => {
                        let (read, write) = sys::pipe().map_err(|e| {
                            io::Error::new(
                                e.kind(),
                                format!("cannot create magpie's signal pipe: {e}"),
                            )
                        })?;
                        let slots = (0..=MAX_SIGNAL).map(|_| Slot::default()).collect();
                        REGISTRY.get_or_init(|| Registry {
                            read,
                            write,
                            slots,
                            driver_started: Mutex::new(false),
                        })
                    }
                }
            }
        };
        registry.start_driver()?;
        Ok(registry)
    }

    /// Starts the driver thread unless it runs already.
    fn start_driver(&'static self) -> io::Result<()> {
        let mut started = self
            .driver_started
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !*started {
            std::thread::Builder::new()
                .name("magpie-signal".into())
                .spawn(move || self.drive())
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot start magpie's signal thread: {e}"),
                    )
                })?;
            *started = true;
        }
        Ok(())
    }

    /// Installs `signum`'s action (its slot's lock held by the caller, so once per number).
    fn install(&'static self, signum: c_int, slot: &'static Slot) -> io::Result<()> {
        let pipe: BorrowedFd<'static> = self.write.as_fd();
        let action = move || {
            slot.pending.store(true, Ordering::Release);
            sys::notify(pipe);
        };
        // `register` requires an action that is async-signal-safe and cannot panic. This one
        // stores to a lock-free atomic and calls `notify`: one `write(2)` of one byte to a
        // descriptor that is open for the process's life (`Registry::write`), errno saved and
        // restored, no allocation, no lock, no panic. `check_catchable` ruled out the signals
        // for which `register` panics.
        // SAFETY: the action is async-signal-safe and cannot panic (see above).
        let registered = unsafe { signal_hook_registry::register(signum, action) };
        // The action's id is dropped: it stays installed for the process's life.
        // Its only error is `sigaction`'s: `EINVAL` (`InvalidInput`) for a number that is not
        // a signal here, or one the C library keeps for itself (glibc: 32 and 33).
        registered.map(drop).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen for {}: {e}", describe(signum)),
            )
        })
    }

    /// The driver thread's loop (step 2 of the protocol); returns only if the pipe fails.
    fn drive(&self) {
        loop {
            let waited = sys::wait_readable(self.read.as_fd());
            let drained = waited.and_then(|()| match sys::drain(self.read.as_fd()) {
                // Readable, but the bytes were taken already: a spurious wake-up.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                other => other,
            });
            if let Err(e) = drained {
                self.stop(&e);
                return;
            }
            for slot in self.slots.iter() {
                // The plain load first keeps the scan from writing to every slot's line.
                if slot.pending.load(Ordering::Relaxed)
                    && slot.pending.swap(false, Ordering::Acquire)
                {
                    slot.deliver();
                }
            }
        }
    }

    /// Marks every slot stopped and wakes every listener (see "If the thread stops").
    fn stop(&self, cause: &io::Error) {
        let cause = format!("reading its pipe failed: {cause}");
        for slot in self.slots.iter() {
            let wakers = {
                let mut state = slot.lock();
                state.stopped = Some(cause.clone());
                std::mem::take(&mut state.wakers)
            };
            wake_all(wakers.into_values());
        }
    }
}

/// One signal number's state.
#[derive(Default)]
struct Slot {
    /// Set by the action when the signal arrives; taken by the driver thread's scan.
    pending: AtomicBool,
    /// Everything else, under one lock (std's: the driver thread may not be in a runtime).
    state: Mutex<SlotState>,
}

/// What a slot's lock protects.
#[derive(Default)]
struct SlotState {
    /// Whether the OS action is installed (it never is removed).
    installed: bool,
    /// Deliveries so far (wrapping; listeners only compare it for inequality).
    generation: u64,
    /// The next listener's id.
    next_id: u64,
    /// The pending listeners' wakers, by id: stored by a pending poll, taken by a delivery,
    /// removed by a ready poll or the listener's drop.
    wakers: HashMap<u64, Waker>,
    /// Why the driver thread stopped, once it has.
    stopped: Option<String>,
}

impl Slot {
    /// The slot's state, locked (a poisoned lock is taken over: no code here panics while
    /// holding it with the state half-updated).
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One delivery: the generation moves and every pending listener is woken.
    fn deliver(&self) {
        let wakers = {
            let mut state = self.lock();
            state.generation = state.generation.wrapping_add(1);
            std::mem::take(&mut state.wakers)
        };
        wake_all(wakers.into_values());
    }
}

/// Wakes each waker, outside every lock; a waker that panics must not end the driver thread
/// (the other listeners still need it), so its panic is caught and dropped.
fn wake_all(wakers: impl Iterator<Item = Waker>) {
    for waker in wakers {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
    }
}

//! The runtime's driver: timers and I/O, which the one idle worker holding it waits on.
//!
//! The driver owns the three parts that make events: the I/O [`Reactor`] (epoll on Linux,
//! `polling` elsewhere), the [`Timers`] (the timer wheels) and the [`Clock`] (which tests can
//! pause). The scheduler holds it by its concrete type: the facade's time, net and signal
//! modules reach the current runtime's driver through [`Handle::driver`](crate::Handle::driver).
//!
//! A worker with nothing to run parks; the one worker that takes the driver lock parks
//! *in the driver* ([`Driver::park`]), the others on their own condition variables
//! (`scheduler/park.rs`). Busy workers take a non-blocking [`Driver::turn`] every
//! `event_interval` ticks, so due timers and ready sockets are dispatched even when the run
//! queues never empty.
//!
//! # The contract the scheduler relies on
//!
//! - `park(None, _)` blocks until `unpark()` is called or the driver dispatched an event;
//!   `park(Some(d), _)` also returns after `d`. Spurious returns are allowed.
//! - `unpark()` is *sticky*: one that arrives before (or while) `park` blocks makes that `park`
//!   return; it is never lost (the reactor's notification is sticky).
//! - Events are dispatched by waking wakers, inside `park`/`turn`, on the worker thread.
//! - [`Driver::maybe_idle`] is called whenever the runtime may just have become idle (a worker
//!   is about to park, a `block_on` future returned `Pending`, a blocking closure finished).
//! - [`Driver::shutdown`] is called once, after the workers stopped and every task was dropped.
//!
//! # Parking
//!
//! 1. Fire the timers already due; if any fired, return at once (their tasks are queued).
//! 2. `Timers::begin_park` (see magpie-timer's `timers.rs` for the protocol that makes a timer
//!    registered during the wait, earlier than its end, unpark the driver).
//! 3. Wait in the reactor until that deadline (or the caller's timeout), an unpark, or an I/O
//!    event. The reactor's wait takes the exact timeout (`epoll_pwait2` on Linux), so a
//!    sleep is not rounded up to whole milliseconds.
//! 4. `Timers::end_park`, then fire what came due.
//!
//! # Paused time
//!
//! While the clock is paused, time stands still unless the runtime is *idle*: every worker is
//! parked, no task is queued, no blocking closure is queued or running, and no `block_on`
//! future is being polled or has been woken (the scheduler answers that question for `park`).
//! Then nothing can happen but a timer, so the clock jumps to the next deadline and its timers
//! fire. Otherwise the driver waits without a timeout; whoever makes the runtime idle calls
//! `maybe_idle`, which unparks it to look again.

use magpie_io::Reactor;
use magpie_shim::diagnostics;
use magpie_timer::{Clock, Timers};
use std::fmt;
use std::io;
use std::time::Duration;

/// Timers and I/O of one runtime. See the module documentation.
pub struct Driver {
    /// The I/O reactor; sources keep their own reference to it.
    pub reactor: std::sync::Arc<Reactor>,
    /// The timer wheels.
    pub timers: Timers,
    /// The runtime's clock (pausable).
    pub clock: Clock,
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("timers", &self.timers)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver with `timer_shards` timer wheels and its clock paused or running. Fails when
    /// the OS refuses the poller.
    pub fn new(timer_shards: usize, start_paused: bool) -> io::Result<Driver> {
        Ok(Driver {
            reactor: std::sync::Arc::new(Reactor::new()?),
            timers: Timers::new(timer_shards),
            clock: Clock::new(start_paused),
        })
    }

    /// Wakes the worker parked in the driver, or makes its next park return at once.
    pub fn unpark(&self) {
        if let Err(e) = self.reactor.notify() {
            diagnostics::report(format_args!("failed to wake the driver: {e}"));
        }
    }

    /// Fires the timers due now; returns how many fired.
    pub fn fire_due_timers(&self) -> usize {
        if self.timers.next_wake().is_none() {
            return 0; // Nothing registered: spare the clock read.
        }
        self.timers.process(self.clock.now_nanos())
    }

    /// Blocks until unparked, an event is dispatched, or `timeout` passes (see "Parking").
    /// `runtime_is_idle` answers the paused-time question of the module documentation; it
    /// takes a lock, so it is asked only while the clock is paused.
    pub(crate) fn park(&self, timeout: Option<Duration>, runtime_is_idle: impl Fn() -> bool) {
        if self.clock.is_paused() {
            return self.park_paused(timeout, runtime_is_idle);
        }
        if self.fire_due_timers() > 0 {
            return;
        }
        let until = self.timers.begin_park();
        let wait = until.map(|t| Duration::from_nanos(t.saturating_sub(self.clock.now_nanos())));
        self.wait(min_timeout(wait, timeout));
        self.timers.end_park();
        self.fire_due_timers();
    }

    fn park_paused(&self, timeout: Option<Duration>, runtime_is_idle: impl Fn() -> bool) {
        if self.fire_due_timers() > 0 {
            return;
        }
        if runtime_is_idle() {
            if let Some(next) = self.timers.earliest_deadline() {
                // Nothing else can happen: jump to the next timer, exactly (not to a cascade
                // point or a cancelled timer's deadline, which `next_wake` may report).
                self.clock.advance_to(self.clock.instant_at(next));
                self.fire_due_timers();
                return;
            }
        }
        self.wait(timeout);
        self.fire_due_timers();
    }

    fn wait(&self, timeout: Option<Duration>) {
        if let Err(e) = self.reactor.wait(timeout) {
            diagnostics::report(format_args!("waiting in the poller failed: {e}"));
        }
    }

    /// A busy worker's turn: due timers, and ready sockets if there are any.
    pub(crate) fn turn(&self) {
        self.fire_due_timers();
        if self.reactor.num_sources() > 0 {
            self.wait(Some(Duration::ZERO));
        }
    }

    /// The runtime may just have become idle: a paused clock must look again.
    pub(crate) fn maybe_idle(&self) {
        if self.clock.is_paused() {
            self.unpark();
        }
    }

    /// The runtime has shut down: fire every timer (so futures polled elsewhere learn it) and
    /// close the reactor.
    pub(crate) fn shutdown(&self) {
        self.timers.shutdown();
        self.reactor.shutdown();
    }
}

fn min_timeout(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

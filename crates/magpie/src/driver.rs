//! The runtime's driver: what the one idle worker holding it waits on.
//!
//! It waits in the I/O reactor's `polling::Poller` (epoll on Linux), with the exact time to
//! the next timer as its timeout: polling arms a timerfd for it, so the wait is not rounded
//! to whole milliseconds. `unpark` is `Poller::notify` (sticky, as the `Driver` contract
//! requires). Busy workers' turns fire due timers and, while any I/O source is registered,
//! take a non-blocking look at the poller.
//!
//! # Parking
//!
//! 1. Fire the timers already due; if any fired, return at once (their tasks are queued).
//! 2. `Timers::begin_park` (see magpie-timer's `timers.rs` for the protocol that makes a
//!    timer registered during the sleep, earlier than its end, unpark the driver).
//! 3. Wait until that deadline (or the caller's timeout), unpark, or an I/O event.
//! 4. `Timers::end_park`, then fire what came due.
//!
//! # Paused time
//!
//! While the clock is paused, time stands still unless the runtime is *idle* (see
//! `ParkContext::is_runtime_idle`): then nothing can happen but a timer, so the clock jumps
//! to the next deadline and its timers fire. Otherwise the driver waits without a timeout;
//! whoever makes the runtime idle calls `Driver::maybe_idle`, which unparks it to look again.

use crate::time::shard_hint;
use magpie_core::{Driver, ParkContext};
use magpie_io::Reactor;
use magpie_shim::Arc;
use magpie_timer::{Clock, Timers};
use std::any::Any;
use std::fmt;
use std::io;
use std::time::Duration;

/// The parts of the driver that timers (and later sockets) hold on to.
pub(crate) struct DriverShared {
    pub(crate) reactor: std::sync::Arc<Reactor>,
    pub(crate) timers: Timers,
    pub(crate) clock: Clock,
}

impl fmt::Debug for DriverShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverShared")
            .field("timers", &self.timers)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct RuntimeDriver {
    pub(crate) shared: Arc<DriverShared>,
}

impl RuntimeDriver {
    pub(crate) fn new(timer_shards: usize, start_paused: bool) -> io::Result<RuntimeDriver> {
        Ok(RuntimeDriver {
            shared: Arc::new(DriverShared {
                reactor: std::sync::Arc::new(Reactor::new()?),
                timers: Timers::new(timer_shards),
                clock: Clock::new(start_paused),
            }),
        })
    }
}

impl DriverShared {
    /// Wakes the worker parked on the driver (or makes its next park return at once).
    pub(crate) fn unpark(&self) {
        if let Err(e) = self.reactor.notify() {
            eprintln!("magpie: failed to wake the driver: {e}");
        }
    }

    /// Fires the timers due now; returns how many fired.
    pub(crate) fn fire_due_timers(&self) -> usize {
        if self.timers.next_wake().is_none() {
            return 0; // Nothing registered: spare the clock read.
        }
        self.timers.process(self.clock.now_nanos())
    }

    fn park(&self, timeout: Option<Duration>, cx: &ParkContext<'_>) {
        if self.clock.is_paused() {
            return self.park_paused(timeout, cx);
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

    fn park_paused(&self, timeout: Option<Duration>, cx: &ParkContext<'_>) {
        if self.fire_due_timers() > 0 {
            return;
        }
        if cx.is_runtime_idle() {
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
            eprintln!("magpie: waiting in the poller failed: {e}");
        }
    }

    /// A busy worker's turn: due timers, and ready sockets if there are any.
    fn turn(&self) {
        self.fire_due_timers();
        if self.reactor.num_sources() > 0 {
            self.wait(Some(Duration::ZERO));
        }
    }
}

fn min_timeout(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Driver for RuntimeDriver {
    fn park(&self, timeout: Option<Duration>, cx: &ParkContext<'_>) {
        self.shared.park(timeout, cx);
    }

    fn turn(&self) {
        self.shared.turn();
    }

    fn unpark(&self) {
        self.shared.unpark();
    }

    fn maybe_idle(&self) {
        if self.shared.clock.is_paused() {
            self.shared.unpark();
        }
    }

    fn shutdown(&self) {
        self.shared.timers.shutdown();
        self.shared.reactor.shutdown();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The driver of the runtime the current thread is in, and the timer shard this thread
/// should use (its worker's own, or one picked per thread).
pub(crate) fn current() -> Option<(Arc<DriverShared>, usize)> {
    magpie_core::with_current(|handle| {
        let handle = handle?;
        let driver = handle.driver().as_any().downcast_ref::<RuntimeDriver>()?;
        let shard = magpie_core::worker_index(handle).unwrap_or_else(shard_hint);
        Some((driver.shared.clone(), shard))
    })
}

/// Runs `f` with the current runtime's driver, without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&DriverShared>) -> R) -> R {
    magpie_core::with_current(|handle| {
        f(handle.and_then(|h| {
            let driver = h.driver().as_any().downcast_ref::<RuntimeDriver>()?;
            Some(&*driver.shared)
        }))
    })
}

/// The timer shard the current thread should use (see [`current`]).
pub(crate) fn current_shard() -> usize {
    magpie_core::with_current(|handle| handle.and_then(magpie_core::worker_index))
        .unwrap_or_else(shard_hint)
}

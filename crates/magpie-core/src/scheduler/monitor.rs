//! The monitor: a thread that notices a worker stuck in one poll while the driver waits for
//! nobody or work waits for a worker, and sends a sleeping worker to it.
//!
//! # Why it exists
//!
//! A worker parked in the driver that wakes with exactly one task runs that task itself and
//! wakes nobody (tokio's rule too: another worker is woken only when more than one task is
//! queued), because a helper woken for every driver event costs a futex wake, a context
//! switch and a fruitless search per event (measured on `http_hello` in the commit that
//! introduced the monitor, f274e60). But while that one task runs,
//! nobody waits in the driver, and should its poll block the thread (tokio issue 4730), I/O
//! and timers would stall for every other task while the other workers sleep.
//!
//! The same goes for a task a poll queues only in its worker's LIFO slot: it wakes nobody
//! (tokio's rule; `Worker::schedule_local`), so should that poll block the thread, the task
//! would wait for it.
//!
//! The monitor closes both holes without a cost per event, the way Go's `sysmon` retakes a
//! processor stuck in a system call: once every [`PERIOD`] it reads each worker's poll counter
//! (odd while a poll runs, see `Remote::polls`). A worker whose counter is odd and unchanged
//! since the previous look has been in one poll for at least a period; if at that moment no
//! worker is parked in the driver, or some queue holds work, the monitor wakes a sleeping
//! worker (idle.rs, step 1). That worker takes queued work or, finding none, parks in the
//! free driver. So a blocked poll stalls everybody else's I/O and timers for about one period
//! at most, instead of for as long as it blocks.
//!
//! # Sleeping when the runtime is idle
//!
//! An idle runtime must use no CPU, so the monitor does not look for ever. After
//! [`QUIET_PERIODS`] consecutive looks at which every worker was parked it sleeps *deeply*
//! (no timeout) until a worker leaves its park to run work while the others sleep
//! ([`Monitor::driver_left`]).
//!
//! The protocol of the deep sleep, which must not leave the monitor asleep while a worker
//! runs unwatched (every worker calls [`Monitor::driver_left`] at the end of each park,
//! woken by the driver or by a producer):
//!
//! - The monitor sets `deep`, then re-reads the idle counts; if a worker is unparked it
//!   clears `deep` and keeps looking. Otherwise it waits on its wake-up event (a
//!   [`StickyEvent`]: a wake-up that comes before the wait is not lost).
//! - A worker leaving the driver first counts itself unparked (a read-modify-write of the
//!   idle counts, in `Idle::unpark_self`), then reads `deep`; if set, it sets the event.
//!
//! Each side writes, then reads what the other writes, with a SeqCst fence between: at least
//! one sees the other (fences, not just SeqCst accesses, as in idle.rs: loom models only
//! fences for this, and without them its model finds the lost wake-up). Either the monitor
//! sees the unparked worker and does not wait, or the worker sees `deep` and wakes it.
//! loom checks this in `scheduler/loom_tests.rs`.
//!
//! A runtime with one worker has nobody to wake and starts no monitor, unless slow polls are
//! reported.
//!
//! # Slow-poll reports
//!
//! With `Config::slow_poll_threshold` set, each look also checks how long each worker's
//! current poll has run and reports those past the threshold (slow_polls.rs); the monitor
//! then looks every `threshold / 4` (between 1 ms and [`PERIOD`]). Every worker leaving its
//! park calls [`Monitor::driver_left`], so the deep sleep never hides a running poll. The
//! stranding check above keeps its own pace of one look per [`PERIOD`].

use super::slow_polls::{self, SlowPolls};
use super::sticky_event::StickyEvent;
use super::Shared;
use magpie_shim::{fence, AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the monitor looks while the runtime is busy: the longest a blocked poll can
/// keep the driver unattended before another worker is sent to it.
pub(crate) const PERIOD: Duration = Duration::from_millis(10);

/// Consecutive looks with every worker parked before the monitor sleeps deeply.
pub(crate) const QUIET_PERIODS: u32 = 10;

pub(crate) struct Monitor {
    /// Set while the monitor sleeps (or is about to sleep) with no timeout.
    deep: AtomicBool,
    /// Set once, at shutdown.
    stop: AtomicBool,
    /// The monitor sleeps on it; `driver_left` and `stop` set it.
    wake: StickyEvent,
}

/// The monitor thread's body: look once a period while a worker is awake, sleep deeply once
/// the runtime has been quiet for [`QUIET_PERIODS`], until shutdown.
pub(super) fn run(shared: &Shared) {
    let workers = shared.remotes.len();
    let mut seen = vec![usize::MAX; workers];
    let threshold = shared.config.slow_poll_threshold;
    let mut slow_polls = threshold.map(|t| SlowPolls::new(t, workers));
    let period = threshold.map_or(PERIOD, |t| slow_polls::look_period(t, PERIOD));
    let mut last_stranding_look = Instant::now();
    let mut quiet_periods = 0;
    while shared
        .monitor
        .sleep(quiet_periods, period, || shared.idle.all_parked())
    {
        if let Some(slow_polls) = &mut slow_polls {
            // Also when all are parked: a poll that just returned gets its last report.
            slow_polls.look(shared);
        }
        if shared.idle.all_parked() {
            quiet_periods = quiet_periods.saturating_add(1);
        } else {
            quiet_periods = 0;
            if workers > 1 && last_stranding_look.elapsed() >= PERIOD - period / 2 {
                last_stranding_look = Instant::now();
                look(shared, &mut seen);
            }
        }
    }
}

/// One look: if a worker has been in one poll since the previous look while nobody waits in
/// the driver or work is queued, wake a sleeper.
fn look(shared: &Shared, seen: &mut [usize]) {
    let polls = shared
        .remotes
        .iter()
        .map(|r| r.polls.load(Ordering::Relaxed));
    if someone_stuck(polls, seen)
        && (!shared.remotes.iter().any(|r| r.parker.is_in_driver()) || shared.has_work())
    {
        shared.notify_parked();
    }
}

impl Monitor {
    pub(crate) fn new() -> Monitor {
        Monitor {
            deep: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            wake: StickyEvent::new(),
        }
    }

    /// Sleeps one `period`, or deeply (see the module documentation) when `quiet_periods`
    /// reached [`QUIET_PERIODS`] and `all_parked` still holds after `deep` is published. May
    /// return early. Returns `false` once the monitor must stop.
    pub(crate) fn sleep(
        &self,
        quiet_periods: u32,
        period: Duration,
        all_parked: impl Fn() -> bool,
    ) -> bool {
        if self.stop.load(Ordering::SeqCst) {
            return false;
        }
        if quiet_periods >= QUIET_PERIODS {
            self.deep.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if all_parked() {
                self.wake.wait(None);
            }
            self.deep.store(false, Ordering::SeqCst);
        } else {
            self.wake.wait(Some(period));
        }
        !self.stop.load(Ordering::SeqCst)
    }

    /// A worker left its park to run work (after it, or the producer that woke it, counted
    /// it unparked): wakes the monitor if it sleeps deeply. A fence and one atomic load when
    /// it does not.
    pub(crate) fn driver_left(&self) {
        fence(Ordering::SeqCst);
        if self.deep.load(Ordering::SeqCst) {
            self.wake.set();
        }
    }

    /// Tells the monitor to stop; it returns from [`Monitor::sleep`] with `false`.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.set();
    }

    /// Whether the monitor sleeps deeply now (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_deep(&self) -> bool {
        self.deep.load(Ordering::SeqCst)
    }
}

/// What one look at the workers found: whether some worker has been in one poll since the
/// previous look. `seen` holds each worker's poll counter as of that look.
pub(crate) fn someone_stuck(polls: impl Iterator<Item = usize>, seen: &mut [usize]) -> bool {
    let mut stuck = false;
    for (count, last) in polls.zip(seen.iter_mut()) {
        // Odd: inside a poll. Unchanged: the same poll as a period ago.
        if count % 2 == 1 && count == *last {
            stuck = true;
        }
        *last = count;
    }
    stuck
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_worker_is_stuck_when_its_odd_count_does_not_move() {
        let mut seen = vec![usize::MAX; 3];
        assert!(!someone_stuck([1, 2, 5].into_iter(), &mut seen));
        // Worker 0 finished its poll and started another; worker 1 is between polls.
        assert!(!someone_stuck([3, 2, 7].into_iter(), &mut seen));
        // Worker 2 is still in the poll that began before the previous look.
        assert!(someone_stuck([5, 2, 7].into_iter(), &mut seen));
        assert_eq!(seen, [5, 2, 7]);
    }

    #[test]
    fn a_busy_runtime_keeps_the_monitor_looking() {
        let monitor = Monitor::new();
        let start = Instant::now();
        assert!(monitor.sleep(QUIET_PERIODS, PERIOD, || false));
        assert!(!monitor.is_deep(), "a worker is unparked: no deep sleep");
        assert!(monitor.sleep(0, PERIOD, || true));
        assert!(start.elapsed() >= PERIOD, "a period is never short");
    }

    #[test]
    fn driver_left_ends_a_deep_sleep_and_stop_ends_the_monitor() {
        let monitor = Arc::new(Monitor::new());
        let sleeper = {
            let monitor = monitor.clone();
            std::thread::spawn(move || monitor.sleep(QUIET_PERIODS, PERIOD, || true))
        };
        while !monitor.is_deep() {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        assert!(!sleeper.is_finished(), "a deep sleep has no timeout");
        monitor.driver_left();
        assert!(sleeper.join().unwrap(), "woken, not stopped");

        monitor.stop();
        assert!(!monitor.sleep(0, PERIOD, || true));
        assert!(!monitor.sleep(QUIET_PERIODS, PERIOD, || true));
    }
}

//! The counters one worker keeps about itself.
//!
//! They live in the worker's `Remote`, on cache lines of their own (`CachePadded`): the
//! worker writes the current task's id on every poll, and must not dirty the lines other
//! threads read there (the parker, the stealer, the LIFO slot).
//! Only the owning worker writes a counter, so an increment is a plain load and store
//! (`bump`), not a locked read-modify-write; a reader on another thread may see a value a
//! few events old, never a torn one.
//!
//! Built with `--cfg magpie_no_metrics` (to measure their cost, `scripts/metrics_cost.sh`),
//! the recording functions do nothing.

use super::histogram::PollTimes;
use magpie_shim::unmodelled::{AtomicU64, Mutex, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct WorkerMetrics {
    /// The id of the task this worker polls now, or polled last (with the worker's odd poll
    /// counter: the task it is inside). Read by the monitor and by `Handle::tasks`.
    current_task: AtomicU64,
    parks: AtomicU64,
    /// Tasks taken from other workers' queues.
    steals: AtomicU64,
    /// Busy time up to the last park (see `busy`).
    busy: Mutex<Duration>,
    /// When the current busy stretch began, as nanoseconds since `epoch` plus one; zero
    /// while the worker is parked.
    busy_since: AtomicU64,
    epoch: Instant,
    pub(crate) poll_times: PollTimes,
}

/// Adds `n` to a counter only its owner writes.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    if !cfg!(magpie_no_metrics) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }
}

impl WorkerMetrics {
    pub(crate) fn new() -> WorkerMetrics {
        WorkerMetrics {
            current_task: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            steals: AtomicU64::new(0),
            busy: Mutex::new(Duration::ZERO),
            busy_since: AtomicU64::new(0),
            epoch: Instant::now(),
            poll_times: PollTimes::new(),
        }
    }

    #[inline]
    pub(crate) fn set_current_task(&self, id: u64) {
        if !cfg!(magpie_no_metrics) {
            self.current_task.store(id, Ordering::Relaxed);
        }
    }

    pub(crate) fn current_task(&self) -> u64 {
        self.current_task.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn count_steal(&self, tasks: usize) {
        bump(&self.steals, tasks as u64);
    }

    /// The worker starts running (it started, or woke from a sleep in its parker). One
    /// atomic store.
    pub(crate) fn busy_from_now(&self) {
        if !cfg!(magpie_no_metrics) {
            let now = self.epoch.elapsed().as_nanos() as u64;
            self.busy_since.store(now + 1, Ordering::Relaxed);
        }
    }

    /// The worker is about to sleep in its parker (only a real sleep: park.rs, `SleepWatch`):
    /// counts the park and closes the busy stretch, reading the clock under the lock (see
    /// `busy`).
    pub(crate) fn park(&self) {
        if cfg!(magpie_no_metrics) {
            return;
        }
        bump(&self.parks, 1);
        let mut done = self.busy.lock();
        let since = self.busy_since.load(Ordering::Relaxed);
        if since != 0 {
            let now = self.epoch.elapsed().as_nanos() as u64;
            *done += Duration::from_nanos(now.saturating_sub(since - 1));
            self.busy_since.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn parks(&self) -> u64 {
        self.parks.load(Ordering::Relaxed)
    }

    pub(crate) fn steals(&self) -> u64 {
        self.steals.load(Ordering::Relaxed)
    }

    /// Busy time so far, the current stretch included.
    ///
    /// Never goes back between two reads (a Prometheus counter that goes back reads as a
    /// reset), with one lock per park and none per unpark: a park closes its stretch under
    /// the lock and reads the clock inside it, and a reader reads both fields and the clock
    /// under the same lock. So a reader that counted a running stretch up to its own clock
    /// reading comes before the park that closes it, whose clock reading is later. An
    /// unpark only stores `busy_since` (from zero to a time): a reader sees either, and
    /// either sum is true of its moment.
    pub(crate) fn busy(&self) -> Duration {
        let done = self.busy.lock();
        let since = self.busy_since.load(Ordering::Relaxed);
        let running = if since == 0 {
            0
        } else {
            (self.epoch.elapsed().as_nanos() as u64).saturating_sub(since - 1)
        };
        *done + Duration::from_nanos(running)
    }
}

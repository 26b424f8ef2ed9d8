//! The counters one worker keeps about itself.
//!
//! They live in the worker's `Remote`, which is `CachePadded`: the worker writes them on
//! lines no other worker writes, next to the poll counter it already writes on every poll.
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
    /// Busy time. A lock, not two atomics: a reader must never see the stretch that just
    /// ended counted twice or not at all (a Prometheus counter that goes back reads as a
    /// reset); it is taken twice per park, which costs far less than the park.
    busy: Mutex<Busy>,
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
            busy: Mutex::new(Busy {
                done: Duration::ZERO,
                since: None,
            }),
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

    /// The worker starts running (it started, or left a park).
    pub(crate) fn busy_from(&self, now: Instant) {
        if !cfg!(magpie_no_metrics) {
            self.busy.lock().since = Some(now);
        }
    }

    /// The worker is about to park: counts the park and closes the busy stretch.
    pub(crate) fn park(&self, now: Instant) {
        if cfg!(magpie_no_metrics) {
            return;
        }
        bump(&self.parks, 1);
        let mut busy = self.busy.lock();
        if let Some(since) = busy.since.take() {
            busy.done += now.saturating_duration_since(since);
        }
    }

    pub(crate) fn parks(&self) -> u64 {
        self.parks.load(Ordering::Relaxed)
    }

    pub(crate) fn steals(&self) -> u64 {
        self.steals.load(Ordering::Relaxed)
    }

    /// Busy time so far, the current stretch included.
    pub(crate) fn busy(&self) -> Duration {
        let busy = self.busy.lock();
        busy.done + busy.since.map_or(Duration::ZERO, |since| since.elapsed())
    }
}

struct Busy {
    done: Duration,
    /// When the current busy stretch began; `None` while parked.
    since: Option<Instant>,
}

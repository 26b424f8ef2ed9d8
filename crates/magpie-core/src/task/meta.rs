//! What a task carries for observability: where it was spawned, when, and how often it has
//! been polled. Read by `Handle::tasks` (a walk of the registry), written by the spawner
//! (once) and by the poller (once per poll, a plain load and store: only the thread that
//! holds RUNNING writes `polls`, so no read-modify-write is needed).
//!
//! Built with `--cfg magpie_no_metrics` (for measuring what observability costs, see
//! `scripts/metrics_cost.sh`), the clock read and the poll count are compiled out and a
//! task's age and poll count read as zero.

use crate::metrics::clock;
use magpie_shim::unmodelled::{AtomicU64, Ordering};
use std::panic::Location;

pub(crate) struct TaskMeta {
    /// Where `spawn` was called (`#[track_caller]` through every spawn path).
    pub(crate) location: &'static Location<'static>,
    /// [`clock::coarse_nanos`] at spawn.
    spawned_at: u64,
    /// Polls of the future so far.
    polls: AtomicU64,
}

impl TaskMeta {
    #[inline]
    pub(crate) fn new(location: &'static Location<'static>) -> TaskMeta {
        TaskMeta {
            location,
            spawned_at: if cfg!(magpie_no_metrics) {
                0
            } else {
                clock::coarse_nanos()
            },
            polls: AtomicU64::new(0),
        }
    }

    /// Called by the poller, which holds RUNNING, before each poll of the future.
    #[inline]
    pub(crate) fn count_poll(&self) {
        if !cfg!(magpie_no_metrics) {
            let polls = self.polls.load(Ordering::Relaxed);
            self.polls.store(polls + 1, Ordering::Relaxed);
        }
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// The coarse clock's reading at spawn (see [`clock::coarse_nanos`]).
    pub(crate) fn spawned_at(&self) -> u64 {
        self.spawned_at
    }
}

//! What a task carries for observability: where it was spawned, when, and how often it has
//! been polled. Read by `Handle::tasks` (a walk of the registry), written by the spawner
//! (once) and by the poller (once per poll, a plain load and store: only the thread that
//! holds RUNNING writes `polls`, so no read-modify-write is needed).
//!
//! Built with `--cfg magpie_no_metrics` (for measuring what observability costs, see
//! `scripts/metrics_cost.sh`), the spawn time and the poll count are compiled out (the
//! header is 16 bytes smaller) and a task's age and poll count read as zero.

#[cfg(any(doc, magpie_no_metrics))]
use crate::metrics::clock;
#[cfg(not(magpie_no_metrics))]
use magpie_shim::unmodelled::{AtomicU64, Ordering};
use std::panic::Location;

pub(crate) struct TaskMeta {
    /// Where `spawn` was called (`#[track_caller]` through every spawn path).
    pub(crate) location: &'static Location<'static>,
    /// [`clock::coarse_nanos`] at spawn.
    #[cfg(not(magpie_no_metrics))]
    spawned_at: u64,
    /// Polls of the future so far.
    #[cfg(not(magpie_no_metrics))]
    polls: AtomicU64,
}

impl TaskMeta {
    /// `spawned_at`: a [`clock::coarse_nanos`] reading, the spawning worker's or the
    /// spawner's own ([`clock::spawn_stamp`]).
    #[inline]
    pub(crate) fn new(location: &'static Location<'static>, spawned_at: u64) -> TaskMeta {
        #[cfg(magpie_no_metrics)]
        let _ = spawned_at;
        TaskMeta {
            location,
            #[cfg(not(magpie_no_metrics))]
            spawned_at,
            #[cfg(not(magpie_no_metrics))]
            polls: AtomicU64::new(0),
        }
    }

    /// Called by the poller, which holds RUNNING, before each poll of the future.
    #[inline]
    pub(crate) fn count_poll(&self) {
        #[cfg(not(magpie_no_metrics))]
        {
            let polls = self.polls.load(Ordering::Relaxed);
            self.polls.store(polls + 1, Ordering::Relaxed);
        }
    }

    pub(crate) fn polls(&self) -> u64 {
        #[cfg(not(magpie_no_metrics))]
        return self.polls.load(Ordering::Relaxed);
        #[cfg(magpie_no_metrics)]
        0
    }

    /// The coarse clock's reading at spawn (see [`clock::coarse_nanos`]).
    pub(crate) fn spawned_at(&self) -> u64 {
        #[cfg(not(magpie_no_metrics))]
        return self.spawned_at;
        #[cfg(magpie_no_metrics)]
        clock::coarse_nanos()
    }
}

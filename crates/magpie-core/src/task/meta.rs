//! What a task carries for observability besides its spawn site (site.rs): when it was
//! spawned, and how often it has been polled. Read by `Handle::tasks` (a walk of the registry), written by the spawner
//! (once) and by the poller (once per poll, a plain load and store: only the thread that
//! holds RUNNING writes `polls`, so no read-modify-write is needed).
//!
//! It sits in every task's header, on the spawn path, where size shows: 16 bytes more in
//! the header cost `spawn_many_local` about 3% with no work done at all (a padding-only
//! build, docs/observability.md). So the spawn time and the poll count take 4 bytes each:
//!
//! - the spawn time in units of 2^22 ns (4.19 ms, about the coarse clock's resolution),
//!   wrapping: a task's age is right up to 2^32 units, 208 days, and wraps past that;
//! - the poll count saturates at `u32::MAX` (4.29 billion polls).
//!
//! With the spawn site (site.rs: the location, and the name when there is one, in one
//! pointer) the header is 56 bytes, 8 fewer than before the metrics came.
//!
//! Built with `--cfg magpie_no_metrics` (for measuring what observability costs, see
//! `scripts/metrics_cost.sh`), the spawn time and the poll count are compiled out (the
//! header is 8 bytes smaller) and a task's age and poll count read as zero.

#[cfg(not(magpie_no_metrics))]
use crate::metrics::clock;
#[cfg(not(magpie_no_metrics))]
use magpie_shim::unmodelled::{AtomicU32, Ordering};
use std::time::Duration;

/// The spawn time's unit, as a shift of nanoseconds.
#[cfg(not(magpie_no_metrics))]
const UNIT_SHIFT: u32 = 22;

pub(crate) struct TaskMeta {
    /// [`clock::coarse_nanos`] at spawn, in units of 2^22 ns, wrapping.
    #[cfg(not(magpie_no_metrics))]
    spawned_at: u32,
    /// Polls of the future so far, saturating.
    #[cfg(not(magpie_no_metrics))]
    polls: AtomicU32,
}

impl TaskMeta {
    /// `spawned_at`: a `clock::coarse_nanos` reading, the spawning worker's or the
    /// spawner's own (`clock::spawn_stamp`).
    #[inline]
    pub(crate) fn new(spawned_at: u64) -> TaskMeta {
        #[cfg(magpie_no_metrics)]
        let _ = spawned_at;
        TaskMeta {
            #[cfg(not(magpie_no_metrics))]
            spawned_at: (spawned_at >> UNIT_SHIFT) as u32,
            #[cfg(not(magpie_no_metrics))]
            polls: AtomicU32::new(0),
        }
    }

    /// Called by the poller, which holds RUNNING, before each poll of the future.
    #[inline]
    pub(crate) fn count_poll(&self) {
        #[cfg(not(magpie_no_metrics))]
        {
            let polls = self.polls.load(Ordering::Relaxed);
            self.polls.store(polls.saturating_add(1), Ordering::Relaxed);
        }
    }

    pub(crate) fn polls(&self) -> u64 {
        #[cfg(not(magpie_no_metrics))]
        return u64::from(self.polls.load(Ordering::Relaxed));
        #[cfg(magpie_no_metrics)]
        0
    }

    /// Time since spawn, to the spawn time's unit (4.19 ms).
    pub(crate) fn age(&self) -> Duration {
        #[cfg(not(magpie_no_metrics))]
        {
            let now = (clock::coarse_nanos() >> UNIT_SHIFT) as u32;
            Duration::from_nanos(u64::from(now.wrapping_sub(self.spawned_at)) << UNIT_SHIFT)
        }
        #[cfg(magpie_no_metrics)]
        Duration::ZERO
    }
}

//! The per-worker poll-time histogram: fixed memory, log-scaled buckets.
//!
//! Bucket `i < LAST` counts polls that took at most 2^i µs (and more than 2^(i-1) µs); the last
//! bucket counts everything slower than 2^(LAST-1) µs (262 ms). Twenty buckets, 1 µs to
//! 262 ms, cover every poll a service should see, in 168 bytes per worker.
//!
//! Polls are **sampled**: a worker times one poll in [`POLL_TIME_SAMPLE_EVERY`] on average,
//! chosen at random (the gap to the next timed poll is drawn uniformly from
//! `1..2 * POLL_TIME_SAMPLE_EVERY`), so that two reads of the clock (about 48 ns) are not
//! paid on every poll: `yield_many` spends about 36 ns of CPU per poll, and timing one poll
//! in 32 would still add 1.5 ns a poll on average (4%); one in 256 adds 0.2 ns, and a
//! worker busy with short polls still times thousands a second. A fixed stride could alias with
//! a periodic workload (two tasks that alternate would have only one of them timed); a
//! random one cannot. The counts are therefore those of the sampled polls; the exact number
//! of polls is `worker_poll_count`.

use magpie_shim::unmodelled::{AtomicU64, Ordering};
use std::time::Duration;

/// On average one poll in this many is timed for the poll-time histogram.
pub const POLL_TIME_SAMPLE_EVERY: u32 = 256;

/// The number of buckets.
pub(crate) const BUCKETS: usize = 20;

/// Owned and written by one worker, read by anyone.
pub(crate) struct PollTimes {
    counts: [AtomicU64; BUCKETS],
    sum_ns: AtomicU64,
}

impl PollTimes {
    pub(crate) fn new() -> PollTimes {
        PollTimes {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Records one sampled poll. Only the owning worker calls it (plain load and store).
    pub(crate) fn record(&self, elapsed: Duration) {
        let ns = elapsed.as_nanos().min(u64::MAX as u128) as u64;
        let bucket = &self.counts[bucket_of(ns)];
        bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let sum = self.sum_ns.load(Ordering::Relaxed);
        self.sum_ns.store(sum.saturating_add(ns), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> PollTimeHistogram {
        PollTimeHistogram {
            counts: std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed)),
            sum: Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed)),
        }
    }
}

/// The bucket of a poll that took `ns` nanoseconds: the smallest `i` with `ns <= 2^i µs`.
fn bucket_of(ns: u64) -> usize {
    let micros = ns.div_ceil(1000);
    if micros <= 1 {
        return 0;
    }
    // micros in (2^(i-1), 2^i]  <=>  i = bit length of (micros - 1).
    let i = (u64::BITS - (micros - 1).leading_zeros()) as usize;
    i.min(BUCKETS - 1)
}

/// A copy of one worker's poll-time histogram (sampled polls; see the module documentation
/// of [`crate::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollTimeHistogram {
    counts: [u64; BUCKETS],
    sum: Duration,
}

impl PollTimeHistogram {
    /// Each bucket's upper bound (inclusive; `None` for the last, unbounded one) and how many
    /// sampled polls fell in it (not cumulative).
    pub fn buckets(&self) -> impl Iterator<Item = (Option<Duration>, u64)> + '_ {
        self.counts.iter().enumerate().map(|(i, &count)| {
            let bound = (i < BUCKETS - 1).then(|| Duration::from_micros(1 << i));
            (bound, count)
        })
    }

    /// Sampled polls in total.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The total duration of the sampled polls.
    pub fn sum(&self) -> Duration {
        self.sum
    }

    /// Adds another worker's histogram to this one (the runtime-wide view).
    pub fn merge(&mut self, other: &PollTimeHistogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.sum += other.sum;
    }

    pub(crate) fn empty() -> PollTimeHistogram {
        PollTimeHistogram {
            counts: [0; BUCKETS],
            sum: Duration::ZERO,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_microseconds() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1_000), 0);
        assert_eq!(bucket_of(1_001), 1);
        assert_eq!(bucket_of(2_000), 1);
        assert_eq!(bucket_of(2_001), 2);
        assert_eq!(bucket_of(4_000), 2);
        assert_eq!(bucket_of(1_000_000), 10); // 1 ms <= 1024 µs
        assert_eq!(bucket_of(262_144_000), 18);
        assert_eq!(bucket_of(262_144_001), 19);
        assert_eq!(bucket_of(u64::MAX), 19);
    }

    #[test]
    fn a_snapshot_holds_what_was_recorded() {
        let times = PollTimes::new();
        times.record(Duration::from_nanos(500));
        times.record(Duration::from_micros(3));
        times.record(Duration::from_secs(2));
        let h = times.snapshot();
        assert_eq!(h.count(), 3);
        assert_eq!(h.sum(), Duration::from_nanos(500 + 3_000 + 2_000_000_000));
        let buckets: Vec<_> = h.buckets().collect();
        assert_eq!(buckets.len(), BUCKETS);
        assert_eq!(buckets[0], (Some(Duration::from_micros(1)), 1));
        assert_eq!(buckets[2], (Some(Duration::from_micros(4)), 1));
        assert_eq!(buckets[BUCKETS - 1], (None, 1));
        let mut merged = h.clone();
        merged.merge(&h);
        assert_eq!(merged.count(), 6);
    }
}

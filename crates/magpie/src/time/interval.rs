//! `Interval`: ticks at a fixed period.

use super::{sleep_until, Instant, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// What an [`Interval`] does when ticks were missed (the task was busy, or the machine
/// stalled, for longer than a period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after another, until caught up; later ticks stay
    /// on the original schedule (`start + n * period`). The default, as in tokio.
    #[default]
    Burst,
    /// Fire one tick now, and schedule the next a full period after it: the schedule
    /// shifts by the delay.
    Delay,
    /// Fire one tick now, and skip to the next tick of the original schedule that is still
    /// in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The next deadline after a tick that was due at `due` and fired at `now`.
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = due + period;
        if now < on_schedule {
            // Not behind: no tick was missed.
            return on_schedule;
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let behind = now.duration_since(due).as_nanos();
                let periods = behind / period.as_nanos() + 1;
                due + period.saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX))
            }
        }
    }
}

/// Ticks every `period`; the first tick completes at once.
///
/// ```
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let mut every = magpie::time::interval(Duration::from_millis(2));
/// let first = every.tick().await; // at once
/// let second = every.tick().await;
/// assert_eq!(second - first, Duration::from_millis(2));
/// # });
/// ```
///
/// # Panics
///
/// When `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks at `start`, then every `period`.
///
/// `start` is a [`magpie::time::Instant`](Instant) or a `std::time::Instant`.
///
/// ```
/// use magpie::time::{interval_at, Instant};
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let start = Instant::now() + Duration::from_millis(2);
/// let mut every = interval_at(start, Duration::from_millis(3));
/// assert_eq!(every.tick().await, start); // 2 ms from now
/// assert_eq!(every.tick().await, start + Duration::from_millis(3));
/// # });
/// ```
///
/// # Panics
///
/// When `period` is zero.
pub fn interval_at(start: impl Into<Instant>, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "magpie::time::interval: the period must be greater than zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::default(),
    }
}

/// A stream of ticks; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for (on the
    /// runtime's clock: a [`magpie::time::Instant`](Instant)).
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (for hand-written futures and streams).
    ///
    /// Each tick spends one unit of the cooperative budget (through the inner `Sleep`), so
    /// a burst of missed ticks, all ready at once, still lets other tasks run.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let due = self.sleep.deadline();
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let now = Instant::now().max(due);
                let next = self.missed.next(due, now, self.period);
                Pin::new(&mut self.sleep).reset(next);
                Poll::Ready(due)
            }
        }
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        let next = Instant::now() + self.period;
        Pin::new(&mut self.sleep).reset(next);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

#[cfg(test)]
mod tests {
    use super::MissedTickBehavior::{self, *};
    use crate::time::Instant;
    use std::time::Duration;

    const P: Duration = Duration::from_millis(10);

    fn next(b: MissedTickBehavior, late_by_ms: u64) -> Duration {
        let due = Instant::now();
        b.next(due, due + Duration::from_millis(late_by_ms), P) - due
    }

    #[test]
    fn on_time_ticks_keep_the_schedule() {
        for b in [Burst, Delay, Skip] {
            assert_eq!(next(b, 0), P);
            assert_eq!(next(b, 9), P);
        }
    }

    #[test]
    fn missed_ticks() {
        assert_eq!(next(Burst, 35), P);
        assert_eq!(next(Delay, 35), Duration::from_millis(45));
        assert_eq!(next(Skip, 35), Duration::from_millis(40));
        assert_eq!(next(Skip, 10), Duration::from_millis(20));
    }
}

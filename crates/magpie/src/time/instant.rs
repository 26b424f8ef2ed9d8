//! `Instant`: a reading of the runtime's clock, which follows paused time.
//!
//! It exists because the runtime's clock can be paused, and `std::time::Instant::now()`
//! cannot know it: see [`Instant`]'s documentation (the public one; this module is private).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A reading of the current runtime's clock, which follows paused time (tokio's
/// `tokio::time::Instant`, in shape).
///
/// The runtime's clock can be paused ([`pause`](super::pause), [`advance`](super::advance),
/// `Builder::start_paused(true)`, `#[magpie::test(start_paused = true)]`), and every timer
/// (sleeps, timeouts, intervals) runs on it. `std::time::Instant::now()` knows nothing of
/// that: it keeps reading the system clock, so on a paused runtime it sees (almost) no time
/// pass while sleeps of minutes complete. [`Instant::now`] reads the runtime's clock, the
/// one the timers use: measure and compute deadlines with it.
///
/// Outside a runtime, and on a runtime whose clock was never paused, it reads the same as
/// `std::time::Instant::now()`. It is a thin wrapper around `std::time::Instant` (same
/// size, same ordering and arithmetic); [`from_std`](Instant::from_std) and
/// [`into_std`](Instant::into_std) (and `From`, both ways) convert for free. The functions
/// that take a deadline ([`sleep_until`](super::sleep_until),
/// [`timeout_at`](super::timeout_at), [`interval_at`](super::interval_at),
/// [`Sleep::reset`](super::Sleep::reset)) take `impl Into<Instant>`, so a
/// `std::time::Instant` is still accepted there (as a reading of the runtime's clock).
///
/// ```
/// use magpie::time::{self, Instant};
/// use std::time::Duration;
///
/// #[magpie::main(start_paused = true)]
/// async fn main() {
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(60)).await; // completes at once: time is paused
///     assert_eq!(start.elapsed(), Duration::from_secs(60));
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The current runtime's clock: the paused reading while the runtime's time is paused,
    /// `std::time::Instant::now()` otherwise and outside a runtime. The same as
    /// [`magpie::time::now()`](super::now).
    ///
    /// ```
    /// use magpie::time::{self, Instant};
    /// use std::time::Duration;
    ///
    /// #[magpie::main(start_paused = true)]
    /// async fn main() {
    ///     let start = Instant::now();
    ///     time::advance(Duration::from_secs(1)).await;
    ///     assert_eq!(Instant::now() - start, Duration::from_secs(1)); // exactly
    /// }
    /// ```
    pub fn now() -> Instant {
        Instant(crate::driver::with_current(|driver| match driver {
            Some(driver) => driver.clock.now(),
            None => std::time::Instant::now(),
        }))
    }

    /// The same point in time, as a `magpie::time::Instant` (also `Instant::from`).
    ///
    /// ```
    /// use magpie::time::Instant;
    ///
    /// let std_now = std::time::Instant::now();
    /// let now = Instant::from_std(std_now);
    /// assert_eq!(now.into_std(), std_now);
    /// assert_eq!(now, Instant::from(std_now));
    /// ```
    pub const fn from_std(std: std::time::Instant) -> Instant {
        Instant(std)
    }

    /// The same point in time, as a `std::time::Instant` (also `std::time::Instant::from`),
    /// for APIs that take one.
    ///
    /// ```
    /// use magpie::time::Instant;
    ///
    /// let now = Instant::now();
    /// let std_now: std::time::Instant = now.into_std();
    /// assert_eq!(Instant::from_std(std_now), now);
    /// assert_eq!(std::time::Instant::from(now), std_now);
    /// ```
    pub const fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later than `self`
    /// (it saturates, like `std::time::Instant::duration_since` since Rust 1.60).
    ///
    /// ```
    /// use magpie::time::Instant;
    /// use std::time::Duration;
    ///
    /// let earlier = Instant::now();
    /// let later = earlier + Duration::from_millis(5);
    /// assert_eq!(later.duration_since(earlier), Duration::from_millis(5));
    /// assert_eq!(earlier.duration_since(later), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// The time from `earlier` to `self`, or `None` when `earlier` is later than `self`.
    ///
    /// ```
    /// use magpie::time::Instant;
    /// use std::time::Duration;
    ///
    /// let earlier = Instant::now();
    /// let later = earlier + Duration::from_millis(5);
    /// assert_eq!(later.checked_duration_since(earlier), Some(Duration::from_millis(5)));
    /// assert_eq!(earlier.checked_duration_since(later), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later than `self`.
    ///
    /// ```
    /// use magpie::time::Instant;
    /// use std::time::Duration;
    ///
    /// let earlier = Instant::now();
    /// let later = earlier + Duration::from_millis(5);
    /// assert_eq!(later.saturating_duration_since(earlier), Duration::from_millis(5));
    /// assert_eq!(earlier.saturating_duration_since(later), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// The time since `self` on the runtime's clock: `Instant::now() - self`, so a paused
    /// clock's time counts and real time spent while it is paused does not. Zero when `self`
    /// is in the future.
    ///
    /// ```
    /// use magpie::time::{self, Instant};
    /// use std::time::Duration;
    ///
    /// #[magpie::main(start_paused = true)]
    /// async fn main() {
    ///     let start = Instant::now();
    ///     time::sleep(Duration::from_secs(3600)).await; // an hour, in no real time
    ///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
    /// }
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` when that cannot be represented.
    ///
    /// ```
    /// use magpie::time::Instant;
    /// use std::time::Duration;
    ///
    /// let now = Instant::now();
    /// assert_eq!(now.checked_add(Duration::from_secs(1)), Some(now + Duration::from_secs(1)));
    /// assert_eq!(now.checked_add(Duration::MAX), None);
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, or `None` when that cannot be represented.
    ///
    /// ```
    /// use magpie::time::Instant;
    /// use std::time::Duration;
    ///
    /// let now = Instant::now();
    /// assert_eq!(now.checked_sub(Duration::from_secs(1)), Some(now - Duration::from_secs(1)));
    /// assert_eq!(now.checked_sub(Duration::MAX), None);
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }
}

impl From<std::time::Instant> for Instant {
    /// [`Instant::from_std`].
    fn from(std: std::time::Instant) -> Instant {
        Instant(std)
    }
}

impl From<Instant> for std::time::Instant {
    /// [`Instant::into_std`].
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

/// `instant + duration`.
///
/// # Panics
///
/// When the result cannot be represented (as `std::time::Instant`'s); see
/// [`Instant::checked_add`].
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
///
/// let now = Instant::now();
/// assert_eq!((now + Duration::from_secs(2)) - now, Duration::from_secs(2));
/// ```
impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

/// `instant += duration`.
///
/// # Panics
///
/// When the result cannot be represented; see [`Instant::checked_add`].
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
///
/// let start = Instant::now();
/// let mut deadline = start;
/// deadline += Duration::from_millis(250);
/// assert_eq!(deadline - start, Duration::from_millis(250));
/// ```
impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

/// `instant - duration`.
///
/// # Panics
///
/// When the result cannot be represented; see [`Instant::checked_sub`].
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
///
/// let now = Instant::now();
/// assert_eq!(now - (now - Duration::from_secs(2)), Duration::from_secs(2));
/// ```
impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0 - rhs)
    }
}

/// `instant -= duration`.
///
/// # Panics
///
/// When the result cannot be represented; see [`Instant::checked_sub`].
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
///
/// let now = Instant::now();
/// let mut earlier = now;
/// earlier -= Duration::from_millis(250);
/// assert_eq!(now - earlier, Duration::from_millis(250));
/// ```
impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

/// `later - earlier`: [`Instant::duration_since`], so zero when `earlier` is later.
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
///
/// let earlier = Instant::now();
/// let later = earlier + Duration::from_secs(1);
/// assert_eq!(later - earlier, Duration::from_secs(1));
/// assert_eq!(earlier - later, Duration::ZERO);
/// ```
impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    /// As `std::time::Instant`'s.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

//! The runtime's clock: `Instant::now()`, unless a test paused or advanced it.
//!
//! Clock time is `base + (Instant::now() - unfrozen_at)` while running and `base` while
//! paused. A fresh clock has `base == unfrozen_at`, i.e. it reads the system clock, and
//! takes a fast path (one relaxed-then-acquire flag load) until it is first paused. Pausing
//! freezes the current reading; `advance` moves a paused clock forward; resuming continues
//! from the frozen reading at the real rate. Clock time never goes backwards.
//!
//! Timers store deadlines as nanoseconds since the clock's `origin` (its creation).

use magpie_shim::{AtomicBool, Mutex, Ordering};
use std::fmt;
use std::time::{Duration, Instant};

/// A pausable monotonic clock. See the module documentation.
pub struct Clock {
    origin: Instant,
    /// Set (for good) the first time the clock is paused: from then on `now` takes the lock.
    adjusted: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    paused: bool,
    base: Instant,
    unfrozen_at: Instant,
}

/// Why a clock operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockError {
    /// `pause` on a paused clock.
    AlreadyPaused,
    /// `resume` or `advance` on a running clock.
    NotPaused,
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClockError::AlreadyPaused => "the clock is already paused",
            ClockError::NotPaused => "the clock is not paused",
        })
    }
}

impl std::error::Error for ClockError {}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .finish()
    }
}

impl Clock {
    /// A clock reading the system clock, paused at once when `start_paused`.
    pub fn new(start_paused: bool) -> Clock {
        let origin = Instant::now();
        let clock = Clock {
            origin,
            adjusted: AtomicBool::new(false),
            state: Mutex::new(State {
                paused: false,
                base: origin,
                unfrozen_at: origin,
            }),
        };
        if start_paused {
            clock.pause().expect("a fresh clock is running");
        }
        clock
    }

    /// The clock's reading.
    #[inline]
    pub fn now(&self) -> Instant {
        if !self.adjusted.load(Ordering::Acquire) {
            return Instant::now();
        }
        let state = *self.state.lock();
        if state.paused {
            state.base
        } else {
            state.base + state.unfrozen_at.elapsed()
        }
    }

    /// Nanoseconds since the origin of `instant` (0 for instants before it).
    #[inline]
    pub fn nanos_at(&self, instant: Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// Nanoseconds since the origin, now.
    #[inline]
    pub fn now_nanos(&self) -> u64 {
        self.nanos_at(self.now())
    }

    /// The instant `nanos` after the origin.
    pub fn instant_at(&self, nanos: u64) -> Instant {
        self.origin + Duration::from_nanos(nanos)
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.adjusted.load(Ordering::Acquire) && self.state.lock().paused
    }

    /// Freezes the clock at its current reading.
    pub fn pause(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock();
        if state.paused {
            return Err(ClockError::AlreadyPaused);
        }
        let running_for = state.unfrozen_at.elapsed();
        state.base += running_for;
        state.paused = true;
        self.adjusted.store(true, Ordering::Release);
        Ok(())
    }

    /// Lets a paused clock run again, from its frozen reading.
    pub fn resume(&self) -> Result<(), ClockError> {
        let mut state = self.state.lock();
        if !state.paused {
            return Err(ClockError::NotPaused);
        }
        state.unfrozen_at = Instant::now();
        state.paused = false;
        Ok(())
    }

    /// Moves a paused clock forward by `by`.
    pub fn advance(&self, by: Duration) -> Result<(), ClockError> {
        let mut state = self.state.lock();
        if !state.paused {
            return Err(ClockError::NotPaused);
        }
        state.base = state.base.checked_add(by).unwrap_or_else(|| {
            panic!("advancing the clock by {by:?} overflows Instant");
        });
        Ok(())
    }

    /// Moves a paused clock forward to `to`, if that is later than its reading. Returns
    /// whether the clock was paused.
    pub fn advance_to(&self, to: Instant) -> bool {
        let mut state = self.state.lock();
        if state.paused && to > state.base {
            state.base = to;
        }
        state.paused
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn running_clock_follows_the_system() {
        let clock = Clock::new(false);
        let a = Instant::now();
        let b = clock.now();
        assert!(b >= a);
        assert!(!clock.is_paused());
        assert_eq!(
            clock.advance(Duration::from_secs(1)),
            Err(ClockError::NotPaused)
        );
        assert_eq!(clock.resume(), Err(ClockError::NotPaused));
    }

    #[test]
    fn paused_clock_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_secs(600)).unwrap();
        assert_eq!(clock.now(), t0 + Duration::from_secs(600));
        assert!(clock.advance_to(t0 + Duration::from_secs(5)));
        assert_eq!(
            clock.now(),
            t0 + Duration::from_secs(600),
            "never backwards"
        );
        assert_eq!(clock.pause(), Err(ClockError::AlreadyPaused));
        clock.resume().unwrap();
        let after = clock.now();
        assert!(after >= t0 + Duration::from_secs(600));
        assert!(after < t0 + Duration::from_secs(601));
        assert!(!clock.advance_to(after + Duration::from_secs(9)));
    }

    #[test]
    fn nanos_round_trip() {
        let clock = Clock::new(false);
        let t = clock.now() + Duration::from_nanos(1_234_567);
        let nanos = clock.nanos_at(t);
        assert_eq!(clock.instant_at(nanos), t);
        if let Some(before) = clock.now().checked_sub(Duration::from_secs(1)) {
            assert_eq!(clock.nanos_at(before), 0);
        }
    }
}

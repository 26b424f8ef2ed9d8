//! Time: sleeps, timeouts, intervals, and a clock tests can pause.
//!
//! Timers live in the runtime's timer wheel (crate `magpie-timer`): 1 ms slots, but exact
//! deadlines, and the driver sleeps until the exact next deadline. So a sleep is never
//! early, is not rounded up to the next millisecond, and a deadline already past completes
//! at once.
//!
//! A [`Sleep`] (and so a [`Timeout`] or [`Interval`]) can be created anywhere, even outside
//! a runtime: it binds to the runtime that first polls it, and registers its timer then.
//! Polled with no magpie runtime around, it panics with a message that says so.
//!
//! ```
//! use std::time::Duration;
//! use magpie::time::{sleep, timeout};
//!
//! # magpie::Runtime::new().unwrap().block_on(async {
//! sleep(Duration::from_millis(1)).await;
//! let slow = sleep(Duration::from_secs(10));
//! assert!(timeout(Duration::from_millis(5), slow).await.is_err());
//! # });
//! ```
//!
//! # Paused time
//!
//! [`pause`] (or `Builder::start_paused(true)`, or `#[magpie::test(start_paused = true)]`)
//! freezes the runtime's clock. While it is paused, a runtime with nothing else to do jumps
//! straight to its next timer, so a test of a 10-minute retry loop finishes in
//! milliseconds; [`advance`] moves the clock by hand. "Nothing else to do" means every
//! worker is parked, no task is queued, no `spawn_blocking` closure is queued or running,
//! and no `block_on` future is being polled or has been woken. So between two `block_on`
//! calls on a paused runtime with timers pending, the clock may jump to the next of them.
//!
//! Paused time is the runtime's clock, read with [`Instant::now`] (or [`now`]): measure
//! with [`magpie::time::Instant`](Instant), not `std::time::Instant`, whose `now()` keeps
//! reading the system clock and so misses paused time. The functions that take a deadline
//! take `impl Into<Instant>`: a `std::time::Instant` is still accepted there.
//!
//! ```
//! use magpie::time::{self, Instant};
//! use std::time::Duration;
//!
//! #[magpie::main(start_paused = true)]
//! async fn main() {
//!     let start = Instant::now();
//!     let real = std::time::Instant::now();
//!     time::sleep(Duration::from_secs(600)).await; // ten minutes, in no real time
//!     assert_eq!(start.elapsed(), Duration::from_secs(600));
//!     assert!(real.elapsed() < Duration::from_secs(60));
//! }
//! ```

mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

pub use error::Elapsed;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Timeout};

use crate::driver;
use std::cell::Cell;
use std::time::Duration;

/// The current runtime's clock, the same as [`Instant::now()`](Instant::now): the paused
/// reading while the runtime's time is paused; the system clock otherwise, and outside a
/// runtime.
///
/// ```
/// use magpie::time::{self, Instant};
/// use std::time::Duration;
///
/// #[magpie::main(start_paused = true)]
/// async fn main() {
///     let start: Instant = time::now();
///     time::advance(Duration::from_millis(1500)).await;
///     assert_eq!(time::now() - start, Duration::from_millis(1500));
/// }
/// ```
pub fn now() -> Instant {
    Instant::now()
}

/// Pauses the current runtime's clock.
///
/// # Panics
///
/// Outside a magpie runtime, or when its clock is already paused.
pub fn pause() {
    let (driver, _) = current_for("pause");
    if let Err(e) = driver.clock.pause() {
        panic!("magpie::time::pause: {e}");
    }
}

/// Lets the current runtime's paused clock run again, from its paused reading.
///
/// # Panics
///
/// Outside a magpie runtime, or when its clock is not paused.
pub fn resume() {
    let (driver, _) = current_for("resume");
    if let Err(e) = driver.clock.resume() {
        panic!("magpie::time::resume: {e}");
    }
    driver.unpark();
}

/// Moves the current runtime's paused clock forward by `by`, fires the timers that came due
/// (waking their tasks), and yields once so they can run.
///
/// # Panics
///
/// Outside a magpie runtime, or when its clock is not paused.
pub async fn advance(by: Duration) {
    let (driver, _) = current_for("advance");
    if let Err(e) = driver.clock.advance(by) {
        panic!("magpie::time::advance: {e} (call magpie::time::pause first)");
    }
    driver.fire_due_timers();
    crate::task::yield_now().await;
}

fn current_for(what: &str) -> (magpie_shim::Arc<magpie_core::Driver>, usize) {
    driver::current().unwrap_or_else(|| {
        panic!("magpie::time::{what} must be called from inside a magpie runtime")
    })
}

/// `now + by`, or a deadline so far away (about 30 years) that it never comes, when the
/// sum overflows `Instant`.
pub(crate) fn deadline_after(now: Instant, by: Duration) -> Instant {
    now.checked_add(by)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

thread_local! {
    static SHARD_HINT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The timer shard of a thread that is not one of the runtime's workers: one per thread,
/// spread round-robin.
pub(crate) fn shard_hint() -> usize {
    use magpie_shim::unmodelled::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    SHARD_HINT.with(|hint| {
        if hint.get() == usize::MAX {
            hint.set(NEXT.fetch_add(1, Ordering::Relaxed) as usize);
        }
        hint.get()
    })
}

//! `Sleep`: a future that completes at a deadline.

use super::{deadline_after, Instant};
use crate::driver;
use magpie_core::Driver;
use magpie_shim::{coop, Arc};
use magpie_timer::TimerKey;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Waits until `duration` has passed (on the current runtime's clock; see
/// [`now`](super::now)). A zero duration completes at once.
///
/// ```
/// use magpie::time::Instant;
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let start = Instant::now();
/// magpie::time::sleep(Duration::from_millis(2)).await;
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// # });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(Instant::now(), duration))
}

/// Waits until `deadline` (on the current runtime's clock; see [`Instant`]). A deadline
/// already past completes at the first poll.
///
/// `deadline` is a [`magpie::time::Instant`](Instant) or a `std::time::Instant` (taken as a
/// reading of the runtime's clock).
///
/// ```
/// use magpie::time::{sleep_until, Instant};
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let start = Instant::now();
/// sleep_until(start + Duration::from_millis(2)).await;
/// assert!(start.elapsed() >= Duration::from_millis(2));
/// sleep_until(std::time::Instant::now()).await; // a std Instant: already due
/// # });
/// ```
pub fn sleep_until(deadline: impl Into<Instant>) -> Sleep {
    Sleep {
        deadline: deadline.into(),
        driver: None,
        timer: None,
        elapsed: false,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It binds to the runtime that first polls it and registers its timer then; dropping it
/// cancels the timer. `Send`, `Sync` and `Unpin`.
///
/// # Panics
///
/// Polling panics when no magpie runtime is current (and the sleep is not bound to one
/// yet), or when the runtime it is bound to has shut down.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// The runtime this sleep is bound to, from its first poll on.
    driver: Option<Arc<Driver>>,
    /// The registered timer, while one is.
    timer: Option<TimerKey>,
    /// Completed (and not reset since).
    elapsed: bool,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("bound", &self.driver.is_some())
            .field("registered", &self.timer.is_some())
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

impl Sleep {
    /// The instant this sleep completes at.
    ///
    /// ```
    /// use magpie::time::{sleep_until, Instant};
    /// use std::time::Duration;
    ///
    /// let at = Instant::now() + Duration::from_secs(5);
    /// assert_eq!(sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached (on the clock of the runtime this sleep is
    /// bound to, or the current one).
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
            || match &self.driver {
                Some(driver) => driver.clock.now() >= self.deadline.into_std(),
                None => Instant::now() >= self.deadline,
            }
    }

    /// Moves the deadline; the sleep is pending again if the new deadline is in the future.
    /// The task is woken at the new deadline if the sleep is polled (it usually is: reset is
    /// called from the task that awaits it).
    ///
    /// `deadline` is a [`magpie::time::Instant`](Instant) or a `std::time::Instant`.
    ///
    /// ```
    /// use magpie::time::{sleep, Instant};
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// # magpie::Runtime::new().unwrap().block_on(async {
    /// let mut nap = pin!(sleep(Duration::from_secs(3600)));
    /// let sooner = Instant::now() + Duration::from_millis(2);
    /// nap.as_mut().reset(sooner);
    /// assert_eq!(nap.deadline(), sooner);
    /// nap.await; // in 2 ms, not an hour
    /// # });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: impl Into<Instant>) {
        let deadline = deadline.into();
        let this = self.get_mut();
        this.deadline = deadline;
        this.elapsed = false;
        let (Some(driver), Some(timer)) = (&this.driver, &this.timer) else {
            return; // Not registered: the next poll looks at the new deadline.
        };
        if deadline.into_std() <= driver.clock.now() {
            // Already due: drop the timer, so the next poll completes at once.
            let timer = this.timer.take().expect("matched above");
            driver.timers.cancel(timer);
        } else if driver
            .timers
            .reset(timer, driver.clock.nanos_at(deadline.into_std()))
        {
            driver.unpark();
        }
    }

    /// Binds to the current runtime; returns the timer shard to register in.
    fn bind(&mut self) -> usize {
        let (driver, shard) = driver::current().unwrap_or_else(|| {
            panic!(
                "magpie::time::Sleep polled outside a magpie runtime: timers need a runtime to \
                 fire them. Await it inside Runtime::block_on, a spawned task, or \
                 #[magpie::main] / #[magpie::test]."
            )
        });
        self.driver = Some(driver);
        shard
    }
}

fn shut_down_panic() -> ! {
    panic!(
        "magpie::time::Sleep polled after the magpie runtime it is bound to shut down: \
         its timer can never fire"
    )
}

impl Future for Sleep {
    type Output = ();

    /// Spends one unit of the cooperative budget when it completes (refunded while it is
    /// pending), including a sleep whose deadline has already passed, so that a loop of
    /// `sleep(Duration::ZERO).await` yields to other tasks after 128 of them (the budget of
    /// one poll).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let spent = ready!(coop::poll_proceed(cx));
        let polled = self.get_mut().poll_deadline(cx);
        if polled.is_ready() {
            spent.made_progress();
        }
        polled
    }
}

impl Sleep {
    /// `poll` without the budget: completes once the deadline has passed, registering the
    /// timer on the first pending poll.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.elapsed {
            return Poll::Ready(());
        }
        let shard = match self.driver {
            Some(_) => None,
            None => Some(self.bind()),
        };
        let driver = self.driver.as_deref().expect("bound above");
        if driver.timers.is_shutdown() {
            shut_down_panic();
        }
        if let Some(timer) = &self.timer {
            // Registered: the driver fires it at the deadline. Not reading the clock here
            // saves a clock read per wake-up (a good part of a timer's cost).
            return match driver.timers.poll_fired(timer, cx.waker()) {
                Poll::Ready(()) if driver.timers.is_shutdown() => shut_down_panic(),
                Poll::Ready(()) => {
                    let timer = self.timer.take().expect("matched above");
                    driver.timers.cancel(timer);
                    self.elapsed = true;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            };
        }
        let now = driver.clock.now();
        if self.deadline.into_std() <= now {
            // Already due: complete now, with no timer and no wait for the driver.
            self.elapsed = true;
            return Poll::Ready(());
        }
        let shard = shard.unwrap_or_else(driver::current_shard);
        let (timer, unpark) = driver.timers.register(
            shard,
            driver.clock.nanos_at(self.deadline.into_std()),
            driver.clock.nanos_at(now),
            cx.waker(),
        );
        self.timer = Some(timer);
        if unpark {
            driver.unpark();
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(driver), Some(timer)) = (&self.driver, self.timer.take()) {
            driver.timers.cancel(timer);
        }
    }
}

//! `Timeout`: a future with a deadline.

use super::{deadline_after, sleep_until, Elapsed, Instant, Sleep};
use magpie_shim::coop;
use pin_project_lite::pin_project;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future` for at most `duration`: `Ok(output)` if it finishes first, `Err(Elapsed)`
/// otherwise (the future is then dropped when the `Timeout` is).
///
/// The future is polled before the deadline is checked, so a future that is ready at once
/// wins even with a zero duration, and never registers a timer.
///
/// ```
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let fast = magpie::time::timeout(Duration::from_secs(1), async { 7 });
/// assert_eq!(fast.await, Ok(7));
/// let slow = magpie::time::timeout(Duration::from_millis(1), std::future::pending::<()>());
/// assert_eq!(slow.await, Err(magpie::time::Elapsed));
/// # });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout_at(deadline_after(Instant::now(), duration), future)
}

/// Runs `future` until `deadline` at most; see [`timeout`].
///
/// `deadline` is a [`magpie::time::Instant`](Instant) or a `std::time::Instant`.
///
/// ```
/// use magpie::time::{timeout_at, Elapsed, Instant};
/// use std::time::Duration;
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let deadline = Instant::now() + Duration::from_millis(2);
/// assert_eq!(timeout_at(deadline, async { 7 }).await, Ok(7));
/// let never = std::future::pending::<()>();
/// assert_eq!(timeout_at(deadline, never).await, Err(Elapsed));
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
pub fn timeout_at<F: IntoFuture>(
    deadline: impl Into<Instant>,
    future: F,
) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// The wrapped future, without its deadline.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The deadline, on the runtime's clock.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    /// The cooperative budget: `Timeout` spends none of its own; the wrapped future spends
    /// what its leaves spend, and the deadline check is the inner `Sleep`'s (one unit when
    /// it reports the deadline passed, so a loop of timeouts that all elapse at once still
    /// yields). When the wrapped future is what ran the budget out, the deadline is checked
    /// with no budget: otherwise a future that spends the whole budget at every poll would
    /// never let its deadline be seen, and the timeout would never fire.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let mut check_deadline = || match Pin::new(&mut *this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        };
        if had_budget && !coop::has_budget_remaining() {
            coop::unconstrained(check_deadline)
        } else {
            check_deadline()
        }
    }
}

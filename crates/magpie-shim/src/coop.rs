//! The cooperative budget: how many operations one poll of a task may complete before magpie's
//! own leaf futures start saying `Pending`.
//!
//! # Protocol
//!
//! A task that loops on an always-ready source (a channel that always holds a message, a socket
//! that always has data) never returns `Pending` by itself, so its worker could never run
//! anything else. To prevent that, every thread carries a budget:
//!
//! - The scheduler (and `block_on`) wraps each poll of a task in [`with_budget`], which sets the
//!   budget to [`BUDGET`] operations and restores the previous value afterwards (so a nested
//!   `block_on` inside `spawn_blocking` does not leak its budget into the outer poll).
//! - Every leaf future of magpie (channel sends and receives, lock acquisition, sleeps, socket
//!   reads and writes) calls [`poll_proceed`] before doing its work. While budget is left it
//!   spends one unit and returns a [`Spent`] token; once the budget is zero it wakes the task and
//!   returns `Pending`, so the task goes to the back of its queue and others run.
//! - If the operation then turns out not to be ready (it returns `Pending` anyway), it did no
//!   work, so the unit is refunded: dropping the token without calling [`Spent::made_progress`]
//!   gives it back.
//! - Outside any budgeted poll (a future polled by another executor, or by a plain thread) the
//!   budget is unconstrained: magpie's primitives stay usable on any executor and never return
//!   a `Pending` there that nothing would resolve. A `spawn_blocking` closure runs under
//!   [`unconstrained`] for the same reason (it is polled once, by a task, but may run another
//!   executor's `block_on` inside).
//! - A combinator that checks a condition after polling an inner future (a timeout's deadline)
//!   checks it under [`unconstrained`] when the inner future is what spent the budget
//!   (`has_budget_remaining` true before, false after); otherwise a future that spends the
//!   whole budget at every poll would keep the condition from ever being seen.
//!
//! Under `--cfg loom` the budget is always unconstrained (loom models threads on one OS thread,
//! and the models check wake-ups, not fairness).

use std::task::{Context, Poll};

/// Operations one poll of a task may complete before leaf futures yield.
pub const BUDGET: u8 = 128;

#[cfg(not(loom))]
mod state {
    use std::cell::Cell;

    thread_local! {
        /// `None`: unconstrained. `Some(n)`: `n` operations left in the current poll.
        static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
    }

    // `#[inline]`: called from other crates on every poll and every leaf operation; without
    // it (and without LTO) each access is a call into this crate.
    #[inline]
    pub(super) fn get() -> Option<u8> {
        LEFT.with(|c| c.get())
    }

    #[inline]
    pub(super) fn set(v: Option<u8>) {
        LEFT.with(|c| c.set(v));
    }
}

#[cfg(loom)]
mod state {
    #[inline]
    pub(super) fn get() -> Option<u8> {
        None
    }
    #[inline]
    pub(super) fn set(_: Option<u8>) {}
}

/// Runs `f` (one poll of a task) with a fresh budget of [`BUDGET`] operations, restoring the
/// previous budget afterwards, even if `f` panics.
#[inline]
pub fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            state::set(self.0);
        }
    }
    let _restore = Restore(state::get());
    state::set(Some(BUDGET));
    f()
}

/// Runs `f` with no budget: leaf futures inside never yield for the budget's sake (for code that
/// must finish a bounded amount of work in one go, such as draining a queue on shutdown).
#[inline]
pub fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            state::set(self.0);
        }
    }
    let _restore = Restore(state::get());
    state::set(None);
    f()
}

/// Whether the current poll still has budget left (always true when unconstrained).
#[inline]
pub fn has_budget_remaining() -> bool {
    state::get() != Some(0)
}

/// Spends one unit of budget for a leaf operation about to be attempted.
///
/// `Pending` (after waking the task) when the budget is spent: the caller returns `Pending`
/// at once. Otherwise a token that refunds the unit when dropped, unless
/// [`Spent::made_progress`] is called because the operation completed.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Spent> {
    match state::get() {
        None => Poll::Ready(Spent { refund: false }),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            state::set(Some(n - 1));
            Poll::Ready(Spent { refund: true })
        }
    }
}

/// One unit of budget, spent for an operation; refunded on drop unless the operation made
/// progress.
#[derive(Debug)]
#[must_use = "drop the token after the operation; call made_progress() if it completed"]
pub struct Spent {
    refund: bool,
}

impl Spent {
    /// The operation completed: the unit stays spent.
    #[inline]
    pub fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Spent {
    #[inline]
    fn drop(&mut self) {
        if self.refund {
            if let Some(n) = state::get() {
                state::set(Some(n.saturating_add(1).min(BUDGET)));
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn unconstrained_outside_a_budgeted_poll() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
    }

    #[test]
    fn budget_runs_out_after_budget_operations_and_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                match poll_proceed(&mut cx) {
                    Poll::Ready(spent) => spent.made_progress(),
                    Poll::Pending => panic!("budget ran out early"),
                }
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert!(!has_budget_remaining());
            // A nested budgeted poll has its own budget and gives the outer one back.
            with_budget(|| assert!(has_budget_remaining()));
            assert!(!has_budget_remaining());
        });
        assert!(poll_proceed(&mut cx).is_ready());
    }

    #[test]
    fn an_operation_that_made_no_progress_is_refunded() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..10 * BUDGET as u32 {
                match poll_proceed(&mut cx) {
                    Poll::Ready(spent) => drop(spent),
                    Poll::Pending => panic!("refunded units ran out"),
                }
            }
        });
    }
}

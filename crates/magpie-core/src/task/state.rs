//! The task state word.
//!
//! One `AtomicUsize` per task holds six flags and the reference count. Every transition below
//! is a single atomic read-modify-write (a `fetch_*` or one `compare_exchange` loop), so two
//! threads never see a half-made transition.
//!
//! ```text
//!  bit  0  SCHEDULED      the task must be polled (again): it sits in a queue, or it was woken
//!                         while RUNNING and its runner will queue it when the poll ends
//!  bit  1  RUNNING        a thread owns the future: polling it, or dropping it on cancel
//!  bit  2  COMPLETE       the future is gone and the output (or the JoinError) is stored
//!  bit  3  CANCELLED      abort was requested; the next owner of the future drops it
//!  bit  4  JOIN_INTEREST  a JoinHandle exists and will read (or drop) the output
//!  bit  5  JOIN_WAKER     the JoinHandle stored a waker in the trailer; until COMPLETE only the
//!                         JoinHandle touches it, once COMPLETE only the completer reads it
//!  bits 6.. REFCOUNT      one per reference: the JoinHandle, each AbortHandle, each Waker,
//!                         each queue entry (`Notified`), and the owned-task registry while
//!                         the task is live
//! ```
//!
//! Who may touch which field when:
//! - the future / output (`Stage`): the thread that set RUNNING, until it clears RUNNING; after
//!   COMPLETE, the holder of JOIN_INTEREST (it takes or drops the output), or, if the completer
//!   saw no JOIN_INTEREST, the completer drops it at once.
//! - the join waker: the JoinHandle while JOIN_WAKER is clear and COMPLETE is clear; the
//!   completer (read-only) once it set COMPLETE with JOIN_WAKER set; the deallocator at the end.
//!
//! The memory is freed by whoever drops the last reference. The registry holds a reference
//! until the task completes (a blocking task is never registered, but it is always queued or
//! running, which holds one too), so the last reference never finds a live future: freeing a
//! task runs no user code but the join waker's drop, which is contained.
//!
//! Whoever hands a queue entry to the scheduler holds a reference of its own until the hand-off
//! returns (a waker, a handle): the entry may run and complete on another worker at once, and
//! the task must outlive the scheduling code that still reads it. The one exception is a yield
//! on the task's own worker: its runner's reference becomes the entry, and the hand-off
//! (`Schedule::yield_local`) reads nothing of the task once it is queued.

use magpie_shim::{AtomicUsize, Ordering};
use std::fmt;

pub(crate) const SCHEDULED: usize = 1 << 0;
pub(crate) const RUNNING: usize = 1 << 1;
pub(crate) const COMPLETE: usize = 1 << 2;
pub(crate) const CANCELLED: usize = 1 << 3;
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
pub(crate) const JOIN_WAKER: usize = 1 << 5;

const REF_SHIFT: usize = 6;
pub(crate) const REF_ONE: usize = 1 << REF_SHIFT;
const FLAG_MASK: usize = REF_ONE - 1;
const REF_MASK: usize = !FLAG_MASK;

/// A task is born scheduled (its first queue entry), with a JoinHandle, and three references:
/// the JoinHandle, the registry, and the queue entry.
const INITIAL: usize = SCHEDULED | JOIN_INTEREST | (3 * REF_ONE);

/// A copy of the state word with accessors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("scheduled", &self.is_scheduled())
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.has_join_interest())
            .field("join_waker", &self.has_join_waker())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What the thread holding a queue entry must do after [`State::transition_to_running`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StartPoll {
    /// RUNNING is set: poll the future.
    Poll,
    /// RUNNING is set and CANCELLED was requested: drop the future, store a cancelled error.
    Cancel,
    /// Somebody else owns the task or it is finished: just drop the queue entry's reference.
    Skip,
}

/// What the runner must do after [`State::transition_to_idle`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EndPoll {
    /// The task is idle; the runner's reference was dropped. `true` when it was the last one.
    Idle { last_ref: bool },
    /// The task was woken while running: SCHEDULED stays set and the runner's reference
    /// becomes the new queue entry's.
    Reschedule,
    /// Abort was requested while running: the runner still owns the future and must cancel it.
    Cancel,
}

/// What the caller of a wake (or an abort) must do after its state transition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WakeAction {
    /// Nothing to schedule.
    Nothing,
    /// Hand a new queue entry (holding a reference) to the scheduler.
    Schedule,
}

pub(crate) struct State(AtomicUsize);

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// One compare-exchange loop: `f` returns the new word and a result, or `None` to stop
    /// without writing.
    #[inline]
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (next, res) = f(Snapshot(cur));
            let Some(next) = next else { return res };
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return res,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A queue entry is about to run: SCHEDULED → RUNNING.
    pub(crate) fn transition_to_running(&self) -> StartPoll {
        self.update(|s| {
            if s.is_running() || s.is_complete() || !s.is_scheduled() {
                return (None, StartPoll::Skip);
            }
            let next = (s.0 & !SCHEDULED) | RUNNING;
            let action = if s.is_cancelled() {
                StartPoll::Cancel
            } else {
                StartPoll::Poll
            };
            (Some(next), action)
        })
    }

    /// The poll returned `Pending`: clear RUNNING. If the task was woken meanwhile, it stays
    /// SCHEDULED and the runner's reference goes to the new queue entry; if it was
    /// aborted meanwhile the runner keeps RUNNING and cancels. Otherwise the runner's reference
    /// is dropped in the same operation.
    pub(crate) fn transition_to_idle(&self) -> EndPoll {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, EndPoll::Cancel);
            }
            if s.is_scheduled() {
                return (Some(s.0 & !RUNNING), EndPoll::Reschedule);
            }
            debug_assert!(s.ref_count() >= 1);
            let next = (s.0 & !RUNNING) - REF_ONE;
            (
                Some(next),
                EndPoll::Idle {
                    last_ref: Snapshot(next).ref_count() == 0,
                },
            )
        })
    }

    /// The future is gone and the output is stored: RUNNING → COMPLETE (SCHEDULED is cleared,
    /// there is nothing left to poll). Returns the word after the transition.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.is_running() && !s.is_complete());
            // A wake during the last poll may have left SCHEDULED set with no queue entry behind
            // it: clear it in the same step, there is nothing left to poll.
            let next = (s.0 & !(RUNNING | SCHEDULED)) | COMPLETE;
            (Some(next), Snapshot(next))
        })
    }

    /// A waker fires (by reference). Sets SCHEDULED; when the task was idle, also takes a new
    /// reference for the queue entry the caller must create.
    pub(crate) fn transition_to_notified_by_ref(&self) -> WakeAction {
        self.update(|s| {
            if s.is_complete() || s.is_scheduled() {
                (None, WakeAction::Nothing)
            } else if s.is_running() {
                (Some(s.0 | SCHEDULED), WakeAction::Nothing)
            } else {
                (Some((s.0 | SCHEDULED) + REF_ONE), WakeAction::Schedule)
            }
        })
    }

    /// `abort()`: sets CANCELLED. When the task is idle it is also scheduled (with a new
    /// reference) so that a worker drops the future at its next scheduling point.
    pub(crate) fn transition_to_cancelled(&self) -> WakeAction {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, WakeAction::Nothing)
            } else if s.is_running() || s.is_scheduled() {
                (Some(s.0 | CANCELLED), WakeAction::Nothing)
            } else {
                (
                    Some((s.0 | CANCELLED | SCHEDULED) + REF_ONE),
                    WakeAction::Schedule,
                )
            }
        })
    }

    /// Shutdown takes an unfinished task: idle or queued → RUNNING | CANCELLED, so the caller
    /// owns the future and drops it. `false` when the task is running elsewhere (a blocking task
    /// still in its closure) or already complete.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_complete() {
                (None, false)
            } else if s.is_running() {
                // Its runner sees CANCELLED when the poll ends and cancels it then.
                (Some(s.0 | CANCELLED), false)
            } else {
                (Some((s.0 & !SCHEDULED) | RUNNING | CANCELLED), true)
            }
        })
    }

    /// The JoinHandle is dropped. Before completion it also takes back the join waker (the
    /// returned snapshot says whether it must drop it); after completion it must drop the
    /// output, which nobody else will touch.
    pub(crate) fn unset_join_interest(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.has_join_interest());
            let next = if s.is_complete() {
                s.0 & !JOIN_INTEREST
            } else {
                s.0 & !(JOIN_INTEREST | JOIN_WAKER)
            };
            (Some(next), s)
        })
    }

    /// The JoinHandle stored its waker: publish it. Fails (returning the word) when the task
    /// completed first; the handle then reads the output instead.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.has_join_interest() && !s.has_join_waker());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(Snapshot(s.0 | JOIN_WAKER)))
            }
        })
    }

    /// The JoinHandle wants to replace its waker: take back exclusive access. Fails when the
    /// task completed first.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.has_join_interest() && s.has_join_waker());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 & !JOIN_WAKER), Ok(Snapshot(s.0 & !JOIN_WAKER)))
            }
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // A count this large means a leak of wakers in a loop: stop before it wraps.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; `true` when it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// Drops two references at once (a runner's entry and the registry's, at completion).
    pub(crate) fn ref_dec_twice(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(2 * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 2);
        prev.ref_count() == 2
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn new_task_is_scheduled_with_three_refs() {
        let s = State::new().load();
        assert!(s.is_scheduled() && s.has_join_interest());
        assert!(!s.is_running() && !s.is_complete() && !s.is_cancelled());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn poll_then_idle_drops_the_runner_reference() {
        let st = State::new();
        assert_eq!(st.transition_to_running(), StartPoll::Poll);
        assert!(st.load().is_running() && !st.load().is_scheduled());
        assert_eq!(st.transition_to_idle(), EndPoll::Idle { last_ref: false });
        assert_eq!(st.load().ref_count(), 2);
    }

    #[test]
    fn wake_while_running_reschedules_with_the_runners_reference() {
        let st = State::new();
        st.transition_to_running();
        assert_eq!(st.transition_to_notified_by_ref(), WakeAction::Nothing);
        assert_eq!(st.transition_to_idle(), EndPoll::Reschedule);
        let s = st.load();
        assert!(s.is_scheduled() && !s.is_running());
        assert_eq!(
            s.ref_count(),
            3,
            "the runner's reference moved to the new entry"
        );
    }

    #[test]
    fn wake_of_idle_task_takes_a_reference_once() {
        let st = State::new();
        st.transition_to_running();
        st.transition_to_idle();
        assert_eq!(st.transition_to_notified_by_ref(), WakeAction::Schedule);
        assert_eq!(st.transition_to_notified_by_ref(), WakeAction::Nothing);
        assert_eq!(st.load().ref_count(), 3);
    }

    #[test]
    fn abort_of_idle_task_schedules_it() {
        let st = State::new();
        st.transition_to_running();
        st.transition_to_idle();
        assert_eq!(st.transition_to_cancelled(), WakeAction::Schedule);
        assert_eq!(st.transition_to_cancelled(), WakeAction::Nothing);
        assert_eq!(st.transition_to_running(), StartPoll::Cancel);
    }

    #[test]
    fn abort_while_running_is_seen_at_end_of_poll() {
        let st = State::new();
        st.transition_to_running();
        assert_eq!(st.transition_to_cancelled(), WakeAction::Nothing);
        assert_eq!(st.transition_to_idle(), EndPoll::Cancel);
        assert!(st.load().is_running());
    }

    #[test]
    fn completion_clears_a_stale_scheduled_bit() {
        let st = State::new();
        st.transition_to_running();
        st.transition_to_notified_by_ref();
        let s = st.transition_to_complete();
        assert!(s.is_complete() && !s.is_scheduled() && !s.is_running());
        assert_eq!(st.load(), s);
        assert_eq!(st.transition_to_notified_by_ref(), WakeAction::Nothing);
    }

    #[test]
    fn join_waker_cannot_be_set_after_completion() {
        let st = State::new();
        st.transition_to_running();
        st.transition_to_complete();
        assert!(st.set_join_waker().is_err());
        let s = st.unset_join_interest();
        assert!(s.is_complete());
        assert!(!st.load().has_join_interest());
    }

    #[test]
    fn dropping_join_handle_before_completion_takes_the_waker_back() {
        let st = State::new();
        st.set_join_waker().unwrap();
        let prev = st.unset_join_interest();
        assert!(prev.has_join_waker() && !prev.is_complete());
        assert!(!st.load().has_join_waker());
    }

    #[test]
    fn shutdown_takes_idle_and_queued_tasks_but_not_running_ones() {
        let st = State::new();
        assert!(st.transition_to_shutdown());
        assert!(st.load().is_running() && st.load().is_cancelled());
        let busy = State::new();
        busy.transition_to_running();
        assert!(!busy.transition_to_shutdown());
    }

    #[test]
    fn last_reference_is_reported() {
        let st = State::new();
        assert!(!st.ref_dec());
        assert!(st.ref_dec_twice());
    }
}

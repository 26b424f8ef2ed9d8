//! [`Notify`]: wake one waiting task, or all of them, without sending any data (asyncio's
//! `Event` and `Condition` are built from it).
//!
//! # Protocol
//!
//! One `magpie_shim::Mutex` guards the state: a **permit** flag (at most one stored
//! notification) and a [`WaitQueue`] of the [`Notified`] futures that have been polled or
//! enabled. Beside it, an atomic counts the calls to [`Notify::notify_waiters`]; it is written
//! only under the lock and read without it.
//!
//! - **`notified()`** creates a [`Notified`] and records the `notify_waiters` count at that
//!   moment. It does not queue anything yet.
//! - **First poll (or [`Notified::enable`])**, under the lock: if the count has moved since
//!   creation, a `notify_waiters` call happened after the future was created, so it is ready.
//!   Otherwise, if a permit is stored, it takes the permit and is ready. Otherwise it queues
//!   itself at the back of the FIFO.
//! - **`notify_one()`**, under the lock: the first queued waiter is marked notified *by
//!   `notify_one`* and its waker is woken after the lock is released. With nobody queued, the
//!   permit is set (it does not accumulate: two calls store one permit).
//! - **`notify_waiters()`**, under the lock: bumps the count (so every `Notified` created before
//!   the call and not yet queued will find itself ready), marks every queued waiter notified
//!   *by `notify_waiters`* and wakes them all after the lock is released. The permit is left
//!   alone.
//! - **Later polls** find their slot notified (ready) or still waiting (the waker is refreshed).
//! - **A dropped `Notified`** leaves the queue. If `notify_one` had chosen it and it never
//!   returned `Ready`, it passes the notification on exactly as a new `notify_one` would: to the
//!   next queued waiter, or back into the permit. A notification from `notify_waiters` is not
//!   passed on (every waiter of that call got its own).
//!
//! # Memory ordering
//!
//! The `notify_waiters` count is bumped with `Release` (under the lock) and loaded with
//! `Acquire` when a `Notified` is created. A task that creates its `Notified`, then checks a
//! condition, then waits, is therefore never lost: if its load saw the new count, everything the
//! notifier did before `notify_waiters` (setting the condition) is visible to its check; if it
//! saw the old count, its first poll (under the lock) sees the new one or is queued in time to be
//! woken.

use crate::waiters::{Key, Removed, WaitQueue, WakeList};
use magpie_shim::coop;
use magpie_shim::{AtomicUsize, Mutex, Ordering};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Notifies one waiting task, or all of them, with no data attached.
///
/// [`notify_one`](Notify::notify_one) wakes the longest-waiting [`Notified`] future (first come,
/// first served); if none is waiting it stores a single permit, so that the next
/// [`notified()`](Notify::notified) completes at once. [`notify_waiters`](Notify::notify_waiters)
/// wakes every future created before the call and stores nothing.
///
/// Cancelling a [`Notified`] (dropping it) that `notify_one` had already chosen passes the
/// notification on to the next waiter, so it is never lost.
///
/// # Example
///
/// ```
/// use magpie_sync::Notify;
/// use std::sync::Arc;
///
/// let notify = Arc::new(Notify::new());
/// let waiter = {
///     let notify = notify.clone();
///     std::thread::spawn(move || {
///         futures_lite::future::block_on(async {
///             notify.notified().await;
///             "woken"
///         })
///     })
/// };
/// // Whether the waiter is already waiting or not, the notification is not lost: if nobody
/// // waits yet, it is kept as a permit.
/// notify.notify_one();
/// assert_eq!(waiter.join().unwrap(), "woken");
/// ```
pub struct Notify {
    /// How many times `notify_waiters` has been called (wrapping). Written only under `state`'s
    /// lock (`Release`), read by `notified()` without it (`Acquire`).
    waiters_calls: AtomicUsize,
    state: Mutex<State>,
}

struct State {
    /// A `notify_one` that found nobody waiting, kept for the next `Notified`.
    permit: bool,
    /// The polled or enabled `Notified` futures, oldest first. A slot's data says which call
    /// notified it (set when notified; `ByWaiters` until then).
    waiters: WaitQueue<Notification>,
}

/// Which call notified a waiter: only `notify_one`'s notification is passed on by a waiter that
/// is dropped before it could return `Ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Notification {
    ByOne,
    ByWaiters,
}

impl Notify {
    /// A `Notify` with no stored permit and no waiter.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            waiters_calls: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// A `Notify` with no stored permit and no waiter.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            waiters_calls: AtomicUsize::new(0),
            state: Mutex::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// The future is not queued for [`notify_one`](Notify::notify_one) until it is first polled
    /// or [`enable`](Notified::enable)d, but any [`notify_waiters`](Notify::notify_waiters) call
    /// made after this method returns completes it. To check a condition without missing a
    /// wake-up, create the future, `enable` it, check the condition, then await it.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiters_calls: self.waiters_calls.load(Ordering::Acquire),
            stage: Stage::Init,
        }
    }

    /// Wakes the first waiting [`Notified`] (first come, first served), or, if none is waiting,
    /// stores a permit that the next one consumes at once. Permits do not accumulate: one is
    /// stored however many calls find nobody waiting.
    pub fn notify_one(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state.lock();
            state.notify_one(&mut wake);
        }
        wake.wake_all();
    }

    /// Wakes every [`Notified`] future that was created before this call, whether or not it has
    /// been polled yet. Stores no permit: a future created after the call waits for the next
    /// notification.
    pub fn notify_waiters(&self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state.lock();
            // Written only here, under the lock; `fetch_add` wraps. (A load and a store would
            // do, but loom's exploration misses the race of a load-then-store against
            // `notified()`'s load, so the model could not check this ordering.)
            self.waiters_calls.fetch_add(1, Ordering::Release);
            state.waiters.notify_all(&mut wake);
        }
        wake.wake_all();
    }
}

impl State {
    /// `notify_one` under the lock: the first waiter, else the permit.
    fn notify_one(&mut self, wake: &mut WakeList) {
        match self.waiters.front_mut() {
            Some(data) => {
                *data = Notification::ByOne;
                self.waiters.notify_front(wake);
            }
            None => self.permit = true,
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future returned by [`Notify::notified`].
///
/// It is fused: once it has returned `Ready`, every later poll returns `Ready` again. Dropping
/// it before completion leaves no trace, and passes on a notification from
/// [`Notify::notify_one`] that it had already received.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify.waiters_calls` when this future was created.
    waiters_calls: usize,
    stage: Stage,
}

enum Stage {
    /// Not queued yet.
    Init,
    /// Queued (or notified and not yet polled) in the slot named by the key.
    Waiting(Key),
    /// Completed.
    Done,
}

impl Notified<'_> {
    /// Queues this future for [`Notify::notify_one`] without polling it, so that a condition
    /// can be checked after this call without missing a notification sent in between.
    ///
    /// Returns `true` if the future is already ready: a `notify_waiters` call was made after it
    /// was created, it consumed a stored permit (first call only), or it has been notified
    /// since it was queued. Calling it again has no further effect.
    ///
    /// ```
    /// use magpie_sync::Notify;
    /// use std::pin::pin;
    ///
    /// let notify = Notify::new();
    /// let mut notified = pin!(notify.notified());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one(); // delivered to the enabled future, not stored as a permit
    /// assert!(notified.as_mut().enable());
    /// futures_lite::future::block_on(notified);
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None)
    }

    /// The shared step of `poll` and `enable`: whether the future is ready. `waker` is `None`
    /// for `enable`, which queues with a no-op waker and never replaces a real one.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> bool {
        match &self.stage {
            Stage::Done => true,
            Stage::Init => {
                let mut state = self.notify.state.lock();
                // Relaxed: the count is only written under this lock.
                if self.notify.waiters_calls.load(Ordering::Relaxed) != self.waiters_calls {
                    self.stage = Stage::Done;
                    return true;
                }
                if state.permit {
                    state.permit = false;
                    self.stage = Stage::Done;
                    return true;
                }
                let key = state
                    .waiters
                    .push_back(waker.unwrap_or(Waker::noop()), Notification::ByWaiters);
                self.stage = Stage::Waiting(key);
                false
            }
            Stage::Waiting(key) => {
                let mut state = self.notify.state.lock();
                let notified = match waker {
                    Some(waker) => state.waiters.poll(key, waker).is_some(),
                    None => {
                        state.waiters.is_notified(key)
                            && state.waiters.poll(key, Waker::noop()).is_some()
                    }
                };
                if notified {
                    // The slot is freed: forget the key.
                    self.stage = Stage::Done;
                }
                notified
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        if self.get_mut().poll_notified(Some(cx.waker())) {
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Stage::Waiting(key) = std::mem::replace(&mut self.stage, Stage::Done) else {
            return;
        };
        let mut wake = WakeList::new();
        {
            let mut state = self.notify.state.lock();
            if let Removed::Notified(Notification::ByOne) = state.waiters.remove(key) {
                // Chosen by notify_one but never completed: pass it on.
                state.notify_one(&mut wake);
            }
        }
        wake.wake_all();
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Init => "init",
            Stage::Waiting(_) => "waiting",
            Stage::Done => "done",
        };
        f.debug_struct("Notified").field("stage", &stage).finish()
    }
}

// Compile-time checks of the auto traits.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    const fn assert_unpin<T: Unpin>() {}
    assert_send_sync::<Notify>();
    assert_send_sync::<Notified<'static>>();
    assert_unpin::<Notified<'static>>();
};

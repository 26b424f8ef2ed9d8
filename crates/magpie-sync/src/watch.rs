//! A channel that holds one value, the latest: receivers see the newest value and can wait for
//! the next change, but never a history.
//!
//! # Protocol
//!
//! The shared state holds:
//!
//! - the **value**, under its own `magpie_shim::Mutex`; [`Receiver::borrow`] returns a guard
//!   of that lock ([`Ref`]). (tokio uses a read-write lock, so that several `Ref`s may coexist;
//!   here a `Ref` excludes other borrows and senders until it is dropped, so hold it briefly.)
//! - a **state word**: a version, bumped by 2 on every change (under the value lock, so a
//!   reader holding that lock sees the version of the value it reads), and bit 0, `CLOSED`, set
//!   when the last [`Sender`] is dropped;
//! - the counts of senders and receivers;
//! - under a second lock, two `WaitQueue`s (`waiters.rs`): receivers waiting in
//!   [`Receiver::changed`], and senders waiting in [`Sender::closed`].
//!
//! Each receiver remembers the version it has **seen**. A new receiver (from [`channel`],
//! [`Sender::subscribe`] or `clone`) has seen the current value.
//!
//! - **Sending** replaces or modifies the value and bumps the version under the value lock,
//!   then takes the waiters lock and wakes every receiver waiting in `changed` (after releasing
//!   it).
//! - **`changed()`** returns `Ok` at once if the version differs from the one seen (marking it
//!   seen), or `Err` if the channel is closed with nothing unseen. Otherwise it takes the waiters
//!   lock, checks the version again, and queues itself. A sender bumps the version *before*
//!   taking that lock, so either the check sees the new version or the sender finds the receiver
//!   queued: no change is missed.
//! - **Dropping the last `Sender`** sets `CLOSED` and wakes every waiting receiver, which then
//!   returns `Err` (after taking any value it had not seen yet).
//! - **Dropping the last `Receiver`** wakes every [`Sender::closed`] waiter by the same pattern
//!   (the count is decremented before the lock is taken, and checked again under it).
//! - **A dropped `changed()` or `closed()` future** leaves its queue; it has nothing to pass on,
//!   since every waiter of one change is woken by it.

use crate::waiters::{Key, WaitQueue, WakeList};
use magpie_shim::coop;
use magpie_shim::{Arc, AtomicUsize, Mutex, MutexGuard, Ordering};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

pub mod error {
    //! The errors of the [`watch`](super) channel.

    use std::fmt;

    /// [`Sender::send`](super::Sender::send) found no receiver; the value is handed back (and
    /// the channel's value is left unchanged).
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    send_error_impls!(SendError);

    /// Every [`Sender`](super::Sender) was dropped (and, for
    /// [`changed`](super::Receiver::changed), no unseen value is left).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

/// Bit 0 of the state word: every sender is gone.
const CLOSED: usize = 1;
/// What one change adds to the state word (the version lives above `CLOSED`).
const STEP: usize = 2;

struct Shared<T> {
    value: Mutex<T>,
    /// The version (a multiple of `STEP`) plus `CLOSED`. The version is bumped only under the
    /// `value` lock; `CLOSED` is set once, when the last sender goes.
    state: AtomicUsize,
    senders: AtomicUsize,
    receivers: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    /// Receivers waiting in `changed()`.
    changed: WaitQueue<()>,
    /// Senders waiting in `closed()`.
    closed: WaitQueue<()>,
}

impl<T> Shared<T> {
    fn version(&self) -> usize {
        self.state.load(Ordering::Acquire) & !CLOSED
    }

    fn notify_changed(&self) {
        let mut wake = WakeList::new();
        self.waiters.lock().changed.notify_all(&mut wake);
        wake.wake_all();
    }

    /// Whether a receiver that has seen `seen` has something to return: `Ok` (marking the
    /// newest version seen) for a change, `Err` for a closed channel with nothing unseen.
    fn maybe_changed(&self, seen: &mut usize) -> Option<Result<(), RecvError>> {
        let state = self.state.load(Ordering::Acquire);
        let version = state & !CLOSED;
        if version != *seen {
            *seen = version;
            Some(Ok(()))
        } else if state & CLOSED != 0 {
            Some(Err(RecvError(())))
        } else {
            None
        }
    }
}

/// Creates a watch channel holding `init`. The receiver has seen `init`: its first
/// [`changed`](Receiver::changed) waits for a new value.
///
/// # Example
///
/// ```
/// use magpie_sync::watch;
///
/// let (tx, mut rx) = watch::channel("starting");
/// let waiter = std::thread::spawn(move || {
///     futures_lite::future::block_on(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     })
/// });
/// tx.send("running").unwrap();
/// assert_eq!(waiter.join().unwrap(), "running");
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(init);
    let rx = tx.subscribe();
    (tx, rx)
}

/// The sending half of a [`watch`](self) channel. Cloneable; the channel closes when the last
/// sender is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a [`watch`](self) channel. Cloneable: each clone has seen what the
/// original had seen.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen (a multiple of `STEP`).
    seen: usize,
}

/// A borrow of the channel's value: a guard of the value's lock. Senders and other borrows
/// wait while it lives, so do not hold it across an `.await`.
pub struct Ref<'a, T> {
    guard: MutexGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the borrowed value had not been seen by the receiver when it was borrowed
    /// (always `false` for a borrow through the [`Sender`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Sender<T> {
    /// A sender of a new channel holding `init`, with no receiver yet (see
    /// [`subscribe`](Sender::subscribe)).
    pub fn new(init: T) -> Self {
        Self {
            shared: Arc::new(Shared {
                value: Mutex::new(init),
                state: AtomicUsize::new(0),
                senders: AtomicUsize::new(1),
                receivers: AtomicUsize::new(0),
                waiters: Mutex::new(Waiters {
                    changed: WaitQueue::new(),
                    closed: WaitQueue::new(),
                }),
            }),
        }
    }

    /// Replaces the value and notifies every receiver. Fails, handing `value` back and leaving
    /// the channel unchanged, when there is no receiver (use
    /// [`send_replace`](Sender::send_replace) to store it anyway).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value, notifies every receiver and returns the previous value. Works with
    /// no receiver too (a later [`subscribe`](Sender::subscribe) sees the new value).
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut current = self.shared.value.lock();
            let old = std::mem::replace(&mut *current, value);
            self.shared.state.fetch_add(STEP, Ordering::Release);
            old
        };
        self.shared.notify_changed();
        old
    }

    /// Modifies the value in place and notifies every receiver, whether or not it changed.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place; notifies the receivers only if `modify` returns `true`.
    /// Returns what `modify` returned.
    ///
    /// `modify` runs under the value's lock: it must not borrow or send on this channel. If it
    /// panics, the receivers are not notified (the value may have been partly modified).
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = self.shared.value.lock();
            if !modify(&mut value) {
                return false;
            }
            // Under the value lock: a borrower sees the version of the value it reads.
            self.shared.state.fetch_add(STEP, Ordering::Release);
        }
        self.shared.notify_changed();
        true
    }

    /// Borrows the current value (see [`Ref`]); [`Ref::has_changed`] is always `false`.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.lock(),
            has_changed: false,
        }
    }

    /// A new receiver, which has seen the current value. Reopens a channel whose receivers had
    /// all been dropped.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            seen: self.shared.version(),
            shared: self.shared.clone(),
        }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Relaxed)
    }

    /// How many senders exist (clones of this one included).
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Relaxed)
    }

    /// Whether every receiver has been dropped (so [`send`](Sender::send) would fail).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes when every receiver has been dropped (at once if none exists).
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            key: None,
        }
        .await
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::Release);
            self.shared.notify_changed();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("version", &(self.shared.version() / STEP))
            .field("receivers", &self.receiver_count())
            .finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen (see [`Ref`]).
    /// [`Ref::has_changed`] says whether it was unseen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.lock();
        // Read under the value lock: the version of the value in `guard`.
        let has_changed = self.shared.version() != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.lock();
        let version = self.shared.version();
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether the channel holds a value this receiver has not seen. `Err` once every sender
    /// has been dropped, even if an unseen value remains (which `borrow` still reads).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(Ordering::Acquire);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(state & !CLOSED != self.seen)
    }

    /// Marks the current value unseen: the next [`changed`](Receiver::changed) completes at
    /// once.
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version().wrapping_sub(STEP);
    }

    /// Marks the current value seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// Returns `Ok` at once if such a value is already there. Returns `Err` when every sender
    /// has been dropped and no unseen value is left. Cancel safe.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            key: None,
        }
        .await
    }

    /// Waits until the value satisfies `predicate` (checking the current value first), marks it
    /// seen and returns a borrow of it. `Err` when every sender has been dropped and no value,
    /// the last one included, satisfied it.
    ///
    /// `predicate` runs under the value's lock: it must not borrow or send on this channel.
    pub async fn wait_for(
        &mut self,
        mut predicate: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen } = self;
        let shared: &Shared<T> = shared;
        let mut closed = false;
        loop {
            {
                let guard = shared.value.lock();
                let version = shared.version();
                let has_changed = version != *seen;
                *seen = version;
                // After the channel closed, only a value not checked yet is worth checking.
                if (!closed || has_changed) && predicate(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed {
                shared,
                seen: &mut *seen,
                key: None,
            }
            .await
            .is_err();
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.shared, &*other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mut wake = WakeList::new();
            self.shared.waiters.lock().closed.notify_all(&mut wake);
            wake.wake_all();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &(self.seen / STEP))
            .field("version", &(self.shared.version() / STEP))
            .finish_non_exhaustive()
    }
}

/// The future inside [`Receiver::changed`].
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    /// `Some` while queued (or notified and not yet polled).
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = std::task::ready!(coop::poll_proceed(cx));
        if this.key.is_none() {
            if let Some(result) = this.shared.maybe_changed(this.seen) {
                coop.made_progress();
                return Poll::Ready(result);
            }
        }
        let mut waiters = this.shared.waiters.lock();
        // Again under the lock: a sender bumps the version before taking it to notify.
        if let Some(result) = this.shared.maybe_changed(this.seen) {
            waiters.changed.leave(&mut this.key);
            drop(waiters);
            coop.made_progress();
            return Poll::Ready(result);
        }
        // Notified with nothing new to see (cannot happen: a notification follows a change):
        // queue again.
        waiters.changed.wait_again(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.waiters.lock().changed.remove(key);
        }
    }
}

/// The future inside [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let mut waiters = this.shared.waiters.lock();
        // Under the lock: the last receiver decrements the count before taking it to notify.
        if this.shared.receivers.load(Ordering::Acquire) == 0 {
            waiters.closed.leave(&mut this.key);
            drop(waiters);
            coop.made_progress();
            return Poll::Ready(());
        }
        // Notified, but a receiver subscribed since: wait again.
        waiters.closed.wait_again(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.waiters.lock().closed.remove(key);
        }
    }
}

// Compile-time checks of the auto traits: the value is only reached through its lock, so
// `T: Send` is enough for every handle to be `Send` and `Sync`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    struct NotSync(#[allow(dead_code)] std::cell::Cell<u8>);
    assert_send_sync::<Sender<NotSync>>();
    assert_send_sync::<Receiver<NotSync>>();
    assert_send_sync::<Changed<'static, NotSync>>();
    assert_send_sync::<Closed<'static, NotSync>>();
    assert_send_sync::<error::SendError<u8>>();
    assert_send_sync::<error::RecvError>();
};

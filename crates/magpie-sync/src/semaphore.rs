//! [`Semaphore`]: a counting semaphore with FIFO waiters, the base of [`Mutex`](crate::Mutex)
//! and [`RwLock`](crate::RwLock).
//!
//! # Protocol
//!
//! The semaphore is one atomic state word and a [`WaitQueue`] under a `magpie_shim::Mutex`.
//!
//! ```text
//!   state:  | permits available (bits 2..) | QUEUED (bit 1) | CLOSED (bit 0) |
//! ```
//!
//! - **permits**: permits nobody holds and no waiter has been assigned. Taken by a
//!   compare-and-swap (the fast path of `acquire` and `try_acquire`: no lock), given back by a
//!   compare-and-swap when no one waits.
//! - **QUEUED**: the wait queue is not empty. Set and cleared only under the lock, so under
//!   the lock it says exactly whether anyone waits.
//! - **CLOSED**: [`Semaphore::close`] was called; set under the lock, never cleared.
//!
//! **Invariant: QUEUED implies permits == 0.** A waiter that cannot be satisfied takes every
//! available permit as a partial assignment and sets QUEUED in the same compare-and-swap, and
//! while QUEUED is set, permits coming back go to the waiters under the lock, never to the
//! word. So a later `acquire` or `try_acquire` finds no permit while anyone waits, however
//! few permits it wants: **the queue is strictly FIFO**, and a waiter wanting many permits
//! blocks later waiters wanting few (no starvation of large requests, as with tokio).
//!
//! Who wakes whom:
//!
//! 1. `acquire(n)` first tries the fast path. If that fails it takes the lock and retries the
//!    word; if still short it takes what is available, sets QUEUED and queues itself with
//!    `Want { needed: n, assigned: taken }`.
//! 2. Releasing permits (a permit dropped, [`Semaphore::add_permits`]) adds them to the word by
//!    compare-and-swap if QUEUED is clear; otherwise it takes the lock and hands them to the
//!    front waiter (`front_mut`), a few at a time if need be. A waiter whose assignment is
//!    complete is notified (its waker is called after the lock is released) and the next
//!    one is served. When the queue empties, QUEUED is cleared and what is left goes back to
//!    the word.
//! 3. A notified waiter, polled, takes its complete assignment from its slot and returns a
//!    permit.
//! 4. **A cancelled waiter passes its permits on.** Dropping a waiting future removes its slot;
//!    whatever it had been assigned (a partial assignment while queued, or the whole of it
//!    once notified but not yet polled) is released as in step 2, so it reaches the next
//!    waiters.
//! 5. [`Semaphore::close`] sets CLOSED and notifies every waiter with an empty assignment
//!    (their partial assignments go back to the word): their futures return [`AcquireError`],
//!    and so does every later `acquire`. Permits already held stay valid and still come back
//!    when dropped.
//!
//! # Memory ordering
//!
//! Permits guard data (the `Mutex`'s value), so taking permits must happen after whoever gave
//! them back finished with the data: every read-modify-write of the word is `AcqRel` and the
//! loads that feed them `Acquire`. Permits handed over through the queue are ordered by the
//! lock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
// `std::sync::Arc` rather than the shim's: a method receiver must be std's `Arc`
// (`self: Arc<Self>`), which loom's is not, and an `Arc` that only keeps the semaphore alive
// is no part of the protocol loom checks (the shim's `Arc` is `std::sync::Arc` anyway outside
// loom builds).
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use magpie_shim::{coop, AtomicUsize, Mutex, Ordering};

use crate::waiters::{Key, Removed, WaitQueue, WakeList};

const CLOSED: usize = 1;
const QUEUED: usize = 2;
const SHIFT: u32 = 2;

/// What a waiter asks for, and what it has been given so far.
#[derive(Debug)]
struct Want {
    needed: usize,
    assigned: usize,
}

/// A counting semaphore: an async pool of permits, handed out first come, first served.
///
/// `acquire` waits for a permit; the [`SemaphorePermit`] it returns gives the permit back when
/// dropped. Waiters are served strictly in order: one waiting for many permits holds back the
/// ones behind it, even if they want fewer. [`close`](Semaphore::close) fails every waiting
/// and future acquisition.
///
/// # Examples
///
/// ```
/// use magpie_sync::Semaphore;
///
/// futures_lite::future::block_on(async {
///     let semaphore = Semaphore::new(2);
///     let a = semaphore.acquire().await.unwrap();
///     let _b = semaphore.acquire().await.unwrap();
///     assert!(semaphore.try_acquire().is_err());
///     drop(a);
///     assert_eq!(semaphore.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitQueue<Want>>,
}

/// Error from [`Semaphore::acquire`] and friends: the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Error from [`Semaphore::try_acquire`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are available now (or earlier waiters come first).
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl TryAcquireError {
    /// Whether the semaphore was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TryAcquireError::Closed)
    }

    /// Whether there were not enough permits.
    pub fn is_no_permits(&self) -> bool {
        matches!(self, TryAcquireError::NoPermits)
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[cfg(not(loom))]
    pub const fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "Semaphore::new: permits exceed Semaphore::MAX_PERMITS"
        );
        Self {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// A semaphore with `permits` permits (loom's types have no `const` constructors).
    #[cfg(loom)]
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "Semaphore::new: permits exceed Semaphore::MAX_PERMITS"
        );
        Self {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// The same as [`Semaphore::new`] (tokio's name for the `const` constructor).
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Self {
        Self::new(permits)
    }

    /// How many permits are available now (not held, not assigned to a waiter).
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Adds `n` permits, serving waiters first.
    ///
    /// # Panics
    ///
    /// If the semaphore would hold more than [`Semaphore::MAX_PERMITS`] permits.
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` available permits for good; returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let taken = (state >> SHIFT).min(n);
            if taken == 0 {
                return 0;
            }
            match self.state.compare_exchange_weak(
                state,
                state - (taken << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return taken,
                Err(actual) => state = actual,
            }
        }
    }

    /// Closes the semaphore: every waiting and future acquisition fails with
    /// [`AcquireError`]. Permits already held stay valid, and come back when dropped.
    pub fn close(&self) {
        let mut wake = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            let mut returned = 0;
            while let Some(front) = waiters.front_mut() {
                // An empty assignment tells the waiter it failed; what it had goes back.
                returned += std::mem::take(&mut front.assigned);
                waiters.notify_front(&mut wake);
            }
            self.settle_empty_queue(returned);
        }
        wake.wake_all();
    }

    /// Whether [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// Fails only if the semaphore is closed. Waiters are served in the order they first
    /// polled; dropping the future gives up its place (and passes on any permit it had been
    /// handed).
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        Acquire::new(self, 1).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: 1,
        })
    }

    /// Waits for `n` permits, all at once.
    ///
    /// While it waits, permits coming back are set aside for it, and later waiters wait
    /// behind it even if they want fewer permits.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permits = n as usize;
        Acquire::new(self, permits).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Takes one permit if one is available now and no one waits.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(1)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: 1,
        })
    }

    /// Takes `n` permits if they are available now and no one waits.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let permits = n as usize;
        self.try_take(permits)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// [`acquire`](Semaphore::acquire) for a shared semaphore: the permit keeps the
    /// semaphore alive and may be moved anywhere (`'static`).
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a shared semaphore.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permits = n as usize;
        Acquire::new(&self, permits).await?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// [`try_acquire`](Semaphore::try_acquire) for a shared semaphore.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for a shared semaphore.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let permits = n as usize;
        self.try_take(permits)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// The fast path: takes `n` permits from the word if it holds them. While anyone waits
    /// the word holds none, so this never overtakes a waiter.
    #[inline]
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self.state.compare_exchange_weak(
                state,
                state - (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Gives back `n` permits: to the word if no one waits, otherwise to the waiters.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Acquire);
        while state & QUEUED == 0 {
            match self.state.compare_exchange_weak(
                state,
                add_permits_to(state, n),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.release_slow(n);
    }

    #[cold]
    fn release_slow(&self, n: usize) {
        let mut wake = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.release_locked(&mut waiters, n, &mut wake);
        }
        wake.wake_all();
    }

    /// Hands `n` permits to the waiters in order, notifying each one whose assignment is
    /// complete; what is left when the queue is empty goes back to the word. Called under the
    /// lock, with `n == 0` too (a waiter left the queue, which may now be empty).
    fn release_locked(&self, waiters: &mut WaitQueue<Want>, n: usize, wake: &mut WakeList) {
        let mut left = n;
        while left > 0 {
            let Some(front) = waiters.front_mut() else {
                break;
            };
            let give = left.min(front.needed - front.assigned);
            front.assigned += give;
            left -= give;
            if front.assigned == front.needed {
                waiters.notify_front(wake);
            }
        }
        if waiters.is_empty() {
            self.settle_empty_queue(left);
        }
    }

    /// Under the lock, with the queue empty: clears QUEUED and adds `n` permits to the word.
    /// QUEUED may already be clear, and then fast paths may race with us: hence the loop.
    fn settle_empty_queue(&self, n: usize) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let new = add_permits_to(state & !QUEUED, n);
            if new == state {
                return;
            }
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// The slow path of an acquisition, under the lock: takes `n` permits if the word holds
    /// them, or queues the waiter with whatever the word holds as a partial assignment.
    /// `Ok(None)`: acquired; `Ok(Some(key))`: queued.
    fn acquire_or_queue(&self, n: usize, cx: &Context<'_>) -> Result<Option<Key>, AcquireError> {
        let mut waiters = self.waiters.lock();
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(AcquireError(()));
            }
            let available = state >> SHIFT;
            if available >= n {
                match self.state.compare_exchange_weak(
                    state,
                    state - (n << SHIFT),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Ok(None),
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }
            if state & QUEUED == 0 {
                // Take what there is and announce the queue in one step (the invariant:
                // QUEUED implies no permits in the word).
                if let Err(actual) = self.state.compare_exchange_weak(
                    state,
                    (state & CLOSED) | QUEUED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    state = actual;
                    continue;
                }
            }
            // With QUEUED set the word changes only under the lock, which we hold; if it was
            // set already, the invariant says `available` is 0.
            debug_assert!(state & QUEUED == 0 || available == 0);
            let want = Want {
                needed: n,
                assigned: available,
            };
            return Ok(Some(waiters.push_back(cx.waker(), want)));
        }
    }
}

/// `state` with `n` more permits, checking the limit.
#[inline]
fn add_permits_to(state: usize, n: usize) -> usize {
    let permits = state >> SHIFT;
    assert!(
        n <= Semaphore::MAX_PERMITS - permits,
        "a semaphore may hold at most Semaphore::MAX_PERMITS permits"
    );
    state + (n << SHIFT)
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Self::new(0)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &(state >> SHIFT))
            .field("waiters", &(state & QUEUED != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// The future of an acquisition of `needed` permits; on `Ok` the caller owns them. Not to be
/// polled again after it returned `Ready` (the async methods wrapping it never do).
pub(crate) struct Acquire<'a> {
    semaphore: &'a Semaphore,
    needed: usize,
    /// Our slot in the wait queue, while queued or notified but not yet polled.
    key: Option<Key>,
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(semaphore: &'a Semaphore, needed: usize) -> Self {
        Self {
            semaphore,
            needed,
            key: None,
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let spent = ready!(coop::poll_proceed(cx));
        let result = match &this.key {
            None => match this.semaphore.try_take(this.needed) {
                Ok(()) => Ok(()),
                Err(TryAcquireError::Closed) => Err(AcquireError(())),
                Err(TryAcquireError::NoPermits) => {
                    match this.semaphore.acquire_or_queue(this.needed, cx) {
                        Ok(Some(key)) => {
                            this.key = Some(key);
                            return Poll::Pending;
                        }
                        Ok(None) => Ok(()),
                        Err(e) => Err(e),
                    }
                }
            },
            Some(key) => {
                let mut waiters = this.semaphore.waiters.lock();
                match waiters.poll(key, cx.waker()) {
                    None => return Poll::Pending,
                    Some(want) => {
                        drop(waiters);
                        this.key = None;
                        if want.assigned == want.needed {
                            Ok(())
                        } else {
                            // Closed: `close` emptied the assignment.
                            debug_assert_eq!(want.assigned, 0);
                            Err(AcquireError(()))
                        }
                    }
                }
            }
        };
        spent.made_progress();
        Poll::Ready(result)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wake = WakeList::new();
        {
            let mut waiters = self.semaphore.waiters.lock();
            let assigned = match waiters.remove(key) {
                Removed::Waiting(want) | Removed::Notified(want) => want.assigned,
            };
            // Pass on what we had been given; with nothing, still settle an emptied queue.
            self.semaphore
                .release_locked(&mut waiters, assigned, &mut wake);
        }
        wake.wake_all();
    }
}

/// Permits from a borrowed [`Semaphore`]; dropping it gives them back.
#[must_use = "the permits are given back as soon as the permit is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits from ever going back: the semaphore has that many fewer for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Takes over `other`'s permits.
    ///
    /// # Panics
    ///
    /// If `other` comes from another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "SemaphorePermit::merge: the permits come from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            semaphore: self.semaphore,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("semaphore", &self.semaphore)
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits from a shared [`Semaphore`] (`Arc`), `'static`; dropping it gives them back.
#[must_use = "the permits are given back as soon as the permit is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits from ever going back: the semaphore has that many fewer for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Takes over `other`'s permits.
    ///
    /// # Panics
    ///
    /// If `other` comes from another semaphore.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "OwnedSemaphorePermit::merge: the permits come from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit, or `None` if this holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(Self {
            semaphore: self.semaphore.clone(),
            permits: n,
        })
    }

    /// The semaphore the permits come from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("semaphore", &self.semaphore)
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(not(loom))]
#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<Semaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<AcquireError>();
    send_sync::<TryAcquireError>();
    send_sync::<Acquire<'static>>();
    unpin::<Acquire<'static>>();
}

//! [`Mutex`]: an async mutual-exclusion lock, fair (first come, first served).
//!
//! # Protocol
//!
//! A `Mutex` is a [`Semaphore`] with one permit beside the value. Locking acquires the permit
//! (so waiters queue in the semaphore's FIFO, and a guard released while others wait goes
//! straight to the first of them: nobody barges in); the guard gives the permit back when
//! dropped. A `lock` future dropped while waiting leaves the queue, and one dropped after the
//! permit was handed to it passes the permit on to the next waiter: that is the semaphore's
//! protocol, described in `semaphore.rs`, and the semaphore's loom models cover it. The
//! semaphore of a `Mutex` is never closed, so `lock` cannot fail.
//!
//! The value lives in a `std::cell::UnsafeCell`, not the shim's: a guard hands out `&mut T`
//! for as long as it lives, which loom's closure-scoped cell cannot express. What makes the
//! access exclusive is the permit, whose hand-over the loom models check.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
// std's `Arc` as in `semaphore.rs`: a `self: Arc<Self>` receiver must be std's.
use std::sync::Arc;

use crate::semaphore::{Acquire, Semaphore};

/// An async mutex: `lock().await` waits for the value without blocking the thread.
///
/// Fair: waiters get the lock in the order they asked for it. Unlike `std::sync::Mutex`, a
/// guard may be held across an `.await`, and there is no poisoning: a panic while holding the
/// guard just unlocks it.
///
/// # Examples
///
/// ```
/// use magpie_sync::Mutex;
/// use std::sync::Arc;
///
/// futures_lite::future::block_on(async {
///     let count = Arc::new(Mutex::new(0));
///     let other = count.clone();
///     std::thread::spawn(move || {
///         futures_lite::future::block_on(async { *other.lock().await += 1 })
///     })
///     .join()
///     .unwrap();
///     *count.lock().await += 1;
///     assert_eq!(*count.lock().await, 2);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: `Send` is automatic (the semaphore is `Send`, `UnsafeCell<T>` is `Send` for
// `T: Send`). Sharing a `Mutex` lets any thread get `&mut T` through a guard, one thread at a
// time (the single permit), so `T` must be `Send` (as for `std::sync::Mutex`), but need not be
// `Sync`: no two threads ever hold references to the value at once.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Error from [`Mutex::try_lock`] and [`RwLock::try_read`](crate::RwLock::try_read) /
/// [`try_write`](crate::RwLock::try_write): the lock is held (or others wait for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self {
            semaphore: Semaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// An unlocked mutex holding `value` (loom's types have no `const` constructors).
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self {
            semaphore: Semaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// The same as [`Mutex::new`] (tokio's name for the `const` constructor).
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Self::new(value)
    }

    /// The value, taken out of the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock and returns a guard that unlocks it when dropped.
    ///
    /// Fair: waiters are served in the order they first polled. Dropping the future gives up
    /// its place in the queue (and passes the lock on if it had just been handed over).
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard {
            mutex: self,
            _value: PhantomData,
        }
    }

    /// [`lock`](Mutex::lock) for a shared mutex: the guard keeps the mutex alive and is
    /// `'static`.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard {
            mutex: self,
            _value: PhantomData,
        }
    }

    /// Takes the lock if it is free now and no one waits for it.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(MutexGuard {
                mutex: self,
                _value: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// [`try_lock`](Mutex::try_lock) for a shared mutex.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                mutex: self,
                _value: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, borrowed mutably: no lock needed, the borrow proves nobody else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    async fn acquire(&self) {
        if Acquire::new(&self.semaphore, 1).await.is_err() {
            unreachable!("a Mutex's semaphore is never closed");
        }
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Holds a [`Mutex`] locked; unlocks it when dropped. Dereferences to the value.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// `Sync` only for `T: Sync` (the guard hands out `&T`); `Send` for `T: Send` comes with
    /// `&Mutex<T>`.
    _value: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit until it is dropped, after this
        // borrow ends, so no `&mut T` exists meanwhile; taking the permit (an `AcqRel`
        // exchange or the semaphore's lock) ordered the previous holder's accesses before ours.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit (see `deref`), and `&mut self` keeps
        // this the only borrow of the value through it.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Holds a shared [`Mutex`] (`Arc`) locked, `'static`; unlocks it when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    /// `Sync` only for `T: Sync` (the guard hands out `&T`).
    _value: PhantomData<T>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard holds.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit until it is dropped, after this
        // borrow ends, so no `&mut T` exists meanwhile; taking the permit (an `AcqRel`
        // exchange or the semaphore's lock) ordered the previous holder's accesses before ours.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit (see `deref`), and `&mut self` keeps
        // this the only borrow of the value through it.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

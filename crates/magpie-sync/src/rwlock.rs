//! [`RwLock`]: an async reader-writer lock, fair (first come, first served).
//!
//! # Protocol
//!
//! An `RwLock` is a [`Semaphore`] with `max_readers` permits beside the value. A reader
//! acquires one permit, a writer all of them, so any number of readers up to `max_readers`
//! share the lock and a writer excludes everyone. The semaphore's queue is strictly FIFO, so
//! a waiting writer holds back the readers that come after it: as the readers ahead of it
//! leave, their permits are set aside for the writer rather than handed to new readers, and
//! **a writer is never starved** by a stream of readers. A writer that is dropped while
//! waiting passes on the permits set aside for it (to the readers queued behind it, say).
//! That is all the semaphore's protocol (`semaphore.rs`), checked by its loom models; the
//! semaphore of an `RwLock` is never closed, so `read` and `write` cannot fail.
//!
//! The value lives in a `std::cell::UnsafeCell` for the reason given in `mutex.rs`: a guard
//! hands out references for as long as it lives. The permits make the access safe.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
// std's `Arc` as in `semaphore.rs`: a `self: Arc<Self>` receiver must be std's.
use std::sync::Arc;

use crate::mutex::TryLockError;
use crate::semaphore::{Acquire, Semaphore};

/// The most readers an [`RwLock`] admits at once (and the default).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: many readers or one writer at a time.
///
/// Fair: requests are served in the order they were made, so a waiting writer is not starved
/// by readers arriving after it (they wait behind it). A guard may be held across an
/// `.await`; there is no poisoning.
///
/// # Examples
///
/// ```
/// use magpie_sync::RwLock;
///
/// futures_lite::future::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let a = lock.read().await;
///         let b = lock.read().await;
///         assert_eq!(*a + *b, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    semaphore: Semaphore,
    value: UnsafeCell<T>,
}

// SAFETY: `Send` is automatic for `T: Send`. Sharing an `RwLock` lets several threads hold
// `&T` at once (read guards), so `T: Sync`, and lets any thread get `&mut T` (a write guard),
// so `T: Send`, as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`, admitting up to `u32::MAX >> 3` readers at once.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self::const_with_max_readers(value, MAX_READS)
    }

    /// An unlocked lock holding `value` (loom's types have no `const` constructors).
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// The same as [`RwLock::new`] (tokio's name for the `const` constructor).
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Self {
        Self::new(value)
    }

    /// An unlocked lock holding `value`, admitting up to `max_readers` readers at once.
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or exceeds `u32::MAX >> 3`.
    #[cfg(not(loom))]
    pub fn with_max_readers(value: T, max_readers: u32) -> Self {
        Self::const_with_max_readers(value, max_readers)
    }

    /// An unlocked lock holding `value`, admitting up to `max_readers` readers at once.
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or exceeds `u32::MAX >> 3`.
    #[cfg(loom)]
    pub fn with_max_readers(value: T, max_readers: u32) -> Self {
        Self::check_max_readers(max_readers);
        Self {
            max_readers,
            semaphore: Semaphore::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    /// [`RwLock::with_max_readers`] as a `const fn`.
    ///
    /// # Panics
    ///
    /// If `max_readers` is 0 or exceeds `u32::MAX >> 3`.
    #[cfg(not(loom))]
    pub const fn const_with_max_readers(value: T, max_readers: u32) -> Self {
        Self::check_max_readers(max_readers);
        Self {
            max_readers,
            semaphore: Semaphore::new(max_readers as usize),
            value: UnsafeCell::new(value),
        }
    }

    const fn check_max_readers(max_readers: u32) {
        assert!(max_readers != 0, "RwLock: max_readers must be at least 1");
        assert!(
            max_readers <= MAX_READS,
            "RwLock: max_readers must be at most u32::MAX >> 3"
        );
    }

    /// The value, taken out of the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits until no writer holds or waits ahead of us, then returns a read guard.
    ///
    /// Fair: a writer that asked first is served first. Dropping the future gives up its
    /// place in the queue.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard { lock: self }
    }

    /// Waits until no one else holds the lock or waits ahead of us, then returns a write
    /// guard.
    ///
    /// While it waits, readers that come later wait behind it. Dropping the future gives up
    /// its place and passes on what had been set aside for it.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers).await;
        RwLockWriteGuard {
            lock: self,
            _value: PhantomData,
        }
    }

    /// [`read`](RwLock::read) for a shared lock: the guard keeps the lock alive and is
    /// `'static`.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        OwnedRwLockReadGuard {
            lock: self,
            _value: PhantomData,
        }
    }

    /// [`write`](RwLock::write) for a shared lock: the guard keeps the lock alive and is
    /// `'static`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers).await;
        OwnedRwLockWriteGuard {
            lock: self,
            _value: PhantomData,
        }
    }

    /// A read guard if no writer holds the lock or waits for it now.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_take(1)?;
        Ok(RwLockReadGuard { lock: self })
    }

    /// A write guard if no one holds the lock or waits for it now.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_take(self.max_readers)?;
        Ok(RwLockWriteGuard {
            lock: self,
            _value: PhantomData,
        })
    }

    /// [`try_read`](RwLock::try_read) for a shared lock.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_take(1)?;
        Ok(OwnedRwLockReadGuard {
            lock: self,
            _value: PhantomData,
        })
    }

    /// [`try_write`](RwLock::try_write) for a shared lock.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_take(self.max_readers)?;
        Ok(OwnedRwLockWriteGuard {
            lock: self,
            _value: PhantomData,
        })
    }

    /// The value, borrowed mutably: no lock needed, the borrow proves nobody else holds it.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    async fn acquire(&self, permits: u32) {
        if Acquire::new(&self.semaphore, permits as usize)
            .await
            .is_err()
        {
            unreachable!("an RwLock's semaphore is never closed");
        }
    }

    fn try_take(&self, permits: u32) -> Result<(), TryLockError> {
        self.semaphore
            .try_take(permits as usize)
            .map_err(|_| TryLockError(()))
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s value; releases it when dropped.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: the guard only hands out `&T` and gives one permit back when dropped, which any
// thread may do. Moving it or sharing it across threads shares `&T`: `T: Sync` is enough
// (`T: Send` is not needed, as no `&mut T` can come from it).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as for `Send`: `&RwLockReadGuard` gives nothing but `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> Deref for RwLockReadGuard<'a, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a permit until it is dropped, after this borrow ends, which
        // keeps out any writer (a writer needs every permit): no `&mut T` exists meanwhile.
        // Taking the permit ordered the last writer's accesses before ours.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

/// Exclusive access to an [`RwLock`]'s value; releases it when dropped.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// `Send` and `Sync` only for `T: Send + Sync` (with `&RwLock<T>`).
    _value: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting a writer in between; the
    /// readers queued behind may now be admitted as well.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.semaphore.release(lock.max_readers as usize - 1);
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit until it is dropped, after this borrow ends:
        // no other guard exists, and `&self` allows no `&mut T` through this one meanwhile.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit, so no other guard exists, and `&mut self`
        // keeps this the only borrow through this one. Taking the permits ordered every
        // earlier holder's accesses before ours.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(self.lock.max_readers as usize);
    }
}

/// Shared access to a shared [`RwLock`] (`Arc`), `'static`; releases it when dropped.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    /// With the `Arc`: `Send` and `Sync` for `T: Send + Sync`.
    _value: PhantomData<T>,
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a permit until it is dropped, after this borrow ends, which
        // keeps out any writer (a writer needs every permit): no `&mut T` exists meanwhile.
        // Taking the permit ordered the last writer's accesses before ours.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

/// Exclusive access to a shared [`RwLock`] (`Arc`), `'static`; releases it when dropped.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
    /// With the `Arc`: `Send` and `Sync` for `T: Send + Sync`.
    _value: PhantomData<T>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns the write lock into a read lock without letting a writer in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out exactly
        // once (its `Drop`, which would release every permit, is skipped).
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.semaphore.release(lock.max_readers as usize - 1);
        OwnedRwLockReadGuard {
            lock,
            _value: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit until it is dropped, after this borrow ends:
        // no other guard exists, and `&self` allows no `&mut T` through this one meanwhile.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit, so no other guard exists, and `&mut self`
        // keeps this the only borrow through this one. Taking the permits ordered every
        // earlier holder's accesses before ours.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(self.lock.max_readers as usize);
    }
}

macro_rules! guard_fmt {
    ($($guard:ident $(<$lt:lifetime>)?),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}

guard_fmt!(
    RwLockReadGuard<'_>,
    RwLockWriteGuard<'_>,
    OwnedRwLockReadGuard,
    OwnedRwLockWriteGuard
);

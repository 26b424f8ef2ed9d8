//! The one door to concurrency primitives.
//!
//! Every atomic, lock, condition variable, cell and deque the crate uses comes from here. In a
//! normal build these are `std`, `parking_lot` and `crossbeam-deque`; under `--cfg loom` they
//! are loom's model types, so the loom models in `src/**/loom_tests.rs` explore every interleaving of
//! the task state machine and the park/unpark protocol. loom cannot see inside crossbeam-deque
//! or parking_lot, so under loom the deque is a `Mutex<VecDeque>` with the same interface.
//!
//! Nothing else in the crate imports `std::sync::atomic`, `parking_lot` or `crossbeam_deque`.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize};
    pub(crate) use std::sync::Arc;

    /// `UnsafeCell` with loom's closure-based interface, so every access is visible to loom.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// A mutex whose `lock` cannot fail (parking_lot's, which does not poison).
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(parking_lot::const_mutex(value))
        }
        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
        #[inline]
        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock()
        }
    }

    /// A condition variable paired with [`Mutex`].
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Self {
            Self(parking_lot::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }
        /// Waits at most `timeout`; returns the guard and whether the wait timed out.
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            mut guard: MutexGuard<'a, T>,
            timeout: std::time::Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            let timed_out = self.0.wait_for(&mut guard, timeout).timed_out();
            (guard, timed_out)
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    pub(crate) mod deque {
        pub(crate) use crossbeam_deque::{Injector, Steal, Stealer, Worker};
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize};
    pub(crate) use loom::sync::Arc;

    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _timeout: std::time::Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            // loom has no time: a timed wait is modelled as a wait that may wake spuriously.
            (self.0.wait(guard).unwrap(), false)
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// crossbeam-deque's interface over a loom `Mutex<VecDeque>` (all of the interface the
    /// scheduler may use, so some of it is idle in a given model).
    #[allow(dead_code)]
    pub(crate) mod deque {
        use super::{Arc, Mutex};
        use std::collections::VecDeque;

        pub(crate) enum Steal<T> {
            Empty,
            Success(T),
            Retry,
        }

        impl<T> Steal<T> {
            pub(crate) fn success(self) -> Option<T> {
                match self {
                    Steal::Success(t) => Some(t),
                    _ => None,
                }
            }
            pub(crate) fn is_retry(&self) -> bool {
                matches!(self, Steal::Retry)
            }
        }

        pub(crate) struct Worker<T>(Arc<Mutex<VecDeque<T>>>);
        pub(crate) struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);
        pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

        impl<T> Worker<T> {
            pub(crate) fn new_fifo() -> Self {
                Worker(Arc::new(Mutex::new(VecDeque::new())))
            }
            pub(crate) fn stealer(&self) -> Stealer<T> {
                Stealer(self.0.clone())
            }
            pub(crate) fn push(&self, t: T) {
                self.0.lock().push_back(t);
            }
            pub(crate) fn pop(&self) -> Option<T> {
                self.0.lock().pop_front()
            }
            pub(crate) fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
            pub(crate) fn len(&self) -> usize {
                self.0.lock().len()
            }
        }

        impl<T> Stealer<T> {
            pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
                let mut q = self.0.lock();
                match q.pop_front() {
                    None => Steal::Empty,
                    Some(t) => {
                        let half = q.len() / 2;
                        let moved: Vec<T> = q.drain(..half).collect();
                        drop(q);
                        for m in moved {
                            dest.push(m);
                        }
                        Steal::Success(t)
                    }
                }
            }
            pub(crate) fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
        }

        impl<T> Injector<T> {
            pub(crate) fn new() -> Self {
                Injector(Mutex::new(VecDeque::new()))
            }
            pub(crate) fn push(&self, t: T) {
                self.0.lock().push_back(t);
            }
            pub(crate) fn steal(&self) -> Steal<T> {
                match self.0.lock().pop_front() {
                    None => Steal::Empty,
                    Some(t) => Steal::Success(t),
                }
            }
            pub(crate) fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
                let mut q = self.0.lock();
                match q.pop_front() {
                    None => Steal::Empty,
                    Some(t) => {
                        let n = q.len().min(4);
                        let moved: Vec<T> = q.drain(..n).collect();
                        drop(q);
                        for m in moved {
                            dest.push(m);
                        }
                        Steal::Success(t)
                    }
                }
            }
            pub(crate) fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
        }
    }
}

pub(crate) use imp::*;

/// Atomics that loom does not model: process-wide counters (task ids) that order nothing.
pub(crate) mod unmodelled {
    pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
}

/// `loom::model` that reports how many interleavings it explored (for docs/reliability.md).
#[cfg(all(test, loom))]
pub(crate) fn loom_model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    use unmodelled::{AtomicU64, Ordering};
    let runs = std::sync::Arc::new(AtomicU64::new(0));
    let counter = runs.clone();
    loom::model(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f();
    });
    println!(
        "loom: {name}: {} interleavings explored",
        runs.load(Ordering::Relaxed)
    );
}

pub(crate) use std::sync::atomic::Ordering;

/// An `Arc` for trait objects: loom's `Arc` cannot hold `dyn Trait`. Only for values whose
/// sharing needs no model (the driver, user hooks).
pub(crate) use std::sync::Arc as DynArc;

//! magpie-shim: what every magpie crate shares below the runtime.
//!
//! - The one door to concurrency primitives (this file): atomics, locks, condition
//!   variables, cells and deques, swapped for loom's models under `--cfg loom`.
//! - [`coop`]: the cooperative budget, a thread-local that the scheduler refills before each
//!   poll and every leaf future (timers, sockets, magpie-sync's waits) spends. It lives here
//!   because magpie-sync, which must not depend on the runtime, spends it too.
//! - [`diagnostics`]: the one door for the runtime's own messages to a person.
//!
//! # The door to concurrency primitives
//!
//! Every atomic, lock, condition variable, cell and deque that magpie-core, magpie-timer and
//! the facade use comes from here. In a
//! normal build these are `std`, `parking_lot` and `crossbeam-deque`; under `--cfg loom` they
//! are loom's model types, so the loom models in each crate's `src/**/loom_tests.rs` explore every interleaving of
//! the task state machine and the park/unpark protocol. loom cannot see inside crossbeam-deque
//! or parking_lot, so under loom the deque is a `Mutex<VecDeque>` with the same interface.
//!
//! No other magpie crate imports `std::sync::atomic`, `parking_lot` or `crossbeam_deque` for
//! state shared between threads.
//!
//! The types mirror the `std` / loom APIs they stand for and are documented there.

#[cfg(not(loom))]
#[allow(missing_docs)]
mod imp {
    pub use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
    pub use std::sync::Arc;

    /// `UnsafeCell` with loom's closure-based interface, so every access is visible to loom.
    #[derive(Debug)]
    pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// A mutex whose `lock` cannot fail (parking_lot's, which does not poison).
    #[derive(Debug, Default)]
    pub struct Mutex<T>(parking_lot::Mutex<T>);
    pub type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub const fn new(value: T) -> Self {
            Self(parking_lot::const_mutex(value))
        }
        #[inline]
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
        #[inline]
        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock()
        }
    }

    /// A condition variable paired with [`Mutex`].
    #[derive(Debug, Default)]
    pub struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub const fn new() -> Self {
            Self(parking_lot::Condvar::new())
        }
        pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }
        /// Waits at most `timeout`; returns the guard and whether the wait timed out.
        pub fn wait_timeout<'a, T>(
            &self,
            mut guard: MutexGuard<'a, T>,
            timeout: std::time::Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            let timed_out = self.0.wait_for(&mut guard, timeout).timed_out();
            (guard, timed_out)
        }
        pub fn notify_one(&self) {
            self.0.notify_one();
        }
        pub fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    pub mod deque {
        pub use crossbeam_deque::{Injector, Steal, Stealer, Worker};
    }
}

#[cfg(loom)]
#[allow(missing_docs)]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize};
    pub use loom::sync::Arc;

    #[derive(Debug, Default)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);
    pub type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    #[derive(Debug, Default)]
    pub struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }
        pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }
        pub fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _timeout: std::time::Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            // loom has no time: a timed wait is modelled as a wait that may wake spuriously.
            (self.0.wait(guard).unwrap(), false)
        }
        pub fn notify_one(&self) {
            self.0.notify_one();
        }
        pub fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// crossbeam-deque's interface over a loom `Mutex<VecDeque>` (all of the interface the
    /// scheduler may use, so some of it is idle in a given model).
    #[allow(dead_code)]
    pub mod deque {
        use super::{Arc, Mutex};
        use std::collections::VecDeque;

        pub enum Steal<T> {
            Empty,
            Success(T),
            Retry,
        }

        impl<T> Steal<T> {
            pub fn success(self) -> Option<T> {
                match self {
                    Steal::Success(t) => Some(t),
                    _ => None,
                }
            }
            pub fn is_retry(&self) -> bool {
                matches!(self, Steal::Retry)
            }
        }

        pub struct Worker<T>(Arc<Mutex<VecDeque<T>>>);
        pub struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);
        pub struct Injector<T>(Mutex<VecDeque<T>>);

        impl<T> Worker<T> {
            pub fn new_fifo() -> Self {
                Worker(Arc::new(Mutex::new(VecDeque::new())))
            }
            pub fn stealer(&self) -> Stealer<T> {
                Stealer(self.0.clone())
            }
            pub fn push(&self, t: T) {
                self.0.lock().push_back(t);
            }
            pub fn pop(&self) -> Option<T> {
                self.0.lock().pop_front()
            }
            pub fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
            pub fn len(&self) -> usize {
                self.0.lock().len()
            }
        }

        impl<T> Stealer<T> {
            pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
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
            pub fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
            pub fn len(&self) -> usize {
                self.0.lock().len()
            }
        }

        impl<T> Default for Injector<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T> Injector<T> {
            pub fn new() -> Self {
                Injector(Mutex::new(VecDeque::new()))
            }
            pub fn push(&self, t: T) {
                self.0.lock().push_back(t);
            }
            pub fn steal(&self) -> Steal<T> {
                match self.0.lock().pop_front() {
                    None => Steal::Empty,
                    Some(t) => Steal::Success(t),
                }
            }
            pub fn steal_batch_and_pop(&self, dest: &Worker<T>) -> Steal<T> {
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
            pub fn is_empty(&self) -> bool {
                self.0.lock().is_empty()
            }
            pub fn len(&self) -> usize {
                self.0.lock().len()
            }
        }
    }
}

pub use imp::*;

pub mod coop;
pub mod diagnostics;

/// Atomics and a lock that loom does not model: process-wide counters (task ids) and
/// runtime metrics, which order nothing another thread relies on.
pub mod unmodelled {
    pub use parking_lot::Mutex;
    pub use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
}

/// splitmix64's finalizer of `seed`, never zero: the start state of a xorshift generator
/// (the seeded task order, `select!`'s branch order) whose neighbouring seeds give unrelated
/// sequences.
pub fn seed_state(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) | 1
}

/// `loom::model` that reports how many interleavings it explored (for docs/reliability.md).
#[cfg(loom)]
pub fn loom_model(name: &str, f: impl Fn() + Sync + Send + 'static) {
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

pub use std::sync::atomic::Ordering;

/// An `Arc` for trait objects: loom's `Arc` cannot hold `dyn Trait`. Only for values whose
/// sharing needs no model (the driver, user hooks).
pub use std::sync::Arc as DynArc;

/// Pads and aligns a value to a cache line, so that per-worker or per-shard fields written by
/// different threads do not share one.
pub use crossbeam_utils::CachePadded;

//! Helpers shared by magpie-sync's integration tests: a waker that counts its wake-ups, polling
//! a future once with a given waker, a watchdog against hangs, a drop counter and a compile-time
//! check that a type lacks a trait.

// Each test file is its own crate and uses only part of this module.
#![allow(dead_code, unused_macros, unused_imports)]

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

/// A waker that counts its wake-ups.
pub(crate) struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh counting waker and its count.
pub(crate) fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

/// How often the waker of `count` has been woken so far.
pub(crate) fn wakes(count: &Count) -> usize {
    count.0.load(Ordering::SeqCst)
}

/// Polls `future` once with `waker`.
pub(crate) fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Runs `body` on its own thread and fails the test if it takes more than 10 s (a hang); a
/// panic in `body` is passed on.
pub(crate) fn watchdog<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, finished) = mpsc::channel();
    let thread = thread::spawn(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(body)));
    });
    match finished.recv_timeout(Duration::from_secs(10)) {
        Ok(result) => {
            thread.join().unwrap();
            result.unwrap_or_else(|panic| resume_unwind(panic))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => resume_unwind(thread.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test hung for 10 s"),
    }
}

/// Counts the drops of its values.
#[derive(Debug)]
pub(crate) struct Tracked(pub Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Compiles only if `$t` does not implement `$trait` (two candidate impls make the call
/// ambiguous exactly when it does).
macro_rules! assert_not_impl {
    ($t:ty: $trait:path) => {{
        trait AmbiguousIfImpl<A> {
            fn check() {}
        }
        impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
        #[allow(dead_code)]
        struct Invalid;
        impl<T: ?Sized + $trait> AmbiguousIfImpl<Invalid> for T {}
        <$t as AmbiguousIfImpl<_>>::check();
    }};
}
pub(crate) use assert_not_impl;

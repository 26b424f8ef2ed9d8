//! `block_on` for the `blocking_*` methods: polls a future on the current thread, parking the
//! thread between polls.
//!
//! It is not magpie-core's `block_on`, on purpose: magpie-sync works on any executor and
//! must not depend on the runtime, and a `blocking_*` call needs none of what the runtime's
//! `block_on` adds (entering the runtime's context, the nesting check, the runnable
//! accounting of paused time, the cooperative budget). This one is only a poll-park loop.
//!
//! The waker unparks the blocked thread. It holds a flag so that a wake that comes between a
//! poll returning `Pending` and the thread parking is not lost (`park` may also return
//! spuriously; the flag tells the two apart). The flag is a `std` atomic, not the loom shim's:
//! the waker is shared through `std::task::Wake`, which needs `std::sync::Arc`, and the
//! `blocking_*` methods are not part of any loom model (loom models use `loom::future::block_on`).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a thread blocked in [`block_on`].
struct Unparker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unparker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if !self.woken.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

/// Runs `future` to completion on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let unparker = std::sync::Arc::new(Unparker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unparker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        while !unparker.woken.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
}

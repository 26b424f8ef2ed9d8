//! Running a future to completion on the calling thread.

use crate::context;
use crate::scheduler::Handle;
use crate::sync::{Condvar, DynArc, Mutex};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

/// Wakes the thread blocked in `block_on`.
struct ThreadWaker {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Wake for ThreadWaker {
    fn wake(self: DynArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &DynArc<Self>) {
        *self.notified.lock() = true;
        self.condvar.notify_one();
    }
}

impl ThreadWaker {
    fn wait(&self) {
        let mut notified = self.notified.lock();
        while !*notified {
            notified = self.condvar.wait(notified);
        }
        *notified = false;
    }
}

/// Runs `future` on this thread, with `handle` as the current runtime, until it completes.
/// A panic in the future propagates to the caller.
///
/// # Panics
///
/// When the thread is already inside a runtime (a worker thread, or inside another
/// `block_on`): blocking there would stall the runtime's workers, or deadlock.
pub fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _entered = context::try_enter().unwrap_or_else(|()| {
        panic!(
            "Cannot start block_on from inside a magpie runtime: this thread is already \
             driving asynchronous tasks (a worker thread, or inside another block_on). \
             Use `.await` instead, or move the blocking code to spawn_blocking."
        )
    });
    let _handle = context::set_handle(handle.clone());
    let thread_waker = DynArc::new(ThreadWaker {
        notified: Mutex::new(false),
        condvar: Condvar::new(),
    });
    let waker = Waker::from(thread_waker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        let polled = {
            let _polling = handle.enter_block_on_poll();
            future.as_mut().poll(&mut cx)
        };
        if let Poll::Ready(output) = polled {
            return output;
        }
        thread_waker.wait();
    }
}

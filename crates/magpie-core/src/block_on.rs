//! Running a future to completion on the calling thread.
//!
//! magpie-sync has a second, bare `block_on` (`magpie-sync/src/blocking.rs`) for its
//! `blocking_*` methods: that crate must not depend on the runtime. This one is the runtime's:
//! it enters the runtime's context, refuses to nest, counts the future for paused time and
//! budgets each poll.
//!
//! # Runnable accounting
//!
//! A runtime whose clock is paused jumps to its next timer only when nothing else can make
//! progress, and a `block_on` future can: while it is being polled, and after it was woken
//! until it is polled again. So the runtime counts such futures (`block_on_runnable`):
//!
//! - `block_on` counts one before its first poll;
//! - a wake that finds the future not yet notified counts one (under the waker's lock), and
//!   the poll that consumes the notification uses that count;
//! - each poll's count is given back when the poll returns (at zero the driver is told the
//!   runtime may be idle);
//! - when `block_on` ends (output or panic) it marks the waker done, so later wakes count
//!   nothing, and gives back the count of a notification that will never be consumed.
//!
//! # Cooperative budget
//!
//! Each poll of the future runs under `coop::with_budget`, as a task's poll does on a
//! worker: the leaf futures it awaits yield (wake, `Pending`) after `coop::BUDGET`
//! operations, and the next poll starts with a fresh budget. The budget in force before
//! (none, on a plain thread or in a `spawn_blocking` closure) is restored after each poll.

use crate::context;
use crate::scheduler::Handle;
use magpie_shim::{coop, Arc, AtomicUsize, Condvar, DynArc, Mutex, Ordering};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

#[derive(Default)]
struct WakeState {
    /// Woken since the last poll began.
    notified: bool,
    /// `block_on` returned: wakes are ignored.
    done: bool,
}

/// Wakes the thread blocked in `block_on`. It holds the runtime's runnable count, not the
/// runtime: a waker kept somewhere after the runtime is gone keeps nothing else alive.
struct ThreadWaker {
    state: Mutex<WakeState>,
    condvar: Condvar,
    runnable: Arc<AtomicUsize>,
}

impl Wake for ThreadWaker {
    fn wake(self: DynArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &DynArc<Self>) {
        let mut state = self.state.lock();
        if state.notified || state.done {
            return;
        }
        state.notified = true;
        self.runnable.fetch_add(1, Ordering::SeqCst);
        drop(state);
        self.condvar.notify_one();
    }
}

impl ThreadWaker {
    /// Blocks until woken; the wake's runnable count now pays for the next poll.
    fn wait(&self) {
        let mut state = self.state.lock();
        while !state.notified {
            state = self.condvar.wait(state);
        }
        state.notified = false;
    }

    /// `block_on` is over: ignore later wakes. Returns whether a wake's count was left
    /// unconsumed.
    fn finish(&self) -> bool {
        let mut state = self.state.lock();
        state.done = true;
        std::mem::take(&mut state.notified)
    }
}

/// Gives back the counts `block_on` holds when it ends, however it ends.
struct Finish<'a> {
    waker: &'a ThreadWaker,
    handle: &'a Handle,
    /// A poll is in progress (its count not yet given back).
    polling: bool,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        if self.polling {
            self.handle.block_on_runnable_sub();
        }
        if self.waker.finish() {
            self.handle.block_on_runnable_sub();
        }
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
        state: Mutex::new(WakeState::default()),
        condvar: Condvar::new(),
        runnable: handle.block_on_runnable(),
    });
    let waker = Waker::from(thread_waker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    handle.block_on_runnable().fetch_add(1, Ordering::SeqCst);
    let mut finish = Finish {
        waker: &thread_waker,
        handle,
        polling: true,
    };
    loop {
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return output; // `finish` gives back this poll's count.
        }
        finish.polling = false;
        handle.block_on_runnable_sub();
        thread_waker.wait();
        finish.polling = true;
    }
}

//! Running a future to completion on the calling thread.
//!
//! On a multi-thread runtime the thread only polls its future (and its local tasks, see
//! scheduler/local.rs); the workers run everything else. On a current-thread runtime the
//! thread takes the runtime's one worker, when no other thread holds it, and runs the worker
//! loop with its future as the *root* (scheduler/current_thread.rs); a second thread in
//! `block_on` meanwhile only polls its own future, and takes the worker when it is given
//! back.
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
//! - `block_on` wakes its own future once before the first poll;
//! - a wake that finds the future not yet notified counts one (under the waker's lock), and
//!   the poll that consumes the notification uses that count;
//! - each poll's count is given back when the poll returns, or unwinds (at zero the driver
//!   is told the runtime may be idle);
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
use crate::scheduler::{current_thread, Handle, LocalSession};
use magpie_shim::{coop, Arc, AtomicBool, AtomicUsize, Condvar, DynArc, Mutex, Ordering};
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Wake, Waker};

/// Local tasks run between two polls of the future, at most (then the future's turn).
const LOCAL_BATCH: usize = 61;

#[derive(Default)]
struct WakeState {
    /// Woken since the last poll began.
    notified: bool,
    /// `block_on` returned: wakes are ignored.
    done: bool,
    /// The thread is running a current-thread runtime's worker loop: it sleeps in that
    /// worker's parker, not on this waker's condvar, so a wake unparks the worker.
    driving: Option<Handle>,
}

/// Wakes the thread blocked in `block_on`. It holds the runtime's runnable count, not the
/// runtime (but while the thread drives a current-thread runtime): a waker kept somewhere
/// after the runtime is gone keeps nothing else alive.
pub(crate) struct ThreadWaker {
    state: Mutex<WakeState>,
    condvar: Condvar,
    runnable: Arc<AtomicUsize>,
    /// `state.notified`, readable without the lock: the current-thread worker loop looks at
    /// it between batches of tasks and before it parks, and an already-woken waker returns
    /// at once. Written under the lock.
    notified_hint: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: DynArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &DynArc<Self>) {
        if self.is_notified() {
            // Already woken, and not yet taken: the poll that takes it comes after this
            // wake (`take` clears the hint before the poll), so nothing is lost.
            return;
        }
        let mut state = self.state.lock();
        if state.notified || state.done {
            return;
        }
        state.notified = true;
        self.notified_hint.store(true, Ordering::Release);
        self.runnable.fetch_add(1, Ordering::SeqCst);
        match &state.driving {
            // Under the lock: `driving` is cleared before the worker loop is left.
            Some(handle) => handle.unpark_current_thread_worker(),
            None => {
                drop(state);
                self.condvar.notify_one();
            }
        }
    }
}

impl ThreadWaker {
    fn new(runnable: Arc<AtomicUsize>) -> ThreadWaker {
        ThreadWaker {
            state: Mutex::new(WakeState::default()),
            condvar: Condvar::new(),
            runnable,
            notified_hint: AtomicBool::new(false),
        }
    }

    /// Whether a wake is pending (no lock; a hint, confirmed by [`ThreadWaker::take`]).
    pub(crate) fn is_notified(&self) -> bool {
        self.notified_hint.load(Ordering::Acquire)
    }

    /// Consumes a pending wake: its runnable count now pays for a poll.
    fn take(&self) -> bool {
        if !self.is_notified() {
            return false;
        }
        let mut state = self.state.lock();
        self.notified_hint.store(false, Ordering::Relaxed);
        std::mem::take(&mut state.notified)
    }

    /// Blocks until a wake is pending (without consuming it).
    fn wait(&self) {
        let mut state = self.state.lock();
        while !state.notified {
            state = self.condvar.wait(state);
        }
    }

    /// While `Some`, wakes unpark the current-thread worker this thread runs.
    pub(crate) fn set_driving(&self, handle: Option<Handle>) {
        self.state.lock().driving = handle;
    }

    /// `block_on` is over: ignore later wakes. Returns whether a wake's count was left
    /// unconsumed.
    fn finish(&self) -> bool {
        let mut state = self.state.lock();
        state.done = true;
        state.driving = None;
        self.notified_hint.store(false, Ordering::Relaxed);
        std::mem::take(&mut state.notified)
    }
}

/// Gives back the count of a wake `block_on` will never consume, however it ends.
struct Finish<'a> {
    waker: &'a ThreadWaker,
    handle: &'a Handle,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        if self.waker.finish() {
            self.handle.block_on_runnable_sub();
        }
    }
}

/// Gives back one poll's runnable count when the poll returns or unwinds.
struct PollCount<'a>(&'a Handle);

impl<'a> PollCount<'a> {
    /// Counts one more runnable poller (local tasks run with no wake consumed).
    fn acquire(handle: &'a Handle) -> PollCount<'a> {
        handle.block_on_runnable_add();
        PollCount(handle)
    }
}

impl Drop for PollCount<'_> {
    fn drop(&mut self) {
        self.0.block_on_runnable_sub();
    }
}

/// The future a `block_on` runs, as the worker loop of a current-thread runtime sees it.
pub(crate) trait Root {
    /// Polls the future if it was woken since its last poll; `true` once it is ready.
    fn poll_if_notified(&mut self) -> bool;
    /// The thread's waker (the worker loop parks on it being notified).
    fn thread_waker(&self) -> &ThreadWaker;
    /// The waker of the future, for a worker loop that must hear of the runtime again.
    fn waker(&self) -> &Waker;
}

struct RootFuture<'a, F: Future> {
    future: Pin<&'a mut F>,
    waker: &'a Waker,
    thread_waker: &'a ThreadWaker,
    handle: &'a Handle,
    output: Option<F::Output>,
}

impl<F: Future> Root for RootFuture<'_, F> {
    fn poll_if_notified(&mut self) -> bool {
        if self.output.is_some() {
            return true;
        }
        if !self.thread_waker.take() {
            return false;
        }
        let _count = PollCount(self.handle);
        let mut cx = Context::from_waker(self.waker);
        let future = &mut self.future;
        if let Poll::Ready(output) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            self.output = Some(output);
        }
        self.output.is_some()
    }

    fn thread_waker(&self) -> &ThreadWaker {
        self.thread_waker
    }

    fn waker(&self) -> &Waker {
        self.waker
    }
}

/// Ends the `block_on`'s local session while the thread's context still names it.
struct CloseSession<'a>(&'a LocalSession);

impl Drop for CloseSession<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Runs `future` on this thread, with `handle` as the current runtime, until it completes.
/// A panic in the future propagates to the caller. Local tasks spawned meanwhile
/// (`task::spawn_local`) run on this thread too; those still pending when the future
/// completes are dropped before this returns.
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
    let _outside = handle.config().enter_thread_context();
    let thread_waker = DynArc::new(ThreadWaker::new(handle.block_on_runnable()));
    let waker = Waker::from(thread_waker.clone());
    let _finish = Finish {
        waker: &thread_waker,
        handle,
    };
    let session = handle.local_session(waker.clone());
    let _session = context::set_local_session(&session);
    let _close = CloseSession(&session);
    let mut root = RootFuture {
        future: pin!(future),
        waker: &waker,
        thread_waker: &thread_waker,
        handle,
        output: None,
    };
    // The first poll's notification (and runnable count).
    waker.wake_by_ref();
    loop {
        if handle.is_current_thread()
            && current_thread::drive(handle, &mut root, &thread_waker, &session)
        {
            break;
        }
        if root.poll_if_notified() {
            break;
        }
        if session.has_queued() {
            // Local tasks run with the count of a poll: paused time must not jump meanwhile.
            let _count = PollCount::acquire(handle);
            session.run_queued(LOCAL_BATCH);
        }
        if !session.has_queued() {
            thread_waker.wait();
        }
    }
    root.output.take().expect("block_on's future is ready")
}

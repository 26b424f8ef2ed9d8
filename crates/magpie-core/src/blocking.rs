//! The blocking pool: threads for `spawn_blocking`.
//!
//! - Threads are started on demand, whenever more closures are queued than threads are idle,
//!   up to `max_blocking_threads`; past that, closures wait in the queue.
//! - An idle thread exits after `thread_keep_alive` without work.
//! - A blocking closure is a task like any other (one allocation, a `JoinHandle`, panics
//!   caught into `JoinError`), polled exactly once, to completion. It is in no registry: it
//!   is always in this pool's queue or running.
//! - Shutdown: closures not started yet are cancelled (their handles yield a cancelled
//!   `JoinError`); running ones are waited for until the deadline, then left to finish.
//!   `spawn_blocking` once shutdown has begun yields a cancelled `JoinError` at once — never
//!   a hang.
//! - A runtime dropped on one of its own blocking threads does not wait for that thread.

use crate::context;
use crate::scheduler::{Config, Handle};
use crate::task::{self, JoinHandle, Notified, Schedule, TaskRef};
use crate::timeline::Event;
use magpie_shim::{coop, Arc, Condvar, Mutex};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// What `RuntimeMetrics` reads of the pool.
pub(crate) struct Stats {
    pub(crate) idle: usize,
    pub(crate) queued: usize,
}

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<PoolState>,
    work_ready: Condvar,
    thread_exited: Condvar,
    config: Config,
}

struct PoolState {
    queue: VecDeque<Notified>,
    /// Threads that are not (yet) on their way out; bounded by `max_blocking_threads`.
    num_threads: usize,
    /// Threads that have not finished their stop hook yet; shutdown waits for zero.
    num_alive: usize,
    /// Threads waiting for work.
    num_idle: usize,
    /// Closures running right now (for the driver's idleness check).
    num_running: usize,
    /// Idle threads already notified and not yet awake: a spawn wakes an idle thread only if
    /// one is left that no earlier spawn has woken, so a burst of spawns is not a futex storm.
    num_notified: usize,
    shutdown: bool,
}

/// The scheduler of a blocking task. Such a task is polled once, to completion, so it is
/// never woken; should it be, it goes back on the queue.
struct BlockingSchedule {
    inner: Arc<Inner>,
}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified) {
        self.inner.enqueue(task);
    }

    fn release(&self, _task: &TaskRef) -> Option<TaskRef> {
        None
    }
}

/// A closure as a future that completes on its first poll.
///
/// The closure runs with no cooperative budget (`coop::unconstrained`): it is not a task
/// that could starve a worker, and a `futures_lite::future::block_on` inside it, which polls
/// without refilling the budget, must never see a leaf future yield for the budget's sake.
/// A magpie `block_on` inside it gives each of its own polls a budget, and restores this one.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("a blocking task was polled after it completed");
        Poll::Ready(coop::unconstrained(f))
    }
}

impl BlockingPool {
    pub(crate) fn new(config: &Config) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_alive: 0,
                    num_idle: 0,
                    num_running: 0,
                    num_notified: 0,
                    shutdown: false,
                }),
                work_ready: Condvar::new(),
                thread_exited: Condvar::new(),
                config: config.clone(),
            }),
        }
    }

    /// Queues `f`; with `cancel` (the runtime is shutting down) it is cancelled unrun.
    #[track_caller]
    pub(crate) fn spawn<F, R>(&self, f: F, handle: &Handle, cancel: bool) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = BlockingSchedule {
            inner: self.inner.clone(),
        };
        let (owned, notified, join) = task::new_task(
            BlockingTask(Some(f)),
            scheduler,
            task::Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        );
        // Not registered: the registry's reference goes at once.
        drop(owned);
        if cancel {
            notified.shutdown();
        } else if let Err(task) = Inner::start(&self.inner, notified, handle) {
            task.shutdown();
        }
        join
    }

    /// Threads started and not yet finished (their stop hook included).
    /// Whether a closure is queued or running.
    pub(crate) fn is_busy(&self) -> bool {
        let state = self.inner.state.lock();
        !state.queue.is_empty() || state.num_running > 0
    }

    pub(crate) fn alive_threads(&self) -> usize {
        self.inner.state.lock().num_alive
    }

    /// Idle threads and queued closures, read under one lock.
    pub(crate) fn stats(&self) -> Stats {
        let state = self.inner.state.lock();
        Stats {
            idle: state.num_idle,
            queued: state.queue.len(),
        }
    }

    fn pool_id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Cancels queued closures and waits for running ones until `deadline`.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        let queued = {
            let mut state = self.inner.state.lock();
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.inner.work_ready.notify_all();
        for task in queued {
            task.shutdown();
        }
        // A runtime dropped on one of its own blocking threads cannot wait for that thread.
        let own_thread = usize::from(context::is_blocking_pool(self.pool_id()));
        let mut state = self.inner.state.lock();
        while state.num_alive > own_thread {
            match deadline {
                None => state = self.inner.thread_exited.wait(state),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    state = self.inner.thread_exited.wait_timeout(state, d - now).0;
                }
            }
        }
    }
}

impl Inner {
    /// Queues a task, starting a thread if too few are idle. Hands the task back after
    /// shutdown, or when no thread exists and none can be started.
    fn start(this: &Arc<Inner>, task: Notified, handle: &Handle) -> Result<(), Notified> {
        let mut state = this.state.lock();
        if state.shutdown {
            return Err(task);
        }
        state.queue.push_back(task);
        if state.num_idle > state.num_notified {
            // An idle thread that nobody has woken yet takes it.
            state.num_notified += 1;
            drop(state);
            this.work_ready.notify_one();
            return Ok(());
        }
        if state.num_threads < this.config.max_blocking_threads {
            // Every thread is busy (or already woken for an earlier closure): one more.
            state.num_threads += 1;
            state.num_alive += 1;
            let inner = this.clone();
            let handle = handle.clone();
            let spawned = this
                .config
                .thread_builder()
                .spawn(move || inner.run_thread(handle));
            if let Err(e) = spawned {
                state.num_threads -= 1;
                state.num_alive -= 1;
                if state.num_threads == 0 {
                    magpie_shim::diagnostics::report(format_args!(
                        "failed to start a blocking thread: {e}"
                    ));
                    return Err(state.queue.pop_back().expect("pushed above"));
                }
            }
        }
        // At the thread limit: the closure waits for a busy thread to come back.
        Ok(())
    }

    fn enqueue(&self, task: Notified) {
        let mut state = self.state.lock();
        if state.shutdown {
            drop(state);
            task.shutdown();
            return;
        }
        state.queue.push_back(task);
        let wake = state.num_idle > state.num_notified;
        if wake {
            state.num_notified += 1;
        }
        drop(state);
        if wake {
            self.work_ready.notify_one();
        }
    }

    fn run_thread(&self, handle: Handle) {
        self.config.run_start_hook();
        context::set_blocking_pool(self as *const Inner as usize);
        {
            let _handle = context::set_handle(handle.clone());
            let _outside = self.config.enter_thread_context();
            let timeline = handle.recorder().map(|t| (t, t.blocking_track()));
            let mut state = self.state.lock();
            loop {
                if let Some(task) = state.queue.pop_front() {
                    state.num_running += 1;
                    drop(state);
                    if let Some((timeline, track)) = timeline {
                        let task = task.header().id.as_u64();
                        timeline.record_blocking(track, Event::BlockingStart { task });
                    }
                    task.run();
                    if let Some((timeline, track)) = timeline {
                        timeline.record_blocking(track, Event::BlockingEnd);
                    }
                    state = self.state.lock();
                    state.num_running -= 1;
                    if state.num_running == 0 && state.queue.is_empty() {
                        // The pool just went quiet: the runtime may be idle now.
                        drop(state);
                        handle.driver().maybe_idle();
                        state = self.state.lock();
                    }
                    continue;
                }
                if state.shutdown {
                    break;
                }
                state.num_idle += 1;
                let (s, timed_out) = self
                    .work_ready
                    .wait_timeout(state, self.config.thread_keep_alive);
                state = s;
                state.num_idle -= 1;
                // Whether this thread was the one notified or not, one notification in flight
                // has landed (or is moot: this thread will look at the queue now either way).
                state.num_notified = state.num_notified.saturating_sub(1).min(state.num_idle);
                if timed_out && state.queue.is_empty() {
                    break;
                }
            }
            // Leave the thread count under the lock, so a spawn never counts on a thread
            // that is on its way out.
            state.num_threads -= 1;
        }
        self.config.run_stop_hook();
        let mut state = self.state.lock();
        state.num_alive -= 1;
        self.thread_exited.notify_all();
    }
}

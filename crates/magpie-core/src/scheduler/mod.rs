//! The work-stealing scheduler.
//!
//! - `config.rs`: the settings.
//! - `worker.rs`: a worker thread's loop: which queue it takes work from, when it steals,
//!   when it parks.
//! - `idle.rs`: searching and sleeping workers, and why no wake-up is lost.
//! - `park.rs`: how one worker sleeps (in the driver, or on its condvar).
//! - `synced.rs`: every lock of the scheduler and what it guards.
//! - `lifo.rs`: the stealable LIFO slot.
//! - `monitor.rs`: the thread that sends a sleeping worker to the driver or to queued work
//!   when a worker stays stuck in one poll; `sticky_event.rs`, what it sleeps on;
//!   `slow_polls.rs`, its reports of polls that run past `Config::slow_poll_threshold`.
//! - `shutdown.rs`: the shutdown sequence, step by step.
//! - `local.rs`: local (`!Send`) tasks, and why they never leave their thread.
//! - `current_thread.rs`: the current-thread runtime, whose one worker is the thread inside
//!   `block_on`.
//! - `block_in_place.rs`: a worker that blocks hands its loop to a stand-in thread.
//!
//! The scheduler holds the runtime's [`Driver`] (timers and I/O) by its concrete type; only
//! the parker is generic over what it parks in, so that the loom models can put a
//! [`StickyEvent`](sticky_event::StickyEvent) in the driver's place.
//!
//! Where a task goes when it becomes runnable:
//! - spawned or woken **on a worker of this runtime**: that worker's LIFO slot (the slot's
//!   previous occupant moves to the back of the worker's deque); a task woken during its own
//!   poll (a yield) goes to the back of the deque;
//! - spawned or woken **anywhere else**: the shared injector, plus one unpark (idle.rs).

mod block_in_place;
mod config;
pub(crate) mod current_thread;
mod idle;
mod lifo;
mod local;
mod monitor;
mod park;
mod shutdown;
mod slow_polls;
mod sticky_event;
mod synced;
mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

pub use block_in_place::block_in_place;
pub use config::{Config, ContextGuard, ContextHook, Hook, SlowPollHook};
pub(crate) use local::LocalSession;
pub(crate) use worker::{Runnable, WorkerLocal};

use crate::blocking::BlockingPool;
use crate::context;
use crate::driver::Driver;
use crate::metrics::{RuntimeMetrics, WorkerMetrics};
use crate::task::{self, JoinHandle, Notified, Registry, Schedule, TaskRef};
use crate::timeline::Timeline;
use idle::Idle;
use lifo::LifoSlot;
use magpie_shim::deque::{Injector, Steal, Stealer, Worker};
use magpie_shim::unmodelled::AtomicU64;
use magpie_shim::CachePadded;
use magpie_shim::{Arc, AtomicBool, AtomicUsize, Ordering};
use monitor::Monitor;
use park::Parker;
use std::fmt;
use std::future::Future;
use synced::Synced;

/// What other threads can reach of one worker.
struct Remote {
    stealer: Stealer<Notified>,
    lifo: LifoSlot,
    parker: Parker,
    /// Twice the polls this worker has run, plus one while a poll runs (odd: inside a poll);
    /// only the worker writes it. A searcher or the monitor that sees the same odd value
    /// twice, some time apart, knows the worker is stuck in one poll.
    polls: AtomicUsize,
    /// The worker's own counters (metrics/worker.rs), on cache lines of their own: the
    /// worker writes the current task's id on every poll, and the lines above are read by
    /// every remote spawn (the parker) and every searcher (the stealer, the LIFO slot).
    metrics: CachePadded<WorkerMetrics>,
}

pub(crate) struct Shared {
    injector: Injector<Notified>,
    /// One cache line (at least) each: a worker writes its own `polls` and LIFO slot on every
    /// poll, and must not invalidate the line another worker reads its own slot from.
    remotes: Box<[CachePadded<Remote>]>,
    /// Its counts word is written by every park, unpark and search start or stop: a cache
    /// line of its own keeps those writes off the lines every spawn and steal reads (the
    /// `remotes` pointer, the registry's shard table).
    idle: CachePadded<Idle>,
    registry: Registry,
    driver: Arc<Driver>,
    /// Set once, at shutdown: queues stop accepting work and workers exit. Read by every
    /// worker on every tick, so it gets a cache line of its own (no false sharing with the
    /// idle counts or the locks, which are written often).
    closed: CachePadded<AtomicBool>,
    synced: Synced,
    blocking: BlockingPool,
    config: Config,
    /// `block_on` futures being polled, or woken and not yet polled again: the runtime is
    /// not idle while one is, since it may be about to register a timer or spawn. See
    /// `block_on.rs` for the accounting.
    block_on_runnable: Arc<AtomicUsize>,
    monitor: Monitor,
    /// `spawn_blocking` calls (task spawns are counted by the registry, under its locks).
    blocking_spawns: CachePadded<AtomicU64>,
    /// The scheduler-event recorder, when `Config::timeline_capacity` is set. Each worker
    /// keeps a clone in its `WorkerLocal`, so the hot path's "is it on?" reads a line no
    /// other thread writes.
    timeline: Option<std::sync::Arc<Timeline>>,
    /// The local tasks of all this runtime's sessions (local.rs): queued, spawned.
    local_counts: Arc<local::LocalCounts>,
    /// A current-thread runtime's worker while no `block_on` runs it (current_thread.rs);
    /// `None` on a multi-thread runtime.
    current_thread: Option<current_thread::CoreSlot>,
}

/// A cheap, cloneable reference to a scheduler: spawn onto it from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.remotes.len())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Spawns `future` as a new task.
    ///
    /// From a worker of this runtime it goes to that worker's LIFO slot, from anywhere else
    /// to the injector. After shutdown the task is cancelled at once: its future is dropped
    /// and awaiting the handle yields a cancelled `JoinError`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, None)
    }

    /// [`Handle::spawn`] with a task name, shown by `JoinError` and `task::name()`.
    #[track_caller]
    pub fn spawn_named<F>(&self, future: F, name: Option<&str>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, name, std::panic::Location::caller())
    }

    /// [`Handle::spawn_named`] with the spawn location given: for spawn functions that reach
    /// this through a closure, which `#[track_caller]` does not pass through.
    #[doc(hidden)]
    pub fn spawn_at<F>(
        &self,
        future: F,
        name: Option<&str>,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let name = name.map(|name| task::TaskName::new(name, location));
        // One look at the thread's context: on a worker of this runtime the task goes to
        // its queues and takes the worker's clock reading (metrics/clock.rs); anywhere else
        // to the injector, with a reading of its own.
        context::with_worker(|worker| {
            let local = worker.filter(|w| w.belongs_to(self));
            let spawned_at = match local {
                Some(w) => w.coarse_now(),
                None => crate::metrics::clock::spawn_stamp(),
            };
            let (owned, notified, join) = task::new_task(
                future,
                self.clone(),
                task::Id::next(),
                name,
                location,
                spawned_at,
            );
            #[cfg(feature = "tracing")]
            crate::trace::spawned(owned.header());
            match self.shared.registry.insert(owned) {
                Ok(()) => match local {
                    Some(w) => w.schedule_local(notified, Runnable::Spawned),
                    None => self.shared.schedule_remote(notified),
                },
                Err(owned) => {
                    drop(notified);
                    owned.shutdown();
                }
            }
            join
        })
    }

    /// Runs `f` on the blocking pool. Once shutdown has begun, the closure is not run and the
    /// handle yields a cancelled error.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let closed = self.shared.closed.load(Ordering::Acquire);
        self.shared.count_blocking_spawn();
        self.shared.blocking.spawn(f, self, closed)
    }

    /// A live view of this runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.clone())
    }

    /// Every live task (spawned and not finished), copied while the runtime runs: one walk
    /// of the registry, each shard locked in turn. Blocking closures are not tasks here.
    pub fn tasks(&self) -> Vec<task::TaskInfo> {
        let running = self.running_tasks();
        let mut tasks = Vec::new();
        self.shared
            .registry
            .for_each(|header| tasks.push(task::TaskInfo::of(header, &running)));
        tasks.sort_by_key(|t| t.id());
        tasks
    }

    /// The task each worker is inside a poll of now: `(task id, worker)` pairs.
    fn running_tasks(&self) -> Vec<(u64, usize)> {
        self.shared
            .remotes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.polls.load(Ordering::Relaxed) % 2 == 1)
            .map(|(w, r)| (r.metrics.current_task(), w))
            .collect()
    }

    /// What the scheduler recorded so far, when the timeline is on
    /// (`Config::timeline_capacity`): a copy, taken without stopping the workers.
    pub fn timeline(&self) -> Option<crate::timeline::Trace> {
        self.shared.timeline.as_deref().map(Timeline::trace)
    }

    pub(crate) fn recorder(&self) -> Option<&Timeline> {
        self.shared.timeline.as_deref()
    }

    pub(crate) fn spawned_tasks_count(&self) -> u64 {
        self.shared.registry.inserted_count()
            + self.shared.blocking_spawns.load(Ordering::Relaxed)
            + self.shared.local_counts.spawns.load(Ordering::Relaxed) as u64
    }

    /// A new local session of this runtime, whose owner is woken with `wake`.
    pub(crate) fn local_session(&self, wake: std::task::Waker) -> LocalSession {
        LocalSession::new(self.shared.local_counts.clone(), wake)
    }

    /// The seed the order of ready tasks is drawn from (`Builder::rng_seed`), if any.
    pub fn rng_seed(&self) -> Option<u64> {
        self.shared.config.rng_seed
    }

    /// Whether this is a current-thread runtime (`Builder::new_current_thread`).
    pub fn is_current_thread(&self) -> bool {
        self.shared.current_thread.is_some()
    }

    pub(crate) fn global_queue_depth(&self) -> usize {
        self.shared.injector.len()
    }

    pub(crate) fn blocking_stats(&self) -> crate::blocking::Stats {
        self.shared.blocking.stats()
    }

    pub(crate) fn worker_metrics(&self, worker: usize) -> &WorkerMetrics {
        &self.remote(worker).metrics
    }

    /// Polls started by `worker` (the odd half of its counter is the poll running now).
    pub(crate) fn worker_polls(&self, worker: usize) -> u64 {
        self.remote(worker)
            .polls
            .load(Ordering::Relaxed)
            .div_ceil(2) as u64
    }

    pub(crate) fn worker_queue_depth(&self, worker: usize) -> usize {
        let remote = self.remote(worker);
        remote.stealer.len() + usize::from(remote.lifo.is_occupied())
    }

    fn remote(&self, worker: usize) -> &Remote {
        let n = self.shared.remotes.len();
        assert!(
            worker < n,
            "worker index {worker} is out of range: this runtime has {n} workers (0..{n})"
        );
        &self.shared.remotes[worker]
    }

    /// The runtime's driver: its timers, clock and I/O reactor.
    pub fn driver(&self) -> &Arc<Driver> {
        &self.shared.driver
    }

    /// Whether both handles refer to the same runtime.
    pub fn ptr_eq(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The count of runnable `block_on` futures (see `Shared::block_on_runnable`), for a
    /// waker to add to without keeping the whole runtime alive.
    pub(crate) fn block_on_runnable(&self) -> Arc<AtomicUsize> {
        self.shared.block_on_runnable.clone()
    }

    /// One `block_on` poller more is runnable (local tasks run with no wake consumed).
    pub(crate) fn block_on_runnable_add(&self) {
        self.shared.block_on_runnable.fetch_add(1, Ordering::SeqCst);
    }

    /// One `block_on` future fewer is runnable; at zero the runtime may be idle.
    pub(crate) fn block_on_runnable_sub(&self) {
        if self.shared.block_on_runnable.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.driver.maybe_idle();
        }
    }

    /// Whether the runtime has been shut down.
    pub fn is_shutdown(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// The number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    /// The number of unfinished tasks (for tests and diagnostics).
    pub fn num_alive_tasks(&self) -> usize {
        self.shared.registry.len()
    }

    /// The number of blocking threads alive now.
    pub fn num_blocking_threads(&self) -> usize {
        self.shared.blocking.alive_threads()
    }

    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified) {
        context::with_worker(|worker| match worker {
            Some(w) if w.belongs_to(self) => w.schedule_local(task, Runnable::Woken),
            _ => self.shared.schedule_remote(task),
        })
    }

    fn yield_now(&self, task: Notified) {
        context::with_worker(|worker| match worker {
            Some(w) if w.belongs_to(self) => w.schedule_local(task, Runnable::Yielded),
            _ => self.shared.schedule_remote(task),
        })
    }

    unsafe fn yield_local(this: *const Self, task: Notified) -> Result<(), Notified> {
        context::with_worker(|worker| match worker {
            // SAFETY: `this` is live until the task is queued; the borrow ends with the
            // comparison, and queuing uses the worker's own handle, not `*this`.
            Some(w) if w.belongs_to(unsafe { &*this }) => {
                w.schedule_local(task, Runnable::Yielded);
                Ok(())
            }
            _ => Err(task),
        })
    }

    fn release(&self, task: &TaskRef) -> Option<TaskRef> {
        self.shared.registry.remove(task)
    }
}

impl Shared {
    fn count_blocking_spawn(&self) {
        if !cfg!(magpie_no_metrics) {
            self.blocking_spawns.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a task from outside the runtime's workers: injector, then one unpark.
    fn schedule_remote(&self, task: Notified) {
        if self.closed.load(Ordering::SeqCst) {
            // Shut down: the registry owns the future and drops it; this entry just goes.
            drop(task);
            return;
        }
        self.injector.push(task);
        if self.closed.load(Ordering::SeqCst) {
            // Shutdown may have drained the injector before our push: drain it again, or
            // the entry (and the Arc it holds on this scheduler) would never be dropped.
            self.drain_injector();
            return;
        }
        self.notify_parked();
    }

    /// Wakes a sleeping worker if no worker is searching (idle.rs, step 1).
    fn notify_parked(&self) {
        let in_driver = |w: usize| self.remotes[w].parker.is_in_driver();
        if let Some(worker) = self
            .idle
            .worker_to_notify_avoiding(&self.synced.sleepers, in_driver)
        {
            self.remotes[worker].parker.unpark(&*self.driver);
        }
    }

    /// Whether nothing in the runtime can make progress without an event: every worker is
    /// parked, no task is queued, no blocking closure is queued or running, and no
    /// `block_on` future is being polled or has been woken. Racy by nature (work may arrive
    /// right after), and costs a lock: for paused time (driver.rs), not for hot paths.
    pub(crate) fn is_runtime_idle(&self) -> bool {
        self.idle.all_parked()
            && self.block_on_runnable.load(Ordering::SeqCst) == 0
            && !self.has_work()
            && !self.blocking.is_busy()
    }

    /// Whether any queue holds a task (the last searcher's final check).
    fn has_work(&self) -> bool {
        self.local_counts.queued.load(Ordering::SeqCst) > 0
            || !self.injector.is_empty()
            || self
                .remotes
                .iter()
                .any(|r| !r.stealer.is_empty() || r.lifo.is_occupied())
    }

    /// Drops every entry of the injector (shutdown).
    fn drain_injector(&self) {
        while let Some(task) = steal_retrying(|| self.injector.steal()) {
            drop(task);
        }
    }
}

/// Retries a steal until it is decided: the task, or `None` when the queue was empty.
#[inline]
pub(crate) fn steal_retrying(mut steal: impl FnMut() -> Steal<Notified>) -> Option<Notified> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// The owner of a running scheduler: its threads stop when it is shut down or dropped.
pub struct Scheduler {
    handle: Handle,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The monitor thread (none with a single worker, unless slow polls are reported).
    monitor: Option<std::thread::JoinHandle<()>>,
    shut_down: bool,
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Starts `config.worker_threads` workers that park in `driver` when idle.
    pub fn start(config: Config, driver: Driver) -> std::io::Result<Scheduler> {
        assert!(
            config.worker_threads > 0,
            "worker_threads must be at least 1"
        );
        let current_thread = config.current_thread;
        assert!(
            !current_thread || config.worker_threads == 1,
            "a current-thread runtime has exactly one worker"
        );
        assert!(
            current_thread || config.rng_seed.is_none(),
            "rng_seed orders the tasks of a current-thread runtime only"
        );
        let n = config.worker_threads;
        let mut deques: Vec<Worker<Notified>> = (0..n).map(|_| Worker::new_fifo()).collect();
        let remotes = deques
            .iter()
            .map(|d| {
                CachePadded::new(Remote {
                    stealer: d.stealer(),
                    lifo: LifoSlot::new(),
                    parker: Parker::new(),
                    polls: AtomicUsize::new(0),
                    metrics: CachePadded::new(WorkerMetrics::new()),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            remotes,
            idle: CachePadded::new(Idle::new(n)),
            registry: Registry::new(4 * n),
            driver: Arc::new(driver),
            closed: CachePadded::new(AtomicBool::new(false)),
            // A current-thread runtime's worker runs only inside `block_on`: shutdown waits
            // for no thread.
            synced: Synced::new(if current_thread { 0 } else { n }),
            blocking: BlockingPool::new(&config),
            block_on_runnable: Arc::new(AtomicUsize::new(0)),
            monitor: Monitor::new(),
            blocking_spawns: CachePadded::new(AtomicU64::new(0)),
            timeline: config
                .timeline_capacity
                .map(|c| std::sync::Arc::new(Timeline::new(n, c))),
            local_counts: Arc::new(local::LocalCounts::default()),
            current_thread: current_thread
                .then(|| current_thread::CoreSlot::new(deques.pop().expect("one deque"))),
            config,
        });
        let handle = Handle { shared };
        let mut scheduler = Scheduler {
            handle: handle.clone(),
            threads: Vec::with_capacity(n),
            monitor: None,
            shut_down: false,
        };
        // (A current-thread runtime's one deque went to its core slot: no thread here.)
        for (index, deque) in deques.into_iter().enumerate() {
            let handle = handle.clone();
            let spawned = handle
                .config()
                .thread_builder()
                .spawn(move || worker::run(index, deque, handle));
            match spawned {
                Ok(t) => scheduler.threads.push(t),
                Err(e) => {
                    // The threads that did start must not wait for the missing ones.
                    let missing = n - index;
                    *scheduler.handle.shared.synced.running_workers.lock() -= missing;
                    return Err(e);
                }
            }
        }
        // One worker has nobody to send to a blocked driver, but slow polls are still reported.
        if n > 1 || handle.config().slow_poll_threshold.is_some() {
            let shared = handle.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-monitor", handle.config().thread_name))
                .spawn(move || monitor::run(&shared));
            match spawned {
                Ok(t) => scheduler.monitor = Some(t),
                // Dropping the scheduler shuts the started workers down.
                Err(e) => return Err(e),
            }
        }
        Ok(scheduler)
    }

    /// A handle for spawning from anywhere.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

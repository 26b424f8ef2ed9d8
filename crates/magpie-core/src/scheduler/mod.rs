//! The work-stealing scheduler.
//!
//! - `config.rs`: the settings.
//! - `worker.rs`: a worker thread's loop: which queue it takes work from, when it steals,
//!   when it parks.
//! - `idle.rs`: searching and sleeping workers, and why no wake-up is lost.
//! - `park.rs`: how one worker sleeps (on the driver, or on its condvar).
//! - `lifo.rs`: the stealable LIFO slot.
//! - `monitor.rs`: the thread that sends a sleeping worker to the driver or to queued work
//!   when a worker stays stuck in one poll.
//! - `shutdown.rs`: the shutdown sequence, step by step.
//!
//! Where a task goes when it becomes runnable:
//! - spawned or woken **on a worker of this runtime**: that worker's LIFO slot (the slot's
//!   previous occupant moves to the back of the worker's deque); a task woken during its own
//!   poll (a yield) goes to the back of the deque;
//! - spawned or woken **anywhere else**: the shared injector, plus one unpark (idle.rs).

mod config;
mod idle;
mod lifo;
mod monitor;
mod park;
mod shutdown;
mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

pub use config::{Config, Hook};
pub(crate) use worker::WorkerLocal;

use crate::blocking::BlockingPool;
use crate::context;
use crate::driver::Driver;
use crate::sync::deque::{Injector, Steal, Stealer, Worker};
use crate::sync::CachePadded;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, DynArc, Mutex, Ordering};
use crate::task::{self, JoinHandle, Notified, Registry, Schedule, TaskRef};
use idle::Idle;
use lifo::LifoSlot;
use monitor::Monitor;
use park::{DriverSlot, Parker};
use std::fmt;
use std::future::Future;

/// What other threads can reach of one worker.
struct Remote {
    stealer: Stealer<Notified>,
    lifo: LifoSlot,
    parker: Parker,
    /// Twice the polls this worker has run, plus one while a poll runs (odd: inside a poll);
    /// only the worker writes it. A searcher or the monitor that sees the same odd value
    /// twice, some time apart, knows the worker is stuck in one poll.
    polls: AtomicUsize,
}

pub(crate) struct Shared {
    injector: Injector<Notified>,
    /// One cache line (at least) each: a worker writes its own `polls` and LIFO slot on every
    /// poll, and must not invalidate the line another worker reads its own slot from.
    remotes: Box<[CachePadded<Remote>]>,
    idle: Idle,
    registry: Registry,
    driver: DriverSlot,
    /// Set once, at shutdown: queues stop accepting work and workers exit. Read by every
    /// worker on every tick, so it gets a cache line of its own (no false sharing with the
    /// idle counts or the driver lock, which are written often).
    closed: CachePadded<AtomicBool>,
    blocking: BlockingPool,
    config: Config,
    /// Worker threads still running, for `shutdown_timeout`.
    running_workers: Mutex<usize>,
    /// `block_on` futures being polled, or woken and not yet polled again: the runtime is
    /// not idle while one is, since it may be about to register a timer or spawn. See
    /// `block_on.rs` for the accounting.
    block_on_runnable: Arc<AtomicUsize>,
    workers_exited: Condvar,
    monitor: Monitor,
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
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, None)
    }

    /// [`Handle::spawn`] with a task name, shown by `JoinError` and `task::name()`.
    pub fn spawn_named<F>(&self, future: F, name: Option<&str>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let name = name.map(Box::from);
        let (owned, notified, join) = task::new_task(future, self.clone(), task::Id::next(), name);
        match self.shared.registry.insert(owned) {
            Ok(()) => self.schedule(notified),
            Err(owned) => {
                drop(notified);
                owned.shutdown();
            }
        }
        join
    }

    /// Runs `f` on the blocking pool. Once shutdown has begun, the closure is not run and the
    /// handle yields a cancelled error.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let closed = self.shared.closed.load(Ordering::Acquire);
        self.shared.blocking.spawn(f, self, closed)
    }

    /// The driver idle workers park on.
    pub fn driver(&self) -> &DynArc<dyn Driver> {
        &self.shared.driver.driver
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

    /// One `block_on` future fewer is runnable; at zero the runtime may be idle.
    pub(crate) fn block_on_runnable_sub(&self) {
        if self.shared.block_on_runnable.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.driver.driver.maybe_idle();
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
            Some(w) if w.belongs_to(self) => w.schedule_local(task, false),
            _ => self.shared.schedule_remote(task),
        })
    }

    fn yield_now(&self, task: Notified) {
        context::with_worker(|worker| match worker {
            Some(w) if w.belongs_to(self) => w.schedule_local(task, true),
            _ => self.shared.schedule_remote(task),
        })
    }

    unsafe fn yield_local(this: *const Self, task: Notified) -> Result<(), Notified> {
        context::with_worker(|worker| match worker {
            // SAFETY: `this` is live until the task is queued; the borrow ends with the
            // comparison, and queuing uses the worker's own handle, not `*this`.
            Some(w) if w.belongs_to(unsafe { &*this }) => {
                w.schedule_local(task, true);
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
        let on_driver = |w: usize| self.remotes[w].parker.is_on_driver();
        if let Some(worker) = self.idle.worker_to_notify_avoiding(on_driver) {
            self.remotes[worker].parker.unpark(&self.driver);
        }
    }

    /// See `ParkContext::is_runtime_idle`.
    pub(crate) fn is_runtime_idle(&self) -> bool {
        self.idle.all_parked()
            && self.block_on_runnable.load(Ordering::SeqCst) == 0
            && !self.has_work()
            && !self.blocking.is_busy()
    }

    /// Whether any queue holds a task (the last searcher's final check).
    fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || self
                .remotes
                .iter()
                .any(|r| !r.stealer.is_empty() || r.lifo.is_occupied())
    }

    /// One look of the monitor (monitor.rs): if a worker has been in one poll since the
    /// previous look while nobody waits on the driver or work is queued, wake a sleeper.
    fn monitor_look(&self, seen: &mut [usize]) {
        let polls = self.remotes.iter().map(|r| r.polls.load(Ordering::Relaxed));
        if monitor::someone_stuck(polls, seen)
            && (!self.remotes.iter().any(|r| r.parker.is_on_driver()) || self.has_work())
        {
            self.notify_parked();
        }
    }

    /// The monitor thread's body (monitor.rs).
    fn run_monitor(&self) {
        let mut seen = vec![usize::MAX; self.remotes.len()];
        let mut quiet_ticks = 0;
        while self.monitor.sleep(quiet_ticks, || self.idle.all_parked()) {
            if self.idle.all_parked() {
                quiet_ticks = quiet_ticks.saturating_add(1);
            } else {
                quiet_ticks = 0;
                self.monitor_look(&mut seen);
            }
        }
    }

    fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
    }
}

/// The owner of a running scheduler: its threads stop when it is shut down or dropped.
pub struct Scheduler {
    handle: Handle,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The monitor thread (none with a single worker).
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
    /// Starts `config.worker_threads` workers that park on `driver` when idle.
    pub fn start(config: Config, driver: DynArc<dyn Driver>) -> std::io::Result<Scheduler> {
        assert!(
            config.worker_threads > 0,
            "worker_threads must be at least 1"
        );
        let n = config.worker_threads;
        let deques: Vec<Worker<Notified>> = (0..n).map(|_| Worker::new_fifo()).collect();
        let remotes = deques
            .iter()
            .map(|d| {
                CachePadded::new(Remote {
                    stealer: d.stealer(),
                    lifo: LifoSlot::new(),
                    parker: Parker::new(),
                    polls: AtomicUsize::new(0),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            remotes,
            idle: Idle::new(n),
            registry: Registry::new(4 * n),
            driver: DriverSlot {
                driver,
                lock: Mutex::new(()),
            },
            closed: CachePadded::new(AtomicBool::new(false)),
            blocking: BlockingPool::new(&config),
            running_workers: Mutex::new(n),
            block_on_runnable: Arc::new(AtomicUsize::new(0)),
            workers_exited: Condvar::new(),
            monitor: Monitor::new(),
            config,
        });
        let handle = Handle { shared };
        let mut scheduler = Scheduler {
            handle: handle.clone(),
            threads: Vec::with_capacity(n),
            monitor: None,
            shut_down: false,
        };
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
                    *scheduler.handle.shared.running_workers.lock() -= missing;
                    return Err(e);
                }
            }
        }
        if n > 1 {
            let shared = handle.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-monitor", handle.config().thread_name))
                .spawn(move || shared.run_monitor());
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

//! `Builder`: every setting of a runtime, checked where it is given.

use crate::runtime::Runtime;
use magpie_core::{Config, Driver, Scheduler};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = magpie::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-service")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
///
/// Timers and I/O are always on: there is no `enable_all()`.
pub struct Builder {
    config: Config,
    start_paused: bool,
    timer_shards: Option<usize>,
    #[cfg(feature = "tokio-compat")]
    tokio_compat: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("start_paused", &self.start_paused)
            .field("timer_shards", &self.timer_shards)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: one worker per available CPU, up to 512 blocking threads kept alive
    /// 10 s when idle, the injector checked every 61 ticks, a driver turn every 61 ticks.
    pub fn new() -> Builder {
        Builder {
            config: Config::default(),
            start_paused: false,
            timer_shards: None,
            #[cfg(feature = "tokio-compat")]
            tokio_compat: false,
        }
    }

    /// A builder for a **current-thread runtime**: asyncio's model, one thread. No worker
    /// thread is started; every task runs on the thread inside [`Runtime::block_on`], and
    /// only while a `block_on` runs. Timers, I/O, `spawn_blocking` (its pool is still
    /// threads), the cooperative budget, paused time, metrics and every
    /// [`sync`](crate::sync) primitive work as on the multi-thread runtime.
    /// [`Runtime::spawn`] from another thread queues the task for the runtime's thread and
    /// wakes it. [`task::spawn_local`](crate::task::spawn_local) runs `!Send` futures here
    /// without a `LocalSet`.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::cell::Cell;
    /// let rt = magpie::Builder::new_current_thread().build().unwrap();
    /// let hits = rt.block_on(async {
    ///     let hits = Rc::new(Cell::new(0));
    ///     let tasks: Vec<_> = (0..3)
    ///         .map(|_| {
    ///             let hits = hits.clone();
    ///             magpie::task::spawn_local(async move { hits.set(hits.get() + 1) })
    ///         })
    ///         .collect();
    ///     for task in tasks {
    ///         task.await.unwrap();
    ///     }
    ///     hits.get()
    /// });
    /// assert_eq!(hits, 3);
    /// ```
    ///
    /// When two threads are inside its `block_on` at once, one of them runs the tasks and
    /// the other polls only its own future until the first returns.
    pub fn new_current_thread() -> Builder {
        let mut builder = Builder::new();
        builder.config.worker_threads = 1;
        builder.config.current_thread = true;
        builder
    }

    /// The number of worker threads that run tasks.
    ///
    /// # Panics
    ///
    /// When `n` is 0, and on a current-thread builder (its one thread is the caller of
    /// `block_on`).
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            !self.config.current_thread,
            "Builder::worker_threads does not apply to a current-thread runtime: its tasks \
             run on the thread inside block_on (use Runtime::builder() for worker threads)"
        );
        assert!(
            n > 0,
            "Builder::worker_threads must be at least 1 (got 0): a runtime needs a worker thread to run tasks"
        );
        self.config.worker_threads = n;
        self
    }

    /// The name of the threads the runtime starts (default `magpie-worker`): its workers and
    /// blocking threads. A runtime with more than one worker also starts a monitor thread,
    /// named after them with `-monitor` appended, which runs no user code (it notices a
    /// worker stuck in one poll; see `docs/architecture.md`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.config.thread_name = name.into();
        self
    }

    /// The stack size, in bytes, of the threads the runtime starts.
    ///
    /// # Panics
    ///
    /// When `bytes` is 0.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        assert!(
            bytes > 0,
            "Builder::thread_stack_size must be greater than 0"
        );
        self.config.thread_stack_size = Some(bytes);
        self
    }

    /// The most threads the blocking pool may start (default 512).
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(
            n > 0,
            "Builder::max_blocking_threads must be at least 1 (got 0): spawn_blocking needs a thread"
        );
        self.config.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits (default 10 s).
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.config.thread_keep_alive = d;
        self
    }

    /// Runs `f` on every thread the runtime starts (workers and blocking threads), first
    /// thing. A panic in it is reported and contained.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.config.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on every thread the runtime started, last thing: exactly once per started
    /// thread. A panic in it is reported and contained.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.config.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// A worker takes a task from the shared injector before its own queue every `ticks`
    /// ticks (iterations of its loop, one task each; default 61), so tasks spawned from
    /// outside are not starved.
    ///
    /// # Panics
    ///
    /// When `ticks` is 0.
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "Builder::global_queue_interval must be at least 1 (got 0)"
        );
        self.config.global_queue_interval = ticks;
        self
    }

    /// A busy worker takes a non-blocking driver turn (due timers, ready sockets) every `ticks`
    /// ticks (iterations of its loop, one task each; default 61).
    ///
    /// # Panics
    ///
    /// When `ticks` is 0.
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(
            ticks > 0,
            "Builder::event_interval must be at least 1 (got 0)"
        );
        self.config.event_interval = ticks;
        self
    }

    /// Reports every poll that runs longer than `threshold` (asyncio's debug mode: "Executing
    /// <Task …> took 0.150 seconds"): off by default.
    ///
    /// The runtime's monitor thread reports a slow poll **while it is still running** (so a
    /// task stuck for ever is named), again each time its running time doubles, and once
    /// more when it returns; see [`task::SlowPoll`](crate::task::SlowPoll) for what a report
    /// holds and how precise its times are. The reports go to the hook given with
    /// [`Builder::on_slow_poll`]; without one, each is one line on stderr (with the feature
    /// `tracing` and a global `tracing` subscriber set, a `tracing` warning with target
    /// `magpie::slow_poll` instead).
    ///
    /// The poll path costs nothing more with this on: the monitor reads the poll counter
    /// and task id each worker already writes, every `threshold / 4` (between 1 ms and
    /// 10 ms). A single-worker runtime starts the monitor thread for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = magpie::Runtime::builder()
    ///     .worker_threads(2)
    ///     .slow_poll_threshold(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    ///
    /// # Panics
    ///
    /// When `threshold` is zero (every poll would be reported).
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        assert!(
            !threshold.is_zero(),
            "Builder::slow_poll_threshold must be more than zero (every poll would be reported)"
        );
        self.config.slow_poll_threshold = Some(threshold);
        self
    }

    /// Where slow-poll reports go (see [`Builder::slow_poll_threshold`], which must be set
    /// for any report to be made). `f` runs on the monitor thread; a panic in it is
    /// contained and reported.
    pub fn on_slow_poll(
        &mut self,
        f: impl Fn(&crate::task::SlowPoll) + Send + Sync + 'static,
    ) -> &mut Self {
        self.config.on_slow_poll = Some(Arc::new(f));
        self
    }

    /// Records a timeline of scheduler events (poll start and end with the task's id and
    /// name, park and unpark, driver turns, steals, blocking closures), keeping the last
    /// `events_per_worker` events of each worker. Off by default; read it with
    /// [`Handle::timeline`](crate::Handle::timeline) and write it as Chrome Trace Event
    /// JSON for Perfetto. Each poll costs two clock reads and two uncontended lock round
    /// trips more while it is on (`docs/observability.md` has the measured figure).
    ///
    /// # Panics
    ///
    /// When `events_per_worker` is 0.
    pub fn timeline(&mut self, events_per_worker: usize) -> &mut Self {
        assert!(
            events_per_worker > 0,
            "Builder::timeline must keep at least 1 event per worker (got 0)"
        );
        self.config.timeline_capacity = Some(events_per_worker);
        self
    }

    /// Draws the order in which ready tasks run from `seed` (a current-thread runtime only):
    /// each time the runtime's thread picks what to poll next, every ready task, and the
    /// `block_on` future when it was woken, is a candidate, and the pick is drawn from the
    /// seed. Tasks woken by timers that fire at the same instant are ready together, so
    /// their order is drawn as well. The same seed and the same program give the same
    /// sequence of polls, run after run; different seeds give different interleavings,
    /// which is how [`#[magpie::test(explore = N)]`](crate::test) shakes out ordering bugs.
    /// An unbiased [`select!`](crate::select) draws which branch it polls first from the
    /// same seed. Without a seed the order is a worker's usual one: first in, first out,
    /// except that a task woken by the running task runs next (the worker's LIFO slot).
    ///
    /// Outside what the seed orders: real sockets (when their data arrives), the blocking
    /// pool's threads, other threads spawning, and the wall clock (use
    /// [`start_paused`](Builder::start_paused) to keep time out of it).
    ///
    /// # Panics
    ///
    /// On a multi-thread builder: its workers' order depends on the OS's thread schedule,
    /// which no seed controls.
    pub fn rng_seed(&mut self, seed: u64) -> &mut Self {
        assert!(
            self.config.current_thread,
            "Builder::rng_seed orders the tasks of a current-thread runtime only: build with \
             Builder::new_current_thread() (a multi-thread runtime's order depends on the OS's \
             thread schedule)"
        );
        self.config.rng_seed = Some(seed);
        self
    }

    /// Starts the runtime with its clock paused (for tests; see [`crate::time::pause`]):
    /// when the runtime has nothing else to do, time jumps to the next timer.
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// How many timer wheels (each behind its own lock) the runtime keeps; default one per
    /// worker, so that registering and cancelling timers never contends. For measurements
    /// (`docs/benchmarks.md` compares 1 and N).
    ///
    /// # Panics
    ///
    /// When `n` is 0.
    #[doc(hidden)]
    pub fn timer_shards(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "Builder::timer_shards must be at least 1 (got 0)");
        self.timer_shards = Some(n);
        self
    }

    /// Runs every thread of the runtime inside a tokio runtime context that magpie starts,
    /// owns and shuts down with itself (feature `tokio-compat`): workers and blocking threads
    /// for their whole life, any thread while it is inside `block_on`. Crates that call
    /// tokio directly (`tokio::spawn`, `tokio::time`, `tokio::net`: reqwest, sqlx, tonic's
    /// transport, tower's timeouts) then work from magpie tasks.
    ///
    /// The tokio side is a current-thread tokio runtime on one extra thread
    /// (`<thread_name>-tokio`), which drives tokio's timers and sockets. `tokio::spawn` from
    /// a magpie task runs that task **there**, not on magpie's workers; `magpie::spawn`
    /// stays on the workers. Dropping the runtime drops magpie's tasks first, then shuts
    /// the tokio side down without waiting for its tasks, and joins its thread.
    ///
    /// ```
    /// let rt = magpie::Runtime::builder()
    ///     .worker_threads(2)
    ///     .tokio_compat(true)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // tokio's timer, from a magpie task.
    ///     magpie::spawn(tokio::time::sleep(std::time::Duration::from_millis(1)))
    ///         .await
    ///         .unwrap();
    /// });
    /// ```
    #[cfg(feature = "tokio-compat")]
    pub fn tokio_compat(&mut self, on: bool) -> &mut Self {
        self.tokio_compat = on;
        self
    }

    /// Starts the runtime's worker threads (none for a current-thread runtime). Fails when
    /// the OS refuses a thread, or the poller (epoll) cannot be created.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let shards = self.timer_shards.unwrap_or(self.config.worker_threads);
        let driver = Driver::new(shards, self.start_paused)?;
        #[cfg_attr(not(feature = "tokio-compat"), allow(unused_mut))]
        let mut config = self.config.clone();
        #[cfg(feature = "tokio-compat")]
        let tokio = self
            .tokio_compat
            .then(|| crate::tokio_compat::TokioSide::start(&config.thread_name))
            .transpose()?;
        #[cfg(feature = "tokio-compat")]
        if let Some(tokio) = &tokio {
            config.thread_context = Some(tokio.context_hook());
        }
        let runtime = Runtime::from_scheduler(Scheduler::start(config, driver)?);
        #[cfg(feature = "tokio-compat")]
        let runtime = runtime.with_tokio(tokio);
        Ok(runtime)
    }
}

//! The scheduler's settings, validated by the facade's `Builder`.

use crate::task::SlowPoll;
use magpie_shim::DynArc;
use std::fmt;
use std::time::Duration;

/// A callback run on runtime threads (start and stop hooks).
pub type Hook = DynArc<dyn Fn() + Send + Sync + 'static>;

/// Puts the calling thread into some outside context (tokio's, for the facade's
/// `tokio-compat`) until the returned guard drops. See [`Config::thread_context`].
pub type ContextHook = DynArc<dyn Fn() -> ContextGuard + Send + Sync + 'static>;

/// What a [`ContextHook`] returns: dropped when the thread leaves the runtime.
pub type ContextGuard = Box<dyn std::any::Any>;

/// A callback the monitor thread runs for each slow-poll report.
pub type SlowPollHook = DynArc<dyn Fn(&SlowPoll) + Send + Sync + 'static>;

/// Everything the scheduler needs to start.
#[derive(Clone)]
pub struct Config {
    /// Number of worker threads (at least 1).
    pub worker_threads: usize,
    /// Name of every thread the runtime starts.
    pub thread_name: String,
    /// Stack size of every thread the runtime starts (`None`: the platform default).
    pub thread_stack_size: Option<usize>,
    /// Upper bound of the blocking pool (at least 1).
    pub max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before it exits.
    pub thread_keep_alive: Duration,
    /// Run on every runtime thread (workers and blocking threads) when it starts.
    pub on_thread_start: Option<Hook>,
    /// Run on every runtime thread when it stops; exactly once per started thread.
    pub on_thread_stop: Option<Hook>,
    /// A worker takes from the shared injector first every this many ticks (fairness).
    pub global_queue_interval: u32,
    /// A busy worker takes a non-blocking driver turn every this many ticks.
    pub event_interval: u32,
    /// Report polls that run longer than this (monitor.rs); `None`: off.
    pub slow_poll_threshold: Option<Duration>,
    /// Where slow-poll reports go; `None`: one line on stderr (or a `tracing` event with
    /// the feature `tracing`, once a global subscriber is set).
    pub on_slow_poll: Option<SlowPollHook>,
    /// Record a timeline of scheduler events, this many per worker (timeline/mod.rs);
    /// `None`: off.
    pub timeline_capacity: Option<usize>,
    /// A current-thread runtime: no worker thread is started; the thread inside `block_on`
    /// is the one worker (current_thread.rs). `worker_threads` is 1.
    pub current_thread: bool,
    /// Entered by every thread while it runs the runtime's tasks: each worker and blocking
    /// thread (and a `block_in_place` stand-in) for its whole life, each thread inside
    /// `block_on` for the call. Guards nest and drop in reverse order.
    pub thread_context: Option<ContextHook>,
    /// Current-thread only: the seed the order of ready tasks is drawn from (worker.rs,
    /// "Seeded order"); `None`: FIFO, the LIFO slot first.
    pub rng_seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            worker_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            thread_name: "magpie-worker".into(),
            thread_stack_size: None,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            on_thread_start: None,
            on_thread_stop: None,
            global_queue_interval: 61,
            event_interval: 61,
            slow_poll_threshold: None,
            on_slow_poll: None,
            timeline_capacity: None,
            current_thread: false,
            rng_seed: None,
            thread_context: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("timeline_capacity", &self.timeline_capacity)
            .field("current_thread", &self.current_thread)
            .field("rng_seed", &self.rng_seed)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub(crate) fn run_start_hook(&self) {
        if let Some(hook) = &self.on_thread_start {
            run_hook(hook, "on_thread_start");
        }
    }

    pub(crate) fn run_stop_hook(&self) {
        if let Some(hook) = &self.on_thread_stop {
            run_hook(hook, "on_thread_stop");
        }
    }

    /// Enters [`Config::thread_context`], if set, until the guard drops.
    pub(crate) fn enter_thread_context(&self) -> Option<ContextGuard> {
        self.thread_context.as_ref().map(|enter| enter())
    }

    pub(crate) fn thread_builder(&self) -> std::thread::Builder {
        let b = std::thread::Builder::new().name(self.thread_name.clone());
        match self.thread_stack_size {
            Some(size) => b.stack_size(size),
            None => b,
        }
    }
}

/// Runs a user hook; a panic in it is reported and contained (it must not kill the thread,
/// or the stop hook of a started thread would never run).
fn run_hook(hook: &Hook, which: &str) {
    if crate::unwind::contain(|| hook()) {
        magpie_shim::diagnostics::report(format_args!(
            "the {which} hook panicked; the panic was contained"
        ));
    }
}

//! Runtime metrics: live counters of the scheduler, the blocking pool, timers and I/O.
//!
//! - `worker.rs`: the counters each worker keeps on its own cache lines;
//! - `histogram.rs`: the per-worker poll-time histogram (sampled polls, fixed memory);
//! - `prometheus.rs`: the Prometheus text exposition of all of it;
//! - `clock.rs`: the coarse clock that stamps a task's spawn time.
//!
//! Everything is always on: a counter is written by its owner with a plain store, and a
//! [`RuntimeMetrics`] reads the live values (no snapshot is kept, nothing is reset). What it
//! costs is measured by `scripts/metrics_cost.sh` against a build with `--cfg
//! magpie_no_metrics` (see `docs/observability.md`).

pub(crate) mod clock;
mod histogram;
mod prometheus;
mod worker;

pub use histogram::{PollTimeHistogram, POLL_TIME_SAMPLE_EVERY};
pub(crate) use worker::WorkerMetrics;

use crate::scheduler::Handle;
use std::fmt;
use std::time::Duration;

/// A live view of one runtime's counters (`Handle::metrics`, `Runtime::metrics`).
///
/// Every call reads the counters as they are now; nothing is copied when the view is made,
/// and keeping it does not keep the runtime's threads running. Counters (names ending in
/// `_count`, and `worker_total_busy_duration`) only grow; the others are gauges (values
/// now). Per-worker functions take the
/// worker's index, `0..num_workers()`, and panic on an index past that.
#[derive(Clone)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .field("spawned_tasks_count", &self.spawned_tasks_count())
            .finish_non_exhaustive()
    }
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    /// Worker threads.
    pub fn num_workers(&self) -> usize {
        self.handle.num_workers()
    }

    /// Tasks spawned and not yet finished or dropped (blocking closures not included: see
    /// [`RuntimeMetrics::num_blocking_threads`]). Takes each registry shard's lock in turn.
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.num_alive_tasks()
    }

    /// Every spawn since the runtime started, `spawn_blocking` included; a spawn refused
    /// because the runtime had shut down counts too. Takes each registry shard's lock in
    /// turn (the count lives there, where every spawn already takes a lock).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.handle.spawned_tasks_count()
    }

    /// Tasks waiting in the shared injector (spawned or woken from outside the workers).
    pub fn global_queue_depth(&self) -> usize {
        self.handle.global_queue_depth()
    }

    /// Blocking threads alive (running a closure or idle).
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.num_blocking_threads()
    }

    /// Blocking threads waiting for a closure.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.blocking_stats().idle
    }

    /// Blocking closures queued and not started.
    pub fn blocking_queue_depth(&self) -> usize {
        self.handle.blocking_stats().queued
    }

    /// Polls this worker has started (exact; the one running now included).
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.handle.worker_polls(worker)
    }

    /// Times this worker slept for want of work (in the driver or on its condvar). A park
    /// that finds a wake-up already waiting does not sleep and is not counted.
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.handle.worker_metrics(worker).parks()
    }

    /// Tasks this worker stole from other workers' queues (the injector is not stealing).
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.handle.worker_metrics(worker).steals()
    }

    /// Tasks queued on this worker now: its deque and its LIFO slot.
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.handle.worker_queue_depth(worker)
    }

    /// Time this worker spent awake (polling, searching, turning the driver between polls)
    /// since it started, the current busy stretch included; its sleeps in the parker are
    /// not busy.
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        self.handle.worker_metrics(worker).busy()
    }

    /// This worker's poll-time histogram: one poll in [`POLL_TIME_SAMPLE_EVERY`], chosen at
    /// random, is timed (the histogram module's documentation says why).
    pub fn worker_poll_time_histogram(&self, worker: usize) -> PollTimeHistogram {
        self.handle.worker_metrics(worker).poll_times.snapshot()
    }

    /// All workers' poll-time histograms merged.
    pub fn poll_time_histogram(&self) -> PollTimeHistogram {
        let mut all = PollTimeHistogram::empty();
        for w in 0..self.num_workers() {
            all.merge(&self.worker_poll_time_histogram(w));
        }
        all
    }

    /// I/O sources (sockets, pipes) registered with the reactor now.
    pub fn io_sources_registered(&self) -> usize {
        self.handle.driver().reactor.num_sources()
    }

    /// Readiness events the reactor has dispatched to sources.
    pub fn io_ready_events_count(&self) -> u64 {
        self.handle.driver().reactor.events_count()
    }

    /// Waits of the reactor (driver turns: parked or not).
    pub fn io_driver_turns_count(&self) -> u64 {
        self.handle.driver().reactor.turns_count()
    }

    /// Timers (sleeps, timeouts, intervals' ticks) registered.
    pub fn timers_registered_count(&self) -> u64 {
        self.handle.driver().timers.registered_count()
    }

    /// Timers that fired (reached their deadline; cancelled ones do not count).
    pub fn timers_fired_count(&self) -> u64 {
        self.handle.driver().timers.fired_count()
    }

    /// Timers registered and not yet fired or cancelled (takes each timer shard's lock).
    pub fn timers_pending(&self) -> usize {
        self.handle.driver().timers.pending()
    }

    /// The Prometheus text exposition format (version 0.0.4) of every metric here, names
    /// prefixed `magpie_`, per-worker series labelled `worker="<index>"`: serve it at
    /// `/metrics` as `text/plain; version=0.0.4`.
    pub fn to_prometheus(&self) -> String {
        prometheus::render(self)
    }
}

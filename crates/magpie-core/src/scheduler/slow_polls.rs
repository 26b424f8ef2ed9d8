//! Slow-poll reports: the monitor's second job (monitor.rs runs it on each look).
//!
//! A worker's poll counter is odd while a poll runs and changes with every poll
//! (`Remote::polls`). On each look the monitor compares it with what it saw before: the same
//! odd value means the same poll is still running, and the time since the first look that
//! saw that value is a lower bound of how long it has run. Nothing is added to the poll
//! path for this: the monitor reads what the worker already writes, plus the id of the task
//! it polls (`WorkerMetrics::current_task`, written before the counter turns odd, with
//! `Release` on the odd store, so a monitor that reads the odd value with `Acquire` reads
//! that task's id).
//!
//! Reports, for one stuck poll: the first when its elapsed time passes the threshold, then
//! each time the elapsed time doubles (a task blocked for 10 s with a 100 ms threshold is
//! reported at 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 and 6.4 s: seven times, not once a period), and
//! one last time, `finished`, at the first look after it returned. The task is named by a lookup of its id
//! in the registry, at the first report only.

use super::{Remote, Shared};
use crate::task::{Id, SlowPoll, TaskName};
use magpie_shim::{diagnostics, Ordering};
use std::panic::Location;
use std::time::{Duration, Instant};

/// How often the monitor looks while slow polls are reported: often enough that a report
/// is at most a quarter of the threshold late, never more often than every millisecond.
pub(super) fn look_period(threshold: Duration, default: Duration) -> Duration {
    (threshold / 4).clamp(Duration::from_millis(1), default)
}

pub(super) struct SlowPolls {
    threshold: Duration,
    workers: Vec<Watch>,
}

/// What the monitor knows of the poll running on one worker.
struct Watch {
    polls: usize,
    /// The first look that saw `polls`.
    since: Instant,
    /// Report again once the poll has run this long.
    next_report: Duration,
    /// Set at the first report of this poll.
    task: Option<Polled>,
}

struct Polled {
    id: Id,
    name: Option<TaskName>,
    location: &'static Location<'static>,
}

impl SlowPolls {
    pub(super) fn new(threshold: Duration, workers: usize) -> SlowPolls {
        let now = Instant::now();
        SlowPolls {
            threshold,
            workers: (0..workers)
                .map(|_| Watch {
                    polls: usize::MAX,
                    since: now,
                    next_report: threshold,
                    task: None,
                })
                .collect(),
        }
    }

    /// One look at every worker.
    pub(super) fn look(&mut self, shared: &Shared) {
        let now = Instant::now();
        for (w, remote) in shared.remotes.iter().enumerate() {
            let polls = remote.polls.load(Ordering::Acquire);
            let watch = &mut self.workers[w];
            if polls == watch.polls && polls % 2 == 1 {
                let elapsed = now.saturating_duration_since(watch.since);
                if elapsed < watch.next_report {
                    continue;
                }
                if watch.task.is_none() {
                    watch.task = identify(shared, remote, polls);
                }
                if let Some(task) = &watch.task {
                    report(shared, self.threshold, task, w, elapsed, false);
                }
                watch.next_report = (elapsed * 2).max(self.threshold * 2);
            } else {
                if let Some(task) = watch.task.take() {
                    let elapsed = now.saturating_duration_since(watch.since);
                    report(shared, self.threshold, &task, w, elapsed, true);
                }
                watch.polls = polls;
                watch.since = now;
                watch.next_report = self.threshold;
            }
        }
    }
}

/// The task inside poll number `polls` of this worker, if that poll is still running.
fn identify(shared: &Shared, remote: &Remote, polls: usize) -> Option<Polled> {
    let id = remote.metrics.current_task();
    let task = shared.registry.find(id, |header| Polled {
        id: header.id,
        name: header.site.task_name(),
        location: header.site.location(),
    })?;
    // Still the same poll: the id read belongs to it.
    (remote.polls.load(Ordering::Acquire) == polls).then_some(task)
}

fn report(
    shared: &Shared,
    threshold: Duration,
    task: &Polled,
    worker: usize,
    elapsed: Duration,
    finished: bool,
) {
    let report = SlowPoll {
        task_id: task.id,
        task_name: task.name.clone(),
        location: task.location,
        worker: Some(worker),
        elapsed,
        finished,
        threshold,
    };
    match &shared.config.on_slow_poll {
        Some(hook) => {
            if crate::unwind::contain(|| hook(&report)) {
                diagnostics::report(format_args!(
                    "the on_slow_poll hook panicked; the panic was contained"
                ));
            }
        }
        // With the feature `tracing` and a subscriber (seen from this, the monitor's, thread:
        // the global one) that takes the event, a `tracing` warning; otherwise a line on
        // stderr, so a report never vanishes for want of a subscriber.
        #[cfg(feature = "tracing")]
        None if crate::trace::slow_poll_enabled() => crate::trace::slow_poll(&report),
        None => diagnostics::report(format_args!("{report}")),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_period_follows_the_threshold_within_bounds() {
        let default = Duration::from_millis(10);
        assert_eq!(look_period(Duration::from_millis(100), default), default);
        assert_eq!(
            look_period(Duration::from_millis(20), default),
            Duration::from_millis(5)
        );
        assert_eq!(
            look_period(Duration::from_micros(10), default),
            Duration::from_millis(1)
        );
    }
}

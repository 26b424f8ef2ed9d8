//! `tracing` events (feature `tracing`): task spawn and finish at `debug` level (target
//! `magpie::task`), slow-poll reports at `warn` (target `magpie::slow_poll`).

use crate::task::raw::Header;
use crate::task::SlowPoll;

/// A task was spawned.
pub(crate) fn spawned(task: &Header) {
    tracing::debug!(
        target: "magpie::task",
        task_id = task.id.as_u64(),
        task_name = task.site.name(),
        spawned_at = %task.site.location(),
        "task spawned"
    );
}

/// A task's future returned, panicked or was dropped (`outcome`).
pub(crate) fn finished(task: &Header, outcome: &'static str) {
    tracing::debug!(
        target: "magpie::task",
        task_id = task.id.as_u64(),
        task_name = task.site.name(),
        outcome,
        "task finished"
    );
}

/// Whether the subscriber of the calling thread (for the monitor: the global one) takes
/// slow-poll warnings.
pub(crate) fn slow_poll_enabled() -> bool {
    tracing::enabled!(target: "magpie::slow_poll", tracing::Level::WARN)
}

/// A slow-poll report with no `on_slow_poll` hook.
pub(crate) fn slow_poll(report: &SlowPoll) {
    tracing::warn!(
        target: "magpie::slow_poll",
        task_id = report.task_id().as_u64(),
        task_name = report.task_name(),
        spawned_at = %report.location(),
        worker = report.worker(),
        elapsed_s = report.elapsed().as_secs_f64(),
        finished = report.finished(),
        "{report}"
    );
}

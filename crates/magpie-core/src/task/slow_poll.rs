//! `SlowPoll`: the monitor's report of a poll that ran longer than
//! `Config::slow_poll_threshold` (scheduler/monitor.rs says how polls are watched).

use super::{Id, TaskName};
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// A poll that has run, or ran, longer than the slow-poll threshold.
///
/// A stuck poll is reported while it is still running ([`SlowPoll::finished`] is `false`)
/// once its elapsed time passes the threshold, again each time the elapsed time doubles,
/// and once more when it returns (`finished` is `true`).
#[derive(Clone, Debug)]
pub struct SlowPoll {
    pub(crate) task_id: Id,
    pub(crate) task_name: Option<TaskName>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) worker: Option<usize>,
    pub(crate) elapsed: Duration,
    pub(crate) finished: bool,
    pub(crate) threshold: Duration,
}

impl SlowPoll {
    /// The id of the task being polled.
    pub fn task_id(&self) -> Id {
        self.task_id
    }

    /// Its name, if it was given one (`task::Builder::name`).
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// Where it was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The worker the poll runs on (`None` is reserved for polls outside the workers).
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }

    /// How long the poll has run (still running) or ran (finished), measured by the monitor
    /// from the first of its looks that found the poll running. While running it is a lower
    /// bound, short of the truth by up to one monitor period (at most 10 ms, and at most a
    /// quarter of the threshold), so no report is made before the threshold has passed. When
    /// finished it is taken at the first look after the poll returned: within one period of
    /// the truth, either way.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// `false`: the poll is still running; `true`: it has returned.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The threshold it passed.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

/// asyncio's debug-mode warning, in magpie's words: `Executing <Task id=17 name='fetch'
/// spawned at src/main.rs:12:5> took 0.412 seconds (worker 1)`.
impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Executing <Task id={}", self.task_id)?;
        if let Some(name) = &self.task_name {
            write!(f, " name='{name}'")?;
        }
        write!(f, " spawned at {}> ", self.location)?;
        let seconds = self.elapsed.as_secs_f64();
        if self.finished {
            write!(f, "took {seconds:.3} seconds")?;
        } else {
            write!(
                f,
                "has been running for {seconds:.3} seconds and has not returned"
            )?;
        }
        if let Some(w) = self.worker {
            write!(f, " (worker {w}")?;
        } else {
            write!(f, " (")?;
        }
        write!(
            f,
            ", slow-poll threshold {:.3} s)",
            self.threshold.as_secs_f64()
        )
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_task_and_where_it_was_spawned() {
        let report = SlowPoll {
            task_id: Id::next(),
            task_name: Some("fetch".into()),
            location: Location::caller(),
            worker: Some(1),
            elapsed: Duration::from_millis(412),
            finished: false,
            threshold: Duration::from_millis(100),
        };
        let line = report.to_string();
        assert!(line.starts_with("Executing <Task id="), "{line}");
        assert!(line.contains("name='fetch'"), "{line}");
        assert!(
            line.contains(&format!("slow_poll.rs:{}", report.location.line())),
            "{line}"
        );
        assert!(line.contains("running for 0.412 seconds"), "{line}");
        assert!(
            line.contains("(worker 1, slow-poll threshold 0.100 s)"),
            "{line}"
        );
        let done = SlowPoll {
            finished: true,
            task_name: None,
            ..report
        };
        let line = done.to_string();
        assert!(line.contains("took 0.412 seconds"), "{line}");
        assert!(!line.contains("name="), "{line}");
    }
}

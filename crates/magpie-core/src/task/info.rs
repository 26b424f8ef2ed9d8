//! `TaskInfo`: one live task as `Handle::tasks` found it (asyncio's `all_tasks()`).
//!
//! Taken by one walk of the registry, each shard locked in turn, while the workers keep
//! running: each `TaskInfo` is true of its task at the moment its shard was visited, and
//! the list as a whole is not one instant's picture (a task may finish or be spawned while
//! the walk goes on).

use super::raw::Header;
use super::{Id, TaskName};
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// What a task is doing, from its state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting to be woken (on a timer, a socket, a channel, another task).
    Idle,
    /// Woken and queued: it will be polled when a worker reaches it.
    Scheduled,
    /// Being polled now ([`TaskInfo::worker`] says where).
    Running,
    /// Aborted (or the runtime is shutting down), not yet dropped: its future is dropped the
    /// next time a worker reaches it, or when the poll running now returns.
    Cancelling,
    /// Its future returned or was dropped; it is leaving the task list.
    Finished,
}

impl TaskState {
    fn as_str(self) -> &'static str {
        match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Cancelling => "cancelling",
            TaskState::Finished => "finished",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A copy of what one live task was when `Handle::tasks` visited it.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: Id,
    name: Option<TaskName>,
    location: &'static Location<'static>,
    state: TaskState,
    worker: Option<usize>,
    polls: u64,
    age: Duration,
}

impl TaskInfo {
    /// `running` holds `(task id, worker)` for every worker inside a poll now.
    pub(crate) fn of(header: &Header, running: &[(u64, usize)]) -> TaskInfo {
        let snapshot = header.state.load();
        let worker = running
            .iter()
            .find(|(id, _)| *id == header.id.as_u64())
            .map(|&(_, w)| w);
        let state = if snapshot.is_complete() {
            TaskState::Finished
        } else if snapshot.is_running() {
            if snapshot.is_cancelled() {
                TaskState::Cancelling
            } else {
                TaskState::Running
            }
        } else if snapshot.is_cancelled() {
            TaskState::Cancelling
        } else if snapshot.is_scheduled() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        TaskInfo {
            id: header.id,
            name: header.site.task_name(),
            location: header.site.location(),
            state,
            worker: worker.filter(|_| snapshot.is_running()),
            polls: header.meta.polls(),
            age: header.meta.age(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given with `task::Builder::name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// The worker polling the task, when it is [`TaskState::Running`] on one.
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }

    /// How many times its future has been polled (saturating at `u32::MAX`).
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Time since it was spawned, to about 4 ms (a coarse clock; a task spawned on a worker
    /// takes the worker's reading from its last driver turn or unpark). Wraps for tasks
    /// older than 208 days (task/meta.rs says why).
    pub fn age(&self) -> Duration {
        self.age
    }
}

/// One row of the table (see [`table`]): id, state, worker, polls, age, name, location.
impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let worker = self
            .worker
            .map_or_else(|| "-".to_owned(), |w| w.to_string());
        write!(
            f,
            "{:>8}  {:<10}  {:>6}  {:>8}  {:>10}  {:<20}  {}",
            self.id.as_u64(),
            self.state,
            worker,
            self.polls,
            format!("{:.3}s", self.age.as_secs_f64()),
            self.name.as_deref().unwrap_or("-"),
            self.location,
        )
    }
}

/// A readable table of tasks (a header line, then one row per task): `println!("{}",
/// magpie::task::table(&handle.tasks()))`.
pub fn table(tasks: &[TaskInfo]) -> TaskTable<'_> {
    TaskTable(tasks)
}

/// See [`table`].
#[derive(Clone, Copy, Debug)]
pub struct TaskTable<'a>(&'a [TaskInfo]);

impl fmt::Display for TaskTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>8}  {:<10}  {:>6}  {:>8}  {:>10}  {:<20}  spawned at",
            "id", "state", "worker", "polls", "age", "name"
        )?;
        for task in self.0 {
            writeln!(f, "{task}")?;
        }
        write!(f, "({} tasks)", self.0.len())
    }
}

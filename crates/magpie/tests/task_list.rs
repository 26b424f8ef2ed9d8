//! `Handle::tasks`: every live task with its name, spawn location, state, polls and age.

mod common;

use common::{guard, runtime, wait_until};
use magpie::task::{TaskInfo, TaskState};
use std::sync::mpsc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn find(handle: &magpie::Handle, id: magpie::task::Id) -> Option<TaskInfo> {
    handle.tasks().into_iter().find(|t| t.id() == id)
}

#[test]
fn a_named_task_shows_its_name_location_state_and_polls() {
    guard("task list", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let line = line!() + 3;
        let task = magpie::task::Builder::new()
            .name("alpha")
            .spawn_on(std::future::pending::<()>(), &handle)
            .unwrap();
        let id = task.id();
        wait_until("the task was polled once", LIMIT, || {
            find(&handle, id).is_some_and(|t| t.polls() == 1 && t.state() == TaskState::Idle)
        });
        let info = find(&handle, id).unwrap();
        assert_eq!(info.name(), Some("alpha"));
        assert!(
            info.location().file().ends_with("task_list.rs"),
            "{}",
            info.location()
        );
        assert_eq!(info.location().line(), line);
        assert_eq!(info.worker(), None, "idle tasks run nowhere");
        std::thread::sleep(Duration::from_millis(60));
        let older = find(&handle, id).unwrap();
        assert!(
            older.age() >= Duration::from_millis(40),
            "{:?}",
            older.age()
        );
        // A table with a header row and this task's row.
        let table = magpie::task::table(&handle.tasks()).to_string();
        assert!(
            table.lines().next().unwrap().contains("spawned at"),
            "{table}"
        );
        assert!(
            table.contains("alpha") && table.contains("idle") && table.contains("task_list.rs"),
            "{table}"
        );
        assert!(table.ends_with("(1 tasks)"), "{table}");
    });
}

#[test]
fn running_and_scheduled_tasks_are_told_apart() {
    guard("running and scheduled", || {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        let (release, released) = mpsc::channel::<()>();
        let (entered, is_entered) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            entered.send(()).unwrap();
            released.recv().unwrap();
        });
        is_entered.recv().unwrap();
        // The only worker is inside the blocker's poll: this one waits in the queue.
        let queued = rt.spawn(async {});
        let running = find(&handle, blocker.id()).unwrap();
        assert_eq!(running.state(), TaskState::Running);
        assert_eq!(running.worker(), Some(0));
        let waiting = find(&handle, queued.id()).unwrap();
        assert_eq!(waiting.state(), TaskState::Scheduled);
        assert_eq!(waiting.polls(), 0);
        release.send(()).unwrap();
        rt.block_on(async {
            blocker.await.unwrap();
            queued.await.unwrap();
        });
        assert!(handle.tasks().is_empty(), "finished tasks leave the list");
    });
}

#[test]
fn an_aborted_task_leaves_the_list() {
    guard("aborted", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let kept = rt.spawn(std::future::pending::<()>());
        let aborted = rt.spawn(std::future::pending::<()>());
        assert_eq!(handle.tasks().len(), 2);
        aborted.abort();
        wait_until("the aborted task is gone", LIMIT, || {
            find(&handle, aborted.id()).is_none()
        });
        let ids: Vec<_> = handle.tasks().iter().map(|t| t.id()).collect();
        assert_eq!(ids, [kept.id()]);
    });
}

#[test]
fn every_spawn_path_records_the_callers_location() {
    guard("locations", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let from_runtime = (rt.spawn(std::future::pending::<()>()), line!());
        let from_handle = (handle.spawn(std::future::pending::<()>()), line!());
        let (from_task, task_line) =
            rt.block_on(async { (magpie::spawn(std::future::pending::<()>()), line!()) });
        for (join, line) in [from_runtime, from_handle, (from_task, task_line)] {
            let info = find(&handle, join.id()).unwrap();
            assert_eq!(info.location().line(), line, "{}", info.location());
            assert!(info.location().file().ends_with("task_list.rs"));
        }
    });
}

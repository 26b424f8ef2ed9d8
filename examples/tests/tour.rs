//! Runs every section of the tour and checks the lines it prints: the asyncio notes' output
//! ("Hello" then "World", "Results: [1, 2]", "Entering the context" ...) and each section's
//! key results.
//!
//! Most sections run on a runtime whose clock is paused (`start_paused(true)`): their sleeps
//! are the notes' real seconds, yet take no real time, and the order of what they print is
//! deterministic. No assertion depends on how fast this machine is.

use magpie_examples::{
    async_generators, cancellation, capture, concurrency_vs_parallelism, context_managers,
    coroutines, debug_mode, event_loop, exceptions, files, futures, gather, locks_and_events,
    one_thread, paused_time, queues, streams, task_groups, tasks, timers, waiting, web_servers,
};
use std::future::Future;
use std::time::Duration;

/// Runs an async section on a paused runtime, with the notes' second at `second`, and
/// returns its lines.
fn run_paused<F: Future>(second: Duration, section: impl FnOnce() -> F) -> Vec<String> {
    capture(second, || {
        let runtime = magpie::Runtime::builder()
            .start_paused(true)
            .build()
            .expect("failed to start a paused runtime");
        runtime.block_on(section());
    })
}

/// The notes' real second: free on a paused clock.
const SECOND: Duration = Duration::from_secs(1);

/// Asserts that lines containing each of `expected`, in this order, are among `lines`
/// (other lines may come between). A pattern starting with `^` must be the whole line.
#[track_caller]
fn assert_in_order(lines: &[String], expected: &[&str]) {
    let mut from = 0;
    for pattern in expected {
        let found = lines[from..]
            .iter()
            .position(|line| match pattern.strip_prefix('^') {
                Some(exact) => line == exact,
                None => line.contains(pattern),
            });
        match found {
            Some(i) => from += i + 1,
            None => panic!(
                "no line {pattern:?} after line {from} in the output:\n{}",
                lines.join("\n")
            ),
        }
    }
}

/// How many lines contain `pattern`.
fn count(lines: &[String], pattern: &str) -> usize {
    lines.iter().filter(|line| line.contains(pattern)).count()
}

#[test]
fn coroutines_say_after_in_turn() {
    let lines = run_paused(SECOND, coroutines::main);
    assert_in_order(
        &lines,
        &[
            "== 1. Coroutines",
            "nothing has run yet",
            "^Hello",
            "^World",
            "took 3000 ms",
            "^Coroutine started",
            "^Coroutine finished",
        ],
    );
}

#[test]
fn event_loop_run_block_on_and_the_nested_loop_error() {
    // A real clock: this section starts its own runtimes.
    let lines = capture(Duration::from_millis(20), event_loop::main);
    assert_eq!(count(&lines, "Hello"), 2, "{lines:#?}");
    assert_eq!(count(&lines, "World"), 2, "{lines:#?}");
    assert_in_order(
        &lines,
        &[
            "== 2. The event loop",
            "block_on(handle) -> 42",
            "Error: Cannot start block_on from inside a magpie runtime",
            "the runtime was dropped",
        ],
    );
}

#[test]
fn tasks_await_in_order() {
    let lines = run_paused(SECOND, tasks::main);
    assert_in_order(
        &lines,
        &[
            "== 3. Tasks",
            "^Hello",
            "^World",
            "two tasks took 2000 ms",
            "is_finished(): true",
            "Some(\"fetch-user\")",
            "the detached task finished",
        ],
    );
}

#[test]
fn gather_results_in_order() {
    let lines = run_paused(SECOND, gather::main);
    assert_in_order(
        &lines,
        &[
            "== 4. Running tasks concurrently",
            "^Hello",
            "^World",
            "((), ()) after 2000 ms",
            "Results: [1, 2] (join!",
            "Results: [2, 1] (join_all",
            "10!=3628800",
            "[1, 4, 9]",
        ],
    );
}

#[test]
fn exceptions_reported_others_unaffected_and_fail_fast() {
    let lines = run_paused(SECOND, exceptions::main);
    assert_in_order(
        &lines,
        &[
            "^Error: Something went wrong!",
            // gather(return_exceptions=True): the others complete.
            "^Hello",
            "^World",
            "ok: Hello",
            "ok: World",
            "An error occurred: say_after refused to say \"Error\"",
            // try_join!: World, due after the error, never prints.
            "try_join!",
            "^Hello",
            "An error occurred: say_after refused to say \"Error\" (the rest were dropped)",
            "try_join_all -> Err(\"job 2 failed\")",
            "fine: said Hello",
            "failing: An error occurred",
            "is_panic() = true",
            "still runs tasks: Ok(42)",
        ],
    );
    let fail_fast = lines
        .iter()
        .position(|l| l.starts_with("try_join!"))
        .unwrap();
    let after = lines
        .iter()
        .position(|l| l.contains("the rest were dropped"))
        .unwrap();
    assert!(
        !lines[fail_fast..after].iter().any(|l| l == "World"),
        "try_join! let World print: {lines:#?}"
    );
}

#[test]
fn context_managers_exit_on_success_error_and_cancellation() {
    let lines = run_paused(SECOND, context_managers::main);
    assert_in_order(
        &lines,
        &[
            "^Entering the context",
            "^Inside the context",
            "^Exiting the context",
            // on an error
            "^Entering the context",
            "^Inside the context",
            "^Exiting the context",
            "An error occurred: the body failed",
            // the async exit
            "Exiting the context: db closed (async exit)",
            "the body returned Ok(",
            "Exiting the context: db closed (async exit, after the error",
            "An error occurred: db: syntax error",
            // cancelled by a timeout: Drop does the exit
            "Entering the context: db connected",
            "closed by Drop",
            "Err(Elapsed) after 500 ms",
            // cancelled task
            "Inside the context (a task about to be cancelled)",
            "^Exiting the context",
            "was cancelled",
        ],
    );
}

#[test]
fn futures_fetch_data_and_a_oneshot() {
    let lines = run_paused(SECOND, futures::main);
    assert_in_order(
        &lines,
        &[
            "^Fetching data...",
            "^Result: Data fetched!",
            "Fetching data... (a bare future",
            "Result: Data fetched! (after 1000 ms)",
            "set_exception -> Error: the server said no",
            "the resolving side went away",
        ],
    );
}

#[test]
fn async_generators_async_for_and_aclose() {
    let lines = run_paused(SECOND, async_generators::main);
    assert_in_order(
        &lines,
        &[
            "tick 0 at 0 ms",
            "tick 1 at 500 ms",
            "tick 2 at 1000 ms",
            "ticker(3)'s finally ran",
            "-> [0, 1, 4, 9]",
            "break at tick 2",
            "ticker(1000)'s finally ran",
            "[Ok(1), Ok(2), Err(",
            "[2, 4, 6, 8, 10]",
        ],
    );
}

#[test]
fn concurrency_vs_parallelism_prints_its_measurements() {
    // Short jobs (a quarter of 20 ms each): the timings are printed, not judged.
    let lines = run_paused(Duration::from_millis(20), concurrency_vs_parallelism::main);
    assert_in_order(
        &lines,
        &[
            "CPU-bound jobs of about",
            "sequentially, in one task",
            "join_all in one task",
            "spawned as tasks",
            "spawn_blocking",
            "sleeps of 0.5 s in one task",
            "blocking sleeps",
            "on spawn_blocking took",
        ],
    );
    // Every row says its speed-up.
    assert_eq!(count(&lines, "  x"), 4, "{lines:#?}");
}

#[test]
fn cancellation_runs_the_finally() {
    let lines = run_paused(SECOND, cancellation::main);
    assert_in_order(
        &lines,
        &[
            "downloading",
            "finally: the download cleaned up",
            "CancelledError",
            "timed out; the task runs on",
            "awaited again: the report",
            "JoinSet::shutdown(): 0 tasks left",
            "finally: the CPU loop that yields cleaned up",
            "the yielding loop: task",
        ],
    );
    assert_eq!(count(&lines, "never printed"), 0, "{lines:#?}");
    assert_eq!(count(&lines, "finally: worker"), 3, "{lines:#?}");
}

#[test]
fn task_groups_wait_for_all_and_cancel_on_error() {
    let lines = run_paused(SECOND, task_groups::main);
    assert_in_order(
        &lines,
        &[
            "^Hello",
            "^World",
            "Both tasks have completed now (Ok(())",
            "the tasks' results: Ok(1), Ok(2)",
            "finally: the slow download ended",
            "An error occurred: the parser failed",
        ],
    );
    assert_eq!(count(&lines, "never printed"), 0, "{lines:#?}");
}

#[test]
fn waiting_wait_for_wait_as_completed_select() {
    let lines = run_paused(SECOND, waiting::main);
    assert_in_order(
        &lines,
        &[
            "TimeoutError",
            "-> quick",
            "as_completed -> [\"fast\", \"medium\", \"slow\"]",
            "done: \"fast\", pending: 2",
            "done: [\"medium\"], pending: 1",
            "the mirror answered first",
        ],
    );
}

#[test]
fn queues_producer_and_workers() {
    let lines = run_paused(SECOND, queues::main);
    assert_eq!(count(&lines, ": processed item"), 6, "{lines:#?}");
    assert_in_order(
        &lines,
        &[
            "producer: put 6 items",
            "queue.join(): 6 items processed by 3 workers",
            "QueueFull",
            "QueueEmpty",
            "12 * 12 = Ok(144)",
        ],
    );
}

#[test]
fn locks_and_events() {
    let lines = run_paused(SECOND, locks_and_events::main);
    assert_in_order(
        &lines,
        &[
            "balance 200 (no update lost)",
            "at most 2 at once",
            "woke waiters [1, 2, 3]",
            "notify_one woke 1, notify_waiters the other 2",
            "1 leader",
        ],
    );
}

#[test]
fn timers_call_later_deadlines_interval() {
    let lines = run_paused(SECOND, timers::main);
    assert_in_order(
        &lines,
        &[
            "call_later(30 ms): the callback ran",
            "call_at(now + 50 ms): the callback ran",
            "the cancelled one: task",
            "step 2 of 50 ms done",
            "-> Err(Elapsed)",
            "reset to 60 ms fired",
            "interval(30 ms): ticks due at [0, 30, 60, 90] ms",
            "Burst",
            "Skip",
        ],
    );
    assert_eq!(count(&lines, "never printed"), 0, "{lines:#?}");
}

#[test]
fn streams_tcp_exchange() {
    let lines = run_paused(SECOND, streams::main);
    assert_in_order(
        &lines,
        &[
            "Serving on 127.0.0.1:",
            "client: Received: \"HELLO\"",
            "client: Received: \"MAGPIE\"",
            "client: Received: \"STREAMS\"",
            "server: EOF from the client",
            "client: EOF from the server",
        ],
    );
}

#[test]
fn web_servers_answer_overlap_and_shut_down_gracefully() {
    // A real clock: the client and the server talk over loopback, and a paused clock would
    // jump to the next timer (a sleep, a timeout) whenever bytes were in flight between them.
    // A watchdog: a hang fails the test instead of stalling the run.
    let lines = capture(Duration::from_millis(100), || {
        magpie::run(async {
            magpie::time::timeout(Duration::from_secs(30), web_servers::main())
                .await
                .expect("the web servers section took over 30 s")
        })
    });
    assert_in_order(
        &lines,
        &[
            "== 17. Web servers",
            "Serving on http://127.0.0.1:",
            "GET /                 -> 200 OK Hello from magpie!",
            r#"POST /echo (JSON)     -> 200 OK application/json: {"greeting":"hello","n":[1,2,3]}"#,
            r#"POST /echo (not JSON) -> 400 Bad Request {"error":"invalid JSON: "#,
            "GET /nowhere          -> 404 Not Found no route for GET /nowhere",
            "GET / (HTTP/2.0)      -> 200 OK Hello from magpie!",
            // The notes' second is 100 ms here: five 100 ms requests at once.
            "5 x GET /slow?ms=100 at once -> 5 x 200 OK in ",
            "while GET /slow?ms=100 is being served",
            ": 11 requests served, 0 connections cut off",
            "the request in flight completed: 200 OK slept 100 ms",
            "GET / after the shutdown -> connection refused",
        ],
    );
    assert_eq!(count(&lines, "failed"), 0, "{lines:#?}");
}

#[test]
fn paused_time_jumps() {
    let lines = capture(SECOND, paused_time::main);
    assert_in_order(
        &lines,
        &[
            "^Hello",
            "^World",
            "in turn: 3000 ms",
            "^Hello",
            "^World",
            "as two tasks: 2000 ms",
        ],
    );
}

#[test]
fn debug_mode_names_the_task_that_blocks_a_worker() {
    let lines = capture(SECOND, debug_mode::main);
    assert_in_order(
        &lines,
        &[
            "slow_poll_threshold(100 ms)",
            "slow poll: Executing <Task id=",
            "the live tasks",
            "blocking-sleep",
            "slow poll: Executing <Task id=",
            "took 0.",
            "the fix",
        ],
    );
    let first = lines.iter().find(|l| l.starts_with("slow poll:")).unwrap();
    assert!(
        first.contains("name='blocking-sleep'")
            && first.contains("debug_mode.rs:")
            && first.contains("has not returned"),
        "{first}"
    );
    let row = lines
        .iter()
        .find(|l| l.contains("blocking-sleep") && !l.contains("slow poll"))
        .unwrap();
    assert!(row.contains("running"), "{row}");
    assert_eq!(count(&lines, "took 0."), 1, "one finished report");
}

/// The "after X s" a line of the subprocesses section reports, in the notes' seconds.
#[cfg(unix)]
fn seconds_after(line: &str) -> f64 {
    line.rsplit_once(" after ")
        .and_then(|(_, rest)| rest.strip_suffix(" s"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line:?}"))
}

#[cfg(unix)]
#[test]
fn subprocesses_read_lines_as_they_come_and_kill_after_a_timeout() {
    // Real time (the child's sleeps are its own): the notes' second at 50 ms.
    let lines = capture(Duration::from_millis(50), || {
        magpie::run(magpie_examples::subprocesses::main())
    });
    assert_in_order(
        &lines,
        &[
            "\"line 1\" after",
            "\"line 2\" after",
            "\"line 3\" after",
            "returncode: Some(3)",
            "communicate: \"HELLO\\n\"",
            "still running after 1 s: kill it",
            "killed: true",
            "failed to spawn `no-such-program`",
        ],
    );
    // Each line is read when the child writes it, not at its exit: line 3 comes after the
    // child's two half-second pauses (sleeps are never early).
    let line3 = lines.iter().find(|l| l.contains("\"line 3\"")).unwrap();
    assert!(seconds_after(line3) >= 0.95, "{line3}");
    let missing = lines
        .iter()
        .find(|l| l.contains("no-such-program"))
        .unwrap();
    assert!(missing.contains("NotFound"), "{missing}");
}

#[test]
fn files_write_read_list_and_name_the_missing_path() {
    let lines = capture(SECOND, || magpie::run(files::main()));
    assert_in_order(
        &lines,
        &[
            "read back: \"coroutines, tasks, gather\\n\"",
            "from byte 6: \"line\\nsecond line\\n\"",
            "in the directory: [\"log.txt\", \"notes.txt\"]",
            "failed to open `<dir>",
        ],
    );
    let error = lines.iter().find(|l| l.contains("failed to open")).unwrap();
    assert!(
        error.contains("missing.txt`") && error.contains("(kind: NotFound)"),
        "{error}"
    );
}

#[test]
fn one_thread_shares_an_rc_between_local_tasks_and_drops_leftovers_on_return() {
    // Its own current-thread runtime, on the real clock: nothing in it sleeps to the end.
    let lines = capture(SECOND, one_thread::main);
    assert_in_order(
        &lines,
        &[
            "== 22. One thread",
            // First come, first served: asyncio's interleaving.
            "^three tasks appended to one Rc<RefCell<Vec>>: a0 b0 c0 a1 b1 c1 a2 b2 c2",
            "^every task ran on the thread that called block_on: true",
            "^handled req-7",
            "^a task spawned inside the scope sees REQUEST: false",
            "^handled req-9",
            "^main returns with a task still sleeping for an hour",
            "^the hour-long task is dropped as block_on returns",
            "^after block_on, its JoinHandle says cancelled: true",
        ],
    );
    assert_eq!(count(&lines, "never printed"), 0, "{lines:#?}");
}

//! Section 5, handling exceptions.
//!
//! ```python
//! try:
//!     await asyncio.gather(
//!         say_after(1, 'Hello'),
//!         say_after(2, 'World'),
//!         say_after(3, 'Error')  # This will raise an exception
//!     )
//! except Exception as e:
//!     print(f'An error occurred: {e}')
//! ```
//!
//! Rust has no exceptions: a function that can fail returns `Result<T, E>`, and `?` passes
//! the error up (`raise` / re-raise); `match` or `if let Err(e)` is `except`. So in a
//! `join_all` every future's error stays its own, and the others are not affected, which is
//! `gather(..., return_exceptions=True)`. The fail-fast form (the first error ends the
//! wait) is `try_join!` / `try_join_all`; they also drop the futures still running, which
//! plain `gather` does not (it leaves them running). A *panic* is a bug, not an error
//! value; in a task it becomes a `JoinError` at the handle, and the other tasks and the
//! runtime carry on.

use crate::{header, say, secs};
use magpie::time;
use std::time::Duration;

/// The notebook's `say_after`, raising for `"Error"`: returns what it said, or the error.
async fn say_after(delay: Duration, what: &'static str) -> Result<&'static str, String> {
    time::sleep(delay).await;
    if what == "Error" {
        return Err(format!("say_after refused to say {what:?}")); // raise ValueError(...)
    }
    say!("{what}");
    Ok(what)
}

/// The second notes' `might_fail`: `try: raise Exception(...) except Exception as e: print`.
async fn might_fail() {
    async fn some_operation() -> Result<(), String> {
        Err("Something went wrong!".to_owned()) // raise Exception("Something went wrong!")
    }
    if let Err(e) = some_operation().await {
        say!("Error: {e}");
    }
}

/// The section.
pub async fn main() {
    header("5. Handling exceptions: Result per future, fail-fast, panics in tasks");

    // The second notes' example: the coroutine handles its own error.
    might_fail().await;

    // gather(..., return_exceptions=True): every result comes back, each Ok or Err.
    say!("join_all (gather with return_exceptions=True):");
    let results = magpie::join_all([
        say_after(secs(1), "Hello"),
        say_after(secs(2), "World"),
        say_after(secs(3), "Error"),
    ])
    .await;
    for result in &results {
        match result {
            Ok(what) => say!("  ok: {what}"),
            Err(e) => say!("  An error occurred: {e}"),
        }
    }

    // The notebook's form: the first error ends the wait (try: ... except Exception as e).
    // try_join! drops the futures still running: "World" (due after the error) never prints.
    say!("try_join! (fail fast; the error comes second here, World third):");
    let all = magpie::try_join!(
        say_after(secs(1), "Hello"),
        say_after(secs(2), "Error"),
        say_after(secs(3), "World"),
    );
    match all {
        Ok(results) => say!("  Results: {results:?}"),
        Err(e) => say!("  An error occurred: {e} (the rest were dropped)"),
    }
    // try_join_all: the same over any number of futures.
    let all = magpie::try_join_all([1, 2, 3].map(|n| async move {
        if n == 2 {
            Err(format!("job {n} failed"))
        } else {
            Ok(n)
        }
    }))
    .await;
    say!("  try_join_all -> {all:?}");

    // Tasks: a task's error is its output; a panic in a task is a JoinError. Neither
    // touches the other tasks, nor the worker threads.
    say!("three tasks: one returns an error, one panics:");
    let fine = magpie::spawn(say_after(secs(1), "Hello"));
    let failing = magpie::spawn(say_after(secs(1), "Error"));
    let panicking = magpie::spawn(async {
        time::sleep(secs(1)).await;
        if true {
            panic!("Something went wrong!"); // a bug, not an error value
        }
        "unreachable"
    });
    for (name, handle) in [("fine", fine), ("failing", failing)] {
        match handle.await {
            Ok(Ok(what)) => say!("  {name}: said {what}"),
            Ok(Err(e)) => say!("  {name}: An error occurred: {e}"),
            Err(join_error) => say!("  {name}: the task failed: {join_error}"),
        }
    }
    match panicking.await {
        Ok(v) => say!("  panicking: unexpected {v}"),
        Err(e) if e.is_panic() => say!(
            "  panicking: JoinError, is_panic() = true, message {:?}",
            crate::panic_message(e.into_panic().as_ref())
        ),
        Err(e) => say!("  panicking: {e}"),
    }
    let after = magpie::spawn(async { 6 * 7 }).await;
    say!("after the panic the runtime still runs tasks: {after:?}");
}

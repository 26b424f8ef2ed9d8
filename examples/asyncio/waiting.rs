//! Section 12, waiting: `asyncio.wait_for`, `asyncio.wait`, `asyncio.as_completed`;
//! `select!`.
//!
//! - `wait_for(aw, timeout)` is `magpie::time::timeout(d, fut)`: `Err(Elapsed)` (asyncio's
//!   `TimeoutError`) and the future dropped, as asyncio cancels it.
//! - `as_completed(tasks)` is a `JoinSet`: `join_next()` gives results in finishing order.
//! - `wait(tasks, return_when=FIRST_COMPLETED)` is one `join_next()`: the rest stay in the
//!   set, still running (`pending`); `ALL_COMPLETED` is draining the set (or `join_all`);
//!   `wait(tasks, timeout=t)` is `join_next` under `timeout_at` one deadline.
//! - `magpie::select!` waits for the first of several *different* futures and drops the
//!   others (Python has no direct counterpart: `wait(FIRST_COMPLETED)` and cancelling the
//!   rest).

use crate::{header, ms, say, secs};
use magpie::task::JoinSet;
use magpie::time;
use std::time::Duration;

/// A fetch that takes `delay`.
async fn fetch(name: &'static str, delay: Duration) -> &'static str {
    time::sleep(delay).await;
    name
}

/// Three fetches as tasks in a JoinSet: slow (1.5 s), fast (0.5 s) and medium (1 s).
fn three_fetches() -> JoinSet<&'static str> {
    let mut set = JoinSet::new();
    for (name, delay) in [("slow", 1.5), ("fast", 0.5), ("medium", 1.0)] {
        set.spawn(fetch(name, secs(delay)));
    }
    set
}

/// The section.
pub async fn main() {
    header("12. Waiting: wait_for, wait, as_completed, select!");

    // await asyncio.wait_for(fetch(...), timeout=0.5)
    match time::timeout(secs(0.5), fetch("slow", secs(1))).await {
        Ok(v) => say!("wait_for -> {v}"),
        Err(e) => say!("wait_for(a 1 s fetch, timeout=0.5) -> TimeoutError: {e}"),
    }
    match time::timeout(secs(0.5), fetch("quick", secs(0.25))).await {
        Ok(v) => say!("wait_for(a 0.25 s fetch, timeout=0.5) -> {v}"),
        Err(e) => say!("wait_for -> TimeoutError: {e}"),
    }

    // for coro in asyncio.as_completed(tasks): print(await coro)
    let start = time::now();
    let mut set = three_fetches();
    let mut order = Vec::new();
    while let Some(done) = set.join_next().await {
        order.push(done.expect("a fetch panicked"));
    }
    say!(
        "as_completed -> {order:?} (finishing order; all done after {})",
        ms(time::now() - start)
    );

    // done, pending = await asyncio.wait(tasks, return_when=FIRST_COMPLETED)
    let mut set = three_fetches();
    if let Some(first) = set.join_next().await {
        say!(
            "wait(FIRST_COMPLETED) -> done: {:?}, pending: {} task(s), still running",
            first.expect("a fetch panicked"),
            set.len()
        );
    }
    // done, pending = await asyncio.wait(pending, timeout=0.75): what finishes by a deadline.
    let deadline = time::now() + secs(0.75);
    let mut done = Vec::new();
    while let Ok(Some(result)) = time::timeout_at(deadline, set.join_next()).await {
        done.push(result.expect("a fetch panicked"));
    }
    say!(
        "wait(pending, timeout=0.75) -> done: {done:?}, pending: {} task(s)",
        set.len()
    );
    set.shutdown().await; // for t in pending: t.cancel()

    // select!: the first of different futures wins, the others are dropped.
    magpie::select! {
        page = fetch("the primary", secs(1)) => say!("select! -> {page} answered first"),
        page = fetch("the mirror", secs(0.5)) => {
            say!("select! -> {page} answered first; the primary was dropped")
        }
        _ = time::sleep(secs(1.5)) => say!("select! -> neither answered within 1.5 s"),
    }
}

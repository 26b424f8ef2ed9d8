//! Section 4, running tasks concurrently: `asyncio.gather`.
//!
//! ```python
//! results = await asyncio.gather(say_after(1, 'Hello'), say_after(2, 'World'))
//! print(results)
//!
//! results = await asyncio.gather(coroutine1(), coroutine2())
//! print(f"Results: {results}")     # Results: [1, 2]
//! ```
//!
//! - `magpie::join!(a, b, ...)`: a fixed set of futures, of any types, polled concurrently
//!   inside the current task; a tuple of their outputs, in argument order.
//! - `magpie::join_all(iter)`: any number of futures of one type; a `Vec` in input order.
//! - Over spawned tasks (so that they also run in parallel on the workers): a `JoinSet`,
//!   whose `join_next` gives results as they finish, or `join_all` over the `JoinHandle`s.

use crate::coroutines::say_after;
use crate::{header, ms, say, secs};
use magpie::task::JoinSet;
use magpie::time;

/// The notes' `coroutine1`.
async fn coroutine1() -> u32 {
    time::sleep(secs(1)).await;
    1
}

/// The notes' `coroutine2`.
async fn coroutine2() -> u32 {
    time::sleep(secs(2)).await;
    2
}

/// The section.
pub async fn main() {
    header("4. Running tasks concurrently: join!, join_all (asyncio.gather)");

    // results = await asyncio.gather(say_after(1, 'Hello'), say_after(2, 'World'))
    let start = time::now();
    let results = magpie::join!(say_after(secs(1), "Hello"), say_after(secs(2), "World"));
    say!(
        "{results:?} after {} (Python prints [None, None]; 2 of the notes' seconds, not 3)",
        ms(time::now() - start)
    );

    // results = await asyncio.gather(coroutine1(), coroutine2())
    let start = time::now();
    let (one, two) = magpie::join!(coroutine1(), coroutine2());
    let results = [one, two];
    say!(
        "Results: {results:?} (join!, after {})",
        ms(time::now() - start)
    );

    // join_all: any number of futures of one type; the results follow the input order, not
    // the order they finished in.
    let start = time::now();
    let results = magpie::join_all([2, 1].map(|n| async move {
        time::sleep(secs(n)).await;
        n
    }))
    .await;
    say!(
        "Results: {results:?} (join_all, input order although 1 finished first; after {})",
        ms(time::now() - start)
    );

    // gather over tasks: spawned, they also run in parallel on the workers. A JoinSet
    // yields results as they finish (sort them for a stable order).
    let mut set = JoinSet::new();
    for n in 1..=10u64 {
        set.spawn(async move { (n, (1..=n).product::<u64>()) });
    }
    let mut factorials = Vec::new();
    while let Some(done) = set.join_next().await {
        factorials.push(done.expect("a factorial task panicked"));
    }
    factorials.sort();
    let shown: Vec<String> = factorials
        .iter()
        .map(|(n, f)| format!("{n}!={f}"))
        .collect();
    say!("10 tasks in a JoinSet: {}", shown.join(" "));

    // ... or join_all over the JoinHandles: each result is Result<T, JoinError>.
    let handles: Vec<_> = (1..=3u32)
        .map(|n| magpie::spawn(async move { n * n }))
        .collect();
    let squares: Vec<u32> = magpie::join_all(handles)
        .await
        .into_iter()
        .map(|r| r.expect("a task panicked"))
        .collect();
    say!("join_all over three JoinHandles: {squares:?}");
}

//! Section 1, coroutines: `async def` is `async fn`, `await` is `.await`.
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//! ```

use crate::{header, ms, say, secs};
use magpie::time;
use std::time::Duration;

/// The notes' coroutine: `await asyncio.sleep(delay); print(what)`. The later sections use
/// it too, as the notebook does.
pub async fn say_after(delay: Duration, what: &str) {
    time::sleep(delay).await;
    say!("{what}");
}

/// The second notes' `my_coroutine`: an `await asyncio.sleep(1)` between two prints.
async fn my_coroutine() {
    say!("Coroutine started");
    time::sleep(secs(1)).await; // simulate an I/O operation
    say!("Coroutine finished");
}

/// The section: calling an `async fn` makes a future (a coroutine object) and runs nothing;
/// awaiting it runs it; awaiting two in turn adds their sleeps up.
pub async fn main() {
    header("1. Coroutines: async fn, .await");

    // await say_after(1, 'Hello'); await say_after(2, 'World'): one after the other.
    let start = time::now();
    // Calling say_after only makes the future (a coroutine object); nothing runs yet.
    let hello = say_after(secs(1), "Hello");
    say!("say_after(1, \"Hello\") made a future; nothing has run yet (futures are lazy)");
    hello.await; // now it runs: one second later, "Hello"
    say_after(secs(2), "World").await;
    say!(
        "awaiting say_after(1), then say_after(2), took {}: the sleeps add up (1 + 2)",
        ms(time::now() - start)
    );

    // The second notes' example: asyncio.run(main()) with main awaiting my_coroutine().
    my_coroutine().await;
}

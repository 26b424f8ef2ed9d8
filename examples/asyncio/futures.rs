//! Section 7, futures and tasks: a value that arrives later.
//!
//! ```python
//! async def fetch_data():
//!     await asyncio.sleep(2)
//!     return "Data fetched!"
//!
//! async def main():
//!     task = asyncio.create_task(fetch_data())
//!     print("Fetching data...")
//!     result = await task
//!     print(f"Result: {result}")
//! ```
//!
//! A Rust `Future` is what an asyncio coroutine object is: lazy, run by whoever awaits it.
//! asyncio's `Future` (`loop.create_future()`, resolved by `set_result` from elsewhere) is a
//! [`magpie::sync::oneshot`] channel: the `Sender` is the `set_result` side, the `Receiver`
//! is awaited.

use crate::{header, ms, say, secs};
use magpie::sync::oneshot;
use magpie::time;

/// The notes' `fetch_data`.
async fn fetch_data() -> &'static str {
    time::sleep(secs(2)).await; // simulate fetching from the network
    "Data fetched!"
}

/// The section.
pub async fn main() {
    header("7. Futures: a task's result, a oneshot resolved by another task");

    // The notes' example: a task, then await it.
    let task = magpie::spawn(fetch_data()); // schedule a task
    say!("Fetching data...");
    let result = task.await.expect("fetch_data panicked"); // wait for it to complete
    say!("Result: {result}");

    // fut = loop.create_future(); another task calls fut.set_result(...); await fut
    let (set_result, fut) = oneshot::channel();
    let start = time::now();
    magpie::spawn(async move {
        time::sleep(secs(1)).await;
        // send fails (gives the value back) only if nobody awaits the future any more.
        let _ = set_result.send("Data fetched!");
    });
    say!("Fetching data... (a bare future, resolved by another task)");
    match fut.await {
        Ok(result) => say!("Result: {result} (after {})", ms(time::now() - start)),
        Err(e) => say!("the future was never resolved: {e}"),
    }

    // fut.set_exception(e): send an Err; awaiting then gives the error to handle.
    let (set_result, fut) = oneshot::channel::<Result<u32, String>>();
    magpie::spawn(async move {
        let _ = set_result.send(Err("the server said no".to_owned()));
    });
    match fut.await {
        Ok(Ok(n)) => say!("Result: {n}"),
        Ok(Err(e)) => say!("set_exception -> Error: {e}"),
        Err(e) => say!("the future was never resolved: {e}"),
    }

    // A future nobody will resolve: in asyncio, awaiting it hangs forever. Here the
    // Sender's drop resolves it with an error at once.
    let (set_result, fut) = oneshot::channel::<&str>();
    magpie::spawn(async move {
        drop(set_result); // the task that should have resolved it gave up
    });
    match fut.await {
        Ok(result) => say!("Result: {result}"),
        Err(e) => say!("the resolving side went away: await gives Err({e:?}), no hang"),
    }
}

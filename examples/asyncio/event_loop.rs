//! Section 2, the event loop: `asyncio.run(main())` is `magpie::run(main())`; an explicit
//! `Runtime` is the loop you manage yourself (`loop.run_until_complete`).
//!
//! magpie's "event loop" is a pool of worker threads (one per core by default) that run
//! tasks, with timers and I/O driven by the same threads. Unlike asyncio's one thread, tasks
//! run in parallel on it (section 9 measures this).

use crate::coroutines::say_after;
use crate::{catch_panic, header, say, secs};
use magpie::{Handle, Runtime};

/// The notebook's `main`: two tasks, awaited in order.
async fn hello_world() {
    let task1 = magpie::spawn(say_after(secs(1), "Hello"));
    let task2 = magpie::spawn(say_after(secs(2), "World"));
    task1.await.expect("task1 panicked");
    task2.await.expect("task2 panicked");
}

/// The section. A plain `fn`: it starts runtimes itself, which is done outside any runtime
/// (as `asyncio.run` is called outside a running loop).
pub fn main() {
    header("2. The event loop: magpie::run, Runtime::block_on");

    // if __name__ == '__main__': asyncio.run(main())
    say!("magpie::run(main()), asyncio.run(main()): a runtime is started, runs main, shuts down");
    magpie::run(hello_world());

    // loop = asyncio.new_event_loop(); loop.run_until_complete(main()): a runtime you keep.
    let runtime = Runtime::builder()
        .worker_threads(2)
        .thread_name("my-loop")
        .build()
        .expect("failed to start a runtime");
    say!("Runtime::builder().worker_threads(2).build()?, then runtime.block_on(main()):");
    runtime.block_on(hello_world());
    // loop.create_task from outside the loop: spawn on the runtime, block_on the handle.
    let answer = runtime.spawn(async { 6 * 7 });
    say!(
        "runtime.spawn(...) from outside it, then block_on(handle) -> {}",
        runtime.block_on(answer).expect("the task panicked")
    );

    // The notebook's `await main()` inside Jupyter's running loop, `except RuntimeError`:
    // starting a loop inside a running one is refused. Here it is a panic with a clear
    // message (caught for the demonstration; in real code, `.await` instead).
    runtime.block_on(async {
        match catch_panic(|| Handle::current().block_on(async {})) {
            Ok(()) => say!("unexpected: a nested block_on ran"),
            Err(e) => say!("Error: {e}"),
        }
    });
    // Dropping the runtime is loop.close(): it stops the workers, drops unfinished tasks.
    drop(runtime);
    say!("the runtime was dropped: workers stopped (loop.close())");
}

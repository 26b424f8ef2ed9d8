//! A tour of magpie for asyncio users: `cargo run --release --example tour`.
//!
//! It runs every section of the asyncio notes it follows, in order (coroutines, the event
//! loop, tasks, gather, exceptions, async context managers, futures, async generators,
//! concurrency vs parallelism), then what an asyncio user reaches for next (cancellation,
//! task groups, waiting, queues, locks and events, timers, streams, web servers, paused
//! time, debug mode, subprocesses, files), and asyncio's own model: one thread. Each section
//! is a module in `examples/asyncio/` and an example of its own (`--example coroutines`,
//! ...); `docs/asyncio.md` maps every asyncio concept to the section that shows it.
//!
//! The notes sleep 1 s and 2 s; the tour runs their seconds at 100 ms so that it takes a few
//! seconds (the standalone examples sleep the real seconds).

use magpie_examples::{
    async_generators, cancellation, concurrency_vs_parallelism, context_managers, coroutines,
    debug_mode, event_loop, exceptions, files, futures, gather, locks_and_events, ms, one_thread,
    paused_time, queues, say, set_second, streams, task_groups, tasks, timers, waiting,
    web_servers,
};
use std::time::{Duration, Instant};

fn main() {
    let start = Instant::now();
    set_second(Duration::from_millis(100));
    say!("magpie for asyncio users: the asyncio notes, section by section.");
    say!("The notes' seconds run at 100 ms here (the standalone examples sleep real seconds).");

    // Each section is asyncio.run(main()) of its own: a runtime started, run, shut down.
    magpie::run(coroutines::main());
    event_loop::main(); // starts runtimes itself
    magpie::run(tasks::main());
    magpie::run(gather::main());
    magpie::run(exceptions::main());
    magpie::run(context_managers::main());
    magpie::run(futures::main());
    magpie::run(async_generators::main());
    magpie::run(concurrency_vs_parallelism::main());
    magpie::run(cancellation::main());
    magpie::run(task_groups::main());
    magpie::run(waiting::main());
    magpie::run(queues::main());
    magpie::run(locks_and_events::main());
    magpie::run(timers::main());
    magpie::run(streams::main());
    magpie::run(web_servers::main());
    paused_time::main(); // starts a paused runtime itself
    debug_mode::main(); // starts a runtime in debug mode itself
    #[cfg(unix)]
    magpie::run(magpie_examples::subprocesses::main());
    magpie::run(files::main());
    one_thread::main(); // starts a current-thread runtime itself

    say!();
    say!("The tour took {}.", ms(start.elapsed()));
}

//! Section 18, paused time: a fake clock for tests (no asyncio counterpart).
//!
//! A runtime built with `Builder::start_paused(true)` (or a
//! `#[magpie::test(start_paused = true)]` test) has its clock paused: when it has nothing
//! to do but wait for a timer, the clock jumps to it. `magpie::time::advance` moves it by
//! hand. `examples/tests/tour.rs` runs most of this tour's sections this way.

use crate::coroutines::say_after;
use crate::{header, ms, say};
use magpie::time;
use std::time::{Duration, Instant};

/// The section. A plain `fn`: it starts its own (paused) runtime.
pub fn main() {
    header("18. Paused time: a fake clock for tests");
    let runtime = magpie::Runtime::builder()
        .start_paused(true)
        .build()
        .expect("failed to start the paused runtime");
    say!("the notes' real delays, 1 s and 2 s, on a start_paused(true) runtime:");
    let real = Instant::now();
    runtime.block_on(async {
        let start = time::now();
        say_after(Duration::from_secs(1), "Hello").await;
        say_after(Duration::from_secs(2), "World").await;
        say!(
            "in turn: {} on the runtime's clock",
            ms(time::now() - start)
        );

        let start = time::now();
        let task1 = magpie::spawn(say_after(Duration::from_secs(1), "Hello"));
        let task2 = magpie::spawn(say_after(Duration::from_secs(2), "World"));
        task1.await.expect("task1 panicked");
        task2.await.expect("task2 panicked");
        say!(
            "as two tasks: {} on the runtime's clock",
            ms(time::now() - start)
        );
    });
    say!(
        "both took {} of real time: with nothing else to do, the clock jumps to the next timer",
        ms(real.elapsed())
    );
}

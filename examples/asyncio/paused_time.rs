//! Section 18, paused time: a fake clock for tests (no asyncio counterpart).
//!
//! A runtime built with `Builder::start_paused(true)` (or a
//! `#[magpie::test(start_paused = true)]` test) has its clock paused: when it has nothing
//! to do but wait for a timer, the clock jumps to it. `magpie::time::advance` moves it by
//! hand. `examples/tests/tour.rs` runs most of this tour's sections this way.
//!
//! Measure with `magpie::time::Instant` (or `magpie::time::now()`), the runtime's clock:
//! `std::time::Instant::now()` keeps reading the system clock, so it sees no paused time
//! pass. Here it measures the real time on purpose.

use crate::coroutines::say_after;
use crate::{header, ms, say};
use magpie::time::Instant;
use std::time::Duration;

/// The section. A plain `fn`: it starts its own (paused) runtime.
pub fn main() {
    header("18. Paused time: a fake clock for tests");
    let runtime = magpie::Runtime::builder()
        .start_paused(true)
        .build()
        .expect("failed to start the paused runtime");
    say!("the notes' real delays, 1 s and 2 s, on a start_paused(true) runtime:");
    let real = std::time::Instant::now(); // the system clock, on purpose
    runtime.block_on(async {
        let start = Instant::now();
        say_after(Duration::from_secs(1), "Hello").await;
        say_after(Duration::from_secs(2), "World").await;
        say!("in turn: {} on the runtime's clock", ms(start.elapsed()));

        let start = Instant::now();
        let task1 = magpie::spawn(say_after(Duration::from_secs(1), "Hello"));
        let task2 = magpie::spawn(say_after(Duration::from_secs(2), "World"));
        task1.await.expect("task1 panicked");
        task2.await.expect("task2 panicked");
        say!(
            "as two tasks: {} on the runtime's clock",
            ms(start.elapsed())
        );
    });
    say!(
        "both took {} of real time: with nothing else to do, the clock jumps to the next timer",
        ms(real.elapsed())
    );
}

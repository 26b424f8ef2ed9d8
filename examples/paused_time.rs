//! Section 18 of the asyncio tour, on its own: paused time: a fake clock for tests.
//!
//! `cargo run --release --example paused_time`; the code is in `examples/asyncio/paused_time.rs`.

use magpie_examples::paused_time;

fn main() {
    paused_time::main(); // starts its own runtime
}

//! Section 19 of the asyncio tour, on its own: debug mode, which task is blocking a worker.
//!
//! `cargo run --release --example debug_mode`; the code is in `examples/asyncio/debug_mode.rs`.

use magpie_examples::debug_mode;

fn main() {
    debug_mode::main(); // starts its own runtime
}

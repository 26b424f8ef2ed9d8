//! Section 15 of the asyncio tour, on its own: timers: `call_later`, `timeout_at`, `Sleep::reset`,
//! `interval`.
//!
//! `cargo run --release --example timers`; the code is in `examples/asyncio/timers.rs`.

use magpie_examples::timers;

fn main() {
    magpie::run(timers::main()); // asyncio.run(main())
}

//! Section 7 of the asyncio tour, on its own: futures: a task's result, and a `oneshot` resolved by
//! another task (`loop.create_future`).
//!
//! `cargo run --release --example futures`; the code is in `examples/asyncio/futures.rs`. It sleeps
//! the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::futures;

fn main() {
    magpie::run(futures::main()); // asyncio.run(main())
}

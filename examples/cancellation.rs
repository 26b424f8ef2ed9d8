//! Section 10 of the asyncio tour, on its own: cancellation: `abort` (`task.cancel()`), `Drop` as
//! `finally`, `shield`.
//!
//! `cargo run --release --example cancellation`; the code is in `examples/asyncio/cancellation.rs`.
//! It sleeps the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::cancellation;

fn main() {
    magpie::run(cancellation::main()); // asyncio.run(main())
}

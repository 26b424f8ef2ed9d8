//! Section 5 of the asyncio tour, on its own: handling exceptions: a failing future among others,
//! fail-fast, a panicking task.
//!
//! `cargo run --release --example exceptions`; the code is in `examples/asyncio/exceptions.rs`. It
//! sleeps the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::exceptions;

fn main() {
    magpie::run(exceptions::main()); // asyncio.run(main())
}

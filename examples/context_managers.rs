//! Section 6 of the asyncio tour, on its own: asynchronous context managers (`async with`): a
//! guard's `Drop`, a `with_` function.
//!
//! `cargo run --release --example context_managers`; the code is in
//! `examples/asyncio/context_managers.rs`. It sleeps the notes' real seconds; the tour (`--example
//! tour`) runs them ten times faster.

use magpie_examples::context_managers;

fn main() {
    magpie::run(context_managers::main()); // asyncio.run(main())
}

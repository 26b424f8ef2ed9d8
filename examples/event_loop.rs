//! Section 2 of the asyncio tour, on its own: the event loop: `magpie::run` (`asyncio.run`) and
//! `Runtime::block_on`.
//!
//! `cargo run --release --example event_loop`; the code is in `examples/asyncio/event_loop.rs`. It
//! sleeps the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::event_loop;

fn main() {
    event_loop::main(); // starts its own runtime
}

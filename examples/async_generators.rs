//! Section 8 of the asyncio tour, on its own: async generators: `magpie::stream::generator`, `async
//! for`.
//!
//! `cargo run --release --example async_generators`; the code is in
//! `examples/asyncio/async_generators.rs`. It sleeps the notes' real seconds; the tour (`--example
//! tour`) runs them ten times faster.

use magpie_examples::async_generators;

fn main() {
    magpie::run(async_generators::main()); // asyncio.run(main())
}

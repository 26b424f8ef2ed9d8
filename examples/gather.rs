//! Section 4 of the asyncio tour, on its own: running tasks concurrently: `join!` and `join_all`
//! (`asyncio.gather`).
//!
//! `cargo run --release --example gather`; the code is in `examples/asyncio/gather.rs`. It sleeps
//! the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::gather;

fn main() {
    magpie::run(gather::main()); // asyncio.run(main())
}

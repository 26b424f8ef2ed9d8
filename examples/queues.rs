//! Section 13 of the asyncio tour, on its own: queues: `mpsc` (`asyncio.Queue`), a producer and
//! workers.
//!
//! `cargo run --release --example queues`; the code is in `examples/asyncio/queues.rs`. It sleeps
//! the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::queues;

fn main() {
    magpie::run(queues::main()); // asyncio.run(main())
}

//! Section 9 of the asyncio tour, on its own: concurrency vs parallelism: CPU jobs in one task, on
//! workers and on `spawn_blocking`, timed.
//!
//! `cargo run --release --example concurrency_vs_parallelism`; the code is in
//! `examples/asyncio/concurrency_vs_parallelism.rs`. It sleeps the notes' real seconds; the tour
//! (`--example tour`) runs them ten times faster.

use magpie_examples::concurrency_vs_parallelism;

fn main() {
    magpie::run(concurrency_vs_parallelism::main()); // asyncio.run(main())
}

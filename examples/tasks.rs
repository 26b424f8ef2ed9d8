//! Section 3 of the asyncio tour, on its own: tasks: `magpie::spawn` (`asyncio.create_task`),
//! awaited in order.
//!
//! `cargo run --release --example tasks`; the code is in `examples/asyncio/tasks.rs`. It sleeps the
//! notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::tasks;

fn main() {
    magpie::run(tasks::main()); // asyncio.run(main())
}

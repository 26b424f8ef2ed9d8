//! Section 11 of the asyncio tour, on its own: task groups: `magpie::scope` (`asyncio.TaskGroup`).
//!
//! `cargo run --release --example task_groups`; the code is in `examples/asyncio/task_groups.rs`.
//! It sleeps the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::task_groups;

fn main() {
    magpie::run(task_groups::main()); // asyncio.run(main())
}

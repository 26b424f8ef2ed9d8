//! Section 12 of the asyncio tour, on its own: waiting: `timeout` (`wait_for`), `JoinSet` (`wait`,
//! `as_completed`), `select!`.
//!
//! `cargo run --release --example waiting`; the code is in `examples/asyncio/waiting.rs`. It sleeps
//! the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::waiting;

fn main() {
    magpie::run(waiting::main()); // asyncio.run(main())
}

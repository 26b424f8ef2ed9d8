//! Section 14 of the asyncio tour, on its own: locks and events: `Mutex`, `Semaphore`, `watch`
//! (`Event`), `Notify` (`Condition`), `Barrier`.
//!
//! `cargo run --release --example locks_and_events`; the code is in
//! `examples/asyncio/locks_and_events.rs`. It sleeps the notes' real seconds; the tour (`--example
//! tour`) runs them ten times faster.

use magpie_examples::locks_and_events;

fn main() {
    magpie::run(locks_and_events::main()); // asyncio.run(main())
}

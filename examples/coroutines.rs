//! Section 1 of the asyncio tour, on its own: coroutines: `async fn` and `.await` (`async def`,
//! `await`), the notes' `say_after`.
//!
//! `cargo run --release --example coroutines`; the code is in `examples/asyncio/coroutines.rs`. It
//! sleeps the notes' real seconds; the tour (`--example tour`) runs them ten times faster.

use magpie_examples::coroutines;

fn main() {
    magpie::run(coroutines::main()); // asyncio.run(main())
}

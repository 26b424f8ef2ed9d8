//! Section 16 of the asyncio tour, on its own: streams: a TCP exchange (`start_server` /
//! `open_connection`).
//!
//! `cargo run --release --example streams`; the code is in `examples/asyncio/streams.rs`.

use magpie_examples::streams;

fn main() {
    magpie::run(streams::main()); // asyncio.run(main())
}

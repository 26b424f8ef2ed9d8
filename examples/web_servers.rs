//! Section 17 of the asyncio tour, on its own: web servers: hyper on magpie (aiohttp,
//! FastAPI).
//!
//! `cargo run --release --example web_servers`; the code is in
//! `examples/asyncio/web_servers.rs`. Its slow requests sleep the notes' real second; the
//! tour (`--example tour`) runs them ten times faster.

use magpie_examples::web_servers;

fn main() {
    magpie::run(web_servers::main()); // asyncio.run(main())
}

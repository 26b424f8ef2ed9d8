//! Section 21 of the asyncio tour, on its own: files (write, read back, seek, list a
//! directory, an error naming its path).
//!
//! `cargo run --release --example files`; the code is in `examples/asyncio/files.rs`.

fn main() {
    magpie::run(magpie_examples::files::main());
}

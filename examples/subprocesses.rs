//! Section 20 of the asyncio tour, on its own: subprocesses (`create_subprocess_exec`), a
//! child's stdout line by line as it arrives, `communicate`, a kill after a timeout.
//!
//! `cargo run --release --example subprocesses`; the code is in
//! `examples/asyncio/subprocesses.rs`. Unix only: `magpie::process` is not on Windows yet.

#[cfg(unix)]
fn main() {
    magpie::run(magpie_examples::subprocesses::main());
}

#[cfg(not(unix))]
fn main() {
    eprintln!("subprocesses: magpie::process is Unix only for now");
}

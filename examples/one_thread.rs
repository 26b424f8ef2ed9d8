//! Section 22 of the asyncio tour, on its own: one thread, asyncio's own model (a
//! current-thread runtime, local tasks sharing an `Rc<RefCell<..>>`, a task-local, the
//! tasks still pending when `block_on` returns dropped).
//!
//! `cargo run --release --example one_thread`; the code is in `examples/asyncio/one_thread.rs`.

fn main() {
    magpie_examples::one_thread::main(); // starts its own runtime
}

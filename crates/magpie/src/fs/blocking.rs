//! The door from `magpie::fs` to the runtime's blocking pool.
//!
//! `task::spawn_blocking` panics outside a runtime; file operations instead return an
//! `io::Error` that says so (the caller wraps it with the operation and the path), and a
//! blocking closure that never ran (the runtime shut down first) becomes an error too.

use magpie_core::{JoinError, JoinHandle};
use std::io;

/// Why a file operation could not start: there is no runtime to run it on.
const NO_RUNTIME: &str = "magpie::fs needs a magpie runtime for its blocking pool \
    (call it inside Runtime::block_on, a spawned task, or #[magpie::main] / #[magpie::test])";

/// Starts `f` on the current runtime's blocking pool, or says that there is no runtime.
pub(crate) fn spawn<F, R>(f: F) -> io::Result<JoinHandle<R>>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    magpie_core::with_current(|handle| match handle {
        Some(handle) => Ok(handle.spawn_blocking(f)),
        None => Err(io::Error::other(NO_RUNTIME)),
    })
}

/// The `io::Error` for a blocking closure that produced no output.
pub(crate) fn join_error(error: JoinError) -> io::Error {
    if error.is_cancelled() {
        io::Error::other(
            "the file operation never ran: the runtime shut down before its blocking pool \
             started it",
        )
    } else {
        io::Error::other(format!(
            "the file operation panicked on the blocking pool: {error}"
        ))
    }
}

/// Runs `f` on the blocking pool and waits for its result.
pub(crate) async fn run<F, R>(f: F) -> io::Result<R>
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    spawn(f)?.await.map_err(join_error)?
}

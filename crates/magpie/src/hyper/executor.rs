//! `hyper::rt::Executor`: hyper's background futures become magpie tasks.

use std::future::Future;

/// Spawns the futures hyper hands over (HTTP/2 streams and connection drivers, the legacy
/// client's connection tasks) as tasks on the current magpie runtime.
///
/// hyper calls it from inside the futures it runs, so "current" is the runtime serving the
/// connection. The tasks are detached: hyper learns of their end through its own channels.
///
/// # Panics
///
/// `execute` panics when called outside a magpie runtime, saying so: a future handed to an
/// executor with nowhere to run would otherwise be silently lost.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperExecutor;

impl<F> hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        magpie_core::with_current(|handle| match handle {
            Some(handle) => drop(handle.spawn(future)),
            None => panic!(
                "magpie::hyper::HyperExecutor: hyper asked to spawn a task outside a magpie \
                 runtime; serve connections and send client requests from inside one \
                 (Runtime::block_on, a spawned task, #[magpie::main])"
            ),
        });
    }
}

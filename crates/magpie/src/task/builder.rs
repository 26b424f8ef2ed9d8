//! `task::Builder`: spawn a task with a name.

use super::JoinHandle;
use crate::handle::Handle;
use std::future::Future;
use std::io;

/// Spawns a task with options; for now, a name.
///
/// The name shows in the task's [`JoinError`](super::JoinError) (`task 7 (fetch-user)
/// panicked ...`) and through [`task::name`](super::name) inside the task.
///
/// ```
/// # magpie::run(async {
/// let handle = magpie::task::Builder::new()
///     .name("fetch-user")
///     .spawn(async { magpie::task::name() })
///     .unwrap();
/// assert_eq!(handle.await.unwrap().as_deref(), Some("fetch-user"));
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// The task's name.
    pub fn name(mut self, name: &'a str) -> Builder<'a> {
        self.name = Some(name);
        self
    }

    /// Spawns on the current runtime.
    ///
    /// Fails (with `ErrorKind::Other`) outside a runtime, instead of panicking like
    /// [`crate::spawn`].
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = Handle::try_current().map_err(io::Error::other)?;
        self.spawn_on(future, &handle)
    }

    /// Spawns a `!Send` future as a local task of this thread (see
    /// [`task::spawn_local`](super::spawn_local)).
    ///
    /// Fails (with `ErrorKind::Other`) on a thread that runs no tasks of a runtime, instead
    /// of panicking like `spawn_local`.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if !magpie_core::can_spawn_local() {
            return Err(io::Error::other(
                "task::Builder::spawn_local: this thread runs no tasks of a magpie runtime \
                 (call it inside block_on or from a task on a worker thread)",
            ));
        }
        Ok(magpie_core::spawn_local(
            future,
            self.name,
            std::panic::Location::caller(),
        ))
    }

    /// Spawns on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(handle.inner.spawn_named(future, self.name))
    }
}

//! magpie: a multi-threaded, work-stealing async runtime.
//!
//! ```
//! use magpie::time::Instant;
//!
//! #[magpie::main(worker_threads = 2)]
//! async fn main() {
//!     let started = Instant::now();
//!     let handles: Vec<_> = (0..4u64)
//!         .map(|i| magpie::spawn(async move { i * i }))
//!         .collect();
//!     let mut total = 0;
//!     for h in handles {
//!         total += h.await.expect("the task panicked");
//!     }
//!     assert_eq!(total, 14);
//!     let _ = started.elapsed();
//! }
//! ```
//!
//! - [`run`] is `asyncio.run`: build a default runtime, run a future on it, shut it down.
//! - [`spawn`] is `asyncio.create_task`: the task runs on the workers; await its
//!   [`JoinHandle`] for the output. A panic in a task becomes [`JoinError::is_panic`].
//! - [`Runtime`] and [`Builder`] give control over threads, hooks and scheduling intervals;
//!   a [`Handle`] spawns from any thread.
//! - [`task`] has `yield_now`, `spawn_blocking`, `JoinSet`, named tasks and task ids;
//!   [`task_local!`] declares values that follow a task (`contextvars.ContextVar`).
//! - [`time`] has `sleep`, `timeout` and `interval` (Python's `asyncio.sleep`,
//!   `asyncio.wait_for` / `asyncio.timeout`), and a clock tests can pause.
//! - [`net`] has TCP, UDP and (Unix only) Unix sockets (`asyncio.open_connection`,
//!   `asyncio.start_server`, datagram endpoints); [`io`] has the futures-io traits, their
//!   extension methods, and [`io::Async`] for any other file descriptor.
//! - [`metrics`], [`Handle::tasks`], [`Builder::slow_poll_threshold`] and
//!   [`Builder::timeline`] show what a running runtime does: counters in the Prometheus
//!   format, the live task list (`asyncio.all_tasks()`), reports of polls that block a
//!   worker (asyncio's debug mode), and a trace for Perfetto (`docs/observability.md`).
//! - [`fs`] has files and directories (tokio::fs's names), on the blocking pool, with
//!   errors that name the operation and the path.
//! - `process` (Unix only for now) runs subprocesses with piped stdio
//!   (`asyncio.create_subprocess_exec`), waiting for them without a thread.
//! - [`signal::ctrl_c`] waits for Ctrl-C (`loop.add_signal_handler(SIGINT, ...)`), and on
//!   Unix `signal::unix::signal` for any catchable signal (SIGTERM, SIGHUP, ...).
//! - [`sync`] has channels and locks (asyncio's `Queue`, `Lock`, `Event`, `Semaphore`, ...),
//!   usable from any executor.
//! - [`join!`], [`try_join!`], [`select!`], [`join_all`] and [`try_join_all`] run futures
//!   concurrently in one task (`asyncio.gather`, `asyncio.wait(..., FIRST_COMPLETED)`);
//!   [`scope`] is `asyncio.TaskGroup`; [`stream::generator`] writes a stream as an async
//!   block that yields (an async generator).
//!
//! - Features connect magpie to the crates people already use (`docs/ecosystem.md`):
//!   `hyper` ([`hyper`]: hyper 1.x servers and clients), `tokio-io` (tokio's
//!   I/O traits on [`net`]'s streams, for tokio-postgres and friends) and `criterion`
//!   (`b.to_async(&runtime)` in benchmarks).
//!
//! **Platforms.** Linux (epoll), macOS and the BSDs (`polling`: kqueue), and Windows
//! (`polling`: IOCP/AFD): the scheduler, timers, [`sync`], TCP and UDP, [`signal::ctrl_c`]
//! (the console control handler on Windows) and the blocking pool everywhere. Unix only:
//! `net::UnixStream`/`net::UnixListener`, `signal::unix`, and [`io::Async`] over any `AsFd` (on Windows
//! `Async<T>` takes `T: AsSocket`, sockets only).
//!
//! How it works is described in `docs/architecture.md`.

mod builder;
mod combinators;
#[cfg(feature = "criterion")]
mod criterion;
mod driver;
mod explore;
pub mod fs;
mod handle;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod metrics;
pub mod net;
#[cfg(unix)]
pub mod process;
mod runtime;
mod scope;
pub mod signal;
pub mod stream;
/// Channels and locks: `oneshot`, `mpsc`, `Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier`,
/// `watch`, `broadcast` (the `magpie-sync` crate, usable on any executor).
pub use magpie_sync as sync;
pub mod task;
pub mod time;
#[cfg(feature = "tokio-compat")]
mod tokio_compat;
/// The scheduler timeline ([`Builder::timeline`]): what each worker did, as Chrome Trace
/// Event JSON for Perfetto or `chrome://tracing` (`docs/observability.md`).
pub mod timeline {
    pub use magpie_core::timeline::Trace;
}

pub use builder::Builder;
pub use combinators::{join_all, try_join_all, JoinAll, TryJoinAll};
pub use handle::{Handle, TryCurrentError};
pub use magpie_macros::{join, main, select, test, try_join};
pub use runtime::Runtime;
pub use scope::{scope, Group};
pub use task::{JoinError, JoinHandle};

use std::future::Future;

/// What the expansions of `join!`, `try_join!`, `select!` and `#[magpie::test(explore = N)]`
/// call; not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::combinators::support::*;
    pub use crate::explore::{
        explore, explore_seeds, explore_with, parse_seed, replay_message, Failed, Outcome,
        SeedFailure, SEED_VAR,
    };
}

/// Runs `future` to completion on a new runtime with the default settings, then shuts that
/// runtime down: Python's `asyncio.run`.
///
/// # Panics
///
/// When the runtime cannot start, or when called inside a runtime.
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new().expect("magpie::run: failed to start the runtime");
    runtime.block_on(future)
}

/// Spawns a task on the current runtime: Python's `asyncio.create_task`.
///
/// # Panics
///
/// Outside a magpie runtime: "magpie::spawn must be called from inside a magpie runtime".
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // A closure does not pass `#[track_caller]` on: the location is taken here.
    let location = std::panic::Location::caller();
    magpie_core::with_current(|handle| match handle {
        Some(handle) => handle.spawn_at(future, None, location),
        None => panic!("magpie::spawn must be called from inside a magpie runtime"),
    })
}

/// Compile-time checks: the types users move between threads are `Send` and `Sync`.
const _: () = {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    #[allow(dead_code)]
    fn checks() {
        send_sync::<Runtime>();
        send_sync::<Handle>();
        send_sync::<JoinHandle<u8>>();
        send_sync::<JoinError>();
        send_sync::<task::AbortHandle>();
        send_sync::<Builder>();
        send::<task::JoinSet<u8>>();
        send::<task::TaskLocalFuture<u8, std::future::Ready<()>>>();
        send_sync::<task::LocalKey<std::cell::Cell<u8>>>();
        send_sync::<task::AccessError>();
        send_sync::<time::Sleep>();
        send_sync::<time::Timeout<time::Sleep>>();
        send_sync::<time::Interval>();
        send_sync::<time::Elapsed>();
        send_sync::<fs::File>();
        send_sync::<fs::ReadDir>();
        send_sync::<fs::DirEntry>();
        send_sync::<fs::OpenOptions>();
        fn unpin<T: Unpin>() {}
        unpin::<time::Sleep>();
    }
};

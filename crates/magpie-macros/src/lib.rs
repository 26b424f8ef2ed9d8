//! Attribute macros that run an `async fn` on a `magpie` runtime, and the
//! `join!`, `try_join!` and `select!` macros.
//!
//! Use them through the `magpie` crate, which re-exports them as
//! `magpie::main`, `magpie::test`, `magpie::join!`, `magpie::try_join!` and
//! `magpie::select!`:
//!
//! - [`#[magpie::main]`](macro@main) turns `async fn main()` into a plain
//!   `fn main()` that builds a multi-threaded runtime and blocks on the body.
//! - [`#[magpie::test]`](macro@test) does the same for a test function, on a
//!   runtime with one worker thread unless told otherwise; with `explore = N`
//!   it runs the test under `N` seeded schedules (see `docs/testing.md`).
//! - [`join!`], [`try_join!`] and [`select!`] poll several futures
//!   concurrently inside the current task.
//!
//! ```
//! #[magpie::main]
//! async fn main() {
//!     let answer = magpie::spawn(async { 6 * 7 }).await.unwrap();
//!     println!("{answer}");
//! }
//! ```
//!
//! ```no_run
//! #[magpie::test(worker_threads = 2)]
//! async fn spawns() {
//!     assert_eq!(magpie::spawn(async { 1 + 1 }).await.unwrap(), 2);
//! }
//! # fn main() {}
//! ```
//!
//! # Arguments
//!
//! Both attributes take a comma-separated list of `name = value` arguments:
//!
//! | argument                    | what it does                                   | default                                  |
//! |-----------------------------|------------------------------------------------|------------------------------------------|
//! | `flavor = "current_thread"` | builds with `Builder::new_current_thread()`    | `"multi_thread"`: `Runtime::builder()`   |
//! | `worker_threads = N`        | `.worker_threads(N)` (multi-thread only)       | `main`: the builder's default; `test`: 1 |
//! | `start_paused = true`       | `.start_paused(true)`                          | `false`                                  |
//! | `explore = N` (`test` only) | runs the body under seeds `0..N`, one thread, paused clock | off                          |
//!
//! `N` must be an integer literal greater than 0; `start_paused` takes `true` or `false`;
//! `flavor` takes `"current_thread"` or `"multi_thread"`. `worker_threads` with
//! `flavor = "current_thread"`, and `explore` with `flavor = "multi_thread"`,
//! `worker_threads` or `start_paused = false`, are compile errors.
//!
//! # Errors
//!
//! Misuse is reported as a compile error pointing at the offending tokens,
//! for example when the function is not `async`, takes arguments, or gets an
//! unknown, duplicate or invalid argument.

use std::fmt;

use proc_macro::TokenStream;

mod args;
mod expand;
mod join;
mod select;

/// Runs `async fn main` on a `magpie` runtime.
///
/// ```
/// #[magpie::main]
/// async fn main() {
///     println!("hello from {:?}", std::thread::current().name());
/// }
/// ```
///
/// expands to
///
/// ```
/// fn main() {
///     ::magpie::Runtime::builder()
///         .build()
///         .expect("magpie::main: failed to build the runtime")
///         .block_on(async move {
///             println!("hello from {:?}", std::thread::current().name());
///         })
/// }
/// ```
///
/// The return type is kept, so `main` may return a `Result`:
///
/// ```
/// use std::error::Error;
///
/// #[magpie::main(worker_threads = 2)]
/// async fn main() -> Result<(), Box<dyn Error>> {
///     let n: u32 = "42".parse()?;
///     magpie::spawn(async move { n + 1 }).await?;
///     Ok(())
/// }
/// ```
///
/// A current-thread runtime runs every task on the thread that runs `main`, as
/// asyncio does; tasks may then share `Rc`s through `magpie::task::spawn_local`:
///
/// ```
/// #[magpie::main(flavor = "current_thread")]
/// async fn main() {
///     let here = std::thread::current().id();
///     let there = magpie::spawn(async { std::thread::current().id() }).await.unwrap();
///     assert_eq!(there, here);
/// }
/// ```
///
/// # Arguments
///
/// - `flavor = "current_thread"`: build the runtime with
///   `magpie::Builder::new_current_thread()`: no worker thread, every task runs
///   on the thread inside `block_on`. `flavor = "multi_thread"` (the default)
///   builds with `magpie::Runtime::builder()`. Any other flavor is a compile error.
/// - `worker_threads = N`: build the runtime with `N` worker threads
///   (`N > 0`). Without it, the builder's default is used. A compile error with
///   `flavor = "current_thread"`, which has no worker threads.
/// - `start_paused = true`: start with the clock paused (see `magpie::time::pause`).
///
/// The function must be `async` and take no arguments.
#[proc_macro_attribute]
#[allow(clippy::needless_doctest_main)] // the example shows the expanded `fn main`
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Attr::Main, args.into(), item.into()).into()
}

/// Runs an `async` test function on a `magpie` runtime.
///
/// ```no_run
/// #[magpie::test]
/// async fn adds() {
///     let two = magpie::spawn(async { 1 + 1 }).await.unwrap();
///     assert_eq!(two, 2);
/// }
/// # fn main() {}
/// ```
///
/// expands to
///
/// ```no_run
/// #[::core::prelude::v1::test]
/// fn adds() {
///     ::magpie::Runtime::builder()
///         .worker_threads(1)
///         .build()
///         .expect("magpie::main: failed to build the runtime")
///         .block_on(async move {
///             let two = magpie::spawn(async { 1 + 1 }).await.unwrap();
///             assert_eq!(two, 2);
///         })
/// }
/// # fn main() {}
/// ```
///
/// Each test gets its own runtime. Other attributes (`#[should_panic]`,
/// `#[ignore]`, doc comments, ...) stay on the generated function, and the
/// test may return a `Result`:
///
/// ```no_run
/// #[magpie::test(worker_threads = 4)]
/// #[ignore = "slow"]
/// async fn parses() -> Result<(), std::num::ParseIntError> {
///     assert_eq!("7".parse::<i32>()?, 7);
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// # Arguments
///
/// - `flavor = "current_thread"`: run the test on a current-thread runtime
///   (`magpie::Builder::new_current_thread()`): every task runs on the test's
///   own thread, so `!Send` state (`Rc`, `RefCell`) can be shared with tasks
///   spawned by `magpie::task::spawn_local`. `flavor = "multi_thread"` is the
///   default. Any other flavor is a compile error.
/// - `worker_threads = N`: build the runtime with `N` worker threads
///   (`N > 0`). The default is 1. A compile error with `flavor = "current_thread"`.
/// - `start_paused = true`: start with the clock paused, so that sleeps in the test take
///   no real time (see `magpie::time::pause`).
/// - `explore = N`: run the body `N` times, each time as a fresh future on a
///   fresh current-thread runtime with a paused clock, under a different
///   schedule. Run `k` (for `k` in `0..N`) uses seed `k`: seed 0 is the
///   runtime's seed-free (FIFO) order, seed `k > 0` draws the order of ready
///   tasks and same-instant timers from `Builder::rng_seed(k)`. The first run
///   that panics (or returns `Err`) stops the test: it prints `MAGPIE_SEED=<k>`
///   and the command that replays it on stderr, and the test fails with that
///   run's panic (or `Err`). With the environment variable `MAGPIE_SEED` set to a
///   seed, only that seed runs, reproducing the failure exactly; set to anything
///   else, the test panics naming the value. `explore` with
///   `flavor = "multi_thread"`, `worker_threads` or `start_paused = false` is a
///   compile error: a seed orders the tasks of one thread only.
///
/// ```no_run
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// #[magpie::test(explore = 100)]
/// async fn every_increment_counts() {
///     let count = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let count = count.clone();
///             magpie::task::spawn_local(async move {
///                 magpie::task::yield_now().await;
///                 count.set(count.get() + 1); // no await between the read and the write
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(count.get(), 3);
/// }
/// # fn main() {}
/// ```
///
/// `explore` covers the order of the tasks of the test's runtime and of its
/// timers; not the blocking pool's threads, other threads or runtimes, or when
/// real sockets' data arrives. `docs/testing.md` has a worked example.
///
/// The function must be `async` and take no arguments, and must not also
/// carry `#[test]` (this attribute adds it).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Attr::Test, args.into(), item.into()).into()
}

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attr {
    /// `#[magpie::main]`.
    Main,
    /// `#[magpie::test]`.
    Test,
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attr::Main => "#[magpie::main]",
            Attr::Test => "#[magpie::test]",
        })
    }
}

/// Waits for several futures, polled concurrently inside the current task, and
/// returns a tuple of their outputs in the order written.
///
/// `magpie::join!(a, b, c)` evaluates to `(A, B, C)`. Any number of futures
/// (at least one) is accepted, and anything that implements `IntoFuture`; a
/// trailing comma is fine. It must be used inside `async` code. The futures run
/// in the current task, not in parallel on other workers (spawn tasks for that);
/// each is dropped as soon as it completes. For a number of futures known only
/// at run time, use `magpie::join_all`.
///
/// ```
/// # magpie::run(async {
/// use std::time::Duration;
///
/// let slow = async {
///     magpie::time::sleep(Duration::from_millis(20)).await;
///     "slow"
/// };
/// let fast = async { 42 };
/// let (a, b) = magpie::join!(slow, fast);
/// assert_eq!((a, b), ("slow", 42));
/// # });
/// ```
#[proc_macro]
pub fn join(input: TokenStream) -> TokenStream {
    join::expand(join::Kind::Join, input.into()).into()
}

/// Waits for several futures that return `Result`s, polled concurrently inside
/// the current task: `Ok` with a tuple of their `Ok` values, or the first `Err`.
///
/// `magpie::try_join!(a, b)` evaluates to `Result<(A, B), E>`; every future must
/// have the same error type `E`. As soon as one future returns `Err`, the
/// macro returns it and the futures still running are dropped. Otherwise as
/// [`join!`].
///
/// ```
/// # magpie::run(async {
/// async fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
///     s.parse()
/// }
/// assert_eq!(magpie::try_join!(parse("1"), parse("2")), Ok((1, 2)));
/// assert!(magpie::try_join!(parse("1"), parse("two")).is_err());
/// # });
/// ```
#[proc_macro]
pub fn try_join(input: TokenStream) -> TokenStream {
    join::expand(join::Kind::TryJoin, input.into()).into()
}

/// Waits for the first of several futures to complete with an output that
/// matches its pattern, then runs that branch's expression; tokio's `select!`.
///
/// ```text
/// magpie::select! {
///     biased;                                     // optional, first
///     pattern = future => expression,
///     pattern = future, if condition => { block } // `, if condition` optional
///     else => expression,                         // optional
/// }
/// ```
///
/// 1. Every `if` condition is evaluated; a branch whose condition is false is
///    *disabled*.
/// 2. Every future expression is evaluated, in order (also those of disabled
///    branches; they are never polled). A future may be anything that
///    implements `IntoFuture`, such as `&mut fut` of an `Unpin` future or a
///    pinned one, so that it survives the select and can be awaited again in a
///    loop.
/// 3. The futures are polled concurrently inside the current task. Without
///    `biased;` each poll starts at a random branch, so that no branch can
///    starve the others; with it, branches are polled in the order written.
/// 4. When a future completes, its output is matched against its pattern. If it
///    matches, every future is dropped and the branch's expression runs with the
///    pattern's bindings. If it does not, the branch is disabled and the select
///    goes on with the other branches.
/// 5. When every branch is disabled, the `else` expression runs; without an
///    `else` branch the select panics.
///
/// The expressions run outside the select's polling, so `?`, `return`, `break`
/// and `continue` inside them act on the surrounding function or loop. All
/// branches' expressions must have the same type, which is the type of the
/// `select!`.
///
/// ```
/// # magpie::run(async {
/// use std::time::Duration;
///
/// let mut short_sleeps = 0;
/// let deadline = magpie::time::sleep(Duration::from_millis(50));
/// let mut deadline = std::pin::pin!(deadline);
/// loop {
///     magpie::select! {
///         _ = &mut deadline => break,
///         _ = magpie::time::sleep(Duration::from_millis(1)) => short_sleeps += 1,
///     }
/// }
/// assert!(short_sleeps > 0);
///
/// // A branch whose output does not match its pattern is disabled.
/// let value = magpie::select! {
///     Some(v) = async { None::<u32> } => v,
///     Some(v) = async { Some(7) } => v,
///     else => 0,
/// };
/// assert_eq!(value, 7);
/// # });
/// ```
///
/// Malformed input is a compile error that says what was expected, such as
/// "magpie::select!: expected `=>` after the future of this branch".
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}

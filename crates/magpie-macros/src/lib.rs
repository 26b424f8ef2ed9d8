//! Attribute macros that run an `async fn` on a `magpie` runtime.
//!
//! Use them through the `magpie` crate, which re-exports them as
//! `magpie::main` and `magpie::test`:
//!
//! - [`#[magpie::main]`](macro@main) turns `async fn main()` into a plain
//!   `fn main()` that builds a multi-threaded runtime and blocks on the body.
//! - [`#[magpie::test]`](macro@test) does the same for a test function, on a
//!   runtime with one worker thread unless told otherwise.
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
//! | argument             | builder call          | default                                   |
//! |----------------------|-----------------------|-------------------------------------------|
//! | `worker_threads = N` | `.worker_threads(N)`  | `main`: the builder's default; `test`: 1  |
//! | `start_paused = true`| `.start_paused(true)` | `false`                                   |
//!
//! `N` must be an integer literal greater than 0; `start_paused` takes `true` or `false`.
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
/// # Arguments
///
/// - `worker_threads = N`: build the runtime with `N` worker threads
///   (`N > 0`). Without it, the builder's default is used.
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
/// - `worker_threads = N`: build the runtime with `N` worker threads
///   (`N > 0`). The default is 1.
/// - `start_paused = true`: start with the clock paused, so that sleeps in the test take
///   no real time (see `magpie::time::pause`).
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

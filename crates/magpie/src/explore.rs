//! What `#[magpie::test(explore = N)]` runs: the test body under many seeded schedules.
//!
//! Each run gets a fresh current-thread runtime with a paused clock. Run `k` uses seed `k`:
//! seed 0 is the runtime's own seed-free order (no [`Builder::rng_seed`] call), every other
//! seed `k` orders the ready tasks by `rng_seed(k)`, and the run's unbiased `select!`s draw
//! their first branch from the seed as well (they would otherwise use a randomly keyed
//! generator). So a run is a function of the test body and its seed alone, and a failing
//! seed replays the failure exactly.
//!
//! The macro's expansion calls [`explore`]; [`explore_seeds`] is the loop itself, for tests
//! that want the failing seed as a value. Nothing here is public API: it is reached through
//! `magpie::__private`.

use crate::Builder;
use std::any::Any;
use std::ffi::OsStr;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};

/// The environment variable that replays one seed.
pub const SEED_VAR: &str = "MAGPIE_SEED";

/// What an `explore` test's body returns: `()` or a `Result<(), E>`, whose `Err` fails the
/// run as a panic does.
#[diagnostic::on_unimplemented(
    message = "a `#[magpie::test(explore = N)]` function returns `()` or `Result<(), E>`, not `{Self}`",
    label = "the body's output must be `()` or `Result<(), E>`"
)]
pub trait Outcome {
    /// Whether this value fails the test.
    fn is_failure(&self) -> bool;
}

impl Outcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<E> Outcome for Result<(), E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// How a run failed.
pub enum Failed<T> {
    /// The body panicked, with this payload.
    Panicked(Box<dyn Any + Send>),
    /// The body returned a value that fails the test (an `Err`).
    Returned(T),
}

impl<T> std::fmt::Debug for Failed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Panicked(payload) => f
                .debug_tuple("Panicked")
                .field(&panic_message(payload.as_ref()))
                .finish(),
            Failed::Returned(_) => f.write_str("Returned(..)"),
        }
    }
}

/// The first seed whose run failed, and how.
#[derive(Debug)]
pub struct SeedFailure<T> {
    /// The seed (0: the seed-free order).
    pub seed: u64,
    /// How its run failed.
    pub failed: Failed<T>,
}

/// Runs `make()`'s future once per seed, in the order given, each on a fresh current-thread
/// runtime with a paused clock (seed 0: no `rng_seed`, the seed-free order; seed `k > 0`:
/// `rng_seed(k)`), and stops at the first run that panics or returns a failing value.
///
/// `Ok` holds the last run's output.
///
/// # Panics
///
/// When `seeds` is empty, or a runtime cannot be built.
pub fn explore_seeds<T, Fut, F>(
    seeds: impl IntoIterator<Item = u64>,
    mut make: F,
) -> Result<T, SeedFailure<T>>
where
    T: Outcome,
    Fut: Future<Output = T>,
    F: FnMut() -> Fut,
{
    let mut last = None;
    for seed in seeds {
        match run_seed(seed, &mut make) {
            Ok(output) if output.is_failure() => {
                return Err(SeedFailure {
                    seed,
                    failed: Failed::Returned(output),
                })
            }
            Ok(output) => last = Some(output),
            Err(payload) => {
                return Err(SeedFailure {
                    seed,
                    failed: Failed::Panicked(payload),
                })
            }
        }
    }
    Ok(last.expect("magpie explore: no seeds to run"))
}

/// One run: a fresh runtime for `seed`, `make()`'s future on it, its panic caught.
fn run_seed<T, Fut, F>(seed: u64, make: &mut F) -> Result<T, Box<dyn Any + Send>>
where
    Fut: Future<Output = T>,
    F: FnMut() -> Fut,
{
    let mut builder = Builder::new_current_thread();
    builder.start_paused(true);
    if seed != 0 {
        builder.rng_seed(seed);
    }
    // Every task of the run is polled on this thread, so this thread's select! generator is
    // the only one the run uses. A seeded runtime reseeds it in `block_on`; the seed-free
    // run (seed 0) starts it here.
    if seed == 0 {
        crate::combinators::reseed_select(0);
    }
    let runtime = builder.build().unwrap_or_else(|e| {
        panic!("magpie explore: failed to build the runtime for seed {seed}: {e}")
    });
    // The runtime (and what the body left spawned) is dropped inside, so that a panic in a
    // task's destructor also counts against this seed.
    panic::catch_unwind(AssertUnwindSafe(move || {
        let output = runtime.block_on(make());
        drop(runtime);
        output
    }))
}

/// What the expansion of `#[magpie::test(explore = runs)]` calls: runs `make()`'s future
/// under seeds `0..runs`, or only under the seed in `MAGPIE_SEED` when it is set. On a
/// failure, prints the seed and how to replay it on stderr, then fails the same way the run
/// did: resumes its panic, or returns its failing value.
///
/// `test` is the test's path as `module_path!()` gives it (`crate::module::name`).
///
/// # Panics
///
/// When `MAGPIE_SEED` is set to something other than a seed (a `u64`), and as the failing
/// run panicked.
#[track_caller]
pub fn explore<T, Fut, F>(test: &str, runs: u64, make: F) -> T
where
    T: Outcome,
    Fut: Future<Output = T>,
    F: FnMut() -> Fut,
{
    let seed = parse_seed(std::env::var_os(SEED_VAR).as_deref());
    explore_with(test, runs, seed, make)
}

/// [`explore`], with the seed override given instead of read from `MAGPIE_SEED`: with
/// `Some(seed)` only that seed runs, otherwise seeds `0..runs`.
pub fn explore_with<T, Fut, F>(test: &str, runs: u64, seed: Option<u64>, make: F) -> T
where
    T: Outcome,
    Fut: Future<Output = T>,
    F: FnMut() -> Fut,
{
    let result = match seed {
        Some(seed) => explore_seeds([seed], make),
        None => explore_seeds(0..runs, make),
    };
    match result {
        Ok(output) => output,
        Err(failure) => {
            // The test's own output: libtest captures it and shows it beside the failure,
            // after the panic message of the failing run.
            eprintln!("{}", replay_message(test, failure.seed));
            match failure.failed {
                Failed::Panicked(payload) => panic::resume_unwind(payload),
                Failed::Returned(output) => output,
            }
        }
    }
}

/// The two lines printed for a failing seed: `MAGPIE_SEED=<seed>`, and the command that
/// replays it. `test` is a `module_path!()`-style path; its first segment (the crate) is
/// not part of the name `cargo test` filters on.
pub fn replay_message(test: &str, seed: u64) -> String {
    let name = test.split_once("::").map_or(test, |(_, rest)| rest);
    format!(
        "{SEED_VAR}={seed}\n\
         magpie explore: the run with seed {seed} failed; replay it alone with \
         `{SEED_VAR}={seed} cargo test {name}`"
    )
}

/// The seed override in `value` (the value of `MAGPIE_SEED`): `None` when unset.
///
/// # Panics
///
/// When `value` is set but is not a `u64` (surrounding whitespace is ignored), naming it.
#[track_caller]
pub fn parse_seed(value: Option<&OsStr>) -> Option<u64> {
    let value = value?;
    let parsed = value.to_str().and_then(|s| s.trim().parse::<u64>().ok());
    match parsed {
        Some(seed) => Some(seed),
        None => panic!(
            "{SEED_VAR} must be a seed, a whole number from 0 to {} (as printed by a failing \
             explore test), but it is {value:?}",
            u64::MAX
        ),
    }
}

/// A panic payload's message, when it is a string.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

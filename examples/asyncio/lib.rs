//! The asyncio tour, one module per section of the asyncio notes it follows (and of what an
//! asyncio user reaches for next).
//!
//! Every section is a module with an `async fn main()` (asyncio's `async def main()`), or a
//! plain `fn main()` where the section is about starting runtimes itself. Each is a
//! standalone example (`cargo run --release --example coroutines`, `examples/coroutines.rs`)
//! and a part of the tour (`cargo run --release --example tour`, which runs them all in
//! order). `docs/asyncio.md` maps every asyncio concept to the section that shows it.
//!
//! Two helpers keep the sections short and testable:
//!
//! - [`say!`] is `println!` (Python's `print`), except that `examples/tests/tour.rs` can
//!   [`capture`] the lines to check them.
//! - [`secs`] is the notes' second. A standalone example sleeps the notes' real 1 s and 2 s;
//!   the tour sets the second to 100 ms ([`set_second`]) so that it runs in a few seconds,
//!   and says so.

pub mod async_generators;
pub mod cancellation;
pub mod concurrency_vs_parallelism;
pub mod context_managers;
pub mod coroutines;
pub mod debug_mode;
pub mod event_loop;
pub mod exceptions;
pub mod files;
pub mod futures;
pub mod gather;
pub mod locks_and_events;
pub mod one_thread;
pub mod paused_time;
pub mod queues;
pub mod streams;
#[cfg(unix)]
pub mod subprocesses;
pub mod task_groups;
pub mod tasks;
pub mod timers;
pub mod waiting;
pub mod web_servers;

use std::cell::Cell;
use std::io::Write;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

/// Prints a line, like `println!` (Python's `print`); while a test [`capture`]s the output,
/// records it instead.
#[macro_export]
macro_rules! say {
    () => {
        $crate::say_line(::std::string::String::new())
    };
    ($($arg:tt)*) => {
        $crate::say_line(::std::format!($($arg)*))
    };
}

/// The captured lines, while a test captures them (`None`: print them).
static CAPTURED: Mutex<Option<Vec<String>>> = Mutex::new(None);
/// One capture at a time: the output and the second are process-wide.
static CAPTURING: Mutex<()> = Mutex::new(());
/// The notes' second, in nanoseconds.
static SECOND_NANOS: AtomicU64 = AtomicU64::new(1_000_000_000);

fn captured() -> MutexGuard<'static, Option<Vec<String>>> {
    CAPTURED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What [`say!`] calls: prints `line`, or records it while a test captures the output.
pub fn say_line(line: String) {
    if let Some(lines) = captured().as_mut() {
        lines.push(line);
        return;
    }
    // Not `println!`: it panics when stdout is closed (`tour | head`); the lines are just
    // dropped then.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The notes' second: 1 s, unless [`set_second`] changed it.
pub fn second() -> Duration {
    Duration::from_nanos(SECOND_NANOS.load(Ordering::Relaxed))
}

/// Sets the notes' second (the tour runs them at 100 ms).
pub fn set_second(second: Duration) {
    let nanos = u64::try_from(second.as_nanos()).unwrap_or(u64::MAX);
    SECOND_NANOS.store(nanos, Ordering::Relaxed);
}

/// `n` of the notes' seconds: `secs(1)` is the notes' `asyncio.sleep(1)`, `secs(0.5)` half.
pub fn secs(n: impl Into<f64>) -> Duration {
    second().mul_f64(n.into())
}

/// A duration as whole milliseconds, for "took 2003 ms".
pub fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Prints a section's title, and installs (once) the panic hook that prints a panic as one
/// line, as asyncio logs a task's exception: the sections that show a panicking task stay
/// readable.
pub fn header(title: &str) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                return; // catch_panic reports it
            }
            say!("(panic hook) {}", describe(info));
            // Under a test, the full report too, so that a failing assertion is not lost
            // among the captured lines.
            if captured().is_some() {
                default_hook(info);
            }
        }));
    });
    say!();
    say!("== {title} ==");
}

/// "thread 'NAME' panicked at FILE:LINE: MESSAGE".
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string payload)");
    let thread = std::thread::current();
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "thread '{}' panicked{place}: {message}",
        thread.name().unwrap_or("unnamed")
    )
}

thread_local! {
    /// Set while [`catch_panic`] runs: its panics are reported by its caller, not the hook.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic as `Err(its message)`, without the panic hook's line (the
/// caller reports it): Python's `try: ... except RuntimeError as e:` for the one place the
/// tour needs it.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    QUIET.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.set(false);
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// A panic's message, from `catch_unwind`'s or `JoinError::into_panic`'s payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string payload)".to_owned())
}

/// Runs `f` with the notes' second set to `second` and [`say!`]'s lines recorded instead of
/// printed, and returns them. One capture runs at a time (tests run in parallel threads).
pub fn capture(second: Duration, f: impl FnOnce()) -> Vec<String> {
    let _one_at_a_time = CAPTURING.lock().unwrap_or_else(PoisonError::into_inner);
    /// Restores the second and stops capturing, also when `f` panics.
    struct Restore(Duration);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_second(self.0);
            captured().take();
        }
    }
    let _restore = Restore(self::second());
    set_second(second);
    *captured() = Some(Vec::new());
    f();
    // (Not `captured().take()` as the tail expression: its guard would outlive `_restore`,
    // whose drop locks the same mutex.)
    let mut output = captured();
    let lines = output.take().unwrap_or_default();
    drop(output);
    lines
}

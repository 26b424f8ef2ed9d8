//! Helpers shared by the integration tests: hang watchdogs, drop tallies, panic payloads,
//! thread hook counts, hang alarms for `#[magpie::test]` bodies, counting wakers and manual polls.
//!
//! Every test binary includes this module with `mod common;` and uses a subset of it.
#![allow(dead_code)]

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// How long a scenario may run before the watchdog calls it a hang.
pub(crate) const HANG: Duration = Duration::from_secs(30);

/// The marker in every panic message a test provokes on purpose; the panic hook installed
/// by [`quiet_expected_panics`] keeps such panics off stderr.
pub(crate) const EXPECTED: &str = "expected-panic";

/// Runs `f` on its own thread and waits at most `limit` for it. A panic in `f` is re-raised
/// here; a scenario that does not finish in time fails the test with a clear message instead
/// of hanging the whole test run (the stuck thread is left behind).
pub(crate) fn watchdog<T, F>(what: &str, limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("watchdog: {what}"))
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(result);
        })
        .expect("failed to start the scenario thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = thread.join();
            value
        }
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("HANG: `{what}` did not finish within {limit:?}"),
    }
}

/// [`watchdog`] with the default [`HANG`] limit.
pub(crate) fn guard<T, F>(what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    watchdog(what, HANG, f)
}

/// Runs `future` on a fresh runtime with `workers` workers, under the hang watchdog.
pub(crate) fn run_on<F>(what: &str, workers: usize, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    guard(what, move || runtime(workers).block_on(future))
}

/// Polls `cond` every millisecond until it holds; panics (naming `what`) after `limit`.
pub(crate) fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() >= deadline {
            panic!("timed out after {limit:?} waiting until {what}");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The message of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Runs `f`, expects it to panic, and returns the panic message.
pub(crate) fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic, but the call returned normally"),
        Err(payload) => panic_message(&*payload),
    }
}

/// Installs (once per process) a panic hook that stays silent for panics whose message
/// contains [`EXPECTED`] and defers to the previous hook for every other panic.
pub(crate) fn quiet_expected_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if panic_message(info.payload()).contains(EXPECTED) {
                return;
            }
            previous(info);
        }));
    });
}

/// Counts objects created and dropped: put a [`DropGuard`] in a future (`let _g = guard;`
/// inside an `async move` block) and the tally counts the future's drop, whichever way it goes.
#[derive(Clone, Default)]
pub(crate) struct Tally(Arc<TallyInner>);

#[derive(Default)]
pub(crate) struct TallyInner {
    created: AtomicUsize,
    dropped: AtomicUsize,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally::default()
    }

    /// A guard that counts one creation now and one drop when it is dropped.
    pub(crate) fn guard(&self) -> DropGuard {
        self.0.created.fetch_add(1, SeqCst);
        DropGuard(self.0.clone())
    }

    pub(crate) fn created(&self) -> usize {
        self.0.created.load(SeqCst)
    }

    pub(crate) fn dropped(&self) -> usize {
        self.0.dropped.load(SeqCst)
    }

    /// Panics unless every guard created has been dropped exactly once (in total).
    pub(crate) fn assert_all_dropped(&self, what: &str) {
        let (created, dropped) = (self.created(), self.dropped());
        assert_eq!(
            created, dropped,
            "{what}: {created} futures created but {dropped} dropped"
        );
    }

    /// Waits (up to `limit`) until every guard is dropped, then checks no extra drop happened.
    pub(crate) fn wait_all_dropped(&self, what: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.dropped() < self.created() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.assert_all_dropped(what);
    }
}

/// See [`Tally`].
pub(crate) struct DropGuard(Arc<TallyInner>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, SeqCst);
    }
}

/// An `Arc<AtomicUsize>` counter.
pub(crate) fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A future that stays pending for ever and is never woken; counts its polls.
pub(crate) async fn pending_forever(polls: Arc<AtomicUsize>) {
    std::future::poll_fn(|_| {
        polls.fetch_add(1, SeqCst);
        Poll::<()>::Pending
    })
    .await
}

/// A value whose `Drop` panics (with the [`EXPECTED`] marker).
pub(crate) struct PanicOnDrop(pub(crate) &'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{EXPECTED}: {}", self.0);
        }
    }
}

/// Runs `future` on the calling thread with a tiny parking executor (no runtime context),
/// for awaiting JoinHandles after their runtime is gone.
pub(crate) fn block_on_plain<F: Future>(future: F) -> F::Output {
    futures_lite::future::block_on(future)
}

/// Spins (burning CPU, without sleeping) for `d`.
pub(crate) fn busy_for(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// A runtime with `workers` workers and otherwise default settings.
pub(crate) fn runtime(workers: usize) -> magpie::Runtime {
    magpie::Runtime::builder()
        .worker_threads(workers)
        .build()
        .expect("failed to build a runtime")
}

/// How many times a runtime's `on_thread_start` and `on_thread_stop` hooks have run (over
/// workers and blocking threads alike). Every thread the runtime starts must stop, so after
/// shutdown the two counts must be equal.
#[derive(Clone, Default)]
pub(crate) struct HookCounts {
    /// Runs of the `on_thread_start` hook.
    pub(crate) starts: Arc<AtomicUsize>,
    /// Runs of the `on_thread_stop` hook.
    pub(crate) stops: Arc<AtomicUsize>,
}

impl HookCounts {
    /// Sets `builder`'s `on_thread_start` and `on_thread_stop` hooks (replacing any set
    /// before) to count into the returned counts; other settings stay as they are.
    pub(crate) fn install(builder: &mut magpie::Builder) -> HookCounts {
        let counts = HookCounts::default();
        let (starts, stops) = (counts.starts.clone(), counts.stops.clone());
        builder
            .on_thread_start(move || {
                starts.fetch_add(1, SeqCst);
            })
            .on_thread_stop(move || {
                stops.fetch_add(1, SeqCst);
            });
        counts
    }

    /// Waits (up to `limit`) until every thread that ran its start hook has run its stop
    /// hook too; panics after `limit` otherwise.
    pub(crate) fn wait_balanced(&self, limit: Duration) {
        wait_until("every thread ran its stop hook", limit, || {
            self.stops.load(SeqCst) == self.starts.load(SeqCst)
        });
    }
}

/// A runtime with `workers` workers and otherwise default settings, whose thread hooks count
/// into the returned [`HookCounts`].
pub(crate) fn counted_runtime(workers: usize) -> (magpie::Runtime, HookCounts) {
    let mut builder = magpie::Runtime::builder();
    builder.worker_threads(workers);
    let counts = HookCounts::install(&mut builder);
    let rt = builder.build().expect("failed to build a runtime");
    (rt, counts)
}

/// Keeps a test whose body cannot move to a [`watchdog`] thread (a `#[magpie::test]`
/// function) from hanging the run: unless the returned alarm is dropped within `limit`, the
/// whole test process is aborted with a message naming `what`.
pub(crate) fn hang_alarm(what: &str, limit: Duration) -> HangAlarm {
    let (tx, rx) = mpsc::channel::<()>();
    let what = what.to_owned();
    std::thread::Builder::new()
        .name(format!("hang alarm: {what}"))
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                eprintln!("HANG: `{what}` did not finish within {limit:?}; aborting the test run");
                std::process::abort();
            }
        })
        .expect("failed to start the hang alarm thread");
    HangAlarm(tx)
}

/// See [`hang_alarm`]: dropping it (also while unwinding) disarms the alarm.
pub(crate) struct HangAlarm(mpsc::Sender<()>);

/// A waker that counts how many times it was woken, and the count.
pub(crate) fn counting_waker() -> (Waker, Arc<AtomicUsize>) {
    struct CountWakes(Arc<AtomicUsize>);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let wakes = counter();
    (Waker::from(Arc::new(CountWakes(wakes.clone()))), wakes)
}

/// Polls `future` once, by hand, with `waker`.
pub(crate) fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Polls `future` once, by hand, with a waker that does nothing.
pub(crate) fn poll_noop<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_with(future, Waker::noop())
}

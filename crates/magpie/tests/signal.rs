//! `magpie::signal::ctrl_c`: a real SIGINT completes pending waiters (one signal, all of
//! them, on any runtime), registration at the first poll, no descriptor per waiter (one pipe
//! for the process), and waiters that need no runtime: they work outside one and after
//! theirs shut down.
//!
//! Its own test binary: once `ctrl_c` registers, SIGINT no longer terminates this process.
//! The tests run on parallel threads of one process and a SIGINT reaches every waiter in
//! it, so each test holds [`SERIAL`] for its whole run.
//!
//! Unix only: it raises real SIGINTs (`libc::raise`/`kill`) and counts descriptors in
//! `/proc/self/fd`; Windows' `ctrl_c` (the console control handler) cannot be triggered
//! from inside the process without a console.

#![cfg(unix)]

mod common;

use common::{block_on_plain, guard, poll_noop, runtime, HANG};
use magpie::signal::ctrl_c;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One test at a time (see the module doc).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next test is still meaningful.
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// How long a waiter that must stay pending is watched.
const QUIET: Duration = Duration::from_millis(50);

/// Sends SIGINT to the calling thread (its handler runs before this returns).
fn raise_sigint() {
    // SAFETY: `raise` only sends a signal; the tests registered a SIGINT action first, so
    // the process is not terminated.
    assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
}

/// Sends SIGINT to the whole process (any thread not blocking it takes it).
fn kill_sigint() {
    // SAFETY: as in `raise_sigint`; `getpid` has no preconditions.
    assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGINT) }, 0);
}

/// The numbers of the descriptors this process has open now (leaving out the one that
/// reads `/proc/self/fd` itself).
fn open_fds() -> BTreeSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .expect("reading /proc/self/fd")
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| {
            let target = std::fs::read_link(Path::new("/proc/self/fd").join(name));
            // The listing's own handle points into /proc; none of the tests opens another.
            target.is_ok_and(|t| !t.starts_with("/proc"))
        })
        .map(|name| name.to_str().unwrap().parse().unwrap())
        .collect()
}

type CtrlC = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// A `ctrl_c` future polled once (so registered), which must be pending.
fn registered_ctrl_c() -> CtrlC {
    let mut waiter: CtrlC = Box::pin(ctrl_c());
    assert!(
        poll_noop(&mut waiter).is_pending(),
        "ctrl_c completed without a signal"
    );
    waiter
}

/// A `ctrl_c` future registered with `rt` (polled once inside it), to be awaited elsewhere.
#[allow(clippy::async_yields_async)] // the future is returned on purpose, not awaited here
fn registered_on(rt: &magpie::Runtime) -> CtrlC {
    rt.block_on(async { registered_ctrl_c() })
}

/// Waits (up to `limit`) for `waiter`; panics naming `what` if it is still pending.
async fn completes(what: &str, limit: Duration, waiter: impl Future<Output = std::io::Result<()>>) {
    magpie::time::timeout(limit, waiter)
        .await
        .unwrap_or_else(|_| panic!("{what}: ctrl_c still pending {limit:?} after SIGINT"))
        .unwrap_or_else(|e| panic!("{what}: ctrl_c failed: {e}"));
}

#[test]
fn sigint_completes_a_pending_ctrl_c() {
    let _serial = serial();
    guard("one waiter", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut waiter = registered_ctrl_c();
            // No signal yet: still pending after a while.
            assert!(
                magpie::time::timeout(QUIET, &mut waiter).await.is_err(),
                "ctrl_c completed without a signal"
            );
            raise_sigint();
            completes("one waiter", HANG, waiter).await;
        });
    });
}

#[test]
fn one_sigint_completes_every_pending_ctrl_c_on_every_runtime() {
    let _serial = serial();
    guard("three waiters", || {
        let (rt1, rt2) = (runtime(2), runtime(1));
        // Two waiters as tasks on one runtime, one on another; all registered before the
        // signal is sent.
        let (a, b) = rt1.block_on(async {
            let (a, b) = (registered_ctrl_c(), registered_ctrl_c());
            (magpie::spawn(a), magpie::spawn(b))
        });
        let c = rt2.spawn(registered_on(&rt2));
        // Exactly one signal, to the process, from a thread of neither runtime.
        std::thread::spawn(kill_sigint).join().unwrap();
        rt1.block_on(async {
            completes("task a", HANG, async { a.await.unwrap() }).await;
            completes("task b", HANG, async { b.await.unwrap() }).await;
        });
        rt2.block_on(completes("task c", HANG, async { c.await.unwrap() }));
    });
}

#[test]
fn ctrl_c_sees_only_signals_after_its_first_poll() {
    let _serial = serial();
    guard("registration at first poll", || {
        let rt = runtime(1);
        rt.block_on(async {
            // `early` keeps a SIGINT action installed, so the first signal does not
            // terminate the process; `late` is created but not yet polled.
            let early = registered_ctrl_c();
            let mut late: CtrlC = Box::pin(ctrl_c());
            raise_sigint();
            completes("early", HANG, early).await;
            // The signal came before `late` registered: it must wait for the next one.
            assert!(
                magpie::time::timeout(QUIET, &mut late).await.is_err(),
                "ctrl_c completed for a signal sent before its first poll"
            );
            raise_sigint();
            completes("late", HANG, late).await;
        });
    });
}

#[test]
fn ctrl_c_opens_no_descriptor_per_waiter() {
    let _serial = serial();
    guard("descriptors", || {
        let rt = runtime(1);
        rt.block_on(async {
            // The process's signal pipe exists once anything listened.
            let first = registered_ctrl_c();
            let before = open_fds();
            let waiters: Vec<CtrlC> = (0..10).map(|_| registered_ctrl_c()).collect();
            assert_eq!(
                open_fds(),
                before,
                "registered ctrl_c futures opened descriptors"
            );
            drop(waiters);
            assert_eq!(
                open_fds(),
                before,
                "dropping ctrl_c futures changed descriptors"
            );
            raise_sigint();
            completes("fd waiter", HANG, first).await;
            assert_eq!(open_fds(), before, "a completed ctrl_c changed descriptors");
        });
    });
}

#[test]
fn ctrl_c_works_outside_a_runtime() {
    let _serial = serial();
    guard("outside a runtime", || {
        // Registered by a first poll on no runtime at all, then awaited by a plain executor.
        let waiter = registered_ctrl_c();
        let sender = std::thread::spawn(|| {
            std::thread::sleep(QUIET);
            kill_sigint();
        });
        block_on_plain(waiter).expect("ctrl_c outside a runtime");
        sender.join().unwrap();
    });
}

#[test]
fn a_pending_ctrl_c_outlives_its_runtime() {
    let _serial = serial();
    guard("ctrl_c across shutdown", || {
        let rt = runtime(1);
        let waiter = registered_on(&rt);
        let (tx, rx) = std::sync::mpsc::channel();
        // A foreign executor waits on it.
        let thread = std::thread::spawn(move || {
            tx.send(block_on_plain(waiter).map_err(|e| e.to_string()))
                .unwrap();
        });
        std::thread::sleep(QUIET);
        drop(rt);
        // The runtime is gone; the waiter still waits for the signal...
        assert!(
            rx.recv_timeout(QUIET).is_err(),
            "ctrl_c completed without a signal when its runtime shut down"
        );
        // ... and sees it.
        kill_sigint();
        let result = rx
            .recv_timeout(HANG)
            .expect("ctrl_c did not complete after its runtime shut down");
        thread.join().unwrap();
        result.expect("ctrl_c after its runtime shut down");
    });
}

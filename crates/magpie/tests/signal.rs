//! `magpie::signal::ctrl_c`: a real SIGINT completes pending waiters (one signal, all of
//! them, on any runtime), registration at the first poll, no descriptor left behind, and
//! errors instead of hangs outside a runtime or after shutdown.
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
fn ctrl_c_leaves_no_descriptor_open_when_dropped_or_completed() {
    let _serial = serial();
    guard("descriptors", || {
        let rt = runtime(1);
        rt.block_on(async {
            let before = open_fds();
            // Dropped without a signal.
            let waiter = registered_ctrl_c();
            assert_eq!(
                open_fds().len(),
                before.len() + 2,
                "a registered ctrl_c holds its pipe's two ends"
            );
            drop(waiter);
            assert_eq!(open_fds(), before, "a dropped ctrl_c must close its pipe");
            // Completed by a signal.
            let waiter = registered_ctrl_c();
            raise_sigint();
            completes("fd waiter", HANG, waiter).await;
            assert_eq!(open_fds(), before, "a completed ctrl_c must close its pipe");
        });
    });
}

#[test]
fn ctrl_c_outside_a_runtime_is_a_clear_error() {
    let _serial = serial();
    guard("outside a runtime", || {
        let before = open_fds();
        let err = block_on_plain(ctrl_c()).expect_err("ctrl_c outside a runtime must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("magpie::signal::ctrl_c") && msg.contains("inside a magpie runtime"),
            "{msg}"
        );
        assert_eq!(
            open_fds(),
            before,
            "a failed ctrl_c must not leave a pipe open"
        );
    });
}

#[test]
fn a_pending_ctrl_c_fails_when_its_runtime_shuts_down() {
    let _serial = serial();
    guard("ctrl_c across shutdown", || {
        let rt = runtime(1);
        let waiter = registered_on(&rt);
        let (tx, rx) = std::sync::mpsc::channel();
        // A foreign executor waits on it; no signal will come.
        let thread = std::thread::spawn(move || {
            let result = block_on_plain(waiter);
            tx.send(result.map_err(|e| e.to_string())).unwrap();
        });
        std::thread::sleep(QUIET);
        drop(rt);
        let result = rx
            .recv_timeout(HANG)
            .expect("ctrl_c hung after its runtime shut down");
        thread.join().unwrap();
        let err = result.expect_err("ctrl_c on a shut-down runtime must fail");
        assert!(err.contains("shut down"), "{err}");
    });
}

#[test]
fn a_dropped_ctrl_c_never_writes_to_its_reused_descriptors() {
    let _serial = serial();
    guard("reused descriptors", || {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        use std::os::unix::net::UnixStream;

        let rt = runtime(1);
        rt.block_on(async {
            // Keeps a SIGINT action installed and shows the signal below was handled.
            let keeper = registered_ctrl_c();
            let before = open_fds();
            let dropped = registered_ctrl_c();
            let pipe: BTreeSet<i32> = open_fds().difference(&before).copied().collect();
            assert_eq!(
                pipe.len(),
                2,
                "a registered ctrl_c holds its pipe's two ends"
            );
            drop(dropped);
            // The lowest free numbers are reused: the socket pair takes the pipe's.
            let (mut x, mut y) = UnixStream::pair().unwrap();
            let pair: BTreeSet<i32> = [x.as_raw_fd(), y.as_raw_fd()].into();
            assert_eq!(
                pair, pipe,
                "the socket pair did not reuse the pipe's descriptors"
            );
            raise_sigint();
            completes("keeper", HANG, keeper).await;
            // Had the dropped waiter's action survived, its byte would be in the pair now.
            for end in [&mut x, &mut y] {
                end.set_nonblocking(true).unwrap();
                let err = end
                    .read(&mut [0u8; 1])
                    .expect_err("a stray byte in a reused descriptor");
                assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
            }
        });
    });
}

//! `magpie::signal::unix`: every listener of a signal wakes for each delivery, in tasks and on
//! plain executors; deliveries coalesce between two receives but are never lost; signals
//! are independent of each other; the refused signals and numbers are errors that name
//! them; a `Signal` outlives its runtime; `ctrl_c` rides on the same machinery.
//!
//! The tests run on parallel threads of one process and a signal reaches every listener in
//! it, so each test uses signals no other test here raises (noted per test). A signal is
//! raised only after a listener exists, so its default action (often: terminate) never
//! runs.

#![cfg(unix)]

mod common;

use common::{block_on_plain, counting_waker, guard, runtime, wait_until, HANG};
use magpie::signal::unix::{signal, Signal, SignalKind};
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a listener that must stay pending is watched.
const QUIET: Duration = Duration::from_millis(100);

/// Sends `signum` to the calling thread (its handler runs before this returns).
fn raise(signum: i32) {
    // SAFETY: `raise` only sends a signal; every caller created a listener first, so the
    // signal has magpie's action and does not terminate the process.
    assert_eq!(unsafe { libc::raise(signum) }, 0, "raise({signum})");
}

/// Sends `signum` to the whole process (any thread not blocking it takes it).
fn kill_self(signum: i32) {
    // SAFETY: as in `raise`; `getpid` has no preconditions.
    let sent = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(sent, 0, "kill({signum})");
}

/// Waits (up to [`HANG`]) for `signal`'s next receive; panics naming `what` if it is still
/// pending or ends with `None`.
async fn received(what: &str, signal: &mut Signal) {
    match magpie::time::timeout(HANG, signal.recv()).await {
        Ok(Some(())) => {}
        Ok(None) => panic!("{what}: recv returned None (the signal thread stopped)"),
        Err(_) => panic!("{what}: recv still pending {HANG:?} after the signal"),
    }
}

/// Asserts that `signal` receives nothing for [`QUIET`].
async fn stays_pending(what: &str, signal: &mut Signal) {
    if let Ok(outcome) = magpie::time::timeout(QUIET, signal.recv()).await {
        panic!("{what}: recv completed ({outcome:?}) with no signal sent");
    }
}

/// SIGUSR1.
#[test]
fn one_sigusr1_wakes_every_listener() {
    guard("two listeners", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut a = signal(SignalKind::user_defined1()).unwrap();
            let mut b = signal(SignalKind::user_defined1()).unwrap();
            stays_pending("a, before the signal", &mut a).await;
            // One listener in a task, one on another thread's plain executor, both waiting
            // before the signal is sent.
            let task = magpie::spawn(async move {
                received("listener a (task)", &mut a).await;
            });
            let (tx, rx) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || {
                let outcome = block_on_plain(b.recv());
                tx.send(outcome).unwrap();
            });
            magpie::time::sleep(QUIET).await;
            raise(libc::SIGUSR1);
            magpie::time::timeout(HANG, task)
                .await
                .expect("listener a: pending after SIGUSR1")
                .unwrap();
            let outcome = rx
                .recv_timeout(HANG)
                .expect("listener b: pending after SIGUSR1");
            assert_eq!(outcome, Some(()), "listener b");
            thread.join().unwrap();
        });
    });
}

/// SIGUSR2.
#[test]
fn a_signal_is_received_inside_a_spawned_task() {
    guard("signal in a task", || {
        let rt = runtime(2);
        rt.block_on(async {
            let (ready_tx, ready_rx) = magpie::sync::oneshot::channel();
            let task = magpie::spawn(async move {
                // Created and awaited inside the task.
                let mut usr2 = signal(SignalKind::user_defined2())?;
                let _ = ready_tx.send(());
                let first = usr2.recv().await;
                io::Result::Ok(first)
            });
            ready_rx.await.expect("the task ended before listening");
            // From a thread of no runtime, to the process.
            std::thread::spawn(|| kill_self(libc::SIGUSR2))
                .join()
                .unwrap();
            let outcome = magpie::time::timeout(HANG, task)
                .await
                .expect("the task is still waiting after SIGUSR2")
                .unwrap()
                .expect("signal(SIGUSR2) inside the task");
            assert_eq!(outcome, Some(()));
        });
    });
}

/// SIGHUP. `observer` receives after each raise, which proves the delivery was made; `idle`
/// does not receive in between, so the two deliveries are both unseen by it when it does.
#[test]
fn deliveries_between_two_receives_coalesce_but_are_never_lost() {
    guard("coalescing", || {
        let rt = runtime(1);
        rt.block_on(async {
            let mut idle = signal(SignalKind::hangup()).unwrap();
            let mut observer = signal(SignalKind::hangup()).unwrap();
            raise(libc::SIGHUP);
            received("observer, first delivery", &mut observer).await;
            raise(libc::SIGHUP);
            received("observer, second delivery", &mut observer).await;
            // Two deliveries since `idle` was created: one receive completes...
            received("idle, after two deliveries", &mut idle).await;
            // ... and the next waits for a new one.
            stays_pending("idle, both deliveries seen", &mut idle).await;
            stays_pending("observer, both deliveries seen", &mut observer).await;
            // Never lost: a signal after the receive began completes it.
            let waiting = magpie::spawn(async move {
                received("idle, third delivery", &mut idle).await;
            });
            magpie::time::sleep(QUIET).await;
            raise(libc::SIGHUP);
            magpie::time::timeout(HANG, waiting)
                .await
                .expect("idle: pending after the third SIGHUP")
                .unwrap();
            // And a burst with no receive pending is not lost either.
            for _ in 0..5 {
                raise(libc::SIGHUP);
            }
            received("observer, after a burst", &mut observer).await;
        });
    });
}

/// SIGPROF and SIGVTALRM: a delivery of one wakes no listener of the other.
#[test]
fn each_signal_wakes_only_its_own_listeners() {
    guard("independent signals", || {
        let rt = runtime(1);
        rt.block_on(async {
            let mut prof = signal(SignalKind::from_raw(libc::SIGPROF)).unwrap();
            let mut vtalrm = signal(SignalKind::from_raw(libc::SIGVTALRM)).unwrap();
            raise(libc::SIGPROF);
            received("SIGPROF listener", &mut prof).await;
            stays_pending("SIGVTALRM listener, after a SIGPROF", &mut vtalrm).await;
            raise(libc::SIGVTALRM);
            received("SIGVTALRM listener", &mut vtalrm).await;
            stays_pending("SIGPROF listener, after a SIGVTALRM", &mut prof).await;
        });
    });
}

/// SIGURG: a second pending poll replaces the first poll's waker.
#[test]
fn poll_recv_wakes_the_waker_of_its_latest_poll() {
    guard("waker replacement", || {
        let mut urg = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        assert!(urg.poll_recv(&mut Context::from_waker(&first)).is_pending());
        assert!(urg
            .poll_recv(&mut Context::from_waker(&second))
            .is_pending());
        raise(libc::SIGURG);
        wait_until("the latest waker is woken", HANG, || {
            second_wakes.load(SeqCst) == 1
        });
        assert_eq!(first_wakes.load(SeqCst), 0, "the replaced waker was woken");
        assert_eq!(
            urg.poll_recv(&mut Context::from_waker(&second)),
            Poll::Ready(Some(()))
        );
        assert!(urg
            .poll_recv(&mut Context::from_waker(&second))
            .is_pending());
    });
}

/// SIGALRM, whose default action terminates the process: after its only listener is
/// dropped, a SIGALRM is ignored (the action stays), and a new listener sees the next one.
#[test]
fn a_dropped_signal_leaves_the_action_installed() {
    guard("action after drop", || {
        let rt = runtime(1);
        rt.block_on(async {
            let mut alarm = signal(SignalKind::alarm()).unwrap();
            // A pending receive stored a waker; dropping the `Signal` removes it.
            stays_pending("SIGALRM listener", &mut alarm).await;
            drop(alarm);
            raise(libc::SIGALRM); // no listener: ignored (the process is still here)
                                  // A new listener sees the next one. (Not asserted: that it misses the one just
                                  // sent, which it may see if the signal thread had not handed it out yet.)
            let mut alarm = signal(SignalKind::alarm()).unwrap();
            raise(libc::SIGALRM);
            received("a new listener", &mut alarm).await;
        });
    });
}

/// SIGWINCH (default: ignored, so a stray one harms nothing).
#[test]
fn a_signal_outlives_its_runtime_and_needs_none() {
    guard("after shutdown", || {
        let rt = runtime(1);
        let mut created_on_rt = rt
            .block_on(async { signal(SignalKind::window_change()) })
            .unwrap();
        drop(rt);
        // And one created on no runtime at all.
        let mut created_outside = signal(SignalKind::window_change()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let outcomes = block_on_plain(async {
                (created_on_rt.recv().await, created_outside.recv().await)
            });
            tx.send(outcomes).unwrap();
        });
        assert!(
            rx.recv_timeout(QUIET).is_err(),
            "recv completed with no signal sent"
        );
        kill_self(libc::SIGWINCH);
        let outcomes = rx
            .recv_timeout(HANG)
            .expect("recv hung after the runtime it was created on shut down");
        assert_eq!(outcomes, (Some(()), Some(())));
        thread.join().unwrap();
    });
}

#[test]
fn signals_that_cannot_be_caught_are_errors_naming_them() {
    for (signum, name) in [
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGFPE, "SIGFPE"),
    ] {
        let err = signal(SignalKind::from_raw(signum)).expect_err(name);
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{name} cannot be caught: ")),
            "{msg}"
        );
    }
}

#[test]
fn numbers_that_are_not_signals_are_errors_naming_them() {
    for signum in [0, -1, 1000, i32::MAX, i32::MIN] {
        let err = signal(SignalKind::from_raw(signum)).expect_err("not a signal");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("signal number {signum} is out of range")),
            "{msg}"
        );
    }
}

/// glibc keeps signals 32 and 33 for its threads; its `sigaction` refuses them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_signal_the_os_refuses_is_an_error_naming_it() {
    let err = signal(SignalKind::from_raw(32)).expect_err("signal 32 (glibc's own)");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let msg = err.to_string();
    assert!(msg.starts_with("cannot listen for signal 32: "), "{msg}");
}

/// Every number of Linux's range (the standard and the real-time signals) is a `Signal` or an
/// `InvalidInput` error naming it, never a panic. Leaves out the signals other tests raise
/// and the fault signals (SIGBUS, SIGTRAP, SIGSYS) that `signal` accepts but nothing here
/// should catch; a listener made here is dropped at once, so it takes no delivery from
/// another test's listeners.
#[cfg(target_os = "linux")]
#[test]
fn every_signal_number_is_a_listener_or_an_error_naming_it() {
    let raised_elsewhere = [
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGHUP,
        libc::SIGPROF,
        libc::SIGVTALRM,
        libc::SIGURG,
        libc::SIGALRM,
        libc::SIGWINCH,
        libc::SIGINT,
    ];
    let faults = [libc::SIGBUS, libc::SIGTRAP, libc::SIGSYS];
    let mut listened = 0;
    for signum in 1..=64 {
        if raised_elsewhere.contains(&signum) || faults.contains(&signum) {
            continue;
        }
        match signal(SignalKind::from_raw(signum)) {
            Ok(_) => listened += 1,
            Err(err) => {
                assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}: {err}");
                let msg = err.to_string();
                let named = format!("{:?}", SignalKind::from_raw(signum));
                let named = named
                    .trim_start_matches("SignalKind(")
                    .trim_end_matches(')');
                assert!(msg.contains(named), "{signum}: {msg}");
            }
        }
    }
    // At least the real-time signals (SIGRTMIN to SIGRTMAX) are catchable.
    assert!(
        listened >= 30,
        "only {listened} signals could be listened for"
    );
}

#[test]
fn signal_kind_round_trips_through_its_number() {
    let kinds = [
        (SignalKind::alarm(), libc::SIGALRM, "SIGALRM"),
        (SignalKind::child(), libc::SIGCHLD, "SIGCHLD"),
        (SignalKind::hangup(), libc::SIGHUP, "SIGHUP"),
        (SignalKind::interrupt(), libc::SIGINT, "SIGINT"),
        (SignalKind::pipe(), libc::SIGPIPE, "SIGPIPE"),
        (SignalKind::quit(), libc::SIGQUIT, "SIGQUIT"),
        (SignalKind::terminate(), libc::SIGTERM, "SIGTERM"),
        (SignalKind::user_defined1(), libc::SIGUSR1, "SIGUSR1"),
        (SignalKind::user_defined2(), libc::SIGUSR2, "SIGUSR2"),
        (SignalKind::window_change(), libc::SIGWINCH, "SIGWINCH"),
    ];
    for (kind, signum, name) in kinds {
        assert_eq!(kind.as_raw_value(), signum, "{name}");
        assert_eq!(SignalKind::from_raw(signum), kind, "{name}");
        assert_eq!(SignalKind::from(signum), kind, "{name}");
        assert_eq!(i32::from(kind), signum, "{name}");
        assert_eq!(format!("{kind:?}"), format!("SignalKind({name})"));
    }
    // Any number round-trips, signal or not (`signal` is where it is checked).
    for signum in [0, 40, -7] {
        assert_eq!(SignalKind::from_raw(signum).as_raw_value(), signum);
        assert_eq!(
            format!("{:?}", SignalKind::from_raw(signum)),
            format!("SignalKind({signum})")
        );
    }
}

/// SIGINT: `ctrl_c` is a SIGINT listener on the same registry.
#[test]
fn ctrl_c_completes_on_sigint_beside_a_sigint_signal() {
    guard("ctrl_c", || {
        let rt = runtime(1);
        rt.block_on(async {
            let mut interrupt = signal(SignalKind::interrupt()).unwrap();
            let mut ctrl_c = std::pin::pin!(magpie::signal::ctrl_c());
            // The first poll registers it.
            assert!(common::poll_noop(&mut ctrl_c).is_pending());
            raise(libc::SIGINT);
            magpie::time::timeout(HANG, ctrl_c)
                .await
                .expect("ctrl_c pending after SIGINT")
                .expect("ctrl_c");
            received("the SIGINT Signal", &mut interrupt).await;
        });
    });
}

/// Compile-time check: `recv`'s future can be spawned.
#[allow(dead_code)]
fn recv_is_send(signal: &mut Signal) -> impl Future<Output = Option<()>> + Send + '_ {
    signal.recv()
}

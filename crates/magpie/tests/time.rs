//! `magpie::time`: a sleep is never early and a deadline already past completes at once;
//! `Sleep`'s deadline, `is_elapsed` and `reset`; lazy binding to the runtime that first polls
//! (and clear panics with none, or with a runtime that shut down); timeouts and their
//! accessors; intervals and their missed-tick behaviours; 100,000 concurrent sleeps; timers
//! under busy and blocked workers; paused time (`start_paused`, `pause`, `advance`, `resume`,
//! auto-advance); sleeps moved between tasks and threads.
//!
//! Real-time tests assert what is certain strictly (a sleep is never early, measured with
//! `magpie::time::Instant`, which reads the system clock while the runtime's clock is not
//! paused; `std::time::Instant` where a test means real time on purpose) and judge lateness
//! only by medians or generous bounds: this runs
//! on shared machines whose thread wake-ups are sometimes tens of milliseconds late. Long
//! durations and exact schedules use paused time, which is deterministic.

mod common;

use common::{
    block_on_plain, counter, counting_waker, expect_panic, guard, hang_alarm, panic_message,
    poll_noop, poll_with, runtime, wait_until, watchdog, Tally, HANG,
};
use futures_lite::future::poll_once;
use magpie::task;
use magpie::time::{
    self, advance, interval, interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
    Elapsed, Instant, MissedTickBehavior, Sleep,
};
use magpie::Runtime;
use std::future::{pending, poll_fn, ready, Future};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Sleep lengths around the wheel's edges: sub-millisecond, the 1 ms level-0 slot, the end of
/// level 0 (64 ms), and level 1 (a cascade).
const SIZES: [Duration; 16] = [
    Duration::from_nanos(1),
    us(1),
    us(50),
    us(300),
    us(999),
    ms(1),
    Duration::from_nanos(1_000_001),
    us(1_500),
    ms(2),
    ms(5),
    ms(15),
    ms(63),
    ms(64),
    ms(65),
    ms(70),
    ms(130),
];

/// A runtime with `workers` workers whose clock starts paused.
fn paused_runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .worker_threads(workers)
        .start_paused(true)
        .build()
        .expect("failed to build a paused runtime")
}

/// Serialises the tests whose bounds assume the CPU is not saturated by another test of this
/// file (lateness medians, busy and blocked workers) and the storm that saturates it.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Asserts that the paused clock reads `expected`: never earlier (strict), and not later
/// than the wheel's 1 ms level-0 slot (paused time jumps straight to the next timer).
#[track_caller]
fn assert_paused_at(expected: Instant, what: &str) {
    let now = time::now();
    assert!(
        now >= expected,
        "{what}: the paused clock reads {:?} before the expected instant",
        expected - now
    );
    assert!(
        now - expected < ms(1),
        "{what}: the paused clock reads {:?} after the expected instant",
        now - expected
    );
}

// ---------------------------------------------------------------------------------------
// Sleep: never early, a past deadline is immediate, lateness
// ---------------------------------------------------------------------------------------

#[test]
fn a_sleep_is_never_early() {
    guard("a sleep is never early", || {
        let rt = runtime(2);
        rt.block_on(async {
            // One after another, in block_on (the calling thread is no worker).
            for &d in SIZES.iter().filter(|&&d| d <= ms(15)) {
                let start = Instant::now();
                sleep(d).await;
                let elapsed = start.elapsed();
                assert!(elapsed >= d, "sleep({d:?}) completed after {elapsed:?}");

                let deadline = Instant::now() + d;
                sleep_until(deadline).await;
                let now = Instant::now();
                assert!(
                    now >= deadline,
                    "sleep_until(now + {d:?}) completed {:?} early",
                    deadline - now
                );
            }
            // All at once, four of each size, in tasks on the workers.
            let handles: Vec<_> = SIZES
                .iter()
                .cycle()
                .take(SIZES.len() * 4)
                .enumerate()
                .map(|(i, &d)| {
                    magpie::spawn(async move {
                        if i % 2 == 0 {
                            let start = Instant::now();
                            sleep(d).await;
                            let elapsed = start.elapsed();
                            assert!(elapsed >= d, "sleep({d:?}) completed after {elapsed:?}");
                        } else {
                            let deadline = Instant::now() + d;
                            sleep_until(deadline).await;
                            let now = Instant::now();
                            assert!(
                                now >= deadline,
                                "sleep_until(now + {d:?}) completed {:?} early",
                                deadline - now
                            );
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("a sleeping task failed");
            }
        });
    });
}

#[test]
fn zero_and_past_deadlines_complete_at_the_first_poll() {
    guard("zero and past deadlines", || {
        let rt = runtime(1);
        rt.block_on(async {
            let created = Instant::now();
            let cases: Vec<(&str, Sleep)> = vec![
                ("sleep(ZERO)", sleep(Duration::ZERO)),
                ("sleep_until(Instant::now())", sleep_until(Instant::now())),
                ("sleep_until(time::now())", sleep_until(time::now())),
                (
                    "sleep_until(std::time::Instant::now())",
                    sleep_until(std::time::Instant::now()),
                ),
                ("sleep_until(an instant taken before)", sleep_until(created)),
                (
                    "sleep_until(one second ago)",
                    sleep_until(created - secs(1)),
                ),
            ];
            for (what, mut s) in cases {
                assert!(s.is_elapsed(), "{what}: is_elapsed() false before the poll");
                assert_eq!(
                    poll_noop(&mut s),
                    Poll::Ready(()),
                    "{what}: pending at its first poll"
                );
                assert!(
                    s.is_elapsed(),
                    "{what}: is_elapsed() false after completing"
                );
                assert_eq!(
                    poll_noop(&mut s),
                    Poll::Ready(()),
                    "{what}: pending after completing"
                );
            }
            for i in 0..1_000 {
                // Each round starts a fresh poll, with a fresh cooperative budget: a due sleep
                // completes at its first poll while the budget lasts (tests/coop.rs checks
                // that it yields once the budget is spent).
                task::yield_now().await;
                let ready_now = poll_once(sleep(Duration::ZERO)).await;
                assert_eq!(
                    ready_now,
                    Some(()),
                    "zero sleep #{i} was pending at its first poll"
                );
                let ready_now = poll_once(sleep_until(Instant::now())).await;
                assert_eq!(ready_now, Some(()), "sleep_until(now) #{i} was pending");
            }
            // The same on a worker thread.
            magpie::spawn(async {
                assert_eq!(poll_once(sleep(Duration::ZERO)).await, Some(()));
                assert_eq!(poll_once(sleep_until(Instant::now())).await, Some(()));
                assert_eq!(poll_once(sleep_until(time::now() - ms(5))).await, Some(()));
            })
            .await
            .expect("the worker-side checks failed");
            // A timeout whose deadline is already past elapses at its first poll too.
            let elapsed_now = poll_once(timeout(Duration::ZERO, pending::<()>())).await;
            assert_eq!(elapsed_now, Some(Err(Elapsed)));
            let elapsed_now = poll_once(timeout_at(created, pending::<()>())).await;
            assert_eq!(elapsed_now, Some(Err(Elapsed)));
        });
    });
}

/// Awaits `n` sleeps of `d` one after another; returns how late each one was.
async fn lateness_of_sleeps(n: usize, d: Duration) -> Vec<Duration> {
    let mut lateness = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        sleep(d).await;
        let elapsed = start.elapsed();
        assert!(elapsed >= d, "sleep({d:?}) completed after {elapsed:?}");
        lateness.push(elapsed - d);
    }
    lateness
}

#[test]
fn the_median_lateness_of_1ms_sleeps_is_small() {
    let _exclusive = exclusive();
    guard("median lateness of 1 ms sleeps", || {
        let rt = runtime(2);
        let on_worker = rt
            .block_on(rt.spawn(lateness_of_sleeps(50, ms(1))))
            .expect("the measuring task failed");
        let in_block_on = rt.block_on(lateness_of_sleeps(50, ms(1)));
        for (place, lateness) in [("on a worker", on_worker), ("in block_on", in_block_on)] {
            let median = median(lateness.clone());
            assert!(
                median < ms(5),
                "{place}: the median lateness of 50 sleeps of 1 ms is {median:?} \
                 (all, in µs: {:?})",
                lateness.iter().map(Duration::as_micros).collect::<Vec<_>>()
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// Sleep: deadline, is_elapsed, reset
// ---------------------------------------------------------------------------------------

#[test]
fn sleep_deadline_is_elapsed_and_reset_to_later_or_earlier() {
    guard("deadline, is_elapsed, reset", || {
        let rt = runtime(2);
        rt.block_on(async {
            // deadline and is_elapsed.
            let before = Instant::now();
            let mut s = sleep(ms(20));
            let after = Instant::now();
            assert!(s.deadline() >= before + ms(20) && s.deadline() <= after + ms(20));
            assert!(!s.is_elapsed(), "is_elapsed() before the deadline");
            assert_eq!(poll_once(&mut s).await, None);
            assert!(!s.is_elapsed(), "is_elapsed() right after the first poll");
            (&mut s).await;
            assert!(s.is_elapsed(), "is_elapsed() false after completing");
            assert!(Instant::now() >= s.deadline());
            assert_eq!(
                poll_once(&mut s).await,
                Some(()),
                "a completed sleep stays complete"
            );

            // Reset after completion: pending again until the new deadline.
            let again = Instant::now() + ms(20);
            Pin::new(&mut s).reset(again);
            assert_eq!(s.deadline(), again);
            assert!(
                !s.is_elapsed(),
                "is_elapsed() after a reset into the future"
            );
            assert_eq!(
                poll_once(&mut s).await,
                None,
                "a reset sleep was still complete"
            );
            (&mut s).await;
            let now = Instant::now();
            assert!(
                now >= again,
                "completed {:?} before the reset deadline",
                again - now
            );
            assert!(s.is_elapsed());

            // Reset later while registered: completes at the new deadline, not the old one.
            let start = Instant::now();
            let mut s = sleep(ms(5));
            assert_eq!(poll_once(&mut s).await, None);
            let later = start + ms(40);
            Pin::new(&mut s).reset(later);
            assert_eq!(s.deadline(), later);
            (&mut s).await;
            let now = Instant::now();
            assert!(
                now >= later,
                "a sleep reset to a later deadline completed {:?} early",
                later - now
            );

            // Reset earlier while registered (the task itself resets; see also the test with
            // another task): completes at the new deadline, not after 10 s.
            let mut s = sleep(secs(10));
            assert_eq!(poll_once(&mut s).await, None);
            let start = Instant::now();
            let earlier = start + ms(5);
            Pin::new(&mut s).reset(earlier);
            (&mut s).await;
            let now = Instant::now();
            assert!(now >= earlier, "completed {:?} early", earlier - now);
            assert!(
                now - start < secs(2),
                "a sleep reset to 5 ms took {:?}",
                now - start
            );

            // A duration too large for Instant does not overflow: it never comes.
            let mut forever = sleep(Duration::MAX);
            assert!(forever.deadline() > Instant::now() + secs(86_400 * 365 * 20));
            assert!(!forever.is_elapsed());
            assert_eq!(poll_once(&mut forever).await, None);
            let forever = timeout(Duration::MAX, pending::<()>());
            assert!(forever.deadline() > Instant::now() + secs(86_400 * 365 * 20));
        });
    });
}

#[test]
fn a_sleep_reset_into_the_past_completes_at_its_next_poll() {
    guard("reset into the past", || {
        let rt = runtime(2);
        rt.block_on(async {
            for round in 0..100 {
                // A fresh poll, with a fresh cooperative budget, for each round.
                task::yield_now().await;
                // Registered (polled once), then reset into the past.
                let mut s = sleep(secs(10));
                assert_eq!(poll_once(&mut s).await, None);
                Pin::new(&mut s).reset(Instant::now() - ms(1));
                assert!(
                    s.is_elapsed(),
                    "round {round}: is_elapsed() false after the reset"
                );
                assert_eq!(
                    poll_once(&mut s).await,
                    Some(()),
                    "round {round}: a registered sleep reset into the past was pending"
                );

                // Reset to exactly now.
                let mut s = sleep(secs(10));
                assert_eq!(poll_once(&mut s).await, None);
                Pin::new(&mut s).reset(time::now());
                assert_eq!(
                    poll_once(&mut s).await,
                    Some(()),
                    "round {round}: a registered sleep reset to now was pending"
                );

                // Never polled, then reset into the past.
                let mut s = sleep(secs(10));
                Pin::new(&mut s).reset(Instant::now() - ms(1));
                assert_eq!(poll_once(&mut s).await, Some(()), "round {round}: unpolled");
            }
        });
    });
}

#[test]
fn resetting_a_sleep_whose_timer_fired_unobserved_makes_it_pending_again() {
    guard("reset of a fired timer", || {
        let rt = runtime(1);
        rt.block_on(async {
            let (waker, wakes) = counting_waker();
            let mut s = sleep(ms(5));
            assert!(poll_with(&mut s, &waker).is_pending());
            // Block this (non-worker) thread: the worker's driver fires the timer.
            wait_until("the timer fired", HANG, || wakes.load(SeqCst) == 1);
            let new = Instant::now() + ms(30);
            Pin::new(&mut s).reset(new);
            assert!(!s.is_elapsed());
            assert!(
                poll_with(&mut s, &waker).is_pending(),
                "a sleep whose fired timer was reset to a later deadline completed"
            );
            (&mut s).await;
            let now = Instant::now();
            assert!(
                now >= new,
                "completed {:?} before the reset deadline",
                new - now
            );
        });
    });
}

#[test]
fn an_earlier_reset_from_another_task_or_thread_wakes_the_sleeping_task() {
    guard("an earlier reset wakes the sleeper", || {
        let rt = runtime(2);
        for from_plain_thread in [false, true] {
            let shared = Arc::new(Mutex::new(sleep(secs(10))));
            let registered = Arc::new(AtomicBool::new(false));
            let sleeper = rt.spawn({
                let (shared, registered) = (shared.clone(), registered.clone());
                async move {
                    poll_fn(|cx| {
                        let polled = Pin::new(&mut *shared.lock().unwrap()).poll(cx);
                        registered.store(true, SeqCst);
                        polled
                    })
                    .await;
                    Instant::now()
                }
            });
            wait_until("the sleeper polled its sleep", HANG, || {
                registered.load(SeqCst)
            });
            // Let the driver settle into its sleep until the 10-s deadline.
            std::thread::sleep(ms(20));
            let reset = move || {
                let reset_at = Instant::now();
                let deadline = reset_at + ms(5);
                Pin::new(&mut *shared.lock().unwrap()).reset(deadline);
                (reset_at, deadline)
            };
            let (reset_at, deadline) = if from_plain_thread {
                std::thread::spawn(reset)
                    .join()
                    .expect("the resetting thread panicked")
            } else {
                rt.block_on(rt.spawn(async move { reset() }))
                    .expect("the resetting task failed")
            };
            let done = rt.block_on(sleeper).expect("the sleeper failed");
            let by = if from_plain_thread {
                "a plain thread"
            } else {
                "another task"
            };
            assert!(
                done >= deadline,
                "reset by {by}: completed {:?} early",
                deadline - done
            );
            assert!(
                done - reset_at < secs(2),
                "reset by {by} to now + 5 ms: the sleeping task completed {:?} after the reset",
                done - reset_at
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// Lazy binding
// ---------------------------------------------------------------------------------------

#[test]
fn a_sleep_or_timeout_created_outside_any_runtime_works_inside_one() {
    guard("created outside a runtime", || {
        assert!(
            magpie::Handle::try_current().is_err(),
            "the test thread is in a runtime"
        );
        let start = Instant::now();
        let s = sleep(ms(20));
        let zero = sleep(Duration::ZERO);
        let timed_out = timeout(ms(20), pending::<()>());
        let in_time = timeout(ms(20), ready(3));
        let from_other_thread = std::thread::spawn(|| sleep(ms(20))).join().unwrap();
        let rt = runtime(1);
        rt.block_on(async move {
            assert_eq!(poll_once(zero).await, Some(()), "a zero sleep was pending");
            assert_eq!(in_time.await, Ok(3));
            assert_eq!(timed_out.await, Err(Elapsed));
            s.await;
            from_other_thread.await;
        });
        let elapsed = start.elapsed();
        assert!(elapsed >= ms(20), "completed after {elapsed:?}");

        // Awaited in a spawned task.
        let start = Instant::now();
        let s = sleep(ms(10));
        rt.block_on(rt.spawn(s)).expect("the sleeping task failed");
        let elapsed = start.elapsed();
        assert!(elapsed >= ms(10), "completed after {elapsed:?}");
    });
}

#[test]
#[allow(clippy::async_yields_async)] // tasks hand back sleeps on purpose
fn a_sleep_binds_to_the_runtime_that_first_polls_it() {
    guard("binds to the first poller", || {
        let a = runtime(1);
        let b = paused_runtime(1);
        // Created on A's worker (deadline from the system clock), never polled there. If they
        // bound to A, they would take an hour of real time; bound to B (paused), none.
        let make = || a.block_on(a.spawn(async { sleep(secs(3600)) })).unwrap();
        let (s1, s2, mut s3) = (make(), make(), make());
        let t = a
            .block_on(a.spawn(async { timeout(secs(3600), pending::<()>()) }))
            .unwrap();
        let deadline = s1.deadline();
        let real = std::time::Instant::now();
        b.block_on(async {
            // First polled by B while A is alive...
            assert_eq!(poll_once(&mut s3).await, None);
            s1.await;
            assert!(
                time::now() >= deadline,
                "completed before its deadline on B's clock"
            );
            assert_eq!(t.await, Err(Elapsed));
        });
        // ...then A goes away: nothing of it is needed.
        drop(a);
        b.block_on(async move {
            s2.await;
            s3.await;
        });
        let real = real.elapsed();
        assert!(
            real < secs(5),
            "hour-long sleeps bound to a paused runtime took {real:?}"
        );
    });
}

#[test]
fn polling_outside_any_runtime_panics_with_a_clear_message() {
    guard("polled outside a runtime", || {
        let cases: Vec<(&str, String)> = vec![
            (
                "awaited sleep",
                expect_panic(|| block_on_plain(sleep(ms(1)))),
            ),
            (
                "polled zero sleep",
                expect_panic(|| poll_noop(&mut sleep(Duration::ZERO))),
            ),
            (
                "polled past sleep_until",
                expect_panic(|| poll_noop(&mut sleep_until(Instant::now() - secs(1)))),
            ),
            (
                "awaited timeout",
                expect_panic(|| block_on_plain(timeout(ms(1), pending::<()>()))),
            ),
            (
                "interval tick",
                expect_panic(|| block_on_plain(async { interval(ms(1)).tick().await })),
            ),
        ];
        for (what, msg) in cases {
            assert!(
                msg.contains("outside a magpie runtime"),
                "{what}: unclear panic: {msg}"
            );
        }
        for (what, msg) in [
            ("pause", expect_panic(pause)),
            ("resume", expect_panic(resume)),
            ("advance", expect_panic(|| block_on_plain(advance(ms(1))))),
        ] {
            assert!(
                msg.contains("must be called from inside a magpie runtime"),
                "{what}: unclear panic: {msg}"
            );
        }
        // A future that is ready at once never reaches its timer: fine anywhere.
        assert_eq!(block_on_plain(timeout(Duration::ZERO, ready(5))), Ok(5));
        // Outside a runtime, time::now() is the system clock.
        let before = std::time::Instant::now();
        let now = time::now().into_std();
        assert!(now >= before && now <= std::time::Instant::now());
    });
}

#[test]
fn a_sleep_bound_to_a_runtime_that_shut_down_panics_when_polled_elsewhere() {
    guard("bound to a dead runtime", || {
        let a = runtime(1);
        let mut s = sleep(secs(3600));
        let mut t = timeout(secs(3600), pending::<()>());
        let mut done = sleep(ms(1));
        a.block_on(async {
            assert_eq!(poll_once(&mut s).await, None);
            assert_eq!(poll_once(&mut t).await, None);
            (&mut done).await;
        });
        drop(a);
        let b = runtime(1);
        let msg = expect_panic(|| b.block_on(&mut s));
        assert!(
            msg.contains("shut down"),
            "unclear panic in another runtime: {msg}"
        );
        let msg = expect_panic(|| block_on_plain(&mut s));
        assert!(
            msg.contains("shut down"),
            "unclear panic outside a runtime: {msg}"
        );
        let msg = expect_panic(|| b.block_on(&mut t));
        assert!(msg.contains("shut down"), "unclear timeout panic: {msg}");
        // A sleep that completed before the shutdown stays complete.
        assert_eq!(poll_noop(&mut done), Poll::Ready(()));
        assert!(done.is_elapsed());
        // Dropping them after the shutdown is fine.
        drop((s, t, done));
    });
}

#[test]
fn a_foreign_executor_blocked_on_a_sleep_is_woken_when_its_runtime_shuts_down() {
    watchdog("woken at shutdown", secs(10), || {
        let a = runtime(2);
        let mut s = sleep(secs(3600));
        assert_eq!(a.block_on(poll_once(&mut s)), None);
        let polls = counter();
        let waiter = std::thread::spawn({
            let polls = polls.clone();
            move || {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    block_on_plain(poll_fn(|cx| {
                        polls.fetch_add(1, SeqCst);
                        Pin::new(&mut s).poll(cx)
                    }))
                }))
                .map_err(|payload| panic_message(&*payload))
            }
        });
        wait_until("the foreign executor polled the sleep", HANG, || {
            polls.load(SeqCst) >= 1
        });
        drop(a);
        let outcome = waiter.join().expect("the waiting thread failed");
        let msg =
            outcome.expect_err("the hour-long sleep completed although its runtime shut down");
        assert!(
            msg.contains("shut down"),
            "unclear panic after the wake-up: {msg}"
        );
        assert!(polls.load(SeqCst) >= 2, "the sleep was not polled again");
    });
}

// ---------------------------------------------------------------------------------------
// Timeout
// ---------------------------------------------------------------------------------------

#[test]
fn a_ready_future_wins_its_timeout_even_with_a_zero_duration() {
    guard("ready future wins", || {
        let rt = runtime(1);
        rt.block_on(async {
            assert_eq!(timeout(Duration::ZERO, async { 7 }).await, Ok(7));
            assert_eq!(timeout(Duration::ZERO, ready("x")).await, Ok("x"));
            assert_eq!(timeout_at(Instant::now() - secs(1), ready(1)).await, Ok(1));
            // A future that finishes before its deadline.
            let start = Instant::now();
            let out = timeout(secs(5), async {
                sleep(ms(10)).await;
                9
            })
            .await;
            assert_eq!(out, Ok(9));
            let elapsed = start.elapsed();
            assert!(elapsed >= ms(10) && elapsed < secs(4), "took {elapsed:?}");
        });
    });
}

#[test]
fn a_pending_future_times_out_no_earlier_than_its_deadline() {
    guard("timeouts are never early", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut handles = Vec::new();
            for d in [us(300), ms(1), ms(15), ms(70)] {
                handles.push(magpie::spawn(async move {
                    let start = Instant::now();
                    assert_eq!(timeout(d, pending::<()>()).await, Err(Elapsed));
                    let elapsed = start.elapsed();
                    assert!(elapsed >= d, "timeout({d:?}) elapsed after {elapsed:?}");
                }));
                handles.push(magpie::spawn(async move {
                    let deadline = Instant::now() + d;
                    assert_eq!(timeout_at(deadline, pending::<()>()).await, Err(Elapsed));
                    let now = Instant::now();
                    assert!(
                        now >= deadline,
                        "timeout_at elapsed {:?} early",
                        deadline - now
                    );
                }));
            }
            for handle in handles {
                handle.await.expect("a timing-out task failed");
            }
            // A future that would finish after the deadline loses; the timeout drops it.
            let tally = Tally::new();
            let start = Instant::now();
            let drop_guard = tally.guard();
            let out = timeout(ms(10), async move {
                let _drop_guard = drop_guard;
                sleep(ms(500)).await;
            })
            .await;
            let elapsed = start.elapsed();
            assert_eq!(out, Err(Elapsed));
            assert!(elapsed >= ms(10) && elapsed < ms(500), "took {elapsed:?}");
            tally.assert_all_dropped("the future of an elapsed timeout");
        });
    });
}

#[test]
fn elapsed_is_an_error_with_a_clear_message() {
    assert_eq!(Elapsed.to_string(), "deadline has elapsed");
    assert_eq!(format!("{Elapsed:?}"), "Elapsed");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Elapsed);
    assert_eq!(boxed.to_string(), "deadline has elapsed");
    assert!(boxed.source().is_none());
    let io: std::io::Error = Elapsed.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

/// Ready after being polled `0` more times; wakes itself while counting down.
struct Countdown(u32);

impl Future for Countdown {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.0 == 0 {
            return Poll::Ready("liftoff");
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn timeout_get_ref_get_mut_into_inner_and_deadline() {
    guard("timeout accessors", || {
        let rt = runtime(1);
        rt.block_on(async {
            let before = Instant::now();
            let mut t = timeout(secs(10), Countdown(3));
            assert!(t.deadline() >= before + secs(10) && t.deadline() <= Instant::now() + secs(10));
            assert_eq!(t.get_ref().0, 3);
            t.get_mut().0 = 1;
            assert_eq!(poll_once(&mut t).await, None);
            assert_eq!(t.get_ref().0, 0);
            assert_eq!(t.await, Ok("liftoff"));

            let at = Instant::now() + secs(3);
            assert_eq!(timeout_at(at, Countdown(0)).deadline(), at);

            // into_inner after the deadline passed: the future is no longer cut short.
            let start = Instant::now();
            let mut t = timeout(ms(1), sleep(ms(30)));
            assert_eq!(poll_once(&mut t).await, None);
            std::thread::sleep(ms(5));
            let inner: Sleep = t.into_inner();
            inner.await;
            let elapsed = start.elapsed();
            assert!(
                elapsed >= ms(30),
                "the inner sleep completed after {elapsed:?}"
            );
        });
    });
}

#[test]
fn a_dropped_timeout_or_sleep_never_wakes_its_task() {
    guard("dropped timers never wake", || {
        let rt = runtime(2);
        rt.block_on(async {
            // (wakes, deadline, when it was dropped) for each timer.
            let mut dropped = Vec::with_capacity(20_000);
            let mut registered = 0;
            for i in 0..10_000u64 {
                // Deadlines 2..22 ms from now, all passed by the time we look.
                let d = us(2_000 + i * 7 % 20_000);
                let (waker, wakes) = counting_waker();
                let mut t = timeout(d, pending::<()>());
                let deadline = t.deadline();
                registered += usize::from(poll_with(&mut t, &waker).is_pending());
                drop(t);
                dropped.push((wakes, deadline, Instant::now()));

                let (waker, wakes) = counting_waker();
                let mut s = sleep(d);
                let deadline = s.deadline();
                registered += usize::from(poll_with(&mut s, &waker).is_pending());
                drop(s);
                dropped.push((wakes, deadline, Instant::now()));
            }
            assert!(
                registered > 10_000,
                "only {registered} of 20,000 timers registered"
            );
            // A control that is not dropped: its waker is woken.
            let (control_waker, control) = counting_waker();
            let mut kept = sleep(ms(5));
            assert!(poll_with(&mut kept, &control_waker).is_pending());
            sleep(ms(50)).await;
            wait_until("the control timer woke its waker", HANG, || {
                control.load(SeqCst) == 1
            });
            // A timer may fire while its owner drops it, when the drop comes after the
            // deadline (a harmless spurious wake-up); one dropped before never wakes.
            let woken_before_deadline: Vec<_> = dropped
                .iter()
                .enumerate()
                .filter(|(_, (wakes, deadline, at))| wakes.load(SeqCst) > 0 && at < deadline)
                .map(|(i, (wakes, deadline, at))| (i, wakes.load(SeqCst), *deadline - *at))
                .collect();
            assert!(
                woken_before_deadline.is_empty(),
                "{} timers dropped before their deadline woke their task: \
                 (index, wakes, dropped this long before the deadline) {:?}",
                woken_before_deadline.len(),
                &woken_before_deadline[..woken_before_deadline.len().min(10)]
            );
            // The timers still work.
            let start = Instant::now();
            sleep(ms(1)).await;
            assert!(start.elapsed() >= ms(1));
        });
    });
}

// ---------------------------------------------------------------------------------------
// Interval
// ---------------------------------------------------------------------------------------

#[test]
fn interval_ticks_at_once_then_every_period_in_real_time() {
    guard("interval in real time", || {
        let rt = runtime(1);
        rt.block_on(async {
            let before = time::now();
            let mut every = interval(ms(10));
            let after = time::now();
            let first = poll_once(every.tick())
                .await
                .expect("the first tick was not immediate");
            assert!(first >= before && first <= after);
            for n in 1..=5u32 {
                let due = every.tick().await;
                assert_eq!(due, first + ms(10) * n, "tick {n} off the schedule");
                let now = Instant::now();
                assert!(now >= due, "tick {n} came {:?} early", due - now);
            }
        });
    });
}

#[test]
fn interval_ticks_on_schedule_in_paused_time() {
    guard("interval in paused time", || {
        let rt = paused_runtime(1);
        rt.block_on(async {
            let t0 = time::now();
            let mut every = interval(ms(10));
            assert_eq!(every.period(), ms(10));
            assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
            assert_eq!(
                poll_once(every.tick()).await,
                Some(t0),
                "first tick not at once"
            );
            for n in 1..=10u32 {
                assert_eq!(poll_once(every.tick()).await, None, "tick {n} early");
                let due = every.tick().await;
                assert_eq!(due, t0 + ms(10) * n);
                assert_paused_at(due, "after a tick");
            }
            drop(every);
            // interval_at: the first tick at `start`, then every period.
            let t1 = time::now();
            let mut at = interval_at(t1 + ms(25), secs(1));
            assert_eq!(poll_once(at.tick()).await, None);
            assert_eq!(at.tick().await, t1 + ms(25));
            assert_eq!(at.tick().await, t1 + ms(25) + secs(1));
            assert_paused_at(t1 + ms(25) + secs(1), "after interval_at's second tick");
        });
    });
}

/// Ticks once at t0, stalls for 35 ms (missing the ticks at 10, 20 and 30 ms), then
/// returns the offsets from t0 of the next ticks: `(due, clock when it completed, at once?)`.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<(Duration, Duration, bool)> {
    let rt = paused_runtime(1);
    rt.block_on(async move {
        let t0 = time::now();
        let mut every = interval(ms(10));
        every.set_missed_tick_behavior(behavior);
        assert_eq!(every.missed_tick_behavior(), behavior);
        assert_eq!(every.tick().await, t0);
        advance(ms(35)).await;
        assert_eq!(time::now(), t0 + ms(35));
        let mut ticks = Vec::new();
        for _ in 0..6 {
            let (due, at_once) = match poll_once(every.tick()).await {
                Some(due) => (due, true),
                None => (every.tick().await, false),
            };
            let now = time::now();
            assert!(
                now >= due,
                "{behavior:?}: a tick came {:?} early",
                due - now
            );
            ticks.push((due - t0, now - t0, at_once));
        }
        ticks
    })
}

#[test]
fn missed_ticks_burst_fires_them_at_once_and_keeps_the_schedule() {
    guard("burst", || {
        let ticks = ticks_after_a_stall(MissedTickBehavior::Burst);
        assert_eq!(
            ticks,
            [
                (ms(10), ms(35), true),
                (ms(20), ms(35), true),
                (ms(30), ms(35), true),
                (ms(40), ms(40), false),
                (ms(50), ms(50), false),
                (ms(60), ms(60), false),
            ]
        );
    });
}

#[test]
fn missed_ticks_delay_fires_one_and_shifts_the_schedule() {
    guard("delay", || {
        let ticks = ticks_after_a_stall(MissedTickBehavior::Delay);
        assert_eq!(
            ticks,
            [
                (ms(10), ms(35), true),
                (ms(45), ms(45), false),
                (ms(55), ms(55), false),
                (ms(65), ms(65), false),
                (ms(75), ms(75), false),
                (ms(85), ms(85), false),
            ]
        );
    });
}

#[test]
fn missed_ticks_skip_fires_one_and_skips_to_the_schedule() {
    guard("skip", || {
        let ticks = ticks_after_a_stall(MissedTickBehavior::Skip);
        assert_eq!(
            ticks,
            [
                (ms(10), ms(35), true),
                (ms(40), ms(40), false),
                (ms(50), ms(50), false),
                (ms(60), ms(60), false),
                (ms(70), ms(70), false),
                (ms(80), ms(80), false),
            ]
        );
    });
}

#[test]
fn interval_reset_restarts_the_schedule_one_period_from_now() {
    guard("interval reset", || {
        let rt = paused_runtime(1);
        rt.block_on(async {
            let t0 = time::now();
            let mut every = interval(ms(10));
            assert_eq!(every.tick().await, t0);
            advance(ms(4)).await;
            every.reset();
            assert_eq!(poll_once(every.tick()).await, None);
            assert_eq!(every.tick().await, t0 + ms(14));
            assert_paused_at(t0 + ms(14), "after the reset tick");
            assert_eq!(every.tick().await, t0 + ms(24));

            drop(every);
            // Reset before the first tick: the first tick is a period away instead of now.
            let t1 = time::now();
            let mut fresh = interval(secs(1));
            fresh.reset();
            assert_eq!(poll_once(fresh.tick()).await, None);
            assert_eq!(fresh.tick().await, t1 + secs(1));
        });
    });
}

#[test]
fn a_zero_period_interval_panics_with_a_clear_message() {
    let msg = expect_panic(|| interval(Duration::ZERO));
    assert!(
        msg.contains("period must be greater than zero"),
        "unclear panic: {msg}"
    );
    let msg = expect_panic(|| interval_at(Instant::now(), Duration::ZERO));
    assert!(
        msg.contains("period must be greater than zero"),
        "unclear panic: {msg}"
    );
}

// ---------------------------------------------------------------------------------------
// Load: many sleeps, busy workers, a blocked worker
// ---------------------------------------------------------------------------------------

#[test]
fn a_hundred_thousand_concurrent_sleeps_all_complete_and_none_is_early() {
    let _exclusive = exclusive();
    guard("100,000 sleeps", || {
        const N: u64 = 100_000;
        let rt = runtime(2);
        let done = counter();
        let early = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        rt.block_on(async {
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    let d = us(1_000 + i * 7_919 % 49_000);
                    let (done, early) = (done.clone(), early.clone());
                    magpie::spawn(async move {
                        let start = Instant::now();
                        sleep(d).await;
                        let elapsed = start.elapsed();
                        if elapsed < d {
                            early.lock().unwrap().push((d, elapsed));
                        }
                        done.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("a sleeping task failed");
            }
        });
        let total = start.elapsed();
        assert_eq!(done.load(SeqCst), N as usize);
        let early = early.lock().unwrap();
        assert!(
            early.is_empty(),
            "{} sleeps were early, e.g. {:?}",
            early.len(),
            early[0]
        );
        assert!(
            total >= ms(49),
            "100,000 sleeps of up to 50 ms took {total:?}"
        );
        assert!(
            total < secs(20),
            "100,000 sleeps of up to 50 ms took {total:?}"
        );
    });
}

/// On a runtime whose every worker only ever yields (never idle), a 10 ms sleep completes,
/// within a generous bound, both in a task spawned from outside and in one spawned by a
/// yielding task.
fn a_sleep_is_not_starved_by_yielding_tasks(workers: usize) {
    let rt = runtime(workers);
    let stop = Arc::new(AtomicBool::new(false));
    let polls = counter();
    let sleeper = || async {
        let start = Instant::now();
        sleep(ms(10)).await;
        start.elapsed()
    };
    let (tx, rx) = mpsc::channel();
    for i in 0..workers * 2 {
        let (stop, polls, tx) = (stop.clone(), polls.clone(), tx.clone());
        drop(rt.spawn(async move {
            if i == 0 {
                // A sleeper spawned from a busy worker.
                let sleeper = magpie::spawn(async move {
                    let start = Instant::now();
                    sleep(ms(10)).await;
                    tx.send(start.elapsed()).unwrap();
                });
                drop(sleeper);
            }
            while !stop.load(SeqCst) {
                polls.fetch_add(1, SeqCst);
                task::yield_now().await;
            }
        }));
    }
    wait_until("the yielding tasks run", HANG, || {
        polls.load(SeqCst) > 1_000
    });
    let from_outside = rt
        .block_on(rt.spawn(sleeper()))
        .expect("the sleeper failed");
    let from_inside = rx
        .recv_timeout(HANG)
        .expect("the inner sleeper never finished");
    let polls_at_end = polls.load(SeqCst);
    stop.store(true, SeqCst);
    for (place, elapsed) in [
        ("from outside", from_outside),
        ("from a busy worker", from_inside),
    ] {
        assert!(
            elapsed >= ms(10),
            "{workers} workers, sleeper spawned {place}: {elapsed:?}"
        );
        assert!(
            elapsed < secs(1),
            "{workers} workers, sleeper spawned {place}: a 10 ms sleep took {elapsed:?} \
             while the workers only yielded"
        );
    }
    assert!(polls_at_end > 1_000);
}

#[test]
fn yielding_tasks_do_not_starve_a_timer_on_one_worker() {
    let _exclusive = exclusive();
    guard("yielding tasks vs a timer, 1 worker", || {
        a_sleep_is_not_starved_by_yielding_tasks(1);
    });
}

#[test]
fn yielding_tasks_do_not_starve_a_timer_on_two_workers() {
    let _exclusive = exclusive();
    guard("yielding tasks vs a timer, 2 workers", || {
        a_sleep_is_not_starved_by_yielding_tasks(2);
    });
}

#[test]
fn a_task_blocking_its_worker_does_not_stall_timers_of_other_tasks() {
    let _exclusive = exclusive();
    guard("a blocked worker vs a timer", || {
        const BLOCK: Duration = ms(300);
        const SLEEP: Duration = ms(50);
        let rt = runtime(2);

        // (a) The sleeper registers its timer first, then spawns the blocker from its own
        // worker (into that worker's LIFO slot), so its own worker is the one that blocks.
        let blocker_done = Arc::new(AtomicBool::new(false));
        let (elapsed, blocked_meanwhile) = rt
            .block_on(rt.spawn({
                let blocker_done = blocker_done.clone();
                async move {
                    let start = Instant::now();
                    let mut s = sleep(SLEEP);
                    assert_eq!(poll_once(&mut s).await, None);
                    let flag = blocker_done.clone();
                    drop(magpie::spawn(async move {
                        std::thread::sleep(BLOCK);
                        flag.store(true, SeqCst);
                    }));
                    s.await;
                    (start.elapsed(), !blocker_done.load(SeqCst))
                }
            }))
            .expect("the sleeper failed");
        assert!(elapsed >= SLEEP, "(a) completed after {elapsed:?}");
        assert!(
            elapsed < ms(250) && blocked_meanwhile,
            "(a) a {SLEEP:?} sleep took {elapsed:?} while a worker was blocked for {BLOCK:?}"
        );
        wait_until("blocker (a) finished", HANG, || blocker_done.load(SeqCst));

        // (b) The blocker first (from outside), then a sleeper from outside.
        let started = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        drop(rt.spawn({
            let (started, finished) = (started.clone(), finished.clone());
            async move {
                started.store(true, SeqCst);
                std::thread::sleep(BLOCK);
                finished.store(true, SeqCst);
            }
        }));
        wait_until("the blocker (b) started", HANG, || started.load(SeqCst));
        let (elapsed, blocked_meanwhile) = rt
            .block_on(rt.spawn({
                let finished = finished.clone();
                async move {
                    let start = Instant::now();
                    sleep(SLEEP).await;
                    (start.elapsed(), !finished.load(SeqCst))
                }
            }))
            .expect("the sleeper failed");
        assert!(elapsed >= SLEEP, "(b) completed after {elapsed:?}");
        assert!(
            elapsed < ms(250) && blocked_meanwhile,
            "(b) a {SLEEP:?} sleep took {elapsed:?} while a worker was blocked for {BLOCK:?}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// Paused time
// ---------------------------------------------------------------------------------------

/// 60 retries, 10 s apart: ten minutes of paused time.
async fn ten_minute_retry_loop() {
    let real = std::time::Instant::now();
    let t0 = time::now();
    for attempt in 0..60 {
        let before = time::now();
        sleep(secs(10)).await;
        let slept = time::now() - before;
        assert!(
            slept >= secs(10),
            "retry {attempt}: a 10 s sleep took {slept:?} of paused time"
        );
    }
    let paused = time::now() - t0;
    assert!(paused >= secs(600), "the clock advanced by {paused:?} only");
    let real = real.elapsed();
    assert!(
        real < secs(1),
        "ten paused minutes took {real:?} of real time"
    );
}

#[magpie::test(start_paused = true)]
async fn a_ten_minute_retry_loop_takes_no_real_time_under_the_test_attribute() {
    let _alarm = hang_alarm("retry loop under #[magpie::test]", HANG);
    ten_minute_retry_loop().await;
}

#[test]
fn a_ten_minute_retry_loop_takes_no_real_time_with_start_paused() {
    guard("retry loops with start_paused", || {
        let rt = paused_runtime(2);
        rt.block_on(async {
            let loops: Vec<_> = (0..8)
                .map(|_| magpie::spawn(ten_minute_retry_loop()))
                .collect();
            ten_minute_retry_loop().await;
            for handle in loops {
                handle.await.expect("a retry loop failed");
            }
        });
    });
}

#[test]
fn paused_sleeps_are_never_early_at_any_wheel_level() {
    guard("paused sleeps, every level", || {
        let sizes = [
            Duration::from_nanos(1),
            us(300),
            ms(1),
            ms(15),
            ms(63),
            ms(64),
            ms(65),
            ms(70),
            ms(4_095),
            ms(4_097),
            secs(10),
            secs(5 * 60),
            secs(5 * 3600),
            secs(13 * 86_400),
            // Beyond the wheel's span (2^36 ms, about 2.2 years).
            secs(3 * 365 * 86_400),
        ];
        let rt = paused_runtime(2);
        let real = std::time::Instant::now();
        rt.block_on(async {
            let handles: Vec<_> = sizes
                .iter()
                .map(|&d| {
                    magpie::spawn(async move {
                        let start = time::now();
                        sleep(d).await;
                        (d, time::now() - start)
                    })
                })
                .collect();
            for handle in handles {
                let (d, slept) = handle.await.expect("a paused sleeper failed");
                assert!(
                    slept >= d,
                    "a paused sleep({d:?}) completed after {slept:?}"
                );
                assert!(
                    slept - d < ms(1),
                    "a paused sleep({d:?}) completed {:?} late",
                    slept - d
                );
            }
            // And one after another, in block_on.
            for &d in &sizes {
                let start = time::now();
                sleep(d).await;
                assert_paused_at(start + d, "a sequential paused sleep");
            }
        });
        let real = real.elapsed();
        assert!(
            real < secs(5),
            "paused sleeps of up to 3 years took {real:?} of real time"
        );
    });
}

/// Yields until `cond` holds; panics after `limit` of real time. A task that yields is never
/// idle, so a paused clock stands still meanwhile.
async fn yield_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting until {what}"
        );
        task::yield_now().await;
    }
}

/// Yields for `d` of real time.
async fn yield_for(d: Duration) {
    let until = std::time::Instant::now() + d;
    yield_until("time passed", d + HANG, || {
        std::time::Instant::now() >= until
    })
    .await;
}

#[test]
fn advance_fires_exactly_the_timers_that_are_due() {
    guard("advance", || {
        let rt = runtime(2);
        // In a task, not in block_on: see `a_woken_block_on_future_keeps_the_paused_clock_still`.
        rt.block_on(rt.spawn(async {
            pause();
            let t0 = time::now();
            let registered = counter();
            let fired = counter();
            let handles: Vec<_> = [1, 2, 3, 5, 6]
                .into_iter()
                .map(|s| {
                    let mut sleep = sleep_until(t0 + secs(s));
                    let (registered, fired) = (registered.clone(), fired.clone());
                    magpie::spawn(async move {
                        assert_eq!(poll_once(&mut sleep).await, None);
                        registered.fetch_add(1, SeqCst);
                        sleep.await;
                        fired.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            yield_until("every sleeper registered", HANG, || {
                registered.load(SeqCst) == 5
            })
            .await;

            advance(secs(4)).await;
            assert_eq!(
                time::now(),
                t0 + secs(4),
                "advance(4 s) moved the clock elsewhere"
            );
            yield_until("the sleepers of 1, 2 and 3 s finished", HANG, || {
                fired.load(SeqCst) == 3
            })
            .await;
            yield_for(ms(20)).await;
            assert_eq!(
                fired.load(SeqCst),
                3,
                "a sleeper finished before its deadline"
            );
            assert_eq!(
                time::now(),
                t0 + secs(4),
                "the clock moved while a task yielded"
            );

            advance(secs(1)).await;
            assert_eq!(time::now(), t0 + secs(5));
            yield_until("the 5 s sleeper finished", HANG, || fired.load(SeqCst) == 4).await;
            yield_for(ms(20)).await;
            assert_eq!(fired.load(SeqCst), 4, "the 6 s sleeper finished at 5 s");

            // A local sleep: pending after 999 ms of its second, done after the last.
            let mut local = sleep(secs(1));
            assert_eq!(poll_once(&mut local).await, None);
            advance(ms(999)).await;
            assert!(!local.is_elapsed());
            assert_eq!(poll_once(&mut local).await, None);
            advance(ms(1)).await;
            assert!(local.is_elapsed());
            assert_eq!(poll_once(&mut local).await, Some(()));

            for handle in handles {
                handle.await.expect("a sleeper failed");
            }
            assert_paused_at(t0 + secs(6), "after every sleeper finished");
        }))
        .expect("the advancing task failed");
    });
}

#[test]
fn resume_lets_the_clock_run_again_from_its_paused_reading() {
    guard("resume", || {
        let rt = runtime(1);
        rt.block_on(async {
            pause();
            let t0 = time::now();
            std::thread::sleep(ms(20));
            assert_eq!(time::now(), t0, "the paused clock moved by itself");
            advance(secs(10)).await;
            assert_eq!(time::now(), t0 + secs(10));

            resume();
            let resumed = time::now();
            assert!(resumed >= t0 + secs(10), "the clock went back on resume");
            assert!(
                resumed.into_std() > std::time::Instant::now() + secs(9),
                "the resumed clock does not continue from its paused reading"
            );
            // Real time again: a 20 ms sleep takes 20 ms of both clocks.
            let real = std::time::Instant::now();
            sleep(ms(20)).await;
            assert!(real.elapsed() >= ms(20), "a sleep after resume was early");
            assert!(time::now() - resumed >= ms(20));

            let msg = expect_panic(resume);
            assert!(msg.contains("not paused"), "unclear panic: {msg}");
            // Pausing again works.
            pause();
            let t1 = time::now();
            std::thread::sleep(ms(5));
            assert_eq!(time::now(), t1);
            resume();
        });
    });
}

#[test]
fn pause_twice_and_advance_without_pause_panic_with_clear_messages() {
    guard("pause misuse", || {
        let msg = expect_panic(|| {
            runtime(1).block_on(async {
                pause();
                pause()
            })
        });
        assert!(msg.contains("already paused"), "unclear panic: {msg}");
        let msg = expect_panic(|| paused_runtime(1).block_on(async { pause() }));
        assert!(msg.contains("already paused"), "unclear panic: {msg}");
        let msg = expect_panic(|| runtime(1).block_on(advance(ms(1))));
        assert!(
            msg.contains("not paused") && msg.contains("pause first"),
            "unclear panic: {msg}"
        );
        let msg = expect_panic(|| runtime(1).block_on(async { resume() }));
        assert!(msg.contains("not paused"), "unclear panic: {msg}");
    });
}

#[test]
fn paused_time_does_not_auto_advance_while_a_blocking_closure_runs() {
    guard("auto-advance vs spawn_blocking", || {
        let rt = paused_runtime(2);
        let t0 = rt.block_on(async { time::now() });
        let finished = Arc::new(AtomicBool::new(false));
        let blocking = rt.spawn_blocking({
            let finished = finished.clone();
            move || {
                std::thread::sleep(ms(200));
                finished.store(true, SeqCst);
            }
        });
        let (tx, rx) = mpsc::channel();
        drop(rt.spawn({
            let finished = finished.clone();
            async move {
                sleep(secs(3600)).await;
                tx.send((finished.load(SeqCst), time::now())).unwrap();
            }
        }));
        wait_until("the blocking closure finished", HANG, || {
            finished.load(SeqCst)
        });
        let (saw_finished, woke_at) = rx
            .recv_timeout(HANG)
            .expect("the paused 1-hour sleep never completed");
        assert!(
            saw_finished,
            "a paused 1-hour sleep completed while a blocking closure was still running"
        );
        assert!(woke_at - t0 >= secs(3600));
        rt.block_on(blocking).expect("the blocking closure failed");
    });
}

#[test]
fn paused_time_auto_advances_again_once_a_blocking_closure_finished() {
    watchdog("auto-advance after spawn_blocking", secs(10), || {
        for round in 0..10 {
            let rt = paused_runtime(2);
            rt.block_on(async {
                let t0 = time::now();
                let finished = Arc::new(AtomicBool::new(false));
                drop(task::spawn_blocking({
                    let finished = finished.clone();
                    move || {
                        std::thread::sleep(ms(50));
                        finished.store(true, SeqCst);
                    }
                }));
                let real = std::time::Instant::now();
                sleep(secs(3600)).await;
                assert!(
                    finished.load(SeqCst),
                    "round {round}: completed while the closure ran"
                );
                assert!(time::now() - t0 >= secs(3600));
                let real = real.elapsed();
                assert!(real < secs(1), "round {round}: a paused hour took {real:?}");
            });
        }
    });
}

/// Timeouts in paused time: `(deadline, future's own deadline)` decides, and no real time.
async fn paused_timeouts() {
    let t0 = time::now();
    assert_eq!(timeout(secs(3600), pending::<()>()).await, Err(Elapsed));
    assert_paused_at(t0 + secs(3600), "after the 1-hour timeout");
    // Which comes first is decided by the paused deadlines alone.
    let t1 = time::now();
    assert_eq!(timeout(secs(1), sleep(secs(2))).await, Err(Elapsed));
    assert_paused_at(t1 + secs(1), "after timeout(1 s, sleep(2 s))");
    let t2 = time::now();
    let won = timeout(secs(2), async {
        sleep(secs(1)).await;
        5
    })
    .await;
    assert_eq!(won, Ok(5));
    assert_paused_at(t2 + secs(1), "after timeout(2 s, sleep(1 s))");
}

#[test]
fn a_timeout_in_paused_time_elapses_at_once_in_real_time() {
    guard("paused timeout", || {
        let rt = paused_runtime(1);
        let real = std::time::Instant::now();
        // In a task, not in block_on: see `a_woken_block_on_future_keeps_the_paused_clock_still`.
        for _ in 0..20 {
            rt.block_on(rt.spawn(paused_timeouts()))
                .expect("the timing-out task failed");
        }
        // A lone timeout in block_on.
        rt.block_on(async {
            let t0 = time::now();
            assert_eq!(timeout(secs(3600), pending::<()>()).await, Err(Elapsed));
            assert_paused_at(t0 + secs(3600), "after the 1-hour timeout in block_on");
        });
        let real = real.elapsed();
        assert!(real < secs(1), "paused timeouts took {real:?} of real time");
    });
}

#[test]
fn the_paused_clock_stands_still_while_a_task_runs() {
    guard("no auto-advance while busy", || {
        let rt = paused_runtime(2);
        rt.block_on(async {
            let t0 = time::now();
            // A pending timer the clock could jump to.
            let far = magpie::spawn(sleep(secs(3600)));
            // A task that keeps yielding is never idle.
            magpie::spawn(async move {
                for i in 0..2_000 {
                    task::yield_now().await;
                    assert_eq!(
                        time::now(),
                        t0,
                        "the clock jumped while a task yielded ({i})"
                    );
                }
                // Nor is one that blocks its worker.
                std::thread::sleep(ms(50));
                assert_eq!(time::now(), t0, "the clock jumped while a task blocked");
            })
            .await
            .expect("the yielding task failed");
            far.await.expect("the far sleeper failed");
            assert_paused_at(t0 + secs(3600), "after the far sleeper");
        });
    });
}

#[test]
fn a_woken_block_on_future_keeps_the_paused_clock_still() {
    guard("woken block_on vs auto-advance", || {
        let rt = paused_runtime(2);
        rt.block_on(async {
            let t0 = time::now();
            // A pending timer the clock could jump to.
            let far = magpie::spawn(sleep(secs(3600)));
            for i in 0..2_000 {
                task::yield_now().await;
                assert_eq!(
                    time::now(),
                    t0,
                    "the clock jumped while block_on yielded ({i})"
                );
            }
            for i in 0..200 {
                magpie::spawn(async {}).await.expect("a no-op task failed");
                assert_eq!(
                    time::now(),
                    t0,
                    "the clock jumped after a join in block_on ({i})"
                );
            }
            // Between two block_on calls nothing is runnable, so a paused runtime may jump
            // to a pending timer there (documented in magpie::time): cancel it first.
            far.abort();
            let _ = far.await;
        });
        rt.block_on(async {
            for i in 0..50 {
                let t1 = time::now();
                let out = timeout(secs(1), sleep(secs(2))).await;
                assert_eq!(
                    out,
                    Err(Elapsed),
                    "round {i}: timeout(1 s, sleep(2 s)) in block_on"
                );
                assert_paused_at(t1 + secs(1), "after timeout(1 s, sleep(2 s)) in block_on");
            }
        });
    });
}

#[test]
fn the_paused_clock_does_not_jump_to_a_cancelled_timer() {
    guard("no jump to cancelled timers", || {
        let rt = paused_runtime(1);
        rt.block_on(async {
            let t0 = time::now();
            {
                let mut dropped = timeout(secs(3600), pending::<()>());
                assert_eq!(poll_once(&mut dropped).await, None);
                let mut dropped = sleep(secs(60));
                assert_eq!(poll_once(&mut dropped).await, None);
            }
            // Nothing is pending now: while the runtime waits for a plain thread, the paused
            // clock has no timer to jump to.
            let (tx, rx) = futures_channel::oneshot::channel();
            std::thread::spawn(move || {
                std::thread::sleep(ms(50));
                tx.send(()).unwrap();
            });
            rx.await.unwrap();
            let jumped = time::now() - t0;
            assert_eq!(
                jumped,
                Duration::ZERO,
                "the paused clock jumped by {jumped:?} with no timer pending (to a cancelled one)"
            );
        });
    });
}

// ---------------------------------------------------------------------------------------
// Send and Sync
// ---------------------------------------------------------------------------------------

#[test]
#[allow(clippy::async_yields_async)] // tasks hand back sleeps on purpose
fn a_sleep_moved_between_tasks_and_threads_mid_way_still_completes() {
    guard("moved sleeps", || {
        let rt = runtime(2);
        let polled_once = |rt: &Runtime, d: Duration| -> Sleep {
            rt.block_on(rt.spawn(async move {
                let mut s = sleep(d);
                assert_eq!(poll_once(&mut s).await, None);
                s
            }))
            .expect("the first task failed")
        };

        // Polled once in one task, awaited in another.
        let start = Instant::now();
        let s = polled_once(&rt, ms(30));
        rt.block_on(rt.spawn(s)).expect("the second task failed");
        let elapsed = start.elapsed();
        assert!(elapsed >= ms(30), "completed after {elapsed:?}");

        // Polled once in a task, awaited on a plain thread by another executor.
        let start = Instant::now();
        let s = polled_once(&rt, ms(30));
        std::thread::spawn(move || block_on_plain(s))
            .join()
            .expect("the plain thread failed");
        let elapsed = start.elapsed();
        assert!(elapsed >= ms(30), "completed after {elapsed:?}");

        // Shared between threads (Sync): read from several threads, then awaited.
        let start = Instant::now();
        let shared = Arc::new(polled_once(&rt, ms(30)));
        let deadline = shared.deadline();
        std::thread::scope(|scope| {
            for _ in 0..2 {
                let shared = shared.clone();
                scope.spawn(move || {
                    assert_eq!(shared.deadline(), deadline);
                    let _ = shared.is_elapsed();
                });
            }
        });
        let s = Arc::try_unwrap(shared).expect("the sleep is still shared");
        rt.block_on(s);
        let elapsed = start.elapsed();
        assert!(elapsed >= ms(30), "completed after {elapsed:?}");
    });
}

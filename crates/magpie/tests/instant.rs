//! `magpie::time::Instant`: `Instant::now()` and `elapsed()` read the runtime's clock (paused
//! time included) and the system clock outside a runtime; the deadline-taking functions
//! accept both `magpie::time::Instant` and `std::time::Instant`; `Sleep::deadline` and
//! `Timeout::deadline` hand back what they were given; arithmetic and the `checked_*`
//! methods match `std::time::Instant`'s, overflow included.
//!
//! Paused-time checks are exact: the paused clock moves only by `advance` and by jumps to
//! the exact deadline of the next timer. `std::time::Instant` is used on purpose where a
//! test means real time.

mod common;

use common::{expect_panic, guard};
use magpie::time::{self, advance, interval_at, sleep, sleep_until, timeout_at, Elapsed, Instant};
use magpie::Runtime;
use std::collections::HashSet;
use std::future::pending;
use std::pin::Pin;
use std::time::Duration;

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A one-worker runtime whose clock starts paused.
fn paused_runtime() -> Runtime {
    Runtime::builder()
        .worker_threads(1)
        .start_paused(true)
        .build()
        .expect("failed to build a paused runtime")
}

// ---------------------------------------------------------------------------------------
// The runtime's clock
// ---------------------------------------------------------------------------------------

#[test]
fn instant_now_reads_the_paused_clock_while_std_instant_barely_moves() {
    guard("Instant::now on a paused runtime", || {
        let rt = paused_runtime();
        rt.block_on(async {
            let start = Instant::now();
            let real = std::time::Instant::now();
            advance(secs(1)).await;
            assert_eq!(Instant::now() - start, secs(1), "not exactly the advance");
            assert_eq!(time::now(), Instant::now(), "time::now() differs");
            let real = real.elapsed();
            assert!(
                real < ms(500),
                "std::time::Instant moved by {real:?} over an advance of 1 s"
            );
            // A paused clock stands still in real time, and so does Instant::now().
            let frozen = Instant::now();
            std::thread::sleep(ms(5));
            assert_eq!(Instant::now(), frozen, "the paused reading moved");
        });
    });
}

#[test]
fn instant_now_on_a_worker_reads_the_same_paused_clock_as_block_on() {
    guard("Instant::now on a worker", || {
        let rt = paused_runtime();
        let outside = rt.block_on(async { Instant::now() });
        let on_worker = rt
            .block_on(rt.spawn(async { Instant::now() }))
            .expect("the task failed");
        assert_eq!(
            on_worker, outside,
            "no timer pending: the clock cannot move"
        );
    });
}

#[test]
fn elapsed_counts_paused_time_and_not_real_time() {
    guard("elapsed on a paused runtime", || {
        let rt = paused_runtime();
        rt.block_on(async {
            let start = Instant::now();
            let real = std::time::Instant::now();
            sleep(secs(3600)).await; // the clock jumps to the sleep's deadline
            assert_eq!(start.elapsed(), secs(3600));
            advance(ms(250)).await;
            assert_eq!(start.elapsed(), secs(3600) + ms(250));
            assert!(real.elapsed() < secs(5), "a paused hour took real time");
            // A future instant has elapsed nothing.
            assert_eq!((Instant::now() + secs(1)).elapsed(), Duration::ZERO);
        });
    });
}

#[test]
fn outside_a_runtime_instant_now_follows_the_system_clock() {
    let before = std::time::Instant::now();
    let now = Instant::now();
    let after = std::time::Instant::now();
    assert!(before <= now.into_std() && now.into_std() <= after);
    assert!(before <= time::now().into_std());

    let start = Instant::now();
    std::thread::sleep(ms(5));
    assert!(
        start.elapsed() >= ms(5),
        "elapsed() did not see real time pass"
    );
    assert!(Instant::now() - start >= ms(5));
}

#[test]
fn on_a_running_runtime_instant_now_follows_the_system_clock() {
    guard("Instant::now on a running runtime", || {
        common::runtime(1).block_on(async {
            let before = std::time::Instant::now();
            let now = Instant::now();
            assert!(before <= now.into_std() && now.into_std() <= std::time::Instant::now());
            sleep(ms(5)).await;
            assert!(now.elapsed() >= ms(5), "a 5 ms sleep was early");
        });
    });
}

// ---------------------------------------------------------------------------------------
// The time API takes both instants and returns magpie's
// ---------------------------------------------------------------------------------------

#[test]
fn sleep_until_accepts_both_std_and_magpie_instants() {
    guard("sleep_until with both instants", || {
        let rt = paused_runtime();
        rt.block_on(async {
            let t0 = Instant::now();
            sleep_until(t0 + secs(5)).await;
            assert_eq!(Instant::now(), t0 + secs(5));
            let std_deadline: std::time::Instant = (t0 + secs(10)).into_std();
            sleep_until(std_deadline).await;
            assert_eq!(Instant::now(), t0 + secs(10));
            // Past deadlines of either kind complete at once.
            sleep_until(t0).await;
            sleep_until(t0.into_std()).await;
            assert_eq!(Instant::now(), t0 + secs(10));
        });
    });
}

#[test]
fn timeout_at_and_interval_at_accept_both_std_and_magpie_instants() {
    guard("timeout_at and interval_at with both instants", || {
        let rt = paused_runtime();
        rt.block_on(async {
            let t0 = Instant::now();
            assert_eq!(
                timeout_at(t0 + secs(1), pending::<()>()).await,
                Err(Elapsed)
            );
            assert_eq!(Instant::now(), t0 + secs(1));
            let std_deadline = (t0 + secs(2)).into_std();
            assert_eq!(
                timeout_at(std_deadline, pending::<()>()).await,
                Err(Elapsed)
            );
            assert_eq!(Instant::now(), t0 + secs(2));

            let mut every = interval_at(t0 + secs(3), secs(1));
            let first: Instant = every.tick().await;
            assert_eq!(first, t0 + secs(3));
            assert_eq!(every.tick().await, t0 + secs(4));
            let mut every = interval_at((t0 + secs(5)).into_std(), secs(1));
            assert_eq!(every.tick().await, t0 + secs(5));
            assert_eq!(every.tick().await, t0 + secs(6));
            assert_eq!(Instant::now(), t0 + secs(6));
        });
    });
}

#[test]
fn sleep_deadline_round_trips_through_sleep_until_and_reset() {
    guard("Sleep::deadline round trips", || {
        let rt = paused_runtime();
        rt.block_on(async {
            let at = Instant::now() + secs(3);
            assert_eq!(sleep_until(at).deadline(), at);
            assert_eq!(sleep_until(at.into_std()).deadline(), at);
            assert_eq!(timeout_at(at, pending::<()>()).deadline(), at);
            assert_eq!(timeout_at(at.into_std(), pending::<()>()).deadline(), at);
            // On a paused clock, sleep(d) is due exactly d from now.
            assert_eq!(sleep(secs(7)).deadline(), Instant::now() + secs(7));

            let mut s = sleep_until(at);
            let later = at + secs(4);
            Pin::new(&mut s).reset(later);
            assert_eq!(s.deadline(), later);
            Pin::new(&mut s).reset(later.into_std() + secs(1));
            assert_eq!(s.deadline(), later + secs(1));
            assert_eq!(s.deadline().into_std(), later.into_std() + secs(1));
            let t0 = Instant::now();
            s.await;
            assert_eq!(Instant::now(), later + secs(1));
            assert_eq!(Instant::now() - t0, secs(8));
        });
    });
}

// ---------------------------------------------------------------------------------------
// Arithmetic, conversions, traits
// ---------------------------------------------------------------------------------------

#[test]
fn conversions_to_and_from_std_are_lossless() {
    let std_now = std::time::Instant::now();
    let now = Instant::from_std(std_now);
    assert_eq!(now.into_std(), std_now);
    assert_eq!(Instant::from(std_now), now);
    assert_eq!(std::time::Instant::from(now), std_now);
    let into: Instant = std_now.into();
    assert_eq!(into, now);
    assert_eq!(format!("{now:?}"), format!("{std_now:?}"));
    assert_eq!(
        std::mem::size_of::<Instant>(),
        std::mem::size_of::<std::time::Instant>()
    );
}

#[test]
fn arithmetic_matches_std_instant() {
    let std_base = std::time::Instant::now();
    let base = Instant::from_std(std_base);
    let d = Duration::from_nanos(1_234_567_891);

    assert_eq!((base + d).into_std(), std_base + d);
    assert_eq!((base - d).into_std(), std_base - d);
    assert_eq!((base + d) - base, d);
    assert_eq!(base - (base - d), d);

    let mut x = base;
    x += d;
    assert_eq!(x, base + d);
    x -= d;
    x -= d;
    assert_eq!(x, base - d);

    assert_eq!((base + d).duration_since(base), d);
    assert_eq!((base + d).checked_duration_since(base), Some(d));
    assert_eq!((base + d).saturating_duration_since(base), d);
    assert_eq!(base.checked_duration_since(base), Some(Duration::ZERO));

    assert!(base < base + d && base - d < base);
    assert_eq!((base + d).max(base), base + d);
    let set: HashSet<Instant> = [base, base + d, base, Instant::from_std(std_base)]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn an_earlier_minus_a_later_instant_saturates_to_zero() {
    let base = Instant::now();
    let later = base + secs(1);
    assert_eq!(base - later, Duration::ZERO);
    assert_eq!(base.duration_since(later), Duration::ZERO);
    assert_eq!(base.saturating_duration_since(later), Duration::ZERO);
    assert_eq!(base.checked_duration_since(later), None);
}

#[test]
fn checked_add_and_checked_sub_return_none_on_overflow() {
    let base = Instant::now();
    assert_eq!(base.checked_add(Duration::ZERO), Some(base));
    assert_eq!(base.checked_sub(Duration::ZERO), Some(base));
    assert_eq!(base.checked_add(secs(1)), Some(base + secs(1)));
    assert_eq!(base.checked_sub(ms(1)), Some(base - ms(1)));
    assert_eq!(base.checked_add(Duration::MAX), None);
    assert_eq!(base.checked_sub(Duration::MAX), None);
    // As std's: the same edge.
    assert_eq!(base.into_std().checked_add(Duration::MAX), None);
}

#[test]
fn adding_or_subtracting_past_the_representable_range_panics_as_std_does() {
    let base = Instant::now();
    let msg = expect_panic(|| base + Duration::MAX);
    assert!(msg.contains("overflow"), "unclear panic: {msg}");
    let msg = expect_panic(|| base - Duration::MAX);
    assert!(msg.contains("overflow"), "unclear panic: {msg}");
    let msg = expect_panic(|| {
        let mut x = base;
        x += Duration::MAX;
    });
    assert!(msg.contains("overflow"), "unclear panic: {msg}");
}

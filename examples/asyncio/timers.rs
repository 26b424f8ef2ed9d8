//! Section 15, timers: `loop.call_later`, `asyncio.timeout_at`, moving a deadline,
//! periodic work.
//!
//! `asyncio.sleep` is [`magpie::time::sleep`] (sections 1 and 3); `asyncio.wait_for` is
//! [`magpie::time::timeout`] (section 12). This section shows the rest of the clock.
//! `loop.time()` is [`magpie::time::Instant::now`] (or [`magpie::time::now`]), the
//! runtime's clock: it follows paused time, where `std::time::Instant::now()` does not.

use crate::{header, say};
use magpie::time::{self, Instant, MissedTickBehavior};
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time of day (UTC) as `HH:MM:SS.mmm`: the asyncio docs' `time.strftime('%X')`.
fn clock_time() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        % 86_400_000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Milliseconds since `start` on the runtime's clock (`elapsed` reads `Instant::now()`).
fn ms_since(start: Instant) -> u128 {
    start.elapsed().as_millis()
}

/// The section.
pub async fn main() {
    header("15. Timers: call_later, timeout_at, reset, interval");
    call_later().await;
    deadlines().await;
    periodic_work().await;
}

/// `loop.call_later(delay, callback)` is a task that sleeps, then calls; its handle's
/// `abort()` is `TimerHandle.cancel()`. `loop.call_at(when, cb)` uses `sleep_until`.
async fn call_later() {
    let start = Instant::now();
    say!(
        "at {} UTC: call_later(30 ms), call_at(now + 50 ms), and one to cancel",
        clock_time()
    );
    let later = magpie::spawn(async move {
        time::sleep(Duration::from_millis(30)).await;
        say!(
            "call_later(30 ms): the callback ran at {} ms",
            ms_since(start)
        );
    });
    let at = magpie::spawn(async move {
        time::sleep_until(start + Duration::from_millis(50)).await;
        say!(
            "call_at(now + 50 ms): the callback ran at {} ms",
            ms_since(start)
        );
    });
    let cancelled = magpie::spawn(async {
        time::sleep(Duration::from_millis(30)).await;
        say!("this callback was cancelled: never printed");
    });
    cancelled.abort(); // TimerHandle.cancel()
    later.await.expect("the callback panicked");
    at.await.expect("the callback panicked");
    let err = cancelled.await.expect_err("the callback was not cancelled");
    say!("the cancelled one: {err}");
}

/// One deadline over several steps (`async with asyncio.timeout_at(when)`), and moving a
/// deadline (`cm.reschedule(when)`).
async fn deadlines() {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(120);
    let steps = time::timeout_at(deadline, async {
        for step in 1..=3 {
            time::sleep(Duration::from_millis(50)).await;
            say!("step {step} of 50 ms done at {} ms", ms_since(start));
        }
    })
    .await;
    say!(
        "timeout_at(now + 120 ms, three steps) -> {steps:?} at {} ms",
        ms_since(start)
    );

    // asyncio's `cm.reschedule(when)` is `Sleep::reset`: the deadline moves, the timer too.
    let start = Instant::now();
    let mut deadline = time::sleep(Duration::from_millis(30));
    Pin::new(&mut deadline).reset(start + Duration::from_millis(60));
    deadline.await;
    say!(
        "a 30 ms sleep reset to 60 ms fired after {} ms",
        ms_since(start)
    );
}

/// A periodic loop (`while True: work(); await asyncio.sleep(period)`) is
/// `magpie::time::interval`: ticks on a fixed schedule that the work's duration does not
/// shift.
async fn periodic_work() {
    let mut every = time::interval(Duration::from_millis(30));
    let first = every.tick().await; // the first tick is immediate
    let mut due = vec![0];
    for _ in 0..3 {
        due.push((every.tick().await - first).as_millis());
    }
    say!("interval(30 ms): ticks due at {due:?} ms");

    // When the loop falls behind (here: a 70 ms stall after the second tick), the
    // MissedTickBehavior decides what happens to the ticks it missed. (`Delay`, the third,
    // puts the next tick a period after the late one: the schedule shifts, as the asyncio
    // sleep loop's does.)
    async fn stalled(behavior: MissedTickBehavior) -> Vec<u128> {
        let mut every = time::interval(Duration::from_millis(30));
        every.set_missed_tick_behavior(behavior);
        let first = every.tick().await;
        let mut due = vec![0];
        for n in 2..=5 {
            due.push((every.tick().await - first).as_millis());
            if n == 2 {
                time::sleep(Duration::from_millis(70)).await;
            }
        }
        due
    }
    let burst = magpie::spawn(stalled(MissedTickBehavior::Burst));
    let skip = magpie::spawn(stalled(MissedTickBehavior::Skip));
    say!("a 70 ms stall after the 2nd tick:");
    say!(
        "  Burst (the default): ticks due at {:?} ms (the missed ones fire at once)",
        burst.await.expect("the Burst task panicked")
    );
    say!(
        "  Skip:                ticks due at {:?} ms (the missed ones are skipped)",
        skip.await.expect("the Skip task panicked")
    );
}

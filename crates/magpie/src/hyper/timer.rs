//! `hyper::rt::Timer` on magpie's timer wheel.

use crate::time::{self, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// hyper's timer: its sleeps are [`magpie::time::Sleep`](crate::time::Sleep)s, on the clock of
/// the runtime that polls them (so a paused clock pauses hyper's timeouts too).
///
/// `reset` moves the existing sleep's deadline in place instead of allocating a new one:
/// hyper resets its keep-alive and header-read timers on every request.
///
/// Give it to every builder that has a timeout: `http1::Builder::timer` (header-read
/// timeout), `http2::Builder::timer` (keep-alive pings), the legacy client's `timer` and
/// `pool_timer` (the idle-connection reaper). A builder without a timer ignores those
/// settings or, for some, panics when they are used.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

/// The `hyper::rt::Sleep` that [`HyperTimer`] hands out.
struct HyperSleep {
    inner: Sleep,
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

/// hyper's `Timer` trait speaks `std::time::Instant`: `now` hands out the runtime's clock
/// (`magpie::time::now().into_std()`), and deadlines come back as readings of that clock.
impl hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep {
            inner: time::sleep_until(deadline),
        })
    }

    fn now(&self) -> Instant {
        time::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(mine) => Pin::new(&mut mine.get_mut().inner).reset(new_deadline),
            // A sleep from some other timer: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    #[test]
    fn sleeps_are_never_early_and_reset_moves_the_same_sleep() {
        crate::Runtime::new().unwrap().block_on(async {
            let timer = HyperTimer;
            let start = Instant::now();
            timer.sleep(Duration::from_millis(20)).await;
            assert!(start.elapsed() >= Duration::from_millis(20));

            let mut sleep = timer.sleep(Duration::from_secs(3600));
            let before: *const dyn hyper::rt::Sleep = &*sleep;
            let start = Instant::now();
            timer.reset(&mut sleep, Instant::now() + Duration::from_millis(20));
            // Same allocation: reset did not replace the box.
            assert!(std::ptr::addr_eq(
                before,
                &*sleep as *const dyn hyper::rt::Sleep
            ));
            sleep.as_mut().await;
            assert!(start.elapsed() >= Duration::from_millis(20));
            assert!(start.elapsed() < Duration::from_secs(60));
        });
    }

    #[test]
    fn follows_a_paused_clock() {
        crate::Builder::new()
            .worker_threads(1)
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(async {
                let timer = HyperTimer;
                let start = timer.now();
                timer.sleep(Duration::from_secs(30)).await;
                assert_eq!(timer.now() - start, Duration::from_secs(30));
            });
    }
}

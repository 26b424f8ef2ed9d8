//! The accept loop's guard against running out of descriptors.
//!
//! A listener with a connection queued stays readable. If `accept` fails because the process
//! (`EMFILE`) or the system (`ENFILE`) has no descriptor left, or memory ran short, the
//! connection stays queued, the listener stays readable, and an accept loop that simply
//! retries spins at 100% CPU until a descriptor frees up. So such an error engages a
//! back-off: it is returned to the caller (who may log it), and the listener's next accepts
//! first sleep until `retry_at`. The pause starts at 1 ms and doubles on each further
//! failure up to 64 ms; a successful accept resets it. Recovery after descriptors free up
//! therefore takes at most one pause (64 ms), and a starved accept loop costs about 16
//! cheap attempts a second.
//!
//! Each pending accept keeps its own `Sleep` (a `Sleep` wakes only its last poller), so
//! several tasks accepting on one listener all resume.

use crate::io::Async;
use crate::time::{self, Instant, Sleep};
use magpie_io::sys::socket::is_resource_exhaustion;
use magpie_io::sys::AsSource;
use magpie_io::Direction;
use magpie_shim::{AtomicBool, Mutex, Ordering};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(64);

/// A listening socket and its back-off state.
pub(crate) struct Acceptor<T: AsSource> {
    pub(crate) io: Async<T>,
    /// Set while a back-off is in force: the accept fast path reads only this.
    engaged: AtomicBool,
    backoff: Mutex<Backoff>,
}

#[derive(Default)]
struct Backoff {
    pause: Duration,
    retry_at: Option<Instant>,
}

impl<T: AsSource> Acceptor<T> {
    pub(crate) fn new(io: Async<T>) -> Acceptor<T> {
        Acceptor {
            io,
            engaged: AtomicBool::new(false),
            backoff: Mutex::new(Backoff::default()),
        }
    }

    /// Polls one accept: waits out a back-off in force (in `pause`, owned by the caller's
    /// future), then runs the non-blocking `op` until the listener has a connection or an
    /// error.
    pub(crate) fn poll_accept<R>(
        &self,
        cx: &mut Context<'_>,
        pause: &mut Option<Sleep>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if let Some(sleep) = pause.as_mut() {
                ready!(Pin::new(sleep).poll(cx));
                *pause = None;
            } else if let Some(retry_at) = self.retry_at() {
                if time::now() < retry_at {
                    *pause = Some(time::sleep_until(retry_at));
                    continue;
                }
            }
            let result = ready!(self.io.poll_with(Direction::Read, cx, op));
            match &result {
                Ok(_) => self.recovered(),
                Err(e) if is_resource_exhaustion(e) => self.exhausted(),
                Err(_) => {}
            }
            return Poll::Ready(result);
        }
    }

    fn retry_at(&self) -> Option<Instant> {
        if !self.engaged.load(Ordering::Acquire) {
            return None;
        }
        self.backoff.lock().retry_at
    }

    fn exhausted(&self) {
        let mut backoff = self.backoff.lock();
        backoff.pause = if backoff.pause.is_zero() {
            FIRST_PAUSE
        } else {
            (backoff.pause * 2).min(LONGEST_PAUSE)
        };
        backoff.retry_at = Some(time::now() + backoff.pause);
        self.engaged.store(true, Ordering::Release);
    }

    fn recovered(&self) {
        if self.engaged.load(Ordering::Acquire) {
            *self.backoff.lock() = Backoff::default();
            self.engaged.store(false, Ordering::Release);
        }
    }
}

//! One registered I/O source: its readiness word and its waiters.
//!
//! # The readiness protocol
//!
//! `state` holds readiness bits (READABLE, WRITABLE, SHUTDOWN) and, above them, the reactor
//! *turn* of the last event that set any bit. One reactor wait and its dispatch is a turn; the
//! reactor counts its turns, one more per wait.
//!
//! The poller watches every source for both directions from registration to deletion,
//! *edge-triggered*: it reports each new arrival of readiness (data came, buffer space freed,
//! the peer hung up) once, and never needs re-arming. The readiness word is what remembers a
//! reported edge until an operation proves it consumed.
//!
//! - **Dispatch** (the reactor, for an event of this source): OR the event's bits into
//!   `state` and store the current turn, in one compare-exchange loop; then, under the
//!   waiters lock, take the wakers of the directions that became ready; wake them after the
//!   lock is released.
//! - **Poll** (a task that wants to read or write): if the direction's bit is set, it is
//!   ready, and the caller gets a [`ReadyEvent`] carrying the turn it saw. Otherwise, under
//!   the waiters lock, store the waker and load `state` *again*: an event dispatched between
//!   the first load and the lock is seen here, because dispatch sets the bits before it
//!   takes the lock to look for wakers.
//! - **WouldBlock** (the operation found nothing after all): the caller clears the
//!   direction's bit with [`Source::clear_readiness`], *only if the turn is still the one it
//!   saw*. If a newer event arrived in between (say data came after the read failed), the turn
//!   differs and the bit stays set, so that event is not lost: the next poll is ready at once
//!   and the operation is retried. If the clear wins, the edge of any later arrival is
//!   still ahead, in the poller: it sets the bit again with a newer turn.
//! - **Short read** (a stream read returned fewer bytes than asked): the socket's receive
//!   queue was drained, so it may clear the read bit the same way, saving the read that
//!   would only say `WouldBlock`, *unless `READ_CLOSED` is set*. The peer's end of stream
//!   can arrive in the same edge as its last data; once it has, no later edge will come,
//!   and the read that returns `Ok(0)` must find the bit still set. `READ_CLOSED` is set by
//!   dispatch together with the readable bit of that edge (same turn), and never cleared.
//!   Only byte streams do this (not datagrams: a short datagram says nothing about the
//!   queue), and only where the poller reports the hang-up (epoll's `EPOLLRDHUP`).
//! - **Shutdown**: the reactor sets SHUTDOWN and wakes everyone; every later poll returns an
//!   error instead of waiting for an event that can no longer be delivered.
//!
//! The loom model in `loom_tests.rs` runs dispatch against a poll/clear cycle and checks that
//! a reader is never left waiting with an undelivered event.

use crate::sys::RawSource;
use magpie_shim::{AtomicUsize, Mutex, Ordering};
use std::io;
use std::task::{Context, Poll, Waker};

const READABLE: usize = 1;
const WRITABLE: usize = 2;
const SHUTDOWN: usize = 4;
/// The peer shut its write side down: sticky, never cleared (see `read_closed`).
const READ_CLOSED: usize = 8;
const BITS: usize = READABLE | WRITABLE | SHUTDOWN | READ_CLOSED;
const TURN_SHIFT: u32 = 8;

/// Which way a task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Waiting to read (or accept).
    Read,
    /// Waiting to write (or for a connect to finish).
    Write,
}

impl Direction {
    fn bit(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// Proof that a direction was ready at a given reactor turn; give it back to
/// [`Source::clear_readiness`] when the operation would block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyEvent {
    direction: Direction,
    pub(crate) turn: usize,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, direction: Direction) -> &mut Option<Waker> {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// One registered file descriptor (a socket on Windows). See the module documentation.
pub struct Source {
    key: usize,
    fd: RawSource,
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
    /// Windows only (see `Reactor::rearm`): serialises the re-arming of this source's
    /// one-shot registration; `true` once the source was deleted from the poller, after
    /// which it must not be re-armed (its socket may be closed and its value reused).
    #[cfg(windows)]
    pub(crate) arm: Mutex<bool>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("key", &self.key)
            .field("fd", &self.fd)
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}

fn shut_down_error() -> io::Error {
    io::Error::other("the magpie runtime this I/O object is bound to has shut down")
}

impl Source {
    pub(crate) fn new(key: usize, fd: RawSource) -> Source {
        Source {
            key,
            fd,
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
            #[cfg(windows)]
            arm: Mutex::new(false),
        }
    }

    /// The source's key in the reactor (the poller's event key).
    pub fn key(&self) -> usize {
        self.key
    }

    /// The registered file descriptor (socket on Windows).
    pub fn fd(&self) -> RawSource {
        self.fd
    }

    /// `Ready` when `direction` is ready (or the reactor shut down: an error); otherwise
    /// stores the task's waker and returns `Pending`.
    pub fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ready) = self.ready(direction) {
            return Poll::Ready(ready);
        }
        let mut waiters = self.waiters.lock();
        match waiters.slot(direction) {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        // Dispatch sets the bits before it takes this lock: an event that came since the
        // first look is visible now.
        match self.ready(direction) {
            Some(ready) => {
                *waiters.slot(direction) = None;
                Poll::Ready(ready)
            }
            None => Poll::Pending,
        }
    }

    fn ready(&self, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        let state = self.state.load(Ordering::Acquire);
        if state & SHUTDOWN != 0 {
            return Some(Err(shut_down_error()));
        }
        (state & direction.bit() != 0).then_some(Ok(ReadyEvent {
            direction,
            turn: state >> TURN_SHIFT,
        }))
    }

    /// The operation for `event` would block: clear its direction's readiness, unless an
    /// event arrived since (the turn moved on), which must not be lost.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state >> TURN_SHIFT != event.turn || state & event.direction.bit() == 0 {
                return;
            }
            match self.state.compare_exchange_weak(
                state,
                state & !event.direction.bit(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// The directions with no readiness recorded: those a one-shot poller must watch for the
    /// next event (`(readable, writable)`; Windows, see `Reactor::rearm`).
    #[cfg(windows)]
    pub(crate) fn unready(&self) -> (bool, bool) {
        let state = self.state.load(Ordering::Acquire);
        if state & SHUTDOWN != 0 {
            return (false, false);
        }
        (state & READABLE == 0, state & WRITABLE == 0)
    }

    /// Whether the poller reported the peer's hang-up (`READ_CLOSED`): from then on no edge
    /// is coming for reads, so a short read must not clear the read readiness.
    pub fn read_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & READ_CLOSED != 0
    }

    /// Dispatch: the poller reported this source (`readable`, `writable`, `read_closed`) at
    /// `turn`. Sets the readiness and moves the wakers of the ready directions into `wake`
    /// (to be woken once no lock is held).
    pub fn set_readiness(
        &self,
        readable: bool,
        writable: bool,
        read_closed: bool,
        turn: usize,
        wake: &mut Vec<Waker>,
    ) {
        let bits = if readable { READABLE } else { 0 }
            | if writable { WRITABLE } else { 0 }
            | if read_closed { READ_CLOSED } else { 0 };
        self.set_bits(bits, turn);
        let mut waiters = self.waiters.lock();
        if readable {
            wake.extend(waiters.reader.take());
        }
        if writable {
            wake.extend(waiters.writer.take());
        }
    }

    /// The reactor shut down: every poll from now on fails; wake whoever waits.
    pub fn shutdown(&self, wake: &mut Vec<Waker>) {
        self.set_bits(SHUTDOWN, self.state.load(Ordering::Acquire) >> TURN_SHIFT);
        let mut waiters = self.waiters.lock();
        wake.extend(waiters.reader.take());
        wake.extend(waiters.writer.take());
    }

    fn set_bits(&self, bits: usize, turn: usize) {
        let turn_bits = turn.wrapping_shl(TURN_SHIFT);
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = (state & BITS) | bits | turn_bits;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicUsize);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A raw source value no test registers.
    #[cfg(unix)]
    const NONE: RawSource = -1;
    #[cfg(windows)]
    const NONE: RawSource = RawSource::MAX;

    fn waker() -> (Arc<Flag>, Waker) {
        let flag = Arc::new(Flag(std::sync::atomic::AtomicUsize::new(0)));
        (flag.clone(), Waker::from(flag))
    }

    #[test]
    fn an_event_after_would_block_is_not_lost() {
        let source = Source::new(0, NONE);
        let (_, w) = waker();
        let mut cx = Context::from_waker(&w);
        let mut wake = Vec::new();
        source.set_readiness(true, false, false, 1, &mut wake);
        let Poll::Ready(Ok(seen)) = source.poll_ready(Direction::Read, &mut cx) else {
            panic!("readable after an event");
        };
        // Before the reader's read fails, a new event arrives (turn 2)...
        source.set_readiness(true, false, false, 2, &mut wake);
        // ...so its clear, for turn 1, leaves the readiness in place.
        source.clear_readiness(seen);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_ready());
    }

    #[test]
    fn clear_then_wait_then_wake() {
        let source = Source::new(0, NONE);
        let (flag, w) = waker();
        let mut cx = Context::from_waker(&w);
        let mut wake = Vec::new();
        source.set_readiness(true, true, false, 1, &mut wake);
        let Poll::Ready(Ok(seen)) = source.poll_ready(Direction::Read, &mut cx) else {
            panic!("readable");
        };
        source.clear_readiness(seen);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());
        // Writable is still set from turn 1.
        assert!(source.poll_ready(Direction::Write, &mut cx).is_ready());
        source.set_readiness(true, false, false, 2, &mut wake);
        assert_eq!(wake.len(), 1);
        wake.drain(..).for_each(Waker::wake);
        assert_eq!(flag.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn shutdown_fails_every_poll() {
        let source = Source::new(0, NONE);
        let (_, w) = waker();
        let mut cx = Context::from_waker(&w);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());
        let mut wake = Vec::new();
        source.shutdown(&mut wake);
        assert_eq!(wake.len(), 1);
        match source.poll_ready(Direction::Write, &mut cx) {
            Poll::Ready(Err(e)) => assert!(e.to_string().contains("shut down")),
            other => panic!("{other:?}"),
        }
    }
}

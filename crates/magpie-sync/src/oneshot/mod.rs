//! A one-shot channel: one value from one task to another (tokio's `sync::oneshot`).
//!
//! [`channel`] makes a [`Sender`] and a [`Receiver`] that share one allocation. The sender
//! [`send`](Sender::send)s at most one value, without waiting; the receiver is a future that
//! resolves to it, or to [`RecvError`] if the sender is dropped without sending.
//! Dropping (or [closing](Receiver::close)) the receiver makes `send` hand the value back and
//! resolves [`Sender::closed`].
//!
//! ```
//! use magpie_sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || tx.send(42).unwrap());
//! assert_eq!(futures_lite::future::block_on(rx), Ok(42));
//! ```
//!
//! # Protocol
//!
//! Each side has at most one waiting future (the receiver itself; the sender's
//! [`closed`](Sender::closed)), so a oneshot needs no `WaitQueue` (`waiters.rs`): each side
//! has one waker slot. Everything is decided by one atomic state word; there is no lock.
//!
//! ```text
//!  bit 0  RX_WAKER  the receiver's waker is in `rx_waker`
//!  bit 1  TX_WAKER  the sender's waker is in `tx_waker`
//!  bit 2  COMPLETE  the sender is done: it sent (see VALUE) or was dropped; set once, never cleared
//!  bit 3  VALUE     `value` holds a value that belongs to the receiver; set with COMPLETE, only
//!                   if CLOSED was not already set
//!  bit 4  CLOSED    the receiver closed the channel or was dropped; set once, never cleared
//! ```
//!
//! **Who may touch which cell when.**
//!
//! - `value`: the sender's until it sets COMPLETE. It writes the value, then sets COMPLETE|VALUE
//!   in one compare-and-swap that fails over to COMPLETE alone if it finds CLOSED; in that case
//!   the cell stays the sender's and it takes the value back (`send` returns `Err(value)`). Once
//!   VALUE is set, the cell is the receiver's (the sender has gone).
//! - `rx_waker` (and, mirrored, `tx_waker` with TX_WAKER and CLOSED): while RX_WAKER is clear
//!   the cell is the receiver's alone. The receiver writes its waker, then sets RX_WAKER. While
//!   RX_WAKER is set the cell is read-only for both sides: the sender, having set COMPLETE and
//!   seen RX_WAKER, calls `wake_by_ref` on it; the receiver reads it to compare wakers. To
//!   replace its waker the receiver clears RX_WAKER first; if that finds COMPLETE, the sender may
//!   be reading the cell, so the receiver leaves it alone and takes the result instead. The
//!   wakers left in the cells are dropped with the allocation.
//!
//! **Who wakes whom.** The sender, on `send` or drop (setting COMPLETE), wakes the receiver if
//! RX_WAKER was set and CLOSED was not. The receiver, on `close` or drop (setting CLOSED), wakes
//! the sender's `closed` if TX_WAKER was set and COMPLETE was not. A wake-up cannot be lost: each
//! side publishes its waker with a read-modify-write and re-checks the other side's bit in the
//! value that read-modify-write returns; the other side sets its bit with a read-modify-write
//! too, so one of the two sees the other.
//!
//! **Memory ordering.** The sender's COMPLETE|VALUE update is a release that the receiver's
//! acquire load (or read-modify-write) pairs with, so the value written before it is visible.
//! Publishing a waker (setting RX_WAKER/TX_WAKER) is a release and the other side's update that
//! observes the bit is an acquire, so the waker is visible before `wake_by_ref`. All
//! read-modify-writes are `AcqRel`.
//!
//! **Dropped futures.** A receiver dropped while waiting sets CLOSED and drops a value that was
//! already sent (exactly once: VALUE makes it the receiver's alone). A dropped `closed` future
//! leaves its waker in the slot, which the next poll replaces; nothing is passed on, since each
//! side has one waiter.

pub mod error;

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use magpie_shim::coop;
use magpie_shim::{Arc, AtomicUsize, Ordering, UnsafeCell};

use self::error::{RecvError, TryRecvError};

/// The receiver's waker is in `rx_waker`.
const RX_WAKER: usize = 0b0_0001;
/// The sender's waker is in `tx_waker`.
const TX_WAKER: usize = 0b0_0010;
/// The sender has sent or been dropped.
const COMPLETE: usize = 0b0_0100;
/// `value` holds a value that belongs to the receiver.
const VALUE: usize = 0b0_1000;
/// The receiver has closed the channel or been dropped.
const CLOSED: usize = 0b1_0000;

/// Makes a one-shot channel: a [`Sender`] for one value and the [`Receiver`] future that
/// resolves to it.
///
/// One allocation holds the state, the value and both wakers.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner: Some(inner) },
    )
}

/// The shared allocation. The module doc says who may touch each cell when.
struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the value moves from the sending thread to the receiving one (hence `T: Send`); the
// cells are accessed only as the state word's protocol (module doc) allows, which never lets two
// threads touch one cell unless both only read it, and a shared `&Sender`/`&Receiver` reaches
// nothing but the atomic state word.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above: shared access is mediated by the atomic state word, and no `&T` is ever
// handed out, so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Inner<T> {}

/// How [`Inner::register`] found the other side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Registered {
    /// The waker is in place and the other side is not done yet.
    Waiting,
    /// The other side is done (the state word, acquired, is returned).
    Done(usize),
}

impl<T> Inner<T> {
    /// Puts `waker` in `cell` (guarded by `bit`) unless the state has one of the `done` bits, in
    /// which case it returns that state. The caller is the only side that ever writes `cell`.
    fn register(
        &self,
        cell: &UnsafeCell<Option<Waker>>,
        bit: usize,
        done: usize,
        waker: &Waker,
    ) -> Registered {
        let state = self.state.load(Ordering::Acquire);
        if state & done != 0 {
            return Registered::Done(state);
        }
        if state & bit != 0 {
            // SAFETY: `bit` is set, so the cell holds our waker and is read-only for both sides
            // (the other side reads it only to call `wake_by_ref`).
            let same = cell.with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return Registered::Waiting;
            }
            let prev = self.state.fetch_and(!bit, Ordering::AcqRel);
            if prev & done != 0 {
                // The other side finished before we cleared the bit and may be reading the
                // cell: leave it alone.
                return Registered::Done(prev);
            }
        }
        // SAFETY: `bit` is clear and only this side sets it, so the other side does not touch
        // the cell (it reads it only after seeing `bit` set in its own read-modify-write).
        cell.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        let prev = self.state.fetch_or(bit, Ordering::AcqRel);
        if prev & done != 0 {
            // The other side finished before the bit was set, so it did not read the cell.
            return Registered::Done(prev);
        }
        Registered::Waiting
    }

    /// Wakes the waker in `cell`, which the caller found published (its bit set) in the state
    /// its own acquiring read-modify-write returned.
    fn wake(cell: &UnsafeCell<Option<Waker>>) {
        cell.with(|w| {
            // SAFETY: the bit guarding `cell` was set when our read-modify-write marked this
            // side done, and the owner clears it only in a read-modify-write that then sees us
            // done, so the cell is read-only for both sides from now on.
            let waker = unsafe { &*w };
            if let Some(waker) = waker {
                waker.wake_by_ref();
            }
        });
    }

    /// The receiver takes the value. The caller saw VALUE in an acquired state.
    fn take_value(&self) -> Option<T> {
        // SAFETY: VALUE is set, so the cell belongs to the receiver alone (the caller), and the
        // acquire that saw VALUE makes the sender's write visible.
        self.value.with_mut(|v| unsafe { (*v).take() })
    }
}

/// Sends one value to the paired [`Receiver`]. Made by [`channel`].
///
/// Dropping it without sending resolves the receiver to [`RecvError`].
///
/// ```
/// use magpie_sync::oneshot;
///
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// assert!(futures_lite::future::block_on(rx).is_err());
/// ```
pub struct Sender<T> {
    /// `Some` until `send` consumes it.
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value` to the receiver, without waiting. `Err(value)` if the receiver was dropped
    /// or [closed](Receiver::close) first: then the value comes back and nobody will see it.
    ///
    /// `Ok` does not mean the receiver will take the value: it may still be dropped (the value
    /// is then dropped with it).
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("oneshot::Sender used after send");
        // SAFETY: COMPLETE is not set (only this sender sets it, once), so the value cell is
        // the sender's alone.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        let mut state = inner.state.load(Ordering::Relaxed);
        loop {
            let next = if state & CLOSED == 0 {
                state | COMPLETE | VALUE
            } else {
                state | COMPLETE
            };
            match inner.state.compare_exchange_weak(
                state,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & CLOSED != 0 {
            // SAFETY: VALUE was not set, so the receiver never touches the cell: it is still
            // the sender's.
            let value = inner.value.with_mut(|v| unsafe { (*v).take() });
            return Err(value.expect("oneshot: the value just written is gone"));
        }
        if state & RX_WAKER != 0 {
            Inner::<T>::wake(&inner.rx_waker);
        }
        Ok(())
    }

    /// Whether the receiver has been dropped or [closed](Receiver::close): a `send` would fail.
    pub fn is_closed(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.state.load(Ordering::Acquire) & CLOSED != 0,
            None => true,
        }
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close) (to stop computing a
    /// value nobody wants).
    ///
    /// ```
    /// use magpie_sync::oneshot;
    ///
    /// let (mut tx, rx) = oneshot::channel::<u32>();
    /// std::thread::spawn(move || drop(rx));
    /// futures_lite::future::block_on(tx.closed());
    /// assert!(tx.send(1).is_err());
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await;
    }

    /// Polls for the receiver's going away: `Ready` once it is dropped or closed; otherwise
    /// `cx`'s waker is woken when it is. Only the waker of the latest poll is woken.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let spent = ready!(coop::poll_proceed(cx));
        let inner = self
            .inner
            .as_ref()
            .expect("oneshot::Sender used after send");
        match inner.register(&inner.tx_waker, TX_WAKER, CLOSED, cx.waker()) {
            Registered::Waiting => Poll::Pending,
            Registered::Done(_) => {
                spent.made_progress();
                Poll::Ready(())
            }
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(COMPLETE, Ordering::AcqRel);
            if prev & (RX_WAKER | CLOSED) == RX_WAKER {
                Inner::<T>::wake(&inner.rx_waker);
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// Receives the one value of a [`Sender`]: a future resolving to it, or to [`RecvError`] if
/// the sender is dropped without sending. Made by [`channel`].
///
/// Polling it again after it resolved panics. Dropping it closes the channel (the sender's
/// `send` fails) and drops a value already sent.
///
/// ```
/// use magpie_sync::oneshot;
///
/// let (tx, mut rx) = oneshot::channel();
/// assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty));
/// tx.send("hello").unwrap();
/// assert_eq!(futures_lite::future::block_on(rx), Ok("hello"));
/// ```
pub struct Receiver<T> {
    /// `None` once the result has been taken (or the channel found closed).
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// `Err(Empty)` if nothing has been sent yet; `Err(Closed)` if the sender was dropped
    /// without sending, the channel was closed before a value came, or the value was already
    /// received.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Ordering::Acquire);
        let result = if state & VALUE != 0 {
            Ok(inner.take_value().expect("oneshot: VALUE set but no value"))
        } else if state & (COMPLETE | CLOSED) != 0 {
            Err(TryRecvError::Closed)
        } else {
            return Err(TryRecvError::Empty);
        };
        self.inner = None;
        result
    }

    /// Closes the channel: the sender's `send` fails from now on and its
    /// [`closed`](Sender::closed) resolves. A value sent before still arrives (take it with
    /// [`try_recv`](Self::try_recv) or by awaiting).
    pub fn close(&mut self) {
        if let Some(inner) = &self.inner {
            let prev = inner.state.fetch_or(CLOSED, Ordering::AcqRel);
            if prev & (TX_WAKER | COMPLETE | CLOSED) == TX_WAKER {
                Inner::<T>::wake(&inner.tx_waker);
            }
        }
    }

    /// Whether this receiver has produced its result (from awaiting or
    /// [`try_recv`](Self::try_recv)): polling it again would panic.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether there is no value to take now (none sent yet, or already received).
    pub fn is_empty(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.state.load(Ordering::Acquire) & VALUE == 0,
            None => true,
        }
    }

    /// Blocks the current thread until the value arrives. For synchronous code only: calling
    /// it from inside an async task blocks that task's worker thread.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::block_on(self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let spent = ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let inner = this
            .inner
            .as_ref()
            .expect("oneshot::Receiver polled after it completed");
        let state = match inner.register(&inner.rx_waker, RX_WAKER, COMPLETE | CLOSED, cx.waker()) {
            Registered::Waiting => return Poll::Pending,
            Registered::Done(state) => state,
        };
        let result = if state & VALUE != 0 {
            Ok(inner.take_value().expect("oneshot: VALUE set but no value"))
        } else {
            // The sender was dropped, or we closed the channel before any value came.
            Err(RecvError(()))
        };
        this.inner = None;
        spent.made_progress();
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(CLOSED, Ordering::AcqRel);
            if prev & (TX_WAKER | COMPLETE | CLOSED) == TX_WAKER {
                Inner::<T>::wake(&inner.tx_waker);
            }
            if prev & VALUE != 0 {
                // The value is ours: drop it now, on this thread, not whenever the sender's
                // handle goes.
                drop(inner.take_value());
            }
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("is_terminated", &self.is_terminated())
            .field("is_empty", &self.is_empty())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_and_sync_when_the_value_is_send() {
        assert_send_sync::<Sender<std::cell::Cell<u8>>>();
        assert_send_sync::<Receiver<std::cell::Cell<u8>>>();
    }
}

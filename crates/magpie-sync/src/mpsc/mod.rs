//! Multi-producer, single-consumer channels (tokio's `sync::mpsc`; asyncio's `Queue`).
//!
//! - [`channel`]`(capacity)`: bounded. [`Sender::send`] waits while `capacity` messages are
//!   queued (backpressure); [`Sender::try_send`] fails with `Full` instead.
//! - [`unbounded_channel`]: [`UnboundedSender::send`] never waits.
//!
//! Senders are cloned for more producers; the one [`Receiver`] / [`UnboundedReceiver`] takes
//! messages in the order they were queued, and is also a [`Stream`](futures_core::Stream).
//!
//! ```
//! use magpie_sync::mpsc;
//!
//! let (tx, mut rx) = mpsc::channel(16);
//! let producers: Vec<_> = (0..4)
//!     .map(|p| {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || {
//!             futures_lite::future::block_on(async {
//!                 for i in 0..10 {
//!                     tx.send(p * 100 + i).await.unwrap();
//!                 }
//!             })
//!         })
//!     })
//!     .collect();
//! drop(tx); // the receiver ends once every clone is gone
//! let total = futures_lite::future::block_on(async {
//!     let mut n = 0;
//!     while rx.recv().await.is_some() {
//!         n += 1;
//!     }
//!     n
//! });
//! assert_eq!(total, 40);
//! for p in producers {
//!     p.join().unwrap();
//! }
//! ```
//!
//! # Protocol
//!
//! **State.** One `magpie_shim::Mutex` guards the queue (a `VecDeque`), the receiver's waker,
//! the free slot count (bounded), the FIFO of senders waiting for a slot, the FIFO of
//! `closed()` futures (both `WaitQueue`s, see `waiters.rs`) and three flags: `closed` (the
//! receiver closed the channel or was dropped), `rx_dropped`, `senders_gone`. The number of live
//! sender handles is an atomic beside it, so cloning a sender takes no lock. Every operation
//! takes the lock once, and wakes after releasing it.
//!
//! **Slots (bounded).** `capacity` = free slots + queued messages + slots held by
//! [`Permit`]s or granted to waiting senders that have not run yet. A send takes a free slot
//! only when no sender is waiting (free slots exist only then: a slot given back goes straight
//! to the first waiting sender, whose `WaitQueue` entry is marked notified with "granted").
//! Receiving a message gives its slot back.
//!
//! **Who wakes whom.**
//! - A send that queues a message takes the receiver's waker, if it is waiting, and wakes it:
//!   a receiver that is not waiting costs nothing.
//! - The receiver, on taking a message (or a permit, on being dropped), gives the slot to the
//!   first waiting sender and wakes it.
//! - The last sender handle to go sets `senders_gone` and wakes the receiver, which then
//!   returns `None` once the queue is drained.
//! - The receiver's `close` (or drop) sets `closed` and wakes every waiting sender (they return
//!   their message in a [`SendError`](error::SendError)) and every `closed()` future. After
//!   `close`, queued messages and the messages of slots already held (permits, granted senders)
//!   can still be received; `recv` returns `None` once the queue is empty and every slot is
//!   back, and each slot given back wakes the receiver to check.
//!
//! **Dropped futures.** A cancelled `send` or `reserve` leaves its `WaitQueue` entry; if it had
//! already been granted a slot, the slot goes to the next waiting sender (or back to the free
//! count), so no capacity is lost and no waiter is stranded. A cancelled `recv` holds nothing.
//! A dropped [`Permit`] gives its slot back the same way.
//!
//! **Dropped receiver.** It closes the channel, so pending and future sends fail with their
//! message, and drops every queued message exactly once, after releasing the lock (a message's
//! `Drop` may touch the channel). A sender granted a slot before the drop gets its message back
//! too; a [`Permit`] used after it drops its message.
//!
//! Every poll of `send`, `reserve`, `recv` and `closed` spends one unit of the cooperative
//! budget ([`magpie_shim::coop`]), refunded when it returns `Pending`.

// The bounded and unbounded handles are each an `Arc<Chan<T>>` in a field `chan`, and most of
// their methods are the same delegation to `Chan`: these two macros write those once. What
// differs (sending, `recv`'s and `close`'s docs, capacities, `Debug`) stays in each file.

/// The sender methods and impls the bounded and unbounded senders share: `closed`,
/// `is_closed`, `same_channel`, `Clone` and `Drop`.
macro_rules! sender_common {
    ($Sender:ident) => {
        impl<T> $Sender<T> {
            /// Waits until the receiver is dropped or closes the channel.
            pub async fn closed(&self) {
                super::chan::ClosedWait::new(&self.chan).await;
            }

            /// Whether the receiver has been dropped or has closed the channel.
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed()
            }

            /// Whether `self` and `other` send into the same channel.
            pub fn same_channel(&self, other: &Self) -> bool {
                magpie_shim::Arc::ptr_eq(&self.chan, &other.chan)
            }
        }

        impl<T> Clone for $Sender<T> {
            fn clone(&self) -> Self {
                self.chan.add_sender();
                $Sender {
                    chan: self.chan.clone(),
                }
            }
        }

        impl<T> Drop for $Sender<T> {
            fn drop(&mut self) {
                self.chan.drop_sender();
            }
        }
    };
}

/// The receiver methods and impls the bounded and unbounded receivers share: everything but
/// `recv`, `close` and the capacities (their docs differ), plus `Drop` and `Stream`.
macro_rules! receiver_common {
    ($Receiver:ident) => {
        impl<T> $Receiver<T> {
            /// Appends up to `limit` queued messages to `buffer`, waiting for at least one;
            /// returns how many. `0` when `limit` is 0 or no message will ever come.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
            }

            /// The next message if one is queued.
            pub fn try_recv(&mut self) -> Result<T, super::error::TryRecvError> {
                self.chan.try_recv()
            }

            /// Receives from synchronous code, blocking the thread until a message comes.
            /// Calling it from inside an async task blocks that task's worker thread.
            pub fn blocking_recv(&mut self) -> Option<T> {
                crate::blocking::block_on(self.recv())
            }

            /// Whether the channel is closed: by [`close`](Self::close), or because every
            /// sender is gone. Queued messages may remain.
            pub fn is_closed(&self) -> bool {
                self.chan.rx_is_closed()
            }

            /// Whether no message is queued.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// How many messages are queued.
            pub fn len(&self) -> usize {
                self.chan.len()
            }

            /// Polls for the next message: `Ready(None)` once none will ever come; otherwise
            /// `cx`'s waker is woken when one does. Only the waker of the latest poll is
            /// woken.
            pub fn poll_recv(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.chan.poll_recv(cx)
            }

            /// Polls for up to `limit` messages, appended to `buffer`; see
            /// [`recv_many`](Self::recv_many).
            pub fn poll_recv_many(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> std::task::Poll<usize> {
                self.chan.poll_recv_many(cx, buffer, limit)
            }
        }

        impl<T> Drop for $Receiver<T> {
            fn drop(&mut self) {
                self.chan.drop_receiver();
            }
        }

        impl<T> futures_core::Stream for $Receiver<T> {
            type Item = T;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.get_mut().chan.poll_recv(cx)
            }
        }
    };
}

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use self::bounded::{Permit, Receiver, Sender};
pub use self::unbounded::{UnboundedReceiver, UnboundedSender};

use magpie_shim::Arc;

use self::chan::Chan;

/// Makes a bounded channel holding at most `capacity` queued messages.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires capacity > 0");
    let chan = Arc::new(Chan::new(Some(capacity)));
    (Sender::new(chan.clone()), Receiver::new(chan))
}

/// Makes an unbounded channel: sends never wait (memory is the only bound).
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender::new(chan.clone()),
        UnboundedReceiver::new(chan),
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handles_are_send_and_sync_when_the_message_is_send() {
        type NotSync = std::cell::Cell<u8>;
        assert_send_sync::<Sender<NotSync>>();
        assert_send_sync::<Receiver<NotSync>>();
        assert_send_sync::<Permit<'static, NotSync>>();
        assert_send_sync::<UnboundedSender<NotSync>>();
        assert_send_sync::<UnboundedReceiver<NotSync>>();
        let (tx, mut rx) = channel::<NotSync>(1);
        assert_send(&tx.send(NotSync::new(0)));
        assert_send(&tx.reserve());
        assert_send(&tx.closed());
        assert_send(&rx.recv());
        let (utx, mut urx) = unbounded_channel::<NotSync>();
        assert_send(&utx.closed());
        assert_send(&urx.recv());
    }
}

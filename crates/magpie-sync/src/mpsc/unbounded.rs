//! The unbounded channel's handles: [`UnboundedSender`] (never waits) and
//! [`UnboundedReceiver`].

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use magpie_shim::Arc;

use super::chan::{Chan, ClosedWait};
use super::error::{SendError, TryRecvError};

/// Sends messages into an unbounded channel, never waiting. Made by
/// [`unbounded_channel`](super::unbounded_channel); clone it for more senders.
///
/// ```
/// use magpie_sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for word in ["to", "be", "or"] {
///     tx.send(word).unwrap();
/// }
/// drop(tx);
/// futures_lite::future::block_on(async {
///     assert_eq!(rx.recv().await, Some("to"));
///     assert_eq!(rx.recv().await, Some("be"));
///     assert_eq!(rx.recv().await, Some("or"));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        UnboundedSender { chan }
    }

    /// Queues `value` for the receiver. `Err` (with the value) if the receiver was dropped or
    /// closed the channel.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(value)
    }

    /// Waits until the receiver is dropped or closes the channel.
    pub async fn closed(&self) {
        ClosedWait::new(&self.chan).await;
    }

    /// Whether the receiver has been dropped or has closed the channel.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Whether `self` and `other` send into the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// Receives the messages of an unbounded channel, in the order they were sent. Made by
/// [`unbounded_channel`](super::unbounded_channel). Also a [`Stream`](futures_core::Stream).
///
/// Dropping it closes the channel (sends fail) and drops the queued messages.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        UnboundedReceiver { chan }
    }

    /// The next message; `None` once every sender has been dropped (or the channel was
    /// closed) and the queue is empty.
    ///
    /// Cancel-safe: dropping the future loses no message.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Appends up to `limit` queued messages to `buffer`, waiting for at least one; returns
    /// how many. `0` when `limit` is 0 or no message will ever come.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives from synchronous code, blocking the thread until a message comes. Calling it
    /// from inside an async task blocks that task's worker thread.
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on(self.recv())
    }

    /// Closes the channel: sends fail from now on, while queued messages can still be
    /// received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the channel is closed: by [`close`](Self::close), or because every sender is
    /// gone. Queued messages may remain.
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

    /// Polls for the next message: `Ready(None)` once none will ever come; otherwise `cx`'s
    /// waker is woken when one does. Only the waker of the latest poll is woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for up to `limit` messages, appended to `buffer`; see
    /// [`recv_many`](Self::recv_many).
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().chan.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

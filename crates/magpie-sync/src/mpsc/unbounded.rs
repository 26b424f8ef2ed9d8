//! The unbounded channel's handles: [`UnboundedSender`] (never waits) and
//! [`UnboundedReceiver`].

use std::fmt;
use std::future::poll_fn;

use magpie_shim::Arc;

use super::chan::Chan;
use super::error::SendError;

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
}

sender_common!(UnboundedSender);

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

    /// Closes the channel: sends fail from now on, while queued messages can still be
    /// received.
    pub fn close(&mut self) {
        self.chan.close();
    }
}

receiver_common!(UnboundedReceiver);

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

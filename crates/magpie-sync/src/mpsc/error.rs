//! The errors of [`mpsc`](super): the other side has gone, the channel is full, or there is
//! nothing to receive yet.

use std::fmt;

/// The receiver was dropped or [closed](super::Receiver::close) the channel: the message was
/// not sent and comes back in the error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

send_error_impls!(SendError);

/// Why [`Sender::try_send`](super::Sender::try_send) did not send; the message comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel holds as many messages as its capacity (or every slot is reserved); the
    /// receiver is still there.
    Full(T),
    /// The receiver was dropped or closed the channel.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("no available capacity"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> Self {
        TrySendError::Closed(err.0)
    }
}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message is queued now, but senders remain and may send one.
    Empty,
    /// No message is queued and none will come: every sender was dropped, or the channel was
    /// closed and every reserved slot given back.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Disconnected => f.write_str("receiving on a closed channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

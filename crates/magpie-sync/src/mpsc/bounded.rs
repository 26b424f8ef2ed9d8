//! The bounded channel's handles: [`Sender`] (waits for a free slot), [`Permit`] (a reserved
//! slot) and [`Receiver`].

use std::fmt;
use std::future::poll_fn;
use std::task::{ready, Poll};

use magpie_shim::coop;
use magpie_shim::Arc;

use super::chan::{Chan, SendFuture, SlotWait};
use super::error::{SendError, TrySendError};

/// Sends messages into a bounded channel, waiting while it is full. Made by
/// [`channel`](super::channel); clone it for more senders.
///
/// ```
/// use magpie_sync::mpsc;
///
/// futures_lite::future::block_on(async {
///     let (tx, mut rx) = mpsc::channel(2);
///     let producer = std::thread::spawn(move || {
///         futures_lite::future::block_on(async {
///             for i in 0..10 {
///                 tx.send(i).await.unwrap(); // waits while 2 messages are queued
///             }
///         })
///     });
///     let mut got = Vec::new();
///     while let Some(i) = rx.recv().await {
///         got.push(i);
///     }
///     producer.join().unwrap();
///     assert_eq!(got, (0..10).collect::<Vec<_>>());
/// });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        Sender { chan }
    }

    /// Sends `value`, first waiting for a free slot if the channel is full. Waiting senders
    /// are served first come, first served. `Err` (with the value) if the receiver was dropped
    /// or closed the channel.
    ///
    /// Cancel-safe: dropping the future before it completes sends nothing, and a slot it had
    /// been granted goes to the next waiting sender.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        SendFuture::new(&self.chan, value).await
    }

    /// Sends `value` if a slot is free now (and no sender is waiting for one).
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends from synchronous code, blocking the thread while the channel is full. Calling it
    /// from inside an async task blocks that task's worker thread.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on(self.send(value))
    }

    /// Waits for a free slot and reserves it: the [`Permit`] then sends without waiting, or
    /// gives the slot back when dropped. Cancel-safe, like [`send`](Self::send).
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        let mut wait = SlotWait::new(&self.chan);
        poll_fn(|cx| {
            let spent = ready!(coop::poll_proceed(cx));
            let slot = ready!(wait.poll_slot(cx));
            spent.made_progress();
            // The slot stays taken; the permit now answers for it.
            Poll::Ready(slot.map(drop))
        })
        .await
        .map_err(|()| SendError(()))?;
        Ok(Permit { chan: &self.chan })
    }

    /// Reserves a slot if one is free now.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve()?;
        Ok(Permit { chan: &self.chan })
    }

    /// Free slots now: goes down with each send or reservation, up with each receive.
    pub fn capacity(&self) -> usize {
        self.chan.free_slots()
    }

    /// The capacity the channel was made with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound().expect("a bounded channel has a bound")
    }
}

sender_common!(Sender);

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.max_capacity())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// A slot reserved by [`Sender::reserve`]: [`send`](Permit::send) fills it without waiting;
/// dropping the permit gives the slot back to the next waiting sender.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. If the receiver has been dropped meanwhile, the
    /// value is dropped.
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is used by the message, so the permit's drop must not give it back.
        std::mem::forget(self);
        chan.send_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_reserved();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

/// Receives the messages of a bounded channel, in the order they were sent. Made by
/// [`channel`](super::channel). Also a [`Stream`](futures_core::Stream).
///
/// Dropping it closes the channel: waiting senders get their message back in a
/// [`SendError`], and queued messages are dropped.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver { chan }
    }

    /// The next message; `None` once every sender has been dropped (or the channel was
    /// closed and every reserved slot given back) and the queue is empty.
    ///
    /// Cancel-safe: dropping the future loses no message.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Closes the channel: sends fail from now on (waiting senders get their message back),
    /// while queued messages, and those of permits already reserved, can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Free slots now.
    pub fn capacity(&self) -> usize {
        self.chan.free_slots()
    }

    /// The capacity the channel was made with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound().expect("a bounded channel has a bound")
    }
}

receiver_common!(Receiver);

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .field("max_capacity", &self.max_capacity())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

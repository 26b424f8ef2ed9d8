//! A bounded multi-producer, multi-consumer channel in which **every** receiver sees **every**
//! value (each gets its own clone).
//!
//! # Protocol
//!
//! One `magpie_shim::Mutex` guards the whole state:
//!
//! - a **ring** of `capacity` slots (the requested capacity rounded up to a power of two), each
//!   holding a position, a value and how many receivers still have to read it (`remaining`);
//! - `tail`, the position the next value will get (positions count from 0 and never wrap in
//!   practice: a `u64`);
//! - the numbers of senders and receivers;
//! - a `WaitQueue` (`waiters.rs`) of receivers waiting in [`Receiver::recv`], and one of
//!   senders waiting in [`Sender::closed`].
//!
//! Each receiver holds `next`, the position it reads next. A new receiver starts at `tail`: it
//! sees only values sent after it was created.
//!
//! - **Sending** (with at least one receiver) writes the value into slot `tail % capacity`
//!   with `remaining` = the number of receivers, advances `tail` and wakes every waiting
//!   receiver. If that slot still held an unread value, the value is dropped (after the lock is
//!   released) and the receivers that had not read it have **lagged**.
//! - **Receiving**: with `next == tail` there is nothing to read: `Closed` if every sender is
//!   gone, otherwise the receiver queues itself (or `try_recv` says `Empty`). With
//!   `next < tail - capacity`, its values were overwritten: it gets `Lagged(missed)` once and
//!   jumps to the oldest retained value. Otherwise it clones the value at `next` (the last reader
//!   of a slot moves it out instead, so it is dropped as soon as every receiver has it) and
//!   advances.
//! - **Dropping a receiver** gives up its claim on every retained value it had not read
//!   (decrementing `remaining`, dropping those nobody else waits for); dropping the last one
//!   wakes [`Sender::closed`].
//! - **Dropping the last sender** wakes every waiting receiver: each reads what is left, then
//!   gets `Closed`.
//! - **A dropped `recv()` future** leaves the queue and has nothing to pass on: every waiting
//!   receiver is woken by each send, since each must see each value.
//!
//! Every value is therefore dropped exactly once: by its last reader, by the send that
//! overwrites it, or by the drop of its last interested receiver. A value sent with no receiver
//! is handed back in the [`SendError`].
//!
//! Values are cloned under the lock (the receivers of one channel take turns), and the user's
//! `Drop` of an evicted value runs after the lock is released.

use crate::waiters::{Key, WaitQueue, WakeList};
use magpie_shim::coop;
use magpie_shim::{Arc, Mutex};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub mod error {
    //! The errors of the [`broadcast`](super) channel.

    use std::fmt;

    /// [`Sender::send`](super::Sender::send) found no receiver; the value is handed back.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    send_error_impls!(SendError);

    /// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender has been dropped and this receiver has read every value it can.
        Closed,
        /// This receiver fell behind by more than the capacity: this many values were
        /// overwritten before it read them. The next receive returns the oldest value retained.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// No value is waiting for this receiver (but a sender remains).
        Empty,
        /// Every sender has been dropped and this receiver has read every value it can.
        Closed,
        /// This receiver fell behind by more than the capacity: this many values were
        /// overwritten before it read them. The next receive returns the oldest value retained.
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Shared<T> {
    state: Mutex<State<T>>,
    /// `capacity - 1`: the slot of position `p` is `p & mask`.
    mask: usize,
}

struct State<T> {
    slots: Box<[Slot<T>]>,
    /// The position of the next value sent.
    tail: u64,
    senders: usize,
    receivers: usize,
    /// Receivers waiting in `recv()`.
    recv_waiters: WaitQueue<()>,
    /// Senders waiting in `closed()`.
    closed_waiters: WaitQueue<()>,
}

struct Slot<T> {
    /// The position of the value this slot holds (or last held).
    pos: u64,
    /// How many receivers have yet to read it; `value` is `None` once this is 0.
    remaining: usize,
    value: Option<T>,
}

impl<T> State<T> {
    fn capacity(&self) -> u64 {
        self.slots.len() as u64
    }

    /// The oldest position still retained.
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.capacity())
    }

    /// One receive for the receiver at `next`, without waiting.
    fn try_recv(&mut self, next: &mut u64, mask: usize) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if *next == self.tail {
            return Err(if self.senders == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = self.oldest();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let slot = &mut self.slots[*next as usize & mask];
        debug_assert_eq!(slot.pos, *next);
        let value = if slot.remaining == 1 {
            slot.value.take()
        } else {
            // Clone before updating anything: a panicking `clone` leaves the state intact.
            slot.value.clone()
        };
        let value = value.expect("broadcast: a slot still to be read holds its value");
        slot.remaining -= 1;
        *next += 1;
        Ok(value)
    }
}

/// Creates a broadcast channel that retains up to `capacity` values (rounded up to a power of
/// two) for its slowest receiver.
///
/// # Panics
///
/// If `capacity` is 0, or larger than `usize::MAX / 2`.
///
/// # Example
///
/// ```
/// use magpie_sync::broadcast;
///
/// let (tx, mut rx1) = broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
/// assert_eq!(tx.send("hello").unwrap(), 2); // two receivers will see it
/// futures_lite::future::block_on(async {
///     assert_eq!(rx1.recv().await.unwrap(), "hello");
///     assert_eq!(rx2.recv().await.unwrap(), "hello");
/// });
/// drop(tx);
/// assert_eq!(rx1.try_recv(), Err(broadcast::error::TryRecvError::Closed));
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

/// The sending half of a [`broadcast`](self) channel. Cloneable; the channel closes when the
/// last sender is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half of a [`broadcast`](self) channel. Not `Clone`: use
/// [`resubscribe`](Receiver::resubscribe) (or [`Sender::subscribe`]) for another receiver,
/// which sees only later values.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position this receiver reads next.
    next: u64,
}

impl<T> Sender<T> {
    /// The sender of a new channel (see [`channel`]) with no receiver yet: sends fail until
    /// one [subscribes](Sender::subscribe).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or larger than `usize::MAX / 2`.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeds usize::MAX / 2"
        );
        let capacity = capacity.next_power_of_two();
        let slots = (0..capacity)
            .map(|_| Slot {
                pos: 0,
                remaining: 0,
                value: None,
            })
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                slots,
                tail: 0,
                senders: 1,
                receivers: 0,
                recv_waiters: WaitQueue::new(),
                closed_waiters: WaitQueue::new(),
            }),
            mask: capacity - 1,
        });
        Sender { shared }
    }

    /// Sends `value` to every current receiver and returns how many there are. Never waits: if
    /// the slowest receiver is `capacity` values behind, its oldest unread value is
    /// overwritten (it will get [`RecvError::Lagged`]). Fails, handing `value` back, when there
    /// is no receiver.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wake = WakeList::new();
        let (receivers, evicted) = {
            let mut state = self.shared.state.lock();
            if state.receivers == 0 {
                return Err(SendError(value));
            }
            let tail = state.tail;
            let receivers = state.receivers;
            let slot = &mut state.slots[tail as usize & self.shared.mask];
            let evicted = slot.value.replace(value);
            slot.pos = tail;
            slot.remaining = receivers;
            state.tail = tail + 1;
            state.recv_waiters.notify_all(&mut wake);
            (receivers, evicted)
        };
        drop(evicted);
        wake.wake_all();
        Ok(receivers)
    }

    /// A new receiver, which will see the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }

    /// How many values are retained because some receiver has not read them yet (at most the
    /// capacity).
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        (state.oldest()..state.tail)
            .filter(|&pos| state.slots[pos as usize & self.shared.mask].remaining > 0)
            .count()
    }

    /// Whether no value is retained (see [`len`](Sender::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.shared, &*other.shared)
    }

    /// Completes when every receiver has been dropped (at once if none exists).
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            key: None,
        }
        .await
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut state = shared.state.lock();
    state.receivers += 1;
    Receiver {
        next: state.tail,
        shared: shared.clone(),
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wake = WakeList::new();
        {
            let mut state = self.shared.state.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.recv_waiters.notify_all(&mut wake);
            }
        }
        wake.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("broadcast::Sender")
            .field("capacity", &state.capacity())
            .field("tail", &state.tail)
            .field("receivers", &state.receivers)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value: waits for one if this receiver has read everything.
    ///
    /// Returns [`RecvError::Lagged`] once if values were overwritten before this receiver read
    /// them (the next call returns the oldest value retained), and [`RecvError::Closed`] when
    /// every sender is gone and nothing is left to read. Cancel safe: a value is only taken
    /// when it is returned.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Receives the next value if one is waiting for this receiver.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared
            .state
            .lock()
            .try_recv(&mut self.next, self.shared.mask)
    }
}

impl<T> Receiver<T> {
    /// A new receiver of the same channel, which will see the values sent from now on (not the
    /// ones this receiver has yet to read).
    pub fn resubscribe(&self) -> Self {
        new_receiver(&self.shared)
    }

    /// How many sent values this receiver has yet to receive (more than the capacity if it
    /// has lagged).
    pub fn len(&self) -> usize {
        (self.shared.state.lock().tail - self.next) as usize
    }

    /// Whether this receiver has received every value sent so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender has been dropped (values may remain to be read).
    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().senders == 0
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.shared, &*other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut wake = WakeList::new();
        let mut unread = Vec::new();
        {
            let mut state = self.shared.state.lock();
            let from = self.next.max(state.oldest());
            for pos in from..state.tail {
                let slot = &mut state.slots[pos as usize & self.shared.mask];
                debug_assert_eq!(slot.pos, pos);
                slot.remaining -= 1;
                if slot.remaining == 0 {
                    unread.extend(slot.value.take());
                }
            }
            state.receivers -= 1;
            if state.receivers == 0 {
                state.closed_waiters.notify_all(&mut wake);
            }
        }
        drop(unread);
        wake.wake_all();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The future inside [`Receiver::recv`].
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// `Some` while queued (or notified and not yet polled).
    key: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let shared = &*this.receiver.shared;
        let mut state = shared.state.lock();
        let result = match state.try_recv(&mut this.receiver.next, shared.mask) {
            Ok(value) => Ok(value),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Empty) => {
                // Woken by a send this receiver has already read past (or by a sender that
                // was not the last): wait again.
                state.recv_waiters.wait_again(&mut this.key, cx.waker());
                return Poll::Pending;
            }
        };
        state.recv_waiters.leave(&mut this.key);
        drop(state);
        coop.made_progress();
        Poll::Ready(result)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receiver.shared.state.lock().recv_waiters.remove(key);
        }
    }
}

/// The future inside [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let mut state = this.shared.state.lock();
        if state.receivers == 0 {
            state.closed_waiters.leave(&mut this.key);
            drop(state);
            coop.made_progress();
            return Poll::Ready(());
        }
        // Notified, but a receiver subscribed since: wait again.
        state.closed_waiters.wait_again(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.state.lock().closed_waiters.remove(key);
        }
    }
}

// Compile-time checks of the auto traits: values are only reached under the lock, so
// `T: Send` is enough for every handle to be `Send` and `Sync`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    struct NotSync(#[allow(dead_code)] std::cell::Cell<u8>);
    assert_send_sync::<Sender<NotSync>>();
    assert_send_sync::<Receiver<NotSync>>();
    assert_send_sync::<Recv<'static, NotSync>>();
    assert_send_sync::<Closed<'static, NotSync>>();
    assert_send_sync::<error::SendError<u8>>();
    assert_send_sync::<error::RecvError>();
    assert_send_sync::<error::TryRecvError>();
};

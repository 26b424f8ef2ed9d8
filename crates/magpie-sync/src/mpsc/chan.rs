//! `Chan`: the state a bounded or unbounded channel's handles share, and every operation on it.
//!
//! The handle types in `bounded.rs` and `unbounded.rs` are thin wrappers; the protocol (module
//! doc of [`mpsc`](super)) lives here. One `magpie_shim::Mutex` guards [`State`]; the only
//! thing outside it is the sender count, so that cloning a sender is one atomic add.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use magpie_shim::coop;
use magpie_shim::{AtomicUsize, Mutex, MutexGuard, Ordering};

use super::error::{SendError, TryRecvError, TrySendError};
use crate::waiters::{Key, Removed, WaitQueue, WakeList};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Live sender handles (bounded or unbounded, every clone). The last one to go marks
    /// `State::senders_gone` under the lock.
    senders: AtomicUsize,
    /// `Some(capacity)` for a bounded channel.
    bound: Option<usize>,
}

struct State<T> {
    /// Messages sent and not yet received, oldest first.
    queue: VecDeque<T>,
    /// The receiver's waker, while it waits for a message. Taken (so woken once) by whoever
    /// gives it something to see: a message, the last sender going, a slot back after `close`.
    rx_waker: Option<Waker>,
    /// Bounded only: free slots. Capacity = free slots + queued messages + slots held by
    /// permits and by notified senders that have not polled yet. Invariant: a free slot exists
    /// only while no sender waits (a released slot goes to the first waiter).
    free: usize,
    /// Bounded only: senders waiting for a slot. The data says what a notified waiter got:
    /// `true` a slot, `false` the news that the channel closed.
    send_waiters: WaitQueue<bool>,
    /// Futures of `Sender::closed` / `UnboundedSender::closed`, all notified when the channel
    /// closes.
    closed_waiters: WaitQueue<()>,
    /// No more sends: the receiver closed the channel or was dropped.
    closed: bool,
    /// The receiver was dropped: nothing will ever be received.
    rx_dropped: bool,
    /// Every sender handle has been dropped.
    senders_gone: bool,
}

impl<T> State<T> {
    /// Queues `value`; the receiver's waker, if it waits, is to be woken after unlocking.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.queue.push_back(value);
        self.rx_waker.take()
    }

    /// Gives back one slot (a message received, a permit dropped): to the first waiting
    /// sender, or to the free count.
    fn release_slot(&mut self, wake: &mut WakeList) {
        if let Some(granted) = self.send_waiters.front_mut() {
            *granted = true;
            self.send_waiters.notify_front(wake);
        } else {
            self.free += 1;
            if self.closed {
                // After `close`, the receiver may be waiting for the last slot to come back.
                if let Some(waker) = self.rx_waker.take() {
                    wake.push(waker);
                }
            }
        }
    }

    /// Whether no message will ever come again (the queue is empty).
    fn is_finished(&self, bound: Option<usize>) -> bool {
        self.senders_gone || (self.closed && bound.is_none_or(|capacity| self.free == capacity))
    }

    /// Marks the channel closed and tells every waiting sender and `closed` future.
    fn close(&mut self, wake: &mut WakeList) {
        if !self.closed {
            self.closed = true;
            // Every queued sender's data is still `false` (a slot is granted only just before
            // a notification), so they all learn that the channel closed.
            self.send_waiters.notify_all(wake);
            self.closed_waiters.notify_all(wake);
        }
    }
}

impl<T> Chan<T> {
    /// A channel with one sender handle.
    pub(super) fn new(bound: Option<usize>) -> Self {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                rx_waker: None,
                free: bound.unwrap_or(0),
                send_waiters: WaitQueue::new(),
                closed_waiters: WaitQueue::new(),
                closed: false,
                rx_dropped: false,
                senders_gone: false,
            }),
            senders: AtomicUsize::new(1),
            bound,
        }
    }

    pub(super) fn bound(&self) -> Option<usize> {
        self.bound
    }

    // ---- senders ------------------------------------------------------------------------

    /// A sender handle was cloned.
    pub(super) fn add_sender(&self) {
        // Relaxed: the clone is made from a live handle, so the count cannot be zero and
        // nothing is published by the increment.
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// A sender handle was dropped; the last one wakes a waiting receiver.
    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut state = self.state.lock();
            state.senders_gone = true;
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Unbounded send: never waits.
    pub(super) fn send_unbounded(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut state = self.state.lock();
            if state.closed {
                return Err(SendError(value));
            }
            state.push(value)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Bounded send without waiting.
    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut state = self.state.lock();
            if state.closed {
                return Err(TrySendError::Closed(value));
            }
            if state.free == 0 {
                return Err(TrySendError::Full(value));
            }
            state.free -= 1;
            state.push(value)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Takes a slot without waiting, for a permit.
    pub(super) fn try_reserve(&self) -> Result<(), TrySendError<()>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(TrySendError::Closed(()));
        }
        if state.free == 0 {
            return Err(TrySendError::Full(()));
        }
        state.free -= 1;
        Ok(())
    }

    /// Sends into a slot held by a permit. If the receiver has been dropped the message is
    /// dropped (here, after unlocking) and the slot given back.
    pub(super) fn send_reserved(&self, value: T) {
        let mut wake = WakeList::new();
        let unsent = {
            let mut state = self.state.lock();
            if state.rx_dropped {
                state.release_slot(&mut wake);
                Some(value)
            } else {
                if let Some(waker) = state.push(value) {
                    wake.push(waker);
                }
                None
            }
        };
        wake.wake_all();
        drop(unsent);
    }

    /// A permit was dropped unused: its slot goes back.
    pub(super) fn release_reserved(&self) {
        let mut wake = WakeList::new();
        self.state.lock().release_slot(&mut wake);
        wake.wake_all();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// The receiver's view: closed by it, or every sender gone.
    pub(super) fn rx_is_closed(&self) -> bool {
        let state = self.state.lock();
        state.closed || state.senders_gone
    }

    /// Bounded: free slots now.
    pub(super) fn free_slots(&self) -> usize {
        self.state.lock().free
    }

    // ---- the receiver -------------------------------------------------------------------

    /// One message, or `None` once no message will ever come. Otherwise registers `cx`'s
    /// waker.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let spent = ready!(coop::poll_proceed(cx));
        let mut state = self.state.lock();
        if let Some(value) = state.queue.pop_front() {
            self.taken(state, 1);
            spent.made_progress();
            return Poll::Ready(Some(value));
        }
        if Self::wait(&mut state, self.bound, cx) {
            return Poll::Pending;
        }
        drop(state);
        spent.made_progress();
        Poll::Ready(None)
    }

    /// Takes up to `limit` messages into `buffer`; `Ready(0)` when `limit` is 0 or no message
    /// will ever come. Otherwise registers `cx`'s waker.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        let spent = ready!(coop::poll_proceed(cx));
        let mut state = self.state.lock();
        let count = limit.min(state.queue.len());
        if count > 0 {
            buffer.extend(state.queue.drain(..count));
            self.taken(state, count);
            spent.made_progress();
            return Poll::Ready(count);
        }
        if limit > 0 && Self::wait(&mut state, self.bound, cx) {
            return Poll::Pending;
        }
        drop(state);
        spent.made_progress();
        Poll::Ready(0)
    }

    /// `count` messages were taken: their slots go back, then the lock is released and the
    /// senders given a slot are woken.
    fn taken(&self, mut state: MutexGuard<'_, State<T>>, count: usize) {
        if self.bound.is_none() {
            return;
        }
        let mut wake = WakeList::new();
        for _ in 0..count {
            state.release_slot(&mut wake);
        }
        drop(state);
        wake.wake_all();
    }

    /// The queue is empty: registers the receiver's waker and returns true, or returns false
    /// if no message will ever come.
    fn wait(state: &mut State<T>, bound: Option<usize>, cx: &Context<'_>) -> bool {
        if state.is_finished(bound) {
            return false;
        }
        match &mut state.rx_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        true
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wake = WakeList::new();
        let result = {
            let mut state = self.state.lock();
            match state.queue.pop_front() {
                Some(value) => {
                    if self.bound.is_some() {
                        state.release_slot(&mut wake);
                    }
                    Ok(value)
                }
                None if state.is_finished(self.bound) => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            }
        };
        wake.wake_all();
        result
    }

    /// The receiver closes the channel: sends fail from now on; queued messages stay.
    pub(super) fn close(&self) {
        let mut wake = WakeList::new();
        self.state.lock().close(&mut wake);
        wake.wake_all();
    }

    /// The receiver is dropped: close, and drop every queued message (after unlocking: a
    /// message's `Drop` may use this very channel, say by dropping a sender).
    pub(super) fn drop_receiver(&self) {
        let mut wake = WakeList::new();
        let (queue, waker) = {
            let mut state = self.state.lock();
            state.close(&mut wake);
            state.rx_dropped = true;
            let queue = std::mem::take(&mut state.queue);
            if self.bound.is_some() {
                state.free += queue.len();
            }
            (queue, state.rx_waker.take())
        };
        wake.wake_all();
        drop(waker);
        drop(queue);
    }

    pub(super) fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    // ---- waiting senders ----------------------------------------------------------------

    /// Drops the slot claim of a cancelled `SlotWait`, passing on a slot it had been granted.
    fn cancel_slot_wait(&self, key: Key) {
        let mut wake = WakeList::new();
        {
            let mut state = self.state.lock();
            if let Removed::Notified(true) = state.send_waiters.remove(key) {
                state.release_slot(&mut wake);
            }
        }
        wake.wake_all();
    }

    fn cancel_closed_wait(&self, key: Key) {
        // A `closed` notification is for everyone, so there is nothing to pass on.
        let _ = self.state.lock().closed_waiters.remove(key);
    }
}

/// A bounded sender waiting for a slot (inside `send` and `reserve`). Dropping it gives up its
/// place in the queue, or passes on the slot it had been granted.
pub(super) struct SlotWait<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
}

/// A slot taken by [`SlotWait::poll_slot`], with the lock still held so the message can go in
/// at once.
pub(super) struct Slot<'a, T> {
    state: MutexGuard<'a, State<T>>,
}

impl<T> Slot<'_, T> {
    /// Sends into the slot and unlocks; then wakes the receiver if it waited.
    pub(super) fn send(mut self, value: T) {
        let waker = self.state.push(value);
        drop(self);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<'a, T> SlotWait<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>) -> Self {
        SlotWait { chan, key: None }
    }

    /// Takes a slot when one is free and no sender is ahead, else waits in FIFO order.
    /// `Err(())` if the channel is closed (a slot granted before `close` is still good, unless
    /// the receiver is gone). The caller has spent coop budget.
    pub(super) fn poll_slot(&mut self, cx: &mut Context<'_>) -> Poll<Result<Slot<'a, T>, ()>> {
        let mut state = self.chan.state.lock();
        match &self.key {
            None => {
                if state.closed {
                    return Poll::Ready(Err(()));
                }
                if state.free > 0 {
                    state.free -= 1;
                    return Poll::Ready(Ok(Slot { state }));
                }
                self.key = Some(state.send_waiters.push_back(cx.waker(), false));
                Poll::Pending
            }
            Some(key) => match state.send_waiters.poll(key, cx.waker()) {
                None => Poll::Pending,
                Some(granted) => {
                    self.key = None;
                    if !granted {
                        return Poll::Ready(Err(()));
                    }
                    if state.rx_dropped {
                        let mut wake = WakeList::new();
                        state.release_slot(&mut wake);
                        drop(state);
                        wake.wake_all();
                        return Poll::Ready(Err(()));
                    }
                    Poll::Ready(Ok(Slot { state }))
                }
            },
        }
    }
}

impl<T> Drop for SlotWait<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_slot_wait(key);
        }
    }
}

/// The future of `Sender::send`: a [`SlotWait`] and the message. Holds `T` by value and never
/// pins it, so it is `Unpin`.
pub(super) struct SendFuture<'a, T> {
    wait: SlotWait<'a, T>,
    value: Option<T>,
}

impl<'a, T> SendFuture<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>, value: T) -> Self {
        SendFuture {
            wait: SlotWait::new(chan),
            value: Some(value),
        }
    }
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let spent = ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let result = ready!(this.wait.poll_slot(cx));
        let value = this
            .value
            .take()
            .expect("mpsc send future polled after it completed");
        spent.made_progress();
        Poll::Ready(match result {
            Ok(slot) => {
                slot.send(value);
                Ok(())
            }
            Err(()) => Err(SendError(value)),
        })
    }
}

/// The future of `Sender::closed` / `UnboundedSender::closed`.
pub(super) struct ClosedWait<'a, T> {
    chan: &'a Chan<T>,
    key: Option<Key>,
}

impl<'a, T> ClosedWait<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>) -> Self {
        ClosedWait { chan, key: None }
    }
}

impl<T> Future for ClosedWait<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let spent = ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let mut state = this.chan.state.lock();
        match this.key.take() {
            // Closing notifies every queued waiter, so a queued one learns it from its slot.
            Some(key) => match state.closed_waiters.poll(&key, cx.waker()) {
                Some(()) => {}
                None => {
                    this.key = Some(key);
                    return Poll::Pending;
                }
            },
            None if !state.closed => {
                this.key = Some(state.closed_waiters.push_back(cx.waker(), ()));
                return Poll::Pending;
            }
            None => {}
        }
        drop(state);
        spent.made_progress();
        Poll::Ready(())
    }
}

impl<T> Drop for ClosedWait<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_closed_wait(key);
        }
    }
}

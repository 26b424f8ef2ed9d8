//! `WaitQueue`: the FIFO of futures waiting on a primitive, kept inside that primitive's lock.
//!
//! Every primitive in this crate (the semaphore behind `Mutex` and `RwLock`, `Notify`,
//! `Barrier`, the channels) holds its state and a `WaitQueue` under one
//! `magpie_shim::Mutex`. A waiting future owns a [`Key`] to one slot of the queue.
//!
//! # Slot states, and who may touch them
//!
//! ```text
//!            push_back                 notify_front / notify_all
//!   (none) ------------> Waiting ---------------------------------> Notified
//!                           |                                          |
//!                           | remove (future dropped)                  | poll or remove
//!                           v                                          v
//!                        (freed)                                    (freed)
//! ```
//!
//! - **Waiting**: linked into the FIFO, with the waker to call and the waiter's data (how many
//!   permits it wants, ...). Only the primitive (under its lock) notifies it; the owning future
//!   may refresh its waker ([`WaitQueue::poll`]) or unlink it ([`WaitQueue::remove`]).
//! - **Notified**: unlinked from the FIFO but still allocated, holding the data the notifier left
//!   for the waiter. Only the owning future frees it: [`WaitQueue::poll`] returns the data, or
//!   [`WaitQueue::remove`] returns it as [`Removed::Notified`] so that a future dropped after
//!   being notified **passes the notification on** (its permits go back, the next waiter of
//!   `Notify` is woken) instead of losing it.
//!
//! A slot is freed only by the future that owns its key, so a key can never name a slot reused
//! by someone else, and no generation counter is needed.
//!
//! Wakers are never called under the lock: notifying collects them into a [`WakeList`], which the
//! primitive wakes after releasing its lock (a waker may run arbitrary code, even take this lock).

use std::task::Waker;

const NIL: usize = usize::MAX;

/// A waiting future's claim on one slot of a [`WaitQueue`]. Not `Clone`: one owner frees it.
#[derive(Debug)]
pub(crate) struct Key(usize);

enum Slot<T> {
    Vacant {
        next_free: usize,
    },
    Waiting {
        waker: Waker,
        data: T,
        prev: usize,
        next: usize,
    },
    Notified {
        data: T,
    },
}

/// What [`WaitQueue::remove`] found in a dropped waiter's slot.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed<T> {
    /// Still queued: it took nothing, so nothing needs passing on.
    Waiting(T),
    /// Already notified with this data, which the primitive must pass on.
    Notified(T),
}

/// A FIFO of waiters in a slab: O(1) push, notify and removal from the middle, no allocation
/// once the slab has grown to the largest number of simultaneous waiters.
pub(crate) struct WaitQueue<T> {
    slots: Vec<Slot<T>>,
    free: usize,
    head: usize,
    tail: usize,
    waiting: usize,
}

impl<T> Default for WaitQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> WaitQueue<T> {
    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            waiting: 0,
        }
    }

    /// How many waiters are queued (not counting notified ones that have not polled yet).
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }

    /// Whether no waiter is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: &Waker, data: T) -> Key {
        let slot = Slot::Waiting {
            waker: waker.clone(),
            data,
            prev: self.tail,
            next: NIL,
        };
        let index = if self.free != NIL {
            let index = self.free;
            match self.slots[index] {
                Slot::Vacant { next_free } => self.free = next_free,
                _ => unreachable!("WaitQueue: the free list names a used slot"),
            }
            self.slots[index] = slot;
            index
        } else {
            self.slots.push(slot);
            self.slots.len() - 1
        };
        if self.tail == NIL {
            self.head = index;
        } else {
            self.set_next(self.tail, index);
        }
        self.tail = index;
        self.waiting += 1;
        Key(index)
    }

    /// The owning future polls its slot. `Some(data)` when it has been notified: the slot is
    /// freed and the caller must forget `key`. `None` while it waits: its waker is replaced by
    /// `waker` unless both wake the same task.
    pub(crate) fn poll(&mut self, key: &Key, waker: &Waker) -> Option<T> {
        match &mut self.slots[key.0] {
            Slot::Waiting { waker: stored, .. } => {
                if !stored.will_wake(waker) {
                    stored.clone_from(waker);
                }
                None
            }
            Slot::Notified { .. } => match self.release(key.0) {
                Slot::Notified { data } => Some(data),
                _ => unreachable!(),
            },
            Slot::Vacant { .. } => unreachable!("WaitQueue: a key names a freed slot"),
        }
    }

    /// Whether the waiter owning `key` has been notified (without taking the notification).
    pub(crate) fn is_notified(&self, key: &Key) -> bool {
        matches!(self.slots[key.0], Slot::Notified { .. })
    }

    /// The owning future is dropped: frees its slot and says what it held.
    pub(crate) fn remove(&mut self, key: Key) -> Removed<T> {
        if let Slot::Waiting { .. } = self.slots[key.0] {
            self.unlink(key.0);
        }
        match self.release(key.0) {
            Slot::Waiting { data, .. } => Removed::Waiting(data),
            Slot::Notified { data } => Removed::Notified(data),
            Slot::Vacant { .. } => unreachable!("WaitQueue: a key names a freed slot"),
        }
    }

    /// The data of the first queued waiter, to inspect or update (a semaphore hands it permits
    /// a few at a time).
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        if self.head == NIL {
            return None;
        }
        match &mut self.slots[self.head] {
            Slot::Waiting { data, .. } => Some(data),
            _ => unreachable!("WaitQueue: the list links a slot that is not waiting"),
        }
    }

    /// Notifies the first queued waiter, leaving its data for it; its waker goes to `wake`.
    /// Returns false when no waiter is queued.
    pub(crate) fn notify_front(&mut self, wake: &mut WakeList) -> bool {
        if self.head == NIL {
            return false;
        }
        let index = self.head;
        self.unlink(index);
        let old = std::mem::replace(&mut self.slots[index], Slot::Vacant { next_free: NIL });
        match old {
            Slot::Waiting { waker, data, .. } => {
                self.slots[index] = Slot::Notified { data };
                wake.push(waker);
            }
            _ => unreachable!("WaitQueue: the list links a slot that is not waiting"),
        }
        true
    }

    /// Notifies every queued waiter, in order.
    pub(crate) fn notify_all(&mut self, wake: &mut WakeList) {
        while self.notify_front(wake) {}
    }

    fn set_next(&mut self, index: usize, to: usize) {
        match &mut self.slots[index] {
            Slot::Waiting { next, .. } => *next = to,
            _ => unreachable!("WaitQueue: the list links a slot that is not waiting"),
        }
    }

    fn set_prev(&mut self, index: usize, to: usize) {
        match &mut self.slots[index] {
            Slot::Waiting { prev, .. } => *prev = to,
            _ => unreachable!("WaitQueue: the list links a slot that is not waiting"),
        }
    }

    fn unlink(&mut self, index: usize) {
        let (prev, next) = match self.slots[index] {
            Slot::Waiting { prev, next, .. } => (prev, next),
            _ => unreachable!("WaitQueue: unlinking a slot that is not waiting"),
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
        self.waiting -= 1;
    }

    fn release(&mut self, index: usize) -> Slot<T> {
        let old = std::mem::replace(
            &mut self.slots[index],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = index;
        old
    }
}

/// For futures that recheck a condition on every poll (a changed value, a closed channel) and
/// queue only to be woken: the notification carries nothing, so a notified slot is just
/// exchanged for a fresh one when the condition still does not hold.
impl WaitQueue<()> {
    /// Keeps the future owning `key` (`None` before its first wait) queued with `waker`: a
    /// waiting slot gets `waker`, a notified one (or none) becomes a new slot at the back.
    pub(crate) fn wait_again(&mut self, key: &mut Option<Key>, waker: &Waker) {
        match key {
            Some(queued) if self.poll(queued, waker).is_none() => {}
            _ => *key = Some(self.push_back(waker, ())),
        }
    }

    /// The future owning `key` is done waiting: frees its slot, if it has one.
    pub(crate) fn leave(&mut self, key: &mut Option<Key>) {
        if let Some(key) = key.take() {
            self.remove(key);
        }
    }
}

/// Wakers collected under a lock, to be woken after it is released.
///
/// The first waker is kept inline, so the common case (an unlock or a message that wakes one
/// waiter) allocates nothing; only the second and later wakers go to a `Vec`.
#[derive(Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    pub(crate) const fn new() -> Self {
        Self {
            first: None,
            rest: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// How many wakers are collected.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Wakes every collected waker, in the order they were pushed. Call with no lock held.
    ///
    /// Inlined with an early return: most operations wake nobody, and `rest` is only ever
    /// filled once `first` is, so an empty `first` means an empty list.
    #[inline]
    pub(crate) fn wake_all(self) {
        let Some(first) = self.first else {
            return;
        };
        first.wake();
        if !self.rest.is_empty() {
            wake_rest(self.rest);
        }
    }
}

#[cold]
fn wake_rest(rest: Vec<Waker>) {
    for waker in rest {
        waker.wake();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn waiters_are_notified_in_fifo_order_with_their_data() {
        let (count, waker) = counter();
        let mut queue = WaitQueue::new();
        let keys: Vec<Key> = (0..4).map(|i| queue.push_back(&waker, i)).collect();
        assert_eq!(queue.len(), 4);
        assert_eq!(queue.front_mut().copied(), Some(0));
        let mut wake = WakeList::new();
        assert!(queue.notify_front(&mut wake));
        assert!(queue.notify_front(&mut wake));
        wake.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(queue.len(), 2);
        assert!(queue.is_notified(&keys[0]) && queue.is_notified(&keys[1]));
        assert!(!queue.is_notified(&keys[2]));
        assert_eq!(queue.poll(&keys[1], &waker), Some(1));
        assert_eq!(queue.poll(&keys[2], &waker), None);
        let mut keys = keys.into_iter();
        let k0 = keys.next().unwrap();
        let _k1 = keys.next().unwrap();
        assert_eq!(queue.remove(k0), Removed::Notified(0));
        assert_eq!(queue.front_mut().copied(), Some(2));
    }

    #[test]
    fn removal_from_the_middle_keeps_the_order_and_reuses_slots() {
        let (_count, waker) = counter();
        let mut queue = WaitQueue::new();
        let a = queue.push_back(&waker, 'a');
        let b = queue.push_back(&waker, 'b');
        let c = queue.push_back(&waker, 'c');
        assert_eq!(queue.remove(b), Removed::Waiting('b'));
        let d = queue.push_back(&waker, 'd');
        assert_eq!(queue.slots.len(), 3, "the freed slot is reused");
        let mut wake = WakeList::new();
        queue.notify_all(&mut wake);
        assert_eq!(wake.len(), 3);
        assert!(queue.is_empty());
        assert_eq!(queue.poll(&a, &waker), Some('a'));
        assert_eq!(queue.poll(&c, &waker), Some('c'));
        assert_eq!(queue.poll(&d, &waker), Some('d'));
        assert!(!queue.notify_front(&mut wake));
        assert!(queue.front_mut().is_none());
    }

    #[test]
    fn wake_list_wakes_one_inline_and_more_in_push_order() {
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Tagged(usize, Arc<std::sync::Mutex<Vec<usize>>>);
        impl Wake for Tagged {
            fn wake(self: Arc<Self>) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        let mut one = WakeList::new();
        one.push(Waker::from(Arc::new(Tagged(0, order.clone()))));
        assert_eq!(one.len(), 1);
        assert_eq!(one.rest.capacity(), 0, "one waker allocates nothing");
        one.wake_all();
        let mut three = WakeList::new();
        for tag in 1..4 {
            three.push(Waker::from(Arc::new(Tagged(tag, order.clone()))));
        }
        assert_eq!(three.len(), 3);
        three.wake_all();
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    }

    #[test]
    fn removing_the_only_waiter_empties_the_list() {
        let (_count, waker) = counter();
        let mut queue = WaitQueue::new();
        let a = queue.push_back(&waker, 1);
        assert_eq!(queue.remove(a), Removed::Waiting(1));
        assert!(queue.is_empty());
        let b = queue.push_back(&waker, 2);
        let mut wake = WakeList::new();
        assert!(queue.notify_front(&mut wake));
        assert_eq!(queue.poll(&b, &waker), Some(2));
    }
}

//! `ReadyList`: which children of a [`join_all`](super::join_all) were woken since the parent
//! last looked, so that a poll of the parent re-polls only those, not all N.
//!
//! # Protocol
//!
//! Every child `i` has its own waker, made once, that knows `i`. Waking it:
//!
//! 1. sets `queued[i]`; if it was set already, `i` is on the list (or about to be polled) and
//!    the wake is done;
//! 2. otherwise pushes `i` onto `woken` under the lock, and wakes the parent's waker unless
//!    the parent has been woken since it last drained the list (`parent_notified`).
//!
//! The parent, on each poll, [`drain`](ReadyList::drain)s `woken` (storing its own waker and
//! clearing `parent_notified` under the same lock), then for each index clears `queued[i]`
//! with [`arm`](ReadyList::arm) *before* polling child `i`. A wake that arrives after the
//! clear queues `i` again for the next poll; one that arrives between the drain and the clear
//! is covered by the poll that follows the clear. A child that has completed is never armed
//! again, so its stale wakers cost nothing.
//!
//! A child that wakes itself while being polled (a yield) lands on the list for the *next*
//! poll of the parent, never the current one, so a poll of the parent always ends.
//!
//! # Memory ordering
//!
//! The indices travel under the mutex. The `queued` flags only deduplicate: the store that
//! clears a flag is sequenced before the child's poll, which publishes its waker through the
//! leaf future's own synchronisation; a waking thread acquires that before it swaps the flag,
//! so it sees the clear. `Release` / `AcqRel` are used for clarity, not because a weaker
//! ordering would break the argument.
//!
//! The wakers use `std::sync::Arc`, not `magpie_shim::Arc`: `std::task::Wake` is defined on
//! std's `Arc` only (loom's `Arc` cannot make a `Waker`). The state they share still uses
//! magpie_shim's atomics and mutex.

use magpie_shim::{AtomicBool, Mutex, Ordering};
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

/// The list of woken children and the per-child wakers that fill it.
pub(super) struct ReadyList {
    shared: StdArc<Shared>,
    /// `wakers[i]` is child `i`'s waker.
    wakers: Vec<Waker>,
}

struct Shared {
    /// `queued[i]`: child `i` is on `woken` (or about to be polled); its wakes are no-ops.
    queued: Box<[AtomicBool]>,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Children woken since the parent last drained, each at most once.
    woken: Vec<usize>,
    /// The parent's waker, from its latest poll.
    parent: Option<Waker>,
    /// The parent has been woken since its latest drain: further wakes need not wake it.
    parent_notified: bool,
}

/// Child `index`'s waker.
struct ChildWaker {
    index: usize,
    shared: StdArc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        if self.shared.queued[self.index].swap(true, Ordering::AcqRel) {
            return;
        }
        let parent = {
            let mut inner = self.shared.inner.lock();
            inner.woken.push(self.index);
            if inner.parent_notified {
                None
            } else {
                inner.parent_notified = true;
                inner.parent.clone()
            }
        };
        // Woken outside the lock: the parent's wake may run arbitrary code.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl ReadyList {
    /// A list for `children` children, all of them queued (each must be polled once).
    pub(super) fn new(children: usize) -> ReadyList {
        let shared = StdArc::new(Shared {
            queued: (0..children).map(|_| AtomicBool::new(true)).collect(),
            inner: Mutex::new(Inner {
                woken: (0..children).collect(),
                parent: None,
                parent_notified: false,
            }),
        });
        let wakers = (0..children)
            .map(|index| {
                Waker::from(StdArc::new(ChildWaker {
                    index,
                    shared: shared.clone(),
                }))
            })
            .collect();
        ReadyList { shared, wakers }
    }

    /// Moves the woken children's indices into `into` (which must be empty) and records
    /// `parent` as the waker to wake for the next ones.
    pub(super) fn drain(&self, parent: &Waker, into: &mut Vec<usize>) {
        debug_assert!(into.is_empty());
        let mut inner = self.shared.inner.lock();
        match &inner.parent {
            Some(known) if known.will_wake(parent) => {}
            _ => inner.parent = Some(parent.clone()),
        }
        inner.parent_notified = false;
        std::mem::swap(&mut inner.woken, into);
    }

    /// Re-enables child `index`'s waker; call it right before polling that child.
    pub(super) fn arm(&self, index: usize) {
        self.shared.queued[index].store(false, Ordering::Release);
    }

    /// Child `index`'s waker.
    pub(super) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }
}

#[cfg(test)]
mod tests {
    use super::ReadyList;
    use std::task::Waker;

    #[test]
    fn every_child_starts_queued_and_wakes_are_deduplicated() {
        let list = ReadyList::new(3);
        let mut batch = Vec::new();
        list.drain(Waker::noop(), &mut batch);
        assert_eq!(batch, [0, 1, 2]);

        // Not armed yet: wakes are absorbed.
        list.waker(1).wake_by_ref();
        batch.clear();
        list.drain(Waker::noop(), &mut batch);
        assert!(batch.is_empty());

        // Armed: the first wake queues it, the second is absorbed.
        list.arm(1);
        list.arm(2);
        list.waker(2).wake_by_ref();
        list.waker(1).wake_by_ref();
        list.waker(2).wake_by_ref();
        list.drain(Waker::noop(), &mut batch);
        assert_eq!(batch, [2, 1]);
    }
}

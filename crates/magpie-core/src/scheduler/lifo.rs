//! The LIFO slot: the task most recently spawned by this worker's running task, or woken by
//! it while nothing else was queued here (`WorkerLocal::schedule_local` has the rule).
//!
//! Message-passing code (task A sends to task B, then waits) runs B next, while its data is
//! still in this core's cache. The slot holds at most one task; pushing a new one moves the
//! old occupant to the back of the worker's deque.
//!
//! The slot is an atomic pointer so that *other* workers can take from it too: a task parked
//! in the slot must not be stranded when its worker blocks in a long poll or parks. Stealers
//! empty it with the same `swap` the owner uses, so a task is taken exactly once.

use crate::task::Notified;
use magpie_shim::{AtomicPtr, Ordering};
use std::ptr::{self, NonNull};

pub(crate) struct LifoSlot(AtomicPtr<()>);

impl LifoSlot {
    pub(crate) fn new() -> LifoSlot {
        LifoSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Puts `task` in the slot, returning the previous occupant.
    pub(crate) fn push(&self, task: Notified) -> Option<Notified> {
        let new = task.into_raw().as_ptr().cast::<()>();
        let old = self.0.swap(new, Ordering::AcqRel);
        // SAFETY: a non-null pointer in the slot is a queue entry that was put there with its
        // reference; swapping it out hands that entry to us.
        NonNull::new(old).map(|p| unsafe { Notified::from_raw(p.cast()) })
    }

    /// Takes the occupant, if any (owner or stealer).
    pub(crate) fn take(&self) -> Option<Notified> {
        if self.0.load(Ordering::Relaxed).is_null() {
            return None;
        }
        let old = self.0.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `push`: the swap hands the entry to us alone.
        NonNull::new(old).map(|p| unsafe { Notified::from_raw(p.cast()) })
    }

    pub(crate) fn is_occupied(&self) -> bool {
        !self.0.load(Ordering::Acquire).is_null()
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::{new_task, Id, InertScheduler as Inert, TaskRef};

    #[test]
    fn push_returns_the_previous_occupant_and_take_empties() {
        let slot = LifoSlot::new();
        let (o1, n1, j1) = new_task(
            async {},
            Inert,
            Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        );
        let (o2, n2, j2) = new_task(
            async {},
            Inert,
            Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        );
        let (id1, id2) = (j1.id(), j2.id());
        assert!(!slot.is_occupied());
        assert!(slot.push(n1).is_none());
        assert!(slot.is_occupied());
        let prev = slot.push(n2).expect("the first task comes back");
        assert_eq!(prev.into_raw(), o1.ptr());
        let taken = slot.take().expect("the second task");
        assert_eq!(taken.into_raw(), o2.ptr());
        assert!(slot.take().is_none() && !slot.is_occupied());
        assert_ne!(id1, id2);
        // The entries were turned into raw pointers above; give their references back.
        // SAFETY: each pointer came from an entry whose reference we still own.
        unsafe {
            drop(TaskRef::from_raw(o1.ptr()));
            drop(TaskRef::from_raw(o2.ptr()));
        }
        o1.shutdown();
        o2.shutdown();
        drop((j1, j2));
    }

    #[test]
    fn dropping_the_slot_drops_its_entry() {
        let slot = LifoSlot::new();
        let (owned, entry, join) = new_task(
            async {},
            Inert,
            Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        );
        let before = owned.header().state.load().ref_count();
        slot.push(entry);
        drop(slot);
        assert_eq!(owned.header().state.load().ref_count(), before - 1);
        owned.shutdown();
        drop(join);
    }
}

//! The owned-task registry: every unfinished task of a runtime, so that shutdown can find the
//! idle ones that sit in no queue (waiting on a timer, a socket, a channel).
//!
//! The registry is sharded by block of task ids (`id::BLOCK`; a thread's consecutive spawns
//! share one) to keep spawns on different workers off each other's lock and cache lines.
//! Each shard is an intrusive doubly linked list through [`Links`] in the task header; a
//! task's links are only read or written with its shard's lock held. The registry owns one
//! reference per linked task.
//!
//! Shutdown protocol (the registry's part): `close()` marks every shard closed, so `insert`
//! refuses from then on (the spawner cancels the task at once); `pop()` then takes tasks out
//! one at a time, and the caller drops each future **after** the shard lock is released,
//! since a future's `Drop` may spawn, wake or complete other tasks of the same registry.

use super::id;
use super::raw::Header;
use super::TaskRef;
use magpie_shim::CachePadded;
use magpie_shim::{Mutex, MutexGuard};
use std::ptr::NonNull;

/// Intrusive list links in the task header. A task is linked when it has a `prev` or is its
/// shard's head (no flag: the header is on the spawn path, and 8 bytes there show).
#[derive(Default)]
pub(crate) struct Links {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

struct Shard {
    head: Option<NonNull<Header>>,
    len: usize,
    closed: bool,
    /// Inserts so far, refused ones included: the runtime's spawn count, kept where every
    /// spawn already holds a lock (a plain add, no atomic of its own).
    inserted: u64,
}

// SAFETY: the raw pointers in a shard are tasks the registry holds references to; they are
// only followed with the shard's lock held.
unsafe impl Send for Shard {}

pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: usize,
}

impl Registry {
    /// A registry with at least `min_shards` shards (rounded up to a power of two).
    pub(crate) fn new(min_shards: usize) -> Registry {
        let n = min_shards.max(1).next_power_of_two();
        let shards = (0..n)
            .map(|_| {
                CachePadded::new(Mutex::new(Shard {
                    head: None,
                    len: 0,
                    closed: false,
                    inserted: 0,
                }))
            })
            .collect();
        Registry {
            shards,
            mask: n - 1,
        }
    }

    /// The shard of task `id`: one per block of ids ([`id::BLOCK`]), so a worker's run of
    /// spawns inserts into one shard whose lock and list head stay in its cache, and the
    /// tasks it completes itself are removed from there.
    fn shard_index(&self, id: u64) -> usize {
        ((id / id::BLOCK) as usize) & self.mask
    }

    fn shard_of(&self, header: &Header) -> MutexGuard<'_, Shard> {
        self.shards[self.shard_index(header.id.as_u64())].lock()
    }

    /// Links the task, keeping its reference. Refused (the reference handed back) once the
    /// registry is closed.
    pub(crate) fn insert(&self, task: TaskRef) -> Result<(), TaskRef> {
        let mut shard = self.shard_of(task.header());
        shard.inserted += 1;
        if shard.closed {
            return Err(task);
        }
        let ptr = task.into_raw();
        // SAFETY: the registry now owns the reference `ptr` came with.
        let header = unsafe { ptr.as_ref() };
        // SAFETY: the shard lock is held, which guards the links of every task in it,
        // including the head's and this new one's.
        unsafe {
            header.links.with_mut(|l| {
                (*l).prev = None;
                (*l).next = shard.head;
            });
            if let Some(old) = shard.head {
                old.as_ref().links.with_mut(|l| (*l).prev = Some(ptr));
            }
        }
        shard.head = Some(ptr);
        shard.len += 1;
        Ok(())
    }

    /// Unlinks the task, returning the registry's reference; `None` when it is not linked.
    pub(crate) fn remove(&self, task: &TaskRef) -> Option<TaskRef> {
        let header = task.header();
        let mut shard = self.shard_of(header);
        // SAFETY: shard lock held; the task's shard is fixed by its id.
        unsafe { Self::unlink(&mut shard, task.ptr()) }
    }

    /// # Safety
    ///
    /// The lock of the shard that `ptr` belongs to is held (`shard`).
    unsafe fn unlink(shard: &mut Shard, ptr: NonNull<Header>) -> Option<TaskRef> {
        // SAFETY: the caller holds the shard lock, which guards these links; linked tasks
        // are kept alive by the registry's reference.
        unsafe {
            let header = ptr.as_ref();
            let is_head = shard.head == Some(ptr);
            let (prev, next) = header
                .links
                .with_mut(|l| {
                    if (*l).prev.is_none() && !is_head {
                        return Err(());
                    }
                    Ok(((*l).prev.take(), (*l).next.take()))
                })
                .ok()?;
            match prev {
                Some(p) => p.as_ref().links.with_mut(|l| (*l).next = next),
                None => shard.head = next,
            }
            if let Some(n) = next {
                n.as_ref().links.with_mut(|l| (*l).prev = prev);
            }
            shard.len -= 1;
            Some(TaskRef::from_raw(ptr))
        }
    }

    /// Refuses every later insert.
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
    }

    /// Takes one task out (with the registry's reference), or `None` when empty.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            if let Some(head) = shard.head {
                // SAFETY: the shard lock is held and `head` is linked in this shard.
                return unsafe { Self::unlink(&mut shard, head) };
            }
        }
        None
    }

    /// Calls `f` with every linked task's header, one shard at a time, under that shard's
    /// lock (so `f` must be quick and must not touch the registry).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            // SAFETY: the shard lock is held, so the list is not changed under us, and
            // every linked task is kept alive by the registry's reference.
            unsafe { Self::walk(&shard, &mut f) };
        }
    }

    /// Calls `f` with the header of the linked task `id`, if there is one, under its shard's
    /// lock. A walk of that one shard.
    pub(crate) fn find<R>(&self, id: u64, f: impl FnOnce(&Header) -> R) -> Option<R> {
        let shard = self.shards[self.shard_index(id)].lock();
        let mut f = Some(f);
        let mut result = None;
        // SAFETY: as in `for_each`: the shard lock is held.
        unsafe {
            Self::walk(&shard, &mut |header| {
                if header.id.as_u64() == id {
                    if let Some(f) = f.take() {
                        result = Some(f(header));
                    }
                }
            })
        };
        result
    }

    /// # Safety
    ///
    /// `shard` is the guard of a locked shard.
    unsafe fn walk(shard: &Shard, f: &mut dyn FnMut(&Header)) {
        let mut next = shard.head;
        while let Some(ptr) = next {
            // SAFETY: linked tasks are alive (the registry holds a reference to each) and
            // their links are guarded by the shard lock the caller holds.
            let header = unsafe { ptr.as_ref() };
            f(header);
            // SAFETY: as above.
            next = header.links.with(|l| unsafe { (*l).next });
        }
    }

    /// How many inserts there have been, refused ones included.
    pub(crate) fn inserted_count(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().inserted).sum()
    }

    /// How many tasks are linked.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Shutdown empties the registry; a leftover here would be a leaked future.
        debug_assert!(
            self.pop().is_none() || std::thread::panicking(),
            "registry dropped with live tasks"
        );
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::{new_task, Id, InertScheduler as Inert, Notified};

    fn task() -> (TaskRef, Notified, crate::task::JoinHandle<()>) {
        new_task(
            async {},
            Inert,
            Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        )
    }

    #[test]
    fn insert_remove_and_len() {
        let registry = Registry::new(4);
        let (owned_a, entry_a, join_a) = task();
        let (owned_b, entry_b, join_b) = task();
        let view_a = owned_a.clone();
        registry.insert(owned_a).ok().unwrap();
        registry.insert(owned_b).ok().unwrap();
        assert_eq!(registry.len(), 2);
        let back = registry.remove(&view_a).expect("linked");
        assert_eq!(back.header().id, view_a.header().id);
        assert!(registry.remove(&view_a).is_none(), "already unlinked");
        assert_eq!(registry.len(), 1);
        drop((back, view_a));
        // Empty the registry through `pop`, as shutdown does.
        let mut popped = 0;
        while let Some(t) = registry.pop() {
            t.shutdown();
            popped += 1;
        }
        assert_eq!(popped, 1);
        drop((entry_a, entry_b, join_a, join_b));
    }

    #[test]
    fn a_closed_registry_refuses_inserts() {
        let registry = Registry::new(1);
        registry.close();
        let (owned, entry, join) = task();
        let refused = registry.insert(owned).expect_err("closed");
        refused.shutdown();
        drop(entry);
        assert!(join.is_finished(), "a refused task is cancelled at once");
    }

    #[test]
    fn many_tasks_in_few_shards_unlink_from_the_middle() {
        let registry = Registry::new(2);
        let tasks: Vec<_> = (0..64).map(|_| task()).collect();
        let views: Vec<TaskRef> = tasks.iter().map(|(o, _, _)| o.clone()).collect();
        let mut rest = Vec::new();
        for (owned, entry, join) in tasks {
            registry.insert(owned).ok().unwrap();
            rest.push((entry, join));
        }
        for view in views.iter().skip(1).step_by(2) {
            drop(registry.remove(view).expect("linked"));
        }
        assert_eq!(registry.len(), 32);
        while let Some(t) = registry.pop() {
            t.shutdown();
        }
        assert_eq!(registry.len(), 0);
        drop((views, rest));
    }
}

//! The wheel's entries: a paged slab with intrusive doubly-linked slot lists.
//!
//! An entry is addressed by a `u32` index that stays valid from `alloc` to `free`, so a
//! `Sleep` can hold it and cancel in O(1). Pages are never moved (growing adds a page rather
//! than reallocating one), so growing under the wheel's lock never copies a million entries.
//! Free entries form a singly-linked free list through `next`.

use std::task::Waker;

/// "No entry": the end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// `Entry::loc` of an entry that fired: unlinked, waiting for its owner to notice.
pub(crate) const LOC_FIRED: u16 = u16::MAX;
/// `Entry::loc` of an entry on the free list.
pub(crate) const LOC_FREE: u16 = u16::MAX - 1;
/// `Entry::loc` of a pending entry due later in the current millisecond: it is in the
/// wheel's sorted `current` run, not in a slot list.
pub(crate) const LOC_CURRENT: u16 = u16::MAX - 2;

const PAGE_BITS: u32 = 10;
const PAGE_LEN: usize = 1 << PAGE_BITS;

/// One timer. 40 bytes.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The exact deadline, in nanoseconds since the clock's origin.
    pub(crate) deadline: u64,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    /// While linked: `level * 64 + slot`. Otherwise [`LOC_CURRENT`], [`LOC_FIRED`] or
    /// [`LOC_FREE`].
    pub(crate) loc: u16,
    pub(crate) waker: Option<Waker>,
}

#[derive(Debug, Default)]
pub(crate) struct Entries {
    pages: Vec<Box<[Entry]>>,
    free: Option<u32>,
    /// Entries handed out and not yet freed.
    live: usize,
}

impl Entries {
    /// A fresh entry (not linked anywhere), and its index.
    pub(crate) fn alloc(&mut self, deadline: u64, waker: Option<Waker>) -> u32 {
        let index = match self.free {
            Some(index) => index,
            None => self.grow(),
        };
        let next_free = self.get(index).next;
        debug_assert_eq!(self.get(index).loc, LOC_FREE);
        self.free = match next_free {
            NIL => None,
            next => Some(next),
        };
        *self.get_mut(index) = Entry {
            deadline,
            prev: NIL,
            next: NIL,
            loc: LOC_FIRED,
            waker,
        };
        self.live += 1;
        index
    }

    /// Returns an unlinked entry to the free list (dropping its waker).
    pub(crate) fn free(&mut self, index: u32) {
        let next = self.free.unwrap_or(NIL);
        let entry = self.get_mut(index);
        assert!(
            entry.loc == LOC_FIRED,
            "timer entry {index} freed while linked or already free"
        );
        entry.loc = LOC_FREE;
        entry.waker = None;
        entry.next = next;
        entry.prev = NIL;
        self.free = Some(index);
        self.live -= 1;
    }

    pub(crate) fn live(&self) -> usize {
        self.live
    }

    #[inline]
    pub(crate) fn get(&self, index: u32) -> &Entry {
        &self.pages[(index >> PAGE_BITS) as usize][index as usize & (PAGE_LEN - 1)]
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, index: u32) -> &mut Entry {
        &mut self.pages[(index >> PAGE_BITS) as usize][index as usize & (PAGE_LEN - 1)]
    }

    /// Adds a page, threads it onto the free list, and returns its first index.
    fn grow(&mut self) -> u32 {
        let base = self.pages.len() * PAGE_LEN;
        assert!(
            base + PAGE_LEN <= NIL as usize,
            "more than 4 billion timers registered at once"
        );
        let page: Box<[Entry]> = (0..PAGE_LEN)
            .map(|i| Entry {
                deadline: 0,
                prev: NIL,
                next: if i + 1 < PAGE_LEN {
                    (base + i + 1) as u32
                } else {
                    NIL
                },
                loc: LOC_FREE,
                waker: None,
            })
            .collect();
        self.pages.push(page);
        base as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    #[test]
    fn freed_indices_are_reused_and_pages_grow() {
        let mut entries = Entries::default();
        let a = entries.alloc(1, None);
        let b = entries.alloc(2, None);
        assert_ne!(a, b);
        entries.free(a);
        assert_eq!(entries.alloc(3, None), a);
        let many: Vec<u32> = (0..3 * PAGE_LEN)
            .map(|i| entries.alloc(i as u64, None))
            .collect();
        assert_eq!(entries.live(), 2 + 3 * PAGE_LEN);
        for (i, index) in many.iter().enumerate() {
            assert_eq!(entries.get(*index).deadline, i as u64);
        }
        for index in many {
            entries.free(index);
        }
        assert_eq!(entries.live(), 2);
    }

    #[test]
    #[should_panic(expected = "freed while linked or already free")]
    fn double_free_is_caught() {
        let mut entries = Entries::default();
        let a = entries.alloc(1, None);
        entries.free(a);
        entries.free(a);
    }
}

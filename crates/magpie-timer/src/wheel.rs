//! A hierarchical timer wheel with exact deadlines.
//!
//! # Layout
//!
//! Time is counted in milliseconds since the clock's origin: a level-0 *slot* is 1 ms, the
//! wheel's unit. Level `L` has 64 slots of `64^L` ms each, so level 0 spans 64 ms, level 1
//! about 4 s, level 2 about 4.4 min, level 3 about 4.7 h, level 4 about 12.4 days and level
//! 5 about 2.2 years ([`MAX_SPAN_MS`] = 2^36 ms). Each level keeps a 64-bit occupancy bitmap
//! (bit `s` set when slot `s` holds an entry), so the next slot to look at is one rotate and
//! one trailing-zero count per level.
//!
//! An entry due in millisecond `t` is placed, relative to `elapsed` (the millisecond up to
//! which the wheel has been processed), at the level of the highest 6-bit group in which `t`
//! and `elapsed` differ, in slot `(t >> 6L) & 63`. So level 0 holds the entries due within
//! the current 64 ms block, level 1 those in the current 4096 ms block, and so on; an entry
//! at a lower level is always due before any entry at a higher one.
//!
//! # Exact deadlines
//!
//! The wheel decides when to *look* at an entry; the entry's exact deadline (nanoseconds)
//! decides whether it *fires*. [`Wheel::poll`] at time `now` visits every slot whose start
//! (in ms) is at or before `now`'s millisecond. In a higher-level slot it fires what is due
//! and re-places the rest one or more levels lower (a *cascade*); in the level-0 slot of the
//! current millisecond it fires the entries whose deadline is `<= now` and moves the others
//! (due later in this same millisecond) to the *current run*: a vector sorted by deadline, from
//! which later polls in the same millisecond pop exactly the entries that came due, without
//! walking the rest again (10,000 timers due in one millisecond, polled every few
//! microseconds by busy workers, would otherwise cost a walk of the whole slot per poll).
//! [`Wheel::next_deadline`] is therefore a lower bound
//! on every pending deadline: for a level-0 slot the smallest deadline placed in it, for a
//! higher level the slot's start (the time of the cascade). A driver that sleeps until
//! `next_deadline` and then polls never fires an entry early and is never a millisecond
//! late because of rounding.
//!
//! # Invariants
//!
//! - No occupied slot starts before `elapsed`: `elapsed` only moves to the start of the slot
//!   being processed, or to `now` once every slot up to `now` has been processed.
//! - An entry is *linked* (in exactly one slot list, `loc = level * 64 + slot`), *current*
//!   (`loc = LOC_CURRENT`, in the current run), *fired* (`loc = LOC_FIRED`, waiting for its
//!   owner to remove it) or free. Cancelling a current entry only changes its `loc`: its
//!   element in the run goes stale and is skipped when popped (an element is live only if
//!   its entry is still current with the same deadline), so cancel stays O(1).
//! - Every live element of the current run is due before the next level-0 slot; the run is
//!   empty of live elements once `now` passes the slot it was built in.
//! - `level0_min[s]` is at most the deadline of every entry in level-0 slot `s` (it may be
//!   lower after a cancel: that costs one early look, never an early fire).

use crate::entries::{Entries, LOC_CURRENT, LOC_FIRED, LOC_FREE, NIL};
use crate::NANOS_PER_SLOT;
use std::fmt;
use std::task::Waker;

/// Levels in the wheel.
pub const LEVELS: usize = 6;
/// Slots per level.
pub const SLOTS: usize = 64;
const SLOT_BITS: u32 = 6;
/// The wheel's range, in ms (level-0 slots): deadlines further away are placed at the far
/// end of the top level and re-placed when it comes around.
pub const MAX_SPAN_MS: u64 = 1 << (SLOT_BITS as usize * LEVELS);

/// Identifies a timer in a [`Wheel`] from [`Wheel::insert`] until [`Wheel::remove`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u32);

impl Key {
    /// The slab index behind the key (for diagnostics and models).
    pub fn index(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Level {
    occupied: u64,
    heads: [u32; SLOTS],
}

/// A hierarchical timer wheel; see the module documentation.
///
/// ```
/// use magpie_timer::Wheel;
/// let mut wheel = Wheel::new();
/// let a = wheel.insert(1_500_000, 0, None); // due at 1.5 ms
/// assert_eq!(wheel.next_deadline(), Some(1_500_000));
/// let mut fired = Vec::new();
/// wheel.poll(1_499_999, |key, _| fired.push(key));
/// assert!(fired.is_empty()); // never early
/// wheel.poll(1_500_000, |key, _| fired.push(key));
/// assert_eq!(fired, [a]);
/// assert!(wheel.remove(a)); // it had fired
/// ```
pub struct Wheel {
    /// The millisecond (level-0 slot) up to which the wheel has been processed.
    elapsed: u64,
    levels: [Level; LEVELS],
    level0_min: [u64; SLOTS],
    /// Entries due later in the current millisecond, as `(deadline, index)` sorted by
    /// deadline, *latest first* (so the next due is popped from the end). May hold stale
    /// elements (see the module docs).
    current: Vec<(u64, u32)>,
    entries: Entries,
    /// Pending entries: linked or current.
    pending: usize,
}

impl fmt::Debug for Wheel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed_ms", &self.elapsed)
            .field("pending", &self.pending)
            .field("entries", &self.entries.live())
            .finish()
    }
}

impl Default for Wheel {
    fn default() -> Wheel {
        Wheel::new()
    }
}

impl Wheel {
    /// An empty wheel at time 0.
    pub fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            levels: [Level {
                occupied: 0,
                heads: [NIL; SLOTS],
            }; LEVELS],
            level0_min: [u64::MAX; SLOTS],
            current: Vec::new(),
            entries: Entries::default(),
            pending: 0,
        }
    }

    /// Timers registered and not yet fired.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Timers held by their owners: pending ones plus fired ones not yet removed.
    pub fn len(&self) -> usize {
        self.entries.live()
    }

    /// Whether the wheel holds no timer at all.
    pub fn is_empty(&self) -> bool {
        self.entries.live() == 0
    }

    /// Registers a timer due at `deadline` (ns). `now` (ns) is only a hint that lets an empty
    /// wheel skip ahead; a deadline at or before the time of the last poll fires at the next.
    pub fn insert(&mut self, deadline: u64, now: u64, waker: Option<Waker>) -> Key {
        if self.pending == 0 {
            // Nothing is linked, so no slot can be skipped over.
            self.elapsed = self.elapsed.max(now / NANOS_PER_SLOT);
        }
        let index = self.entries.alloc(deadline, waker);
        self.link(index);
        self.pending += 1;
        Key(index)
    }

    /// Moves a timer (pending or fired) to a new deadline; it is pending afterwards.
    pub fn reset(&mut self, key: Key, deadline: u64) {
        if self.unlink_if_linked(key.0) {
            self.pending -= 1;
        }
        self.entries.get_mut(key.0).deadline = deadline;
        self.link(key.0);
        self.pending += 1;
    }

    /// Stores `waker` in the timer, unless the one stored already wakes the same task.
    pub fn set_waker(&mut self, key: Key, waker: &Waker) {
        let entry = self.entries.get_mut(key.0);
        match &mut entry.waker {
            Some(stored) if stored.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Whether the timer has fired (and not been reset since).
    pub fn is_fired(&self, key: Key) -> bool {
        self.entries.get(key.0).loc == LOC_FIRED
    }

    /// Cancels the timer if it is pending and frees it. Returns whether it had fired.
    pub fn remove(&mut self, key: Key) -> bool {
        let was_linked = self.unlink_if_linked(key.0);
        if was_linked {
            self.pending -= 1;
        }
        self.entries.free(key.0);
        !was_linked
    }

    /// A lower bound on every pending deadline (ns), or `None` when nothing is pending.
    /// Exact when the earliest timers are within the current 64 ms block (level 0) and no
    /// timer there was cancelled; otherwise the time of the next cascade.
    pub fn next_deadline(&self) -> Option<u64> {
        if self.pending == 0 {
            return None; // The current run may hold stale elements only.
        }
        let in_slots = self.next_expiration().map(|(level, slot, start)| {
            if level == 0 {
                self.level0_min[slot]
            } else {
                start.saturating_mul(NANOS_PER_SLOT)
            }
        });
        // The run's last element is its earliest (possibly stale: still a lower bound).
        let in_current = self.current.last().map(|&(deadline, _)| deadline);
        match (in_slots, in_current) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest pending deadline (ns), exactly: unlike [`Wheel::next_deadline`], never a
    /// cascade point or the deadline of a cancelled timer. Walks the current run and the
    /// earliest occupied slot (O(entries there)), which holds the earliest timer because
    /// slots below the top level cover disjoint ranges of time in the order of their starts
    /// (at the top level, every occupied slot). For paused time, which must jump exactly to
    /// the next timer.
    pub fn earliest_deadline(&self) -> Option<u64> {
        if self.pending == 0 {
            return None;
        }
        let in_current = self
            .current
            .iter()
            .rev()
            .find(|&&(deadline, index)| {
                let entry = self.entries.get(index);
                entry.loc == LOC_CURRENT && entry.deadline == deadline
            })
            .map(|&(deadline, _)| deadline);
        let in_slots = self.next_expiration().map(|(level, slot, _)| {
            if level + 1 < LEVELS {
                self.slot_min(level, slot)
            } else {
                // Top level: deadlines beyond the wheel's range are parked in its far slots
                // and re-placed on each cascade, so slot order is not deadline order there.
                (0..SLOTS)
                    .filter(|&s| self.levels[level].occupied & (1 << s) != 0)
                    .map(|s| self.slot_min(level, s))
                    .min()
                    .unwrap_or(u64::MAX)
            }
        });
        match (in_current, in_slots) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The smallest deadline in a slot's list (a walk).
    fn slot_min(&self, level: usize, slot: usize) -> u64 {
        let mut earliest = u64::MAX;
        let mut index = self.levels[level].heads[slot];
        while index != NIL {
            let entry = self.entries.get(index);
            earliest = earliest.min(entry.deadline);
            index = entry.next;
        }
        earliest
    }

    /// Fires every timer whose deadline is `<= now` (ns): each is unlinked, marked fired,
    /// and handed to `fire` with its waker taken out. Timers not yet due stay pending.
    pub fn poll(&mut self, now: u64, mut fire: impl FnMut(Key, Option<Waker>)) {
        let now_ms = now / NANOS_PER_SLOT;
        if self.pending == 0 {
            self.current.clear();
        }
        self.fire_current(now, &mut fire);
        while let Some((level, slot, start)) = self.next_expiration() {
            if start > now_ms {
                break;
            }
            // No occupied slot starts before `start`, so the wheel may stand there.
            self.elapsed = self.elapsed.max(start);
            let mut index = self.take_slot(level, slot);
            let is_current_slot = level == 0 && start == now_ms;
            let run_len = self.current.len();
            while index != NIL {
                let entry = self.entries.get_mut(index);
                let next = entry.next;
                if entry.deadline <= now {
                    entry.loc = LOC_FIRED;
                    entry.prev = NIL;
                    entry.next = NIL;
                    let waker = entry.waker.take();
                    self.pending -= 1;
                    fire(Key(index), waker);
                } else if is_current_slot {
                    // Due later in this millisecond: into the current run.
                    entry.loc = LOC_CURRENT;
                    entry.prev = NIL;
                    entry.next = NIL;
                    self.current.push((entry.deadline, index));
                } else {
                    // A cascade, one or more levels down.
                    self.link(index);
                }
                index = next;
            }
            if is_current_slot {
                if self.current.len() > run_len {
                    self.current.sort_unstable_by(|a, b| b.cmp(a));
                }
                // Every other slot starts after this one.
                break;
            }
        }
        self.elapsed = self.elapsed.max(now_ms);
    }

    /// Fires the current run's entries that are due by `now`, dropping stale elements.
    fn fire_current(&mut self, now: u64, fire: &mut impl FnMut(Key, Option<Waker>)) {
        while let Some(&(deadline, index)) = self.current.last() {
            if deadline > now {
                break;
            }
            self.current.pop();
            let entry = self.entries.get_mut(index);
            if entry.loc != LOC_CURRENT || entry.deadline != deadline {
                continue; // Stale: cancelled or moved since it joined the run.
            }
            entry.loc = LOC_FIRED;
            let waker = entry.waker.take();
            self.pending -= 1;
            fire(Key(index), waker);
        }
    }

    /// The earliest occupied slot over all levels: `(level, slot, start in ms)`.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for (level, l) in self.levels.iter().enumerate() {
            if l.occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let pos = ((self.elapsed >> shift) & (SLOTS as u64 - 1)) as u32;
            let slot = (l.occupied.rotate_right(pos).trailing_zeros() + pos) % SLOTS as u32;
            let slot_range = 1u64 << shift;
            let level_range = slot_range << SLOT_BITS;
            let mut start = (self.elapsed & !(level_range - 1)) + u64::from(slot) * slot_range;
            if slot < pos {
                start += level_range;
            }
            if best.is_none_or(|(_, _, b)| start < b) {
                best = Some((level, slot as usize, start));
            }
        }
        best
    }

    /// Links an unlinked entry into the slot its deadline belongs to, relative to `elapsed`.
    fn link(&mut self, index: u32) {
        let deadline = self.entries.get(index).deadline;
        let deadline_ms = (deadline / NANOS_PER_SLOT)
            .max(self.elapsed)
            .min(max_deadline_ms(self.elapsed));
        let level = level_for(self.elapsed, deadline_ms);
        let slot = ((deadline_ms >> (SLOT_BITS * level as u32)) & (SLOTS as u64 - 1)) as usize;
        let head = self.levels[level].heads[slot];
        if head != NIL {
            self.entries.get_mut(head).prev = index;
        }
        let entry = self.entries.get_mut(index);
        entry.prev = NIL;
        entry.next = head;
        entry.loc = (level * SLOTS + slot) as u16;
        self.levels[level].heads[slot] = index;
        self.levels[level].occupied |= 1 << slot;
        if level == 0 {
            self.level0_min[slot] = self.level0_min[slot].min(deadline);
        }
    }

    /// Unlinks the entry if it is in a slot list; returns whether it was.
    fn unlink_if_linked(&mut self, index: u32) -> bool {
        let entry = self.entries.get(index);
        let (loc, prev, next) = (entry.loc, entry.prev, entry.next);
        match loc {
            LOC_FIRED => return false,
            LOC_FREE => panic!("timer entry {index} used after it was removed"),
            LOC_CURRENT => {
                // Its element in the current run goes stale (see the module docs).
                self.entries.get_mut(index).loc = LOC_FIRED;
                return true;
            }
            _ => {}
        }
        let (level, slot) = (loc as usize / SLOTS, loc as usize % SLOTS);
        if prev == NIL {
            self.levels[level].heads[slot] = next;
            if next == NIL {
                self.clear_slot(level, slot);
            }
        } else {
            self.entries.get_mut(prev).next = next;
        }
        if next != NIL {
            self.entries.get_mut(next).prev = prev;
        }
        let entry = self.entries.get_mut(index);
        entry.loc = LOC_FIRED;
        entry.prev = NIL;
        entry.next = NIL;
        true
    }

    /// Detaches a slot's whole list and returns its head.
    fn take_slot(&mut self, level: usize, slot: usize) -> u32 {
        let head = std::mem::replace(&mut self.levels[level].heads[slot], NIL);
        self.clear_slot(level, slot);
        head
    }

    fn clear_slot(&mut self, level: usize, slot: usize) {
        self.levels[level].occupied &= !(1 << slot);
        if level == 0 {
            self.level0_min[slot] = u64::MAX;
        }
    }
}

/// The level of a deadline `deadline_ms >= elapsed` (in ms): the highest 6-bit group in which
/// the two differ (the top level for anything beyond it).
fn level_for(elapsed: u64, deadline_ms: u64) -> usize {
    let masked = ((elapsed ^ deadline_ms) | (SLOTS as u64 - 1)).min(MAX_SPAN_MS - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

/// The furthest deadline (in ms) that can be placed relative to `elapsed`: the end of the
/// top-level slot just before `elapsed`'s own, one full revolution ahead. Further deadlines
/// are placed there and re-placed (exactly) when that slot's cascade comes.
fn max_deadline_ms(elapsed: u64) -> u64 {
    let top_slot = 1u64 << (SLOT_BITS as usize * (LEVELS - 1));
    (elapsed & !(top_slot - 1)) + MAX_SPAN_MS - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = NANOS_PER_SLOT;

    fn fire_all(wheel: &mut Wheel, now: u64) -> Vec<Key> {
        let mut fired = Vec::new();
        wheel.poll(now, |key, _| fired.push(key));
        fired
    }

    #[test]
    fn levels_by_distance() {
        assert_eq!(level_for(0, 0), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(0, MAX_SPAN_MS - 1), 5);
        assert_eq!(level_for(63, 64), 1);
        // Crossing the top level's boundary stays at the top level.
        assert_eq!(level_for(MAX_SPAN_MS - 1, MAX_SPAN_MS + 5), 5);
    }

    #[test]
    fn never_early_never_rounded() {
        let mut wheel = Wheel::new();
        let key = wheel.insert(5 * MS + 300_000, 0, None);
        assert_eq!(wheel.next_deadline(), Some(5 * MS + 300_000));
        assert!(fire_all(&mut wheel, 5 * MS).is_empty());
        assert!(fire_all(&mut wheel, 5 * MS + 299_999).is_empty());
        assert_eq!(wheel.next_deadline(), Some(5 * MS + 300_000));
        assert_eq!(fire_all(&mut wheel, 5 * MS + 300_000), [key]);
        assert!(wheel.is_fired(key));
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn cascade_from_every_level() {
        let mut wheel = Wheel::new();
        let deadlines = [
            70,
            5_000,
            300_000,
            20_000_000,
            1_200_000_000,
            MAX_SPAN_MS - 10,
        ];
        let keys: Vec<Key> = deadlines
            .iter()
            .map(|&ms| wheel.insert(ms * MS + 1, 0, None))
            .collect();
        for (&ms, &key) in deadlines.iter().zip(&keys) {
            assert!(wheel.next_deadline().unwrap() <= ms * MS + 1);
            assert!(fire_all(&mut wheel, ms * MS).is_empty(), "early at {ms} ms");
            assert_eq!(fire_all(&mut wheel, ms * MS + 1), [key]);
        }
        assert_eq!(wheel.pending(), 0);
    }

    #[test]
    fn beyond_the_range_fires_exactly() {
        let mut wheel = Wheel::new();
        let far = 3 * MAX_SPAN_MS * MS + 7;
        let key = wheel.insert(far, 0, None);
        let mut now = 0;
        let mut looks = 0;
        while let Some(next) = wheel.next_deadline() {
            assert!(next <= far);
            now = next.max(now);
            looks += 1;
            let fired = fire_all(&mut wheel, now);
            if now < far {
                assert!(fired.is_empty());
            } else {
                assert_eq!(fired, [key]);
            }
        }
        assert_eq!(now, far);
        assert!(looks < 40, "{looks} looks for one far timer");
    }

    #[test]
    fn past_deadlines_fire_at_the_next_poll() {
        let mut wheel = Wheel::new();
        assert!(fire_all(&mut wheel, 100 * MS).is_empty());
        let key = wheel.insert(3 * MS, 100 * MS, None);
        assert_eq!(wheel.next_deadline(), Some(3 * MS));
        assert_eq!(fire_all(&mut wheel, 100 * MS), [key]);
    }

    #[test]
    fn the_current_millisecond_fires_in_deadline_order() {
        let mut wheel = Wheel::new();
        // 1,000 timers spread over one millisecond, inserted in a scrambled order.
        let keys: Vec<(u64, Key)> = (0..1000u64)
            .map(|i| {
                let deadline = 7 * MS + (i * 7919) % 1000 * 1000;
                (deadline, wheel.insert(deadline, 0, None))
            })
            .collect();
        assert!(
            fire_all(&mut wheel, 7 * MS).len() == 1,
            "only the one due at 7 ms"
        );
        assert_eq!(wheel.current.len(), 999, "the rest wait in the current run");
        // Cancel one and move another while they are in the run.
        let (_, cancelled) = keys[1];
        let (_, moved) = keys[2];
        assert!(!wheel.remove(cancelled));
        wheel.reset(moved, 9 * MS);
        let mut fired = 1;
        for step in 1..=1000u64 {
            let now = 7 * MS + step * 1000;
            let got = fire_all(&mut wheel, now);
            for key in &got {
                let (deadline, _) = keys.iter().find(|(_, k)| k == key).unwrap();
                assert!(*deadline <= now, "early");
                assert!(
                    *deadline > now - 1000,
                    "late: due {deadline}, fired at {now}"
                );
            }
            fired += got.len();
        }
        assert_eq!(fired, 998);
        assert_eq!(fire_all(&mut wheel, 9 * MS), [moved]);
        assert_eq!(wheel.pending(), 0);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn cancel_and_reset() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(10 * MS, 0, None);
        let b = wheel.insert(10 * MS, 0, None);
        let c = wheel.insert(10 * MS, 0, None);
        assert!(!wheel.remove(b));
        wheel.reset(c, 20 * MS);
        assert_eq!(fire_all(&mut wheel, 10 * MS), [a]);
        assert!(wheel.remove(a));
        assert_eq!(fire_all(&mut wheel, 20 * MS), [c]);
        // A fired timer can be reset and fires again.
        wheel.reset(c, 25 * MS);
        assert!(!wheel.is_fired(c));
        assert_eq!(fire_all(&mut wheel, 30 * MS), [c]);
        assert!(wheel.remove(c));
        assert!(wheel.is_empty());
    }
}

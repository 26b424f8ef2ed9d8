//! Which workers are searching for work and which are asleep.
//!
//! # The protocol
//!
//! One atomic word counts the workers that are *unparked* (awake) and, among them, those
//! that are *searching* (out of local work, stealing). The list of sleeping workers lives
//! behind a mutex (`Synced::sleepers`, passed in by the scheduler); a worker's move into or
//! out of that list and the matching change of the counts happen together under that mutex.
//!
//! 1. **Producers** (a spawn or wake that queued work a sleeping worker could take) call
//!    [`Idle::worker_to_notify`] after queuing. If some worker is searching, that searcher
//!    will find the work (see 3), so nobody is woken. Otherwise one sleeper is taken off the
//!    list, counted as unparked *and searching*, and unparked by the caller. The sleeper
//!    parked on the driver is picked last: it is the one waiting for timers (and I/O), and
//!    the others would not take its place while they sleep on their condition variables.
//! 2. **Throttle:** a worker may start searching only while fewer than half the workers
//!    search ([`Idle::try_start_searching`]), so an idle pool does not stampede over a
//!    single new task.
//! 3. **Hand-off:** a searcher that finds work stops searching; if it was the *last*
//!    searcher it wakes another worker (step 1), because more work may be queued behind the
//!    task it found and nobody is looking now.
//! 4. **Parking:** a worker parks in two steps. First [`Idle::transition_to_parked`]
//!    counts it as parked and lists it as a sleeper. Then, **if it was the last searcher**, it
//!    checks every queue one final time and, if any holds work, runs step 1 (which may wake
//!    this very worker). Only then does it block.
//!
//! # Why no wake-up is lost
//!
//! A producer *writes* a queue then *reads* the count word; a parking worker *writes* the
//! count word then *reads* the queues. Both sides put a `SeqCst` fence between their write
//! and their read, so at least one side sees the other's write: either the producer sees
//! that no one is searching and wakes a sleeper, or the last searcher sees the work in its
//! final check. A searcher that is not the last can park without a check because another
//! searcher still exists and will, in turn, be the last one. A sleeper that was woken is
//! counted as searching *before* it runs, so it too ends with the final check.
//!
//! loom checks this in `scheduler/loom_tests.rs`.

use magpie_shim::{fence, AtomicUsize, Mutex, Ordering};

const SEARCHING_BITS: usize = 16;
const SEARCHING_MASK: usize = (1 << SEARCHING_BITS) - 1;
const UNPARKED_ONE: usize = 1 << SEARCHING_BITS;

fn searching(word: usize) -> usize {
    word & SEARCHING_MASK
}
fn unparked(word: usize) -> usize {
    word >> SEARCHING_BITS
}

/// The sleeping workers, most recent last: `Synced::sleepers`.
pub(crate) type Sleepers = Mutex<Vec<usize>>;

pub(crate) struct Idle {
    counts: AtomicUsize,
    num_workers: usize,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCHING_MASK, "too many worker threads");
        Idle {
            counts: AtomicUsize::new(num_workers * UNPARKED_ONE),
            num_workers,
        }
    }

    /// Step 1: the worker a producer must unpark, if any. The returned worker is already
    /// counted as unparked and searching.
    #[cfg(any(test, loom))]
    pub(crate) fn worker_to_notify(&self, sleepers: &Sleepers) -> Option<usize> {
        self.worker_to_notify_avoiding(sleepers, |_| false)
    }

    /// Step 1, preferring the most recent sleeper for which `avoid` is false. The scheduler
    /// avoids the worker parked in the driver: woken for a task, it would leave the driver
    /// (and the timers it waits for) with nobody while the other sleepers stay on their
    /// condition variables.
    pub(crate) fn worker_to_notify_avoiding(
        &self,
        sleepers: &Sleepers,
        avoid: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        fence(Ordering::SeqCst);
        if !self.needs_notify() {
            return None;
        }
        let mut sleepers = sleepers.lock();
        if !self.needs_notify() {
            return None;
        }
        let pick = sleepers
            .iter()
            .rposition(|&w| !avoid(w))
            .or_else(|| sleepers.len().checked_sub(1))?;
        let worker = sleepers.remove(pick);
        self.counts.fetch_add(UNPARKED_ONE + 1, Ordering::SeqCst);
        Some(worker)
    }

    fn needs_notify(&self) -> bool {
        let word = self.counts.load(Ordering::SeqCst);
        searching(word) == 0 && unparked(word) < self.num_workers
    }

    /// A cheap, unfenced hint for spreading local work: some worker may be asleep while none
    /// searches. Not part of the no-lost-wake-up argument.
    #[inline]
    pub(crate) fn may_have_idle_sleepers(&self) -> bool {
        self.needs_notify()
    }

    /// Step 2: `true` when the caller may search (and is now counted as searching).
    pub(crate) fn try_start_searching(&self) -> bool {
        let word = self.counts.load(Ordering::SeqCst);
        if 2 * searching(word) >= self.num_workers.max(2) {
            return false;
        }
        self.counts.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Step 3: the caller found work and stops searching. `true` when it was the last
    /// searcher, so the caller must notify another worker.
    pub(crate) fn stop_searching(&self) -> bool {
        let prev = self.counts.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Step 4: lists `worker` as a sleeper. `true` when it was the last searcher: the caller
    /// must then check every queue before it blocks.
    pub(crate) fn transition_to_parked(
        &self,
        sleepers: &Sleepers,
        worker: usize,
        is_searching: bool,
    ) -> bool {
        let mut sleepers = sleepers.lock();
        let dec = UNPARKED_ONE + usize::from(is_searching);
        let prev = self.counts.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        drop(sleepers);
        fence(Ordering::SeqCst);
        is_searching && searching(prev) == 1
    }

    /// A parked worker woke for its own reasons (its driver dispatched an event that queued
    /// work locally, or shutdown) and leaves the sleeper list without being notified.
    /// `false` when a producer already took it off the list (it is then counted as
    /// searching).
    pub(crate) fn unpark_self(&self, sleepers: &Sleepers, worker: usize) -> bool {
        let mut sleepers = sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.counts.fetch_add(UNPARKED_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether every worker has parked (and none was notified since): one input of the
    /// runtime's idleness check (`Shared::is_runtime_idle`).
    pub(crate) fn all_parked(&self) -> bool {
        unparked(self.counts.load(Ordering::SeqCst)) == 0
    }

    /// Whether `worker` is on the sleeper list (not yet notified).
    pub(crate) fn is_sleeping(sleepers: &Sleepers, worker: usize) -> bool {
        sleepers.lock().contains(&worker)
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let w = self.counts.load(Ordering::SeqCst);
        (unparked(w), searching(w))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn sleepers() -> Sleepers {
        Mutex::new(Vec::new())
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let idle = Idle::new(4);
        assert!(idle.try_start_searching());
        assert!(idle.try_start_searching());
        assert!(!idle.try_start_searching());
        assert!(!idle.stop_searching());
        assert!(idle.stop_searching());
    }

    #[test]
    fn a_single_worker_may_search() {
        let idle = Idle::new(1);
        assert!(idle.try_start_searching());
    }

    #[test]
    fn nobody_is_woken_while_someone_searches() {
        let idle = Idle::new(2);
        let s = sleepers();
        assert!(!idle.transition_to_parked(&s, 0, false));
        assert!(idle.try_start_searching());
        assert_eq!(idle.worker_to_notify(&s), None);
        assert!(idle.stop_searching());
        assert_eq!(idle.worker_to_notify(&s), Some(0));
        assert_eq!(idle.counts(), (2, 1));
    }

    #[test]
    fn the_last_searcher_to_park_is_told_to_check_the_queues() {
        let idle = Idle::new(2);
        let s = sleepers();
        assert!(idle.try_start_searching());
        assert!(idle.transition_to_parked(&s, 1, true));
        assert!(!idle.transition_to_parked(&s, 0, false));
        assert_eq!(idle.counts(), (0, 0));
    }

    #[test]
    fn the_driver_holder_is_woken_last() {
        let idle = Idle::new(3);
        let s = sleepers();
        idle.transition_to_parked(&s, 0, false);
        idle.transition_to_parked(&s, 1, false);
        idle.transition_to_parked(&s, 2, false);
        let on_driver = |w| w == 2;
        assert_eq!(idle.worker_to_notify_avoiding(&s, on_driver), Some(1));
        assert!(idle.stop_searching());
        assert_eq!(idle.worker_to_notify_avoiding(&s, on_driver), Some(0));
        assert!(idle.stop_searching());
        assert_eq!(idle.worker_to_notify_avoiding(&s, on_driver), Some(2));
    }

    #[test]
    fn unpark_self_fails_once_notified() {
        let idle = Idle::new(2);
        let s = sleepers();
        idle.transition_to_parked(&s, 0, false);
        assert_eq!(idle.worker_to_notify(&s), Some(0));
        assert!(!idle.unpark_self(&s, 0));
        idle.transition_to_parked(&s, 1, false);
        assert!(Idle::is_sleeping(&s, 1));
        assert!(idle.unpark_self(&s, 1));
        assert!(!Idle::is_sleeping(&s, 1));
    }
}

//! The thread-safe timers of one runtime: sharded wheels and the driver's wake-up protocol.
//!
//! # Shards
//!
//! There is one [`Wheel`] per shard, each behind its own lock, and by default one shard per
//! worker: a timer registers in the shard of the worker that first polls it, so registering
//! and cancelling (the common case: a timeout whose future finished first) only ever takes a
//! lock no other worker wants. Whoever processes timers (the driver, or a busy worker on its
//! periodic turn) visits every shard whose next deadline has come. Each shard publishes that
//! deadline in `next_wake`, an atomic written only under the shard's lock: an insert lowers
//! it (`fetch_min`), processing recomputes it. It is never later than the shard's earliest
//! pending deadline, so reading the atomics is enough to know how long the driver may sleep
//! and whether a turn has anything to do, without taking a lock.
//!
//! # Timer entry states
//!
//! All transitions happen under the shard's lock, so they are totally ordered:
//!
//! ```text
//!              register                 fire (driver: deadline <= now)
//!   (none) ─────────────▶ REGISTERED ─────────────────────────▶ FIRING ──▶ FIRED
//!                            │  ▲                                  (waker taken out of the
//!           cancel (owner)   │  │ reset (owner)                     entry, woken after the
//!                            ▼  │                                   lock is released)
//!                         CANCELLED ◀───────── cancel (owner) ────────── FIRED
//! ```
//!
//! - REGISTERED: linked in a wheel slot, holding the owner's waker.
//! - FIRING: the driver unlinked the entry and moved its waker into a local batch; the entry
//!   is already FIRED as far as the owner can see. The batch is woken once the lock is
//!   released, because a waker may run arbitrary code (even drop another timer of this
//!   shard).
//! - FIRED: unlinked; the slot still belongs to the owner, who observes the state on its next
//!   poll and then removes the entry.
//! - CANCELLED: the owner removed the entry (dropped its `Sleep`, or saw it fired); the slot
//!   returns to the free list. Only the owner frees an entry, so a key is never reused while
//!   its owner still holds it.
//!
//! The race between cancel and fire is decided by the lock: either the cancel comes first
//! (the entry is unlinked and freed; the driver never sees it), or the fire comes first (the
//! waker is in the driver's batch; the cancel frees the FIRED entry, and the batch's wake of
//! the owner's task is a harmless spurious wake-up). A reset racing a fire likewise either
//! moves a REGISTERED entry or re-links a FIRED one. The loom models in `loom_tests.rs`
//! check these races: every fired timer's waker is woken exactly once, a cancelled one never
//! after its cancel returns, and no entry is leaked or freed twice.
//!
//! # Waking a sleeping driver
//!
//! The driver sleeps until the earliest `next_wake`. A timer registered *earlier* than that
//! while it sleeps must wake it. `parked_until` says what the driver committed to:
//!
//! - `AWAKE` (0): not sleeping; it will read the shards before it next sleeps.
//! - `PARKING` (`u64::MAX`): about to sleep, computing until when: wake it for anything.
//! - `t`: sleeping until `t` (ns).
//!
//! Driver: `store(PARKING)`, read every `next_wake`, `compare_exchange(PARKING → t)`, sleep
//! until `t`, then `store(AWAKE)`. Registrar: insert and `fetch_min` its shard's `next_wake`
//! (under the lock), then load `parked_until`; if its deadline is earlier, lower
//! `parked_until` to it with a compare-exchange and, if that succeeded, unpark the driver.
//! Both sides put a `SeqCst` fence between their write and their read (the store-buffering
//! pattern; loom checks fences, not `SeqCst` accesses alone), so of the driver's
//! `store(PARKING)`/read-`next_wake` and the registrar's `fetch_min`/load-`parked_until`,
//! one pair is ordered first: either the driver
//! reads the new `next_wake` (and sleeps no later than the new deadline), or the registrar
//! sees `PARKING` or `t` and unparks it (unpark is sticky, so an unpark that lands before
//! the driver blocks still ends its sleep). Lowering `parked_until` means that of many
//! registrations earlier than `t`, only those that are earlier still unpark again.

use crate::wheel::{Key, Wheel};
use magpie_shim::{fence, AtomicBool, AtomicU64, CachePadded, Mutex, Ordering};
use std::cell::RefCell;
use std::fmt;
use std::task::{Poll, Waker};

const AWAKE: u64 = 0;
const PARKING: u64 = u64::MAX;
/// `next_wake` of a shard with nothing pending.
const NONE: u64 = u64::MAX;

struct Shard {
    wheel: Mutex<Wheel>,
    next_wake: AtomicU64,
    /// Timers registered in this shard, and fired, so far (metrics). Written only under
    /// the wheel's lock: a load and a store.
    registered: Counter,
    fired: Counter,
}

/// A counter written under a lock, read without one.
struct Counter(magpie_shim::unmodelled::AtomicU64);

impl Counter {
    fn new() -> Counter {
        Counter(magpie_shim::unmodelled::AtomicU64::new(0))
    }

    /// The caller holds the lock that guards the writes.
    fn add(&self, n: u64) {
        let value = self.0.load(Ordering::Relaxed);
        self.0.store(value + n, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The timers of one runtime. See the module documentation.
pub struct Timers {
    shards: Box<[CachePadded<Shard>]>,
    parked_until: CachePadded<AtomicU64>,
    shutdown: AtomicBool,
}

/// The key of a registered timer in [`Timers`]: its shard and its [`Key`] in that shard's
/// wheel. Owned by the future that registered the timer; give it back with
/// [`Timers::cancel`].
#[derive(Debug)]
pub struct TimerKey {
    shard: u32,
    key: Key,
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("shards", &self.shards.len())
            .field("next_wake", &self.next_wake())
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

thread_local! {
    /// Wakers collected under a shard lock, woken after it is released. Reused so that
    /// processing does not allocate.
    static WAKE_BATCH: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

impl Timers {
    /// Timers with `shards` wheels (at least one).
    pub fn new(shards: usize) -> Timers {
        Timers {
            shards: (0..shards.max(1))
                .map(|_| {
                    CachePadded::new(Shard {
                        wheel: Mutex::new(Wheel::new()),
                        next_wake: AtomicU64::new(NONE),
                        registered: Counter::new(),
                        fired: Counter::new(),
                    })
                })
                .collect(),
            parked_until: CachePadded::new(AtomicU64::new(AWAKE)),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Registers a timer due at `deadline` (ns) in shard `shard_hint % shards`. Returns the
    /// timer's key and whether the caller must unpark the driver (the timer is earlier
    /// than the time the driver sleeps until).
    pub fn register(
        &self,
        shard_hint: usize,
        deadline: u64,
        now: u64,
        waker: &Waker,
    ) -> (TimerKey, bool) {
        let shard_index = shard_hint % self.shards.len();
        let shard = &self.shards[shard_index];
        let key = {
            let mut wheel = shard.wheel.lock();
            let key = wheel.insert(deadline, now, Some(waker.clone()));
            shard.registered.add(1);
            shard.next_wake.fetch_min(deadline, Ordering::SeqCst);
            key
        };
        let timer = TimerKey {
            shard: shard_index as u32,
            key,
        };
        (timer, self.claim_wake_up(deadline))
    }

    /// Moves a registered timer (pending or fired) to `deadline`; it is pending afterwards,
    /// with the waker it had (none if it fired: the owner's next poll stores one). Returns
    /// whether the caller must unpark the driver.
    pub fn reset(&self, timer: &TimerKey, deadline: u64) -> bool {
        let shard = &self.shards[timer.shard as usize];
        {
            let mut wheel = shard.wheel.lock();
            wheel.reset(timer.key, deadline);
            shard.next_wake.fetch_min(deadline, Ordering::SeqCst);
        }
        self.claim_wake_up(deadline)
    }

    /// `Ready` once the timer has fired; otherwise stores `waker` to be woken when it does.
    pub fn poll_fired(&self, timer: &TimerKey, waker: &Waker) -> Poll<()> {
        let mut wheel = self.shards[timer.shard as usize].wheel.lock();
        if wheel.is_fired(timer.key) {
            Poll::Ready(())
        } else {
            wheel.set_waker(timer.key, waker);
            Poll::Pending
        }
    }

    /// Cancels the timer (if still pending) and frees its entry. Returns whether it had
    /// fired.
    pub fn cancel(&self, timer: TimerKey) -> bool {
        self.shards[timer.shard as usize]
            .wheel
            .lock()
            .remove(timer.key)
    }

    /// A lower bound (ns) on every pending deadline, or `None` when no timer is pending.
    pub fn next_wake(&self) -> Option<u64> {
        let next = self
            .shards
            .iter()
            .map(|shard| shard.next_wake.load(Ordering::SeqCst))
            .min()
            .unwrap_or(NONE);
        (next != NONE).then_some(next)
    }

    /// The earliest pending deadline (ns), exactly (see [`Wheel::earliest_deadline`]); takes
    /// every shard's lock. For paused time.
    pub fn earliest_deadline(&self) -> Option<u64> {
        self.shards
            .iter()
            .filter_map(|shard| shard.wheel.lock().earliest_deadline())
            .min()
    }

    /// Fires every timer due at `now` (ns) and wakes their wakers, outside the locks.
    /// Returns how many fired. Any thread may call it; a panicking waker is reported and the
    /// others are still woken.
    pub fn process(&self, now: u64) -> usize {
        let mut fired = 0;
        for shard in self.shards.iter() {
            if shard.next_wake.load(Ordering::SeqCst) > now {
                continue;
            }
            let mut batch = WAKE_BATCH.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
            {
                let mut wheel = shard.wheel.lock();
                let before = fired;
                wheel.poll(now, |_, waker| {
                    fired += 1;
                    batch.extend(waker);
                });
                shard.fired.add((fired - before) as u64);
                let next = wheel.next_deadline().unwrap_or(NONE);
                shard.next_wake.store(next, Ordering::SeqCst);
            }
            wake_all(&mut batch);
            WAKE_BATCH.with(|cell| {
                let mut cell = cell.borrow_mut();
                if cell.capacity() < batch.capacity() {
                    *cell = batch;
                }
            });
        }
        fired
    }

    /// The driver is about to sleep: returns until when (ns), `None` meaning until unparked.
    /// Must be followed by [`Timers::end_park`] once it wakes.
    pub fn begin_park(&self) -> Option<u64> {
        self.parked_until.store(PARKING, Ordering::SeqCst);
        // Pairs with the fence in `claim_wake_up` (store-buffering: see the module docs).
        fence(Ordering::SeqCst);
        let next = self.next_wake();
        // A registrar that saw PARKING may have lowered it already (and unparked us).
        let _ = self.parked_until.compare_exchange(
            PARKING,
            next.unwrap_or(PARKING),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        next
    }

    /// The driver woke up (see [`Timers::begin_park`]).
    pub fn end_park(&self) {
        self.parked_until.store(AWAKE, Ordering::SeqCst);
    }

    /// Whether the driver must be unparked for a timer due at `deadline`; at most one of
    /// several racing registrations per earlier deadline gets `true`.
    fn claim_wake_up(&self, deadline: u64) -> bool {
        // Orders our `next_wake` update before the load below, against the driver's
        // store(PARKING)-then-read (see the module docs).
        fence(Ordering::SeqCst);
        let mut parked_until = self.parked_until.load(Ordering::SeqCst);
        while deadline < parked_until {
            match self.parked_until.compare_exchange(
                parked_until,
                deadline,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => parked_until = actual,
            }
        }
        false
    }

    /// Fires every timer, due or not, and refuses new ones' completion: for a runtime that
    /// shut down. Owners check [`Timers::is_shutdown`] when woken.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.process(u64::MAX);
    }

    /// Whether [`Timers::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Timers registered so far (each `register`; a `reset` is the same timer).
    pub fn registered_count(&self) -> u64 {
        self.shards.iter().map(|s| s.registered.get()).sum()
    }

    /// Timers that fired so far (cancelled ones never fire).
    pub fn fired_count(&self) -> u64 {
        self.shards.iter().map(|s| s.fired.get()).sum()
    }

    /// Timers registered and not yet fired, over all shards (takes every lock: diagnostics).
    pub fn pending(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.wheel.lock().pending())
            .sum()
    }
}

fn wake_all(batch: &mut Vec<Waker>) {
    for waker in batch.drain(..) {
        let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        if woke.is_err() {
            magpie_shim::diagnostics::report(format_args!(
                "a panic in a timer's waker was contained"
            ));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn fire_wakes_once_and_cancel_after_fire_reports_it() {
        let timers = Timers::new(2);
        let (count, waker) = counter();
        let (key, unpark) = timers.register(1, 5_000, 0, &waker);
        assert!(!unpark, "no driver is parked");
        assert_eq!(timers.next_wake(), Some(5_000));
        assert_eq!(timers.process(4_999), 0);
        assert!(timers.poll_fired(&key, &waker).is_pending());
        assert_eq!(timers.process(5_000), 1);
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(timers.poll_fired(&key, &waker).is_ready());
        assert!(timers.cancel(key));
        assert_eq!(timers.next_wake(), None);
    }

    #[test]
    fn earlier_timer_unparks_a_parked_driver_once() {
        let timers = Timers::new(1);
        let (_count, waker) = counter();
        let (_late, _) = timers.register(0, 1_000_000, 0, &waker);
        assert_eq!(timers.begin_park(), Some(1_000_000));
        let (_later, unpark) = timers.register(0, 2_000_000, 0, &waker);
        assert!(!unpark, "later than the driver's wake-up");
        let (_early, unpark) = timers.register(0, 500, 0, &waker);
        assert!(unpark);
        let (_early_too, unpark) = timers.register(0, 600, 0, &waker);
        assert!(
            !unpark,
            "the driver was already unparked for an earlier one"
        );
        timers.end_park();
        let (_awake, unpark) = timers.register(0, 1, 0, &waker);
        assert!(!unpark, "an awake driver reads the shards before it sleeps");
    }

    #[test]
    fn shutdown_fires_everything() {
        let timers = Timers::new(3);
        let (count, waker) = counter();
        let keys: Vec<_> = (0..10)
            .map(|i| timers.register(i, u64::MAX / 2 + i as u64, 0, &waker).0)
            .collect();
        timers.shutdown();
        assert!(timers.is_shutdown());
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 10);
        for key in keys {
            assert!(timers.cancel(key));
        }
    }
}

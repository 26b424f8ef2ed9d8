//! The scheduler's lock-guarded state, in one place.

use magpie_shim::{Condvar, Mutex};

/// Every lock of the scheduler and what it guards. **No code holds two of them at once**, so
/// there is no lock order to keep. Everything else the scheduler shares is atomic (the idle
/// counts, the parkers' states, `closed`, the poll counters) or a lock-free queue.
///
/// The three are separate locks, not one (as tokio's single `Synced` mutex is), because
/// their holders differ in kind: the driver lock is held for as long as a worker waits in the
/// driver, which may be forever, while the sleeper list is taken on every notification and
/// must never wait behind it.
pub(crate) struct Synced {
    /// The workers asleep and not yet notified, most recent last (idle.rs). Held briefly: a
    /// worker's move onto or off the list happens together with the change of the idle
    /// counts, under this lock.
    pub(crate) sleepers: Mutex<Vec<usize>>,
    /// Held by the one worker inside the driver (parked in it, or taking a turn), for the
    /// whole time it is there; only ever `try_lock`ed, so nobody waits for it.
    pub(crate) driver: Mutex<()>,
    /// Worker threads still running; each decrement is announced on `workers_exited`, which
    /// shutdown waits on.
    pub(crate) running_workers: Mutex<usize>,
    pub(crate) workers_exited: Condvar,
}

impl Synced {
    pub(crate) fn new(num_workers: usize) -> Synced {
        Synced {
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            driver: Mutex::new(()),
            running_workers: Mutex::new(num_workers),
            workers_exited: Condvar::new(),
        }
    }
}

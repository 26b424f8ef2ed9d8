//! The current-thread runtime (`Builder::new_current_thread`): asyncio's one-thread loop.
//!
//! It is the work-stealing scheduler with one worker and no worker thread. The worker's
//! state (its deque; its LIFO slot and parker live in `Remote` as for any worker) waits in
//! the [`CoreSlot`] while no thread runs it. A thread entering `block_on` takes it and runs
//! the ordinary worker loop (worker.rs) with its `block_on` future as the loop's *root*:
//! polled, when it was woken, between batches of tasks and whenever the queues run dry. So timers, I/O, `spawn_blocking`, the
//! budget, paused time, metrics and every magpie-sync primitive behave as on the
//! multi-thread runtime, by the same code.
//!
//! - **Spawns from other threads** go to the injector and unpark the worker (idle.rs), that
//!   is the `block_on` thread parked in the driver. With no `block_on` running they wait in
//!   the injector for the next one (tokio's current-thread runtime does the same).
//! - **Two threads in `block_on` at once**: the second finds the slot empty, leaves its
//!   waker in the slot's waiters and polls its own future only; the first one's `block_on`
//!   returning gives the worker back and wakes the waiters, and one of them takes it.
//! - **Waking the root**: while the thread runs the loop its `block_on` waker unparks the
//!   worker instead of signalling a condvar (`ThreadWaker::set_driving`), and the loop's
//!   park ends when the root was woken (`WorkerLocal::has_own_work`).
//! - **Shutdown** while no thread runs the worker drops the entries in the slot's deque
//!   (shutdown.rs); a thread running it sees `closed`, leaves the loop, drops its queued
//!   entries, and goes on polling its own future alone.
//! - **A panic in the root future** unwinds out of the loop; the slot gets the worker back
//!   all the same ([`Driving`]'s `Drop`).

use super::worker::WorkerLocal;
use super::{Handle, LocalSession};
use crate::block_on::{Root, ThreadWaker};
use crate::context;
use crate::task::Notified;
use magpie_shim::deque::Worker;
use magpie_shim::{Mutex, Ordering};
use std::task::Waker;

/// Where a current-thread runtime's worker waits for a thread to run it.
pub(crate) struct CoreSlot {
    state: Mutex<SlotState>,
}

struct SlotState {
    /// The worker's deque; `None` while a `block_on` runs it.
    deque: Option<Worker<Notified>>,
    /// The wakers of `block_on`s waiting for it.
    waiters: Vec<Waker>,
}

impl CoreSlot {
    pub(crate) fn new(deque: Worker<Notified>) -> CoreSlot {
        CoreSlot {
            state: Mutex::new(SlotState {
                deque: Some(deque),
                waiters: Vec::new(),
            }),
        }
    }

    /// The deque, or `None` after `waker` was left to be woken when it comes back.
    fn take_or_wait(&self, waker: &Waker) -> Option<Worker<Notified>> {
        let mut state = self.state.lock();
        if let Some(deque) = state.deque.take() {
            return Some(deque);
        }
        if !state.waiters.iter().any(|w| w.will_wake(waker)) {
            state.waiters.push(waker.clone());
        }
        None
    }

    fn give_back(&self, deque: Worker<Notified>) {
        let waiters = {
            let mut state = self.state.lock();
            state.deque = Some(deque);
            std::mem::take(&mut state.waiters)
        };
        for waiter in waiters {
            waiter.wake();
        }
    }

    /// Shutdown: drops the queue entries of a worker no thread runs (their tasks are in the
    /// registry, which drops the futures).
    pub(crate) fn drain(&self) {
        let entries: Vec<Notified> = {
            let state = self.state.lock();
            match &state.deque {
                Some(deque) => std::iter::from_fn(|| deque.pop()).collect(),
                None => Vec::new(),
            }
        };
        drop(entries);
    }
}

/// The worker while a `block_on` runs it: gives it back to the slot however the loop ends.
struct Driving<'a> {
    local: Option<WorkerLocal>,
    slot: &'a CoreSlot,
    root_waker: &'a ThreadWaker,
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        self.root_waker.set_driving(None);
        let local = self.local.take().expect("the worker is given back once");
        let closed = local.handle_ref().shared.closed.load(Ordering::Acquire);
        let deque = local.into_deque();
        if closed {
            while let Some(task) = deque.pop() {
                drop(task);
            }
        }
        self.slot.give_back(deque);
    }
}

/// Runs the current-thread runtime's worker on this thread with `root` as the loop's root
/// future, if no other thread runs it. Returns `true` once the root completed; `false` when
/// another thread has the worker (this thread's waker is woken when it is given back) or
/// the runtime was shut down.
pub(crate) fn drive(
    handle: &Handle,
    root: &mut dyn Root,
    root_waker: &ThreadWaker,
    session: &LocalSession,
) -> bool {
    let shared = &handle.shared;
    let slot = shared
        .current_thread
        .as_ref()
        .expect("drive is called for a current-thread runtime");
    if shared.closed.load(Ordering::Acquire) {
        return false;
    }
    let Some(deque) = slot.take_or_wait(root.waker()) else {
        return false;
    };
    root_waker.set_driving(Some(handle.clone()));
    let driving = Driving {
        local: Some(WorkerLocal::new(0, handle.clone(), deque)),
        slot,
        root_waker,
    };
    let local = driving.local.as_ref().expect("set above");
    let _worker = context::set_worker(local);
    local.run_with_root(root, session)
}

impl Handle {
    /// Unparks the worker of a current-thread runtime (its `block_on` future was woken).
    pub(crate) fn unpark_current_thread_worker(&self) {
        self.shared.remotes[0].parker.unpark(&*self.shared.driver);
    }
}

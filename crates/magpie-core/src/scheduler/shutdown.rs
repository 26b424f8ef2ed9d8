//! Shutting a scheduler down.
//!
//! # The sequence
//!
//! 1. **Close.** Set `closed` and close the registry. From now on a spawn cancels its task at
//!    once, and a wake from outside the workers drops its queue entry instead of queuing it
//!    (the registry still owns the future).
//! 2. **Wake every worker.** Each unparks, sees `closed`, drops the queue entries in its LIFO
//!    slot and deque (not the futures: their tasks are still in the registry), runs its
//!    `on_thread_stop` hook and exits. Stop the monitor and join it: it runs no user code
//!    and only ever waits on its own wake-up flag, so it exits at once.
//! 3. **Wait for the workers** (until the deadline, if one was given) and join those that
//!    exited. A worker stuck in a poll that never returns is left behind, detached; the
//!    task it polls is skipped in step 5 and cancelled by that worker when its poll ends.
//! 4. **Drain the injector**, dropping its entries; on a current-thread runtime also the
//!    deque and LIFO slot of its worker when no `block_on` runs it (current_thread.rs).
//! 5. **Drop every unfinished future, exactly once, with no lock held.** Tasks are taken out
//!    of the registry one at a time (the shard lock is released before the future is
//!    dropped), since a future's `Drop` may wake another task (step 1 makes that harmless),
//!    spawn one (cancelled at once), or complete a JoinHandle some other thread awaits.
//! 6. **Blocking pool:** tasks not started yet are cancelled; running ones are waited for
//!    until the deadline (for ever without one), then left to finish on their own.
//! 7. **Driver shutdown:** the driver fires every pending timer, so a future bound to this
//!    runtime but polled elsewhere (another executor) is woken and learns the runtime is
//!    gone instead of waiting for ever.
//!
//! A runtime dropped on one of its own worker threads (from inside a task) cannot join that
//! thread: step 3 waits for the other workers only, and step 6 cancels queued closures but
//! waits for no blocking thread. A runtime dropped on one of its own blocking threads waits
//! for the other blocking threads, not that one.

use super::{Handle, Scheduler};
use crate::context;
use magpie_shim::Ordering;
use std::time::Instant;

impl Scheduler {
    /// Shuts down as described in the module documentation, waiting for threads until
    /// `deadline` (`None`: for as long as they take). Idempotent.
    pub fn shutdown(&mut self, deadline: Option<Instant>) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        let shared = &self.handle.shared;

        // 1. Close.
        shared.closed.store(true, Ordering::SeqCst);
        shared.registry.close();

        // 2. Wake every worker (the sticky unpark also covers one about to park).
        for remote in shared.remotes.iter() {
            remote.parker.unpark(&*shared.driver);
        }
        shared.driver.unpark();
        shared.monitor.stop();
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }

        // 3. Wait for the workers, then join the ones that exited.
        let on_own_worker = context::with_worker(|w| w.is_some_and(|w| w.belongs_to(&self.handle)));
        let must_wait = if on_own_worker { 1 } else { 0 };
        let all_exited = {
            let mut running = shared.synced.running_workers.lock();
            while *running > must_wait {
                match deadline {
                    None => running = shared.synced.workers_exited.wait(running),
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            break;
                        }
                        running = shared
                            .synced
                            .workers_exited
                            .wait_timeout(running, d - now)
                            .0;
                    }
                }
            }
            *running <= must_wait
        };
        let me = std::thread::current().id();
        for thread in std::mem::take(&mut self.threads) {
            // A worker counts itself out after its stop hook, so joining one that did is quick.
            if thread.thread().id() != me && (all_exited || thread.is_finished()) {
                let _ = thread.join();
            }
            // Otherwise: detached. It exits once its poll returns.
        }

        // 4. Drain the injector (and a current-thread runtime's idle worker).
        shared.drain_injector();
        if let Some(slot) = &shared.current_thread {
            slot.drain();
            drop(shared.remotes[0].lifo.take());
        }

        // 5. Drop every unfinished future, one task at a time, no lock held.
        while let Some(task) = shared.registry.pop() {
            task.shutdown();
        }

        // 6. The blocking pool.
        let blocking_deadline = if on_own_worker {
            Some(Instant::now())
        } else {
            deadline
        };
        shared.blocking.shutdown(blocking_deadline);

        // 7. Tell the driver: it fires its timers so that futures polled elsewhere notice.
        shared.driver.shutdown();
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl Handle {
    /// Whether the current thread is one of this runtime's workers.
    pub fn is_on_worker_thread(&self) -> bool {
        context::with_worker(|w| w.is_some_and(|w| w.belongs_to(self)))
    }
}

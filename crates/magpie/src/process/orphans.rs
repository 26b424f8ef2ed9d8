//! Reaping children whose [`Child`](super::Child) was dropped before they exited, so that
//! none is left a zombie (see "No zombies" in the module documentation for when).
//!
//! Two mechanisms:
//!
//! - [`adopt`] (a drop inside a runtime): a task on that runtime waits for the child through
//!   its [`Waiter`] and reaps it. If the task is dropped before that (its runtime shut down,
//!   or the wait failed), the child goes to the queue.
//! - The queue ([`push`], [`reap`]): a process-wide list of `std::process::Child`, each
//!   checked with `try_wait` (`waitpid(its pid, WNOHANG)`) by [`reap`], which every spawn
//!   and every child wake-up calls.

use super::child::Waiter;
use std::future::poll_fn;
use std::io;
use std::process::Child as StdChild;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The orphans not yet seen to exit.
static QUEUE: Mutex<Vec<StdChild>> = Mutex::new(Vec::new());

/// `QUEUE`'s length as last stored under its lock: lets [`reap`] skip the lock when the
/// queue is empty (the common case). A stale read is harmless: a push racing with a reap
/// that read 0 is checked at the next spawn or wake-up.
static LEN: AtomicUsize = AtomicUsize::new(0);

fn queue() -> MutexGuard<'static, Vec<StdChild>> {
    // A panic while holding the lock cannot leave the Vec inconsistent (push and retain only).
    QUEUE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Queues `child`, which has not been seen to exit, for [`reap`].
pub(super) fn push(child: StdChild) {
    let mut queue = queue();
    queue.push(child);
    LEN.store(queue.len(), Ordering::Release);
}

/// Checks every queued orphan once and drops those that have exited (reaped by that check)
/// or cannot be waited for any more (an error: nothing left to reap).
pub(super) fn reap() {
    if LEN.load(Ordering::Acquire) == 0 {
        return;
    }
    let mut queue = queue();
    queue.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
    LEN.store(queue.len(), Ordering::Release);
}

/// Takes over `child` (not yet exited) and its waiter: a task on the current runtime reaps it
/// when it exits; with no runtime, it goes to the queue.
pub(super) fn adopt(child: StdChild, waiter: Waiter) {
    let orphan = Orphan {
        child: Some(child),
        waiter,
    };
    let handle = magpie_core::with_current(|handle| handle.cloned());
    match handle {
        // The task is detached (its handle dropped). If the runtime is shutting down, the
        // future is dropped at once and `Orphan::drop` queues the child.
        Some(handle) => {
            drop(handle.spawn_named(orphan.reap(), Some("magpie::process orphan reaper")))
        }
        None => drop(orphan),
    }
}

/// An orphan being waited for by a task. Dropped with `child` still there (the task cancelled,
/// or the wait failed), it queues the child.
struct Orphan {
    child: Option<StdChild>,
    waiter: Waiter,
}

impl Orphan {
    async fn reap(mut self) {
        let Orphan { child, waiter } = &mut self;
        let Some(std_child) = child.as_mut() else {
            return;
        };
        let exited: io::Result<_> =
            poll_fn(|cx| waiter.poll_exit(cx, std_child).map_ok(|_| ())).await;
        if exited.is_ok() {
            // Reaped: nothing to queue.
            *child = None;
        }
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            push(child);
        }
    }
}

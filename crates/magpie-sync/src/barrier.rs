//! [`Barrier`]: `n` tasks wait until all `n` have arrived, then all proceed (asyncio's
//! `Barrier`).
//!
//! # Protocol
//!
//! One `magpie_shim::Mutex` guards a [`WaitQueue`] of the tasks that have arrived in the
//! current generation and are waiting for the rest. The number of tasks that have arrived is the
//! length of that queue; nothing else is counted.
//!
//! - **Arriving** (the first poll of [`Barrier::wait`]), under the lock: if this task is the
//!   `n`-th (the queue holds `n - 1` waiters), it **trips** the barrier: every queued waiter is
//!   marked notified, which also empties the queue for the next generation, and this task
//!   returns at once as the generation's **leader**. Their wakers are woken after the lock is
//!   released. Otherwise it queues itself and returns `Pending`.
//! - **Later polls** find their slot notified (the barrier tripped: ready, not the leader) or
//!   still waiting (the waker is refreshed).
//! - **A dropped `wait` future** that is still queued leaves the queue, so it **no longer
//!   counts** as arrived: the barrier then needs another task to arrive before it trips. A
//!   future dropped after its barrier tripped has nothing to pass on (the others were released
//!   by the same trip).
//!
//! Because the queue empties when the barrier trips, the barrier is reusable at once: the next
//! `n` arrivals form the next generation, with its own leader, even while the previous
//! generation's waiters have not yet been polled.
//!
//! tokio's `Barrier::wait` is not cancel safe (a cancelled wait still counts as arrived); this
//! one is.

use crate::waiters::{Key, WaitQueue, WakeList};
use magpie_shim::coop;
use magpie_shim::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets `n` tasks wait for each other: each [`wait`](Barrier::wait) completes once `n` of them
/// are waiting together. Exactly one task per generation is told it is the leader.
///
/// A wait that is cancelled (its future dropped) before the barrier trips is withdrawn: it no
/// longer counts towards the `n`.
///
/// # Example
///
/// ```
/// use magpie_sync::Barrier;
/// use std::sync::Arc;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || {
///             futures_lite::future::block_on(barrier.wait()).is_leader()
///         })
///     })
///     .collect();
/// let leaders = threads.into_iter().map(|t| t.join().unwrap());
/// assert_eq!(leaders.filter(|&leader| leader).count(), 1);
/// ```
pub struct Barrier {
    /// How many tasks must wait together (at least 1).
    n: usize,
    /// The tasks of the current generation that have arrived and wait for the rest.
    waiters: Mutex<WaitQueue<()>>,
}

impl Barrier {
    /// A barrier that releases its waiters when `n` of them wait together. `n == 0` behaves as
    /// `n == 1` (every wait completes at once, as leader).
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            waiters: Mutex::new(WaitQueue::new()),
        }
    }

    /// Waits until `n` tasks (this one included) are waiting on the barrier, then completes for
    /// all of them. The last to arrive is the generation's leader.
    ///
    /// Cancel safe: dropping the future before the barrier trips withdraws this task, which no
    /// longer counts as arrived.
    pub async fn wait(&self) -> BarrierWaitResult {
        Wait {
            barrier: self,
            key: None,
        }
        .await
    }
}

#[cfg(all(test, loom))]
impl Barrier {
    /// How many tasks of the current generation wait (for the loom models).
    pub(crate) fn arrived(&self) -> usize {
        self.waiters.lock().len()
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrived = self.waiters.lock().len();
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &arrived)
            .finish()
    }
}

/// What [`Barrier::wait`] returns: whether this task is the generation's leader.
#[derive(Clone, Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the leader of its generation (the last to arrive). Exactly one
    /// task per generation is.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

/// The future inside [`Barrier::wait`].
struct Wait<'a> {
    barrier: &'a Barrier,
    /// `Some` while queued (or notified and not yet polled).
    key: Option<Key>,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let mut waiters = this.barrier.waiters.lock();
        match &this.key {
            Some(key) => {
                if waiters.poll(key, cx.waker()).is_some() {
                    this.key = None;
                    drop(waiters);
                    coop.made_progress();
                    return Poll::Ready(BarrierWaitResult(false));
                }
                Poll::Pending
            }
            None if waiters.len() + 1 >= this.barrier.n => {
                // The n-th arrival trips the barrier and leads this generation.
                let mut wake = WakeList::new();
                waiters.notify_all(&mut wake);
                drop(waiters);
                wake.wake_all();
                coop.made_progress();
                Poll::Ready(BarrierWaitResult(true))
            }
            None => {
                this.key = Some(waiters.push_back(cx.waker(), ()));
                Poll::Pending
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Still queued: withdrawn, no longer counted. Already released: nothing to pass on.
            self.barrier.waiters.lock().remove(key);
        }
    }
}

// Compile-time checks of the auto traits.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Barrier>();
    assert_send_sync::<BarrierWaitResult>();
    assert_send_sync::<Wait<'static>>();
};

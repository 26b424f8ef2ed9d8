//! Local tasks: `!Send` futures that are polled and dropped on one thread only
//! (`task::spawn_local`).
//!
//! # Sessions
//!
//! A thread inside the runtime runs one *session* at a time, and `spawn_local` puts its task
//! in the session of the calling thread (context.rs):
//!
//! - a **worker thread** of the multi-thread runtime: the worker's session lives as long as
//!   the thread. Its tasks sit in the session's own queue, never in the worker's deque or
//!   LIFO slot, so no other worker can steal them; at shutdown the worker drops them on its
//!   own thread.
//! - a thread **inside `block_on`** (either flavour; on a current-thread runtime the thread
//!   inside `block_on` is the worker): the session lives as long as that `block_on`. Its
//!   tasks run while it runs; those still pending when it returns are dropped there, on that
//!   thread, as `asyncio.run` cancels what is left.
//!
//! # Why a `!Send` future never leaves its thread
//!
//! A task's future is touched by three paths only: a poll (a queue entry's `Notified::run`),
//! a cancel (which is a poll that sees CANCELLED), and a shutdown walk of the registry that
//! owns the task. For a local task:
//!
//! 1. Its scheduler is a [`LocalScheduler`], whose `schedule` (wakes from any thread, aborts,
//!    yields) only pushes the entry onto the session's queue; the queue is popped by the
//!    session's owner thread alone ([`LocalSession::pop`] asserts it in debug builds). No
//!    entry of a local task ever reaches a deque, a LIFO slot or the injector, which are
//!    the only queues other threads take from.
//! 2. Its owning reference is in the session's own registry, never in the runtime's, so the
//!    runtime's shutdown walk never sees it; the session's walk ([`LocalSession::close`])
//!    runs on the owner thread, when the session ends.
//! 3. Whatever else holds a reference (a waker, a `JoinHandle` sent away) can only drop it:
//!    the last reference frees the cell, but the future is gone by then, since the
//!    registry's reference is given up only after the future was dropped (at completion,
//!    or by the walk in 2).
//!
//! After [`LocalSession::close`] the queue refuses entries (a late wake from another thread
//! drops its entry, which only counts a reference); a push racing with the close is drained
//! by the pusher, as the runtime's injector is.

use crate::context;
use crate::task::{self, JoinHandle, Notified, Registry, Schedule, TaskRef};
use magpie_shim::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering, UnsafeCell};
use std::cell::OnceCell;
use std::collections::VecDeque;
use std::future::Future;
use std::task::Waker;

/// The local tasks of one thread's session: their queues and their registry. Shared with
/// the tasks (each holds it as its scheduler) and so with any thread that wakes one.
///
/// Two queues: `owned`, which only the owner thread touches (a spawn or wake on the owner
/// thread, every pop: no lock, no atomic), and `inbox`, for wakes from other threads, which
/// the owner moves into `owned` when it pops. Only inbox entries count in the runtime's
/// `LocalCounts::queued`: an owner push happens while its thread runs, and it looks at its
/// queues before it sleeps, so paused time cannot miss it; an inbox push may land while the
/// owner sleeps.
pub(crate) struct LocalQueue {
    owned: UnsafeCell<VecDeque<Notified>>,
    inbox: Mutex<VecDeque<Notified>>,
    /// `inbox.len()`, readable without the lock.
    inbox_len: AtomicUsize,
    closed: AtomicBool,
    /// Every unfinished local task: the owning references.
    tasks: Registry,
    /// Wakes the owner thread when a task is queued from another thread.
    wake: Waker,
    /// The runtime's counts: queued local tasks tell paused time that work is pending.
    counts: Arc<LocalCounts>,
    /// The session this queue belongs to (identity only, never dereferenced): the owner
    /// thread is the thread whose context holds that session.
    session: usize,
}

// SAFETY: `owned` is read and written only on the owner thread (`LocalQueue::on_owner`,
// checked before every access, or the owner-only methods `pop`, `has_queued` and `close`,
// which only the session, a value of the owner thread's frame, calls); everything else is
// a lock or an atomic.
unsafe impl Sync for LocalQueue {}

/// What a runtime counts of the local tasks of all its sessions (its `Shared` holds one).
#[derive(Default)]
pub(crate) struct LocalCounts {
    /// Local tasks queued from other threads in any session's inbox, not yet taken by its
    /// owner: work the paused clock must wait for, as for any queued task. (An owner's own
    /// queue needs no count: see [`LocalQueue`].)
    pub(crate) queued: AtomicUsize,
    /// `spawn_local` calls (local tasks are in their sessions' registries, not the
    /// runtime's, whose inserts count the other spawns).
    pub(crate) spawns: AtomicUsize,
}

/// A local task's scheduler: its session's queue.
pub(crate) struct LocalScheduler(Arc<LocalQueue>);

impl Schedule for LocalScheduler {
    fn schedule(&self, task: Notified) {
        self.0.push(task);
    }

    fn release(&self, task: &TaskRef) -> Option<TaskRef> {
        self.0.tasks.remove(task)
    }
}

impl LocalQueue {
    /// Whether this thread is the owner: its context holds this queue's session.
    #[inline]
    fn on_owner(&self) -> bool {
        context::with_local_session(|s| s.is_some_and(|s| s.id() == self.session))
    }

    fn push(&self, task: Notified) {
        if self.on_owner() {
            // (Acquire: should a thread whose new session sits where an ended one did take
            // itself for that one's owner, it sees the close and goes no further.)
            if self.closed.load(Ordering::Acquire) {
                // The session ended (its walk dropped or is dropping the future).
                drop(task);
                return;
            }
            // SAFETY: on the owner thread (`Sync` impl).
            self.owned.with_mut(|q| unsafe { (*q).push_back(task) });
            return;
        }
        if self.closed.load(Ordering::SeqCst) {
            drop(task);
            return;
        }
        self.inbox.lock().push_back(task);
        self.inbox_len.fetch_add(1, Ordering::SeqCst);
        self.counts.queued.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            // The close may have drained the inbox before our push.
            self.drain_inbox();
            return;
        }
        // The owner looks at its queues before it sleeps; from here it must be woken.
        self.wake.wake_by_ref();
    }

    /// The next entry: the owner's queue, after the inbox was moved to its back. Owner only.
    #[inline]
    fn pop(&self) -> Option<Notified> {
        if self.inbox_len.load(Ordering::Relaxed) > 0 {
            let moved = self.drain_inbox();
            // SAFETY: on the owner thread (`Sync` impl).
            self.owned.with_mut(|q| unsafe { (*q).extend(moved) });
        }
        // SAFETY: on the owner thread (`Sync` impl).
        self.owned.with_mut(|q| unsafe { (*q).pop_front() })
    }

    /// Whether an entry is queued. Owner only.
    #[inline]
    fn has_queued(&self) -> bool {
        self.inbox_len.load(Ordering::Relaxed) > 0
            // SAFETY: on the owner thread (`Sync` impl).
            || self.owned.with(|q| unsafe { !(*q).is_empty() })
    }

    /// Takes the inbox's entries out (any thread), uncounting them.
    fn drain_inbox(&self) -> VecDeque<Notified> {
        let drained = std::mem::take(&mut *self.inbox.lock());
        if !drained.is_empty() {
            self.inbox_len.fetch_sub(drained.len(), Ordering::SeqCst);
            self.counts
                .queued
                .fetch_sub(drained.len(), Ordering::SeqCst);
        }
        drained
    }

    /// Drops every queued entry (the close, on the owner thread).
    fn drain(&self) {
        drop(self.drain_inbox());
        // SAFETY: on the owner thread (`Sync` impl).
        let owned = self.owned.with_mut(|q| unsafe { std::mem::take(&mut *q) });
        drop(owned);
    }
}

/// A thread's place for local tasks (see the module documentation); the queue is made on
/// the first `spawn_local`.
pub(crate) struct LocalSession {
    counts: Arc<LocalCounts>,
    wake: Waker,
    queue: OnceCell<Arc<LocalQueue>>,
}

impl LocalSession {
    /// A session of the runtime that keeps `counts`, whose owner is woken with `wake`.
    pub(crate) fn new(counts: Arc<LocalCounts>, wake: Waker) -> LocalSession {
        LocalSession {
            counts,
            wake,
            queue: OnceCell::new(),
        }
    }

    fn id(&self) -> usize {
        self as *const LocalSession as usize
    }

    /// Spawns a local task in this session (the caller is its owner thread).
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        name: Option<&str>,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let queue = self.queue.get_or_init(|| {
            Arc::new(LocalQueue {
                owned: UnsafeCell::new(VecDeque::new()),
                inbox: Mutex::new(VecDeque::new()),
                inbox_len: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                tasks: Registry::new(1),
                wake: self.wake.clone(),
                counts: self.counts.clone(),
                session: self.id(),
            })
        });
        let name = name.map(|name| task::TaskName::new(name, location));
        let spawned_at = crate::metrics::clock::spawn_stamp();
        // SAFETY: the scheduler is this session's queue, popped only by its owner thread
        // (this one), and only the owner walks its registry (`close`): the module
        // documentation's argument.
        let (owned, notified, join) = unsafe {
            task::new_local_task(
                future,
                LocalScheduler(queue.clone()),
                task::Id::next(),
                name,
                location,
                spawned_at,
            )
        };
        if !cfg!(magpie_no_metrics) {
            self.counts.spawns.fetch_add(1, Ordering::Relaxed);
        }
        match queue.tasks.insert(owned) {
            Ok(()) => queue.push(notified),
            Err(owned) => {
                // Closed: the session is ending (a local task's `Drop` spawning). Cancel
                // it here, on the owner thread.
                drop(notified);
                owned.shutdown();
            }
        }
        join
    }

    /// Whether a local task is queued.
    #[inline]
    pub(crate) fn has_queued(&self) -> bool {
        self.queue.get().is_some_and(|q| q.has_queued())
    }

    /// The next queued local task. Called by the owner thread only.
    #[inline]
    pub(crate) fn pop(&self) -> Option<Notified> {
        #[cfg(not(loom))]
        debug_assert!(
            context::with_local_session(|s| s.is_some_and(|s| s.id() == self.id())),
            "a local task queue popped off its owner thread"
        );
        self.queue.get()?.pop()
    }

    /// Runs up to `max` queued local tasks; returns how many ran.
    pub(crate) fn run_queued(&self, max: usize) -> usize {
        let mut ran = 0;
        while ran < max {
            let Some(task) = self.pop() else { break };
            task.run();
            ran += 1;
        }
        ran
    }

    /// Ends the session: no more entries are queued, and the future of every unfinished
    /// local task is dropped, here, on the owner thread, one at a time with no lock held
    /// (a future's `Drop` may wake, spawn or complete other tasks). Idempotent.
    pub(crate) fn close(&self) {
        let Some(queue) = self.queue.get() else {
            return;
        };
        queue.closed.store(true, Ordering::SeqCst);
        queue.tasks.close();
        queue.drain();
        while let Some(task) = queue.tasks.pop() {
            task.shutdown();
        }
        // A task's `Drop` above may have woken a sibling before it was walked.
        queue.drain();
    }
}

impl Drop for LocalSession {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! loom models of a local task woken from another thread while its session ends: the
    //! future is dropped exactly once, by the owner's close (so on the owner thread), and
    //! nothing is leaked (loom checks every `Arc` is freed) or left counted as queued.

    use super::{LocalCounts, LocalSession};
    use magpie_shim::{Arc, AtomicUsize, Mutex, Ordering};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// Pending for ever; hands its waker out on the first poll and counts its drop.
    struct Parked {
        waker: Arc<Mutex<Option<Waker>>>,
        drops: Arc<AtomicUsize>,
    }

    impl Future for Parked {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            *self.waker.lock() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    impl Drop for Parked {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn session_with_parked_task(
        counts: &Arc<LocalCounts>,
    ) -> (LocalSession, Waker, Arc<AtomicUsize>) {
        let session = LocalSession::new(counts.clone(), Waker::noop().clone());
        let slot = Arc::new(Mutex::new(None));
        let drops = Arc::new(AtomicUsize::new(0));
        let join = session.spawn(
            Parked {
                waker: slot.clone(),
                drops: drops.clone(),
            },
            None,
            std::panic::Location::caller(),
        );
        drop(join);
        assert_eq!(session.run_queued(1), 1);
        let waker = slot.lock().take().expect("polled once");
        (session, waker, drops)
    }

    #[test]
    fn a_wake_racing_the_close_never_drops_the_future_elsewhere_or_leaks() {
        magpie_shim::loom_model(
            "a_wake_racing_the_close_never_drops_the_future_elsewhere_or_leaks",
            || {
                let counts = Arc::new(LocalCounts::default());
                let (session, waker, drops) = session_with_parked_task(&counts);
                let waking = loom::thread::spawn(move || waker.wake());
                session.close();
                // The owner's close dropped the future before it returned.
                assert_eq!(drops.load(Ordering::SeqCst), 1);
                // The session is gone before the wake may push: a late entry must not stay.
                drop(session);
                waking.join().unwrap();
                assert_eq!(drops.load(Ordering::SeqCst), 1);
                assert_eq!(counts.queued.load(Ordering::SeqCst), 0);
            },
        );
    }

    #[test]
    fn a_wake_before_the_close_is_run_or_dropped_never_both() {
        magpie_shim::loom_model(
            "a_wake_before_the_close_is_run_or_dropped_never_both",
            || {
                let counts = Arc::new(LocalCounts::default());
                let (session, waker, drops) = session_with_parked_task(&counts);
                let waking = loom::thread::spawn(move || waker.wake());
                // The owner runs whatever was queued by then, then ends the session.
                session.run_queued(1);
                session.close();
                assert_eq!(drops.load(Ordering::SeqCst), 1);
                waking.join().unwrap();
                drop(session);
                assert_eq!(counts.queued.load(Ordering::SeqCst), 0);
            },
        );
    }
}

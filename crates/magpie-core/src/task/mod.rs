//! Tasks: one allocation each, a state word, wakers without boxes.
//!
//! - `state.rs`: the state word, bit by bit, and every transition.
//! - `raw.rs`: the allocation (`Cell`), its vtable, and the poll/complete/cancel harness.
//! - `waker.rs`: the static waker vtable.
//! - `join.rs`: `JoinHandle` and `AbortHandle`.
//! - `registry.rs`: the sharded owned-task registry shutdown walks.
//! - `error.rs`, `id.rs`: `JoinError`, `Id`.
//!
//! References to a task are counted in its state word; the types here own one each:
//! [`TaskRef`] (a plain reference, e.g. the registry's), [`Notified`] (a queue entry), the
//! `JoinHandle`, `AbortHandle`s and wakers.

mod error;
mod id;
mod info;
mod join;
mod meta;
pub(crate) mod raw;
mod registry;
mod site;
mod slow_poll;
mod state;
mod waker;

#[cfg(all(test, loom))]
mod loom_tests;

/// A scheduler for unit tests that never runs anything: tests move references around.
#[cfg(all(test, not(loom)))]
pub(crate) struct InertScheduler;

#[cfg(all(test, not(loom)))]
impl Schedule for InertScheduler {
    fn schedule(&self, task: Notified) {
        drop(task);
    }
    fn release(&self, _task: &TaskRef) -> Option<TaskRef> {
        None
    }
}

pub use error::JoinError;
pub use id::Id;
pub use info::{table, TaskInfo, TaskState, TaskTable};
pub use join::{AbortHandle, JoinHandle};
pub(crate) use registry::Registry;
pub use slow_poll::SlowPoll;

use raw::{Cell, Header};
pub(crate) use site::TaskName;

use std::future::Future;
use std::ptr::NonNull;

/// What a task needs of the scheduler it belongs to.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queue a woken task.
    fn schedule(&self, task: Notified);
    /// Queue a task that was woken during its own poll (a yield): behind the waiting work.
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// The fast path of a yield: queue `task` on the worker running this thread, if that
    /// worker belongs to this scheduler, without reading `*this` once the task is queued;
    /// otherwise hand it back (the caller then uses [`Schedule::yield_now`]).
    ///
    /// # Safety
    ///
    /// `this` points to a live scheduler until `task` is queued. After that it may dangle:
    /// the task can run and complete on another worker at once, freeing the cell that holds
    /// the scheduler.
    unsafe fn yield_local(this: *const Self, task: Notified) -> Result<(), Notified> {
        let _ = this;
        Err(task)
    }
    /// The task completed: remove it from the registry, returning the registry's reference
    /// (`None` when it was not there, e.g. shutdown already took it).
    fn release(&self, task: &TaskRef) -> Option<TaskRef>;
}

/// One counted reference to a task.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: the shared parts of a task are reached through the atomic state word. Its future
// is `Send` (enforced by `new_task`), or, for a local task (`new_local_task`), is polled and
// dropped only by its owner thread: every path that touches a local future (poll, cancel,
// shutdown) runs where the task's `LocalScheduler` sends it, which is that thread
// (scheduler/local.rs); a reference merely moved elsewhere only counts.
unsafe impl Send for TaskRef {}
// SAFETY: as above; `&TaskRef` gives only atomic operations on the header.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// # Safety
    ///
    /// `ptr` is a live task header and the caller hands over one counted reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    pub(crate) fn ptr(&self) -> NonNull<Header> {
        self.0
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.0;
        std::mem::forget(self);
        ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: our reference keeps the header alive.
        unsafe { self.0.as_ref() }
    }

    /// Drops the future of an unfinished task (unless another thread is polling it) and
    /// completes it as cancelled. Consumes this reference.
    pub(crate) fn shutdown(self) {
        let ptr = self.into_raw();
        // SAFETY: our reference is handed to `shutdown`, which consumes it.
        unsafe { (ptr.as_ref().vtable.shutdown)(ptr) }
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        self.header().state.ref_inc();
        TaskRef(self.0)
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        let h = self.header();
        if h.state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (h.vtable.dealloc)(self.0) };
        }
    }
}

/// A queue entry: a task that must be polled. Owns one reference.
pub(crate) struct Notified(TaskRef);

impl Notified {
    /// # Safety
    ///
    /// As [`TaskRef::from_raw`], and the task's SCHEDULED bit stands for this entry.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        // SAFETY: forwarded contract.
        Notified(unsafe { TaskRef::from_raw(ptr) })
    }

    /// Polls the task once (or cancels it, or skips it), consuming the entry.
    pub(crate) fn run(self) {
        let ptr = self.0.into_raw();
        // User panics are caught inside `poll`; anything that still unwinds is the scheduler's
        // own bug, and continuing would leave a task half-way through a transition.
        let guard = crate::unwind::AbortOnUnwind;
        // SAFETY: the entry's reference is handed to `poll`, which consumes it.
        unsafe { (ptr.as_ref().vtable.poll)(ptr) };
        std::mem::forget(guard);
    }

    /// Drops the future without polling (shutdown of a queued task). Consumes the entry.
    pub(crate) fn shutdown(self) {
        self.0.shutdown();
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        self.0.into_raw()
    }

    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }
}

/// Allocates a task and returns its three references: the registry's, the first queue
/// entry, and the JoinHandle.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    name: Option<TaskName>,
    location: &'static std::panic::Location<'static>,
    spawned_at: u64,
) -> (TaskRef, Notified, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`: any thread may poll and drop them.
    unsafe { new_local_task(future, scheduler, id, name, location, spawned_at) }
}

/// [`new_task`] for a future that need not be `Send` (`task::spawn_local`).
///
/// # Safety
///
/// `scheduler` queues the task only where its owner thread (the thread calling this) runs
/// it, and whoever walks its registry to shut tasks down does so on that thread: the future
/// is polled and dropped on no other thread (scheduler/local.rs), or the future and its
/// output are `Send` (`new_task`).
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    name: Option<TaskName>,
    location: &'static std::panic::Location<'static>,
    spawned_at: u64,
) -> (TaskRef, Notified, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let ptr = Cell::allocate(future, scheduler, id, name, location, spawned_at);
    // SAFETY: `allocate` counted exactly these three references and set SCHEDULED and
    // JOIN_INTEREST for the entry and the handle; the output type is `F::Output`. Where the
    // future may run is the caller's contract.
    unsafe {
        (
            TaskRef::from_raw(ptr),
            Notified::from_raw(ptr),
            JoinHandle::from_raw(ptr),
        )
    }
}

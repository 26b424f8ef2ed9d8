//! What the current thread is doing, in one thread-local.
//!
//! - `handle`: the runtime this thread belongs to (a worker, a blocking thread, or a thread
//!   inside `block_on`), for `Handle::current()` and `spawn`.
//! - `worker`: on a worker thread, its local state, so that wakes and spawns from a task go to
//!   the worker's own LIFO slot and deque instead of the shared injector.
//! - `entered`: the thread is inside a runtime (a worker, or inside `block_on`); a nested
//!   `block_on` would deadlock the worker it runs on, so it panics instead.
//! - `task`: the id of the task being polled, for `task::id()`.
//! - `local`: where `task::spawn_local` puts a task on this thread: the session of the
//!   worker, or of the `block_on`, this thread is running (scheduler/local.rs).

use crate::scheduler::{Handle, LocalSession, WorkerLocal};
use crate::task::raw::Header;
use crate::task::Id;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

struct Context {
    handle: RefCell<Option<Handle>>,
    worker: Cell<*const WorkerLocal>,
    entered: Cell<bool>,
    task: Cell<Option<NonNull<Header>>>,
    /// On a blocking-pool thread: the address of its pool (an identity, never dereferenced).
    blocking_pool: Cell<usize>,
    local: Cell<*const LocalSession>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            worker: Cell::new(std::ptr::null()),
            entered: Cell::new(false),
            task: Cell::new(None),
            blocking_pool: Cell::new(0),
            local: Cell::new(std::ptr::null()),
        }
    };
}

/// The handle of the runtime the current thread is in, if any.
pub(crate) fn current_handle() -> Option<Handle> {
    CONTEXT
        .try_with(|c| c.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Runs `f` with the handle of the runtime the current thread is in, without cloning it.
pub(crate) fn with_current_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let res = CONTEXT.try_with(|c| (f.take().expect("called once"))(c.handle.borrow().as_ref()));
    match res {
        Ok(r) => r,
        // The thread-local is being destroyed (thread exit): no runtime.
        Err(_) => (f.take().expect("not called yet"))(None),
    }
}

/// Runs `f` with the current thread's worker state, when this is a worker thread.
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&WorkerLocal>) -> R) -> R {
    let ptr = CONTEXT
        .try_with(|c| c.worker.get())
        .unwrap_or(std::ptr::null());
    // SAFETY: `worker` is non-null only between `set_worker` and the drop of its guard, which
    // brackets the worker loop that owns the `WorkerLocal` on this very thread.
    f(unsafe { ptr.as_ref() })
}

/// Installs `handle` as the thread's runtime until the guard drops (restoring the previous one).
pub(crate) fn set_handle(handle: Handle) -> HandleGuard {
    let prev = CONTEXT.with(|c| c.handle.replace(Some(handle)));
    HandleGuard { prev }
}

pub(crate) struct HandleGuard {
    prev: Option<Handle>,
}

impl Drop for HandleGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|c| c.handle.replace(prev));
    }
}

/// Marks this thread a worker running `local` until the guard drops.
pub(crate) fn set_worker(local: &WorkerLocal) -> WorkerGuard {
    CONTEXT.with(|c| c.worker.set(local));
    WorkerGuard(())
}

pub(crate) struct WorkerGuard(());

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.worker.set(std::ptr::null()));
    }
}

/// Makes `session` the place `spawn_local` puts tasks on this thread until the guard drops
/// (restoring the previous one: a `block_on` inside `block_in_place` has its own).
pub(crate) fn set_local_session(session: &LocalSession) -> LocalSessionGuard {
    let prev = CONTEXT.with(|c| c.local.replace(session));
    LocalSessionGuard { prev }
}

pub(crate) struct LocalSessionGuard {
    prev: *const LocalSession,
}

impl Drop for LocalSessionGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.local.set(self.prev));
    }
}

/// Runs `f` with this thread's local session, if it has one.
pub(crate) fn with_local_session<R>(f: impl FnOnce(Option<&LocalSession>) -> R) -> R {
    let ptr = CONTEXT
        .try_with(|c| c.local.get())
        .unwrap_or(std::ptr::null());
    // SAFETY: `local` is non-null only between `set_local_session` and the drop of its
    // guard; the session outlives the guard (both live in the same frame, the session
    // declared first), on this very thread.
    f(unsafe { ptr.as_ref() })
}

/// Takes the thread out of its worker until the guard drops (block_in_place.rs): while a
/// stand-in runs the worker, this thread is a plain thread of the runtime, which may even
/// `block_on`; its local tasks wait for it.
pub(crate) fn leave_worker() -> LeftWorkerGuard {
    CONTEXT.with(|c| LeftWorkerGuard {
        worker: c.worker.replace(std::ptr::null()),
        entered: c.entered.replace(false),
        local: c.local.replace(std::ptr::null()),
    })
}

pub(crate) struct LeftWorkerGuard {
    worker: *const WorkerLocal,
    entered: bool,
    local: *const LocalSession,
}

impl Drop for LeftWorkerGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| {
            c.worker.set(self.worker);
            c.entered.set(self.entered);
            c.local.set(self.local);
        });
    }
}

/// Marks the thread as inside a runtime. `Err` when it already is.
pub(crate) fn try_enter() -> Result<EnterGuard, ()> {
    CONTEXT.with(|c| {
        if c.entered.replace(true) {
            Err(())
        } else {
            Ok(EnterGuard(()))
        }
    })
}

pub(crate) struct EnterGuard(());

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.entered.set(false));
    }
}

/// Whether the thread is inside a runtime (a worker, or inside `block_on`).
pub(crate) fn is_entered() -> bool {
    CONTEXT.try_with(|c| c.entered.get()).unwrap_or(false)
}

/// Marks this thread as a thread of the blocking pool whose address is `pool`.
pub(crate) fn set_blocking_pool(pool: usize) {
    CONTEXT.with(|c| c.blocking_pool.set(pool));
}

/// Whether this thread belongs to the blocking pool whose address is `pool`.
pub(crate) fn is_blocking_pool(pool: usize) -> bool {
    CONTEXT
        .try_with(|c| c.blocking_pool.get() == pool)
        .unwrap_or(false)
}

/// Records the task being polled until the guard drops.
///
/// # Safety
///
/// `task` is a live task header until the returned guard drops (`with_task` dereferences
/// it meanwhile).
#[inline]
pub(crate) unsafe fn enter_task(task: NonNull<Header>) -> TaskGuard {
    let prev = CONTEXT
        .try_with(|c| c.task.replace(Some(task)))
        .ok()
        .flatten();
    TaskGuard { prev }
}

pub(crate) struct TaskGuard {
    prev: Option<NonNull<Header>>,
}

impl Drop for TaskGuard {
    #[inline]
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.task.set(self.prev));
    }
}

/// Runs `f` with the header of the task being polled on this thread.
fn with_task<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let task = CONTEXT.try_with(|c| c.task.get()).ok().flatten()?;
    // SAFETY: `task` is set only while that task is being polled on this thread (between
    // `enter_task` and its guard's drop), and the poller holds a reference to it.
    Some(f(unsafe { task.as_ref() }))
}

/// The id of the task being polled on this thread.
pub fn current_task_id() -> Option<Id> {
    with_task(|h| h.id)
}

/// The name of the task being polled on this thread, if it has one.
pub fn current_task_name() -> Option<String> {
    with_task(|h| h.site.name().map(str::to_owned)).flatten()
}

//! `JoinHandle` and `AbortHandle`.

use super::error::JoinError;
use super::raw::Header;
use super::state::WakeAction;
use super::{Id, TaskRef};
use magpie_shim::coop;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll};

/// An owned permission to await a task's output.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] when the task panicked or was cancelled.
/// Dropping it *detaches* the task: the task runs on to completion and its output is dropped.
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output `T` out of the task (so `T: Send` suffices) and
// reaches the header through atomics and the state-word protocol.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` offers only `abort`, `is_finished` and `id`, which touch atomics only.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` is a task whose output type is `T`, and the caller hands over the JoinHandle's
    /// reference and JOIN_INTEREST.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the header alive.
        unsafe { self.raw.as_ref() }
    }

    /// Requests cancellation: the task's future is dropped at its next scheduling point (at
    /// once if it is idle, after the current poll if it is running), and awaiting the handle
    /// yields a cancelled [`JoinError`]. A task that already finished keeps its output.
    pub fn abort(&self) {
        // SAFETY: this handle holds a reference to the task.
        unsafe { abort(self.raw) };
    }

    /// Whether the task has finished: completed, panicked, or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().id
    }

    /// A handle that can abort the task but not await it; it does not keep the output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        // SAFETY: the reference was just taken for the new handle.
        let task = unsafe { TaskRef::from_raw(self.raw) };
        AbortHandle { task }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// Spends one unit of the cooperative budget when it returns the output (refunded when
    /// the task is not finished yet), so a loop joining finished tasks yields now and then.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let spent = ready!(coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let h = self.header();
        // SAFETY: `out` has the type `try_read_output` writes for a task with output `T`.
        unsafe { (h.vtable.try_read_output)(self.raw, &mut out as *mut _ as *mut (), cx.waker()) };
        if out.is_ready() {
            spent.made_progress();
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference and join interest are released exactly once, here.
        unsafe { (self.header().vtable.drop_join_handle)(self.raw) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without owning its output. Cheap to clone; dropping it does nothing to the task.
#[derive(Clone)]
pub struct AbortHandle {
    task: TaskRef,
}

impl AbortHandle {
    /// Requests cancellation, as [`JoinHandle::abort`].
    pub fn abort(&self) {
        // SAFETY: `self.task` is a counted reference to the task.
        unsafe { abort(self.task.ptr()) };
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.task.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.task.header().id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Marks the task cancelled and, if it was idle, queues it so its future is dropped.
///
/// # Safety
///
/// `raw` points to a live task for the whole call: the caller holds a counted reference to
/// it (a `JoinHandle`'s or an `AbortHandle`'s).
unsafe fn abort(raw: NonNull<Header>) {
    // SAFETY: the caller holds a reference (this function's contract).
    let h = unsafe { raw.as_ref() };
    if h.state.transition_to_cancelled() == WakeAction::Schedule {
        // SAFETY: the transition took a reference for the queue entry.
        unsafe { (h.vtable.schedule)(raw) };
    }
}

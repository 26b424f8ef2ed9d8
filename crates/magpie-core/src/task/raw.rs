//! The task allocation and the functions that act on it.
//!
//! A task is **one** heap block, a `#[repr(C)]` [`Cell`]:
//!
//! ```text
//! Cell<F, S> ┌ Header   state word · vtable · id · site (location,   (what a type-erased
//!            │          name) · meta · registry links                  pointer can reach)
//!            ├ S        the scheduler the task belongs to (an Arc)
//!            ├ Stage    the future, then its output, then nothing
//!            └ Trailer  the JoinHandle's waker
//! ```
//!
//! Everything outside this file sees a task as `NonNull<Header>` and calls through the
//! [`Vtable`], whose functions are monomorphised for each `(F, S)`. Which thread may touch the
//! stage and the trailer at which moment is written in `state.rs`.

use super::error::JoinError;
use super::meta::TaskMeta;
use super::registry::Links;
use super::site::Site;
use super::state::{EndPoll, StartPoll, State};
use super::{Id, Notified, Schedule, TaskName, TaskRef};
use crate::context;
use crate::unwind::{drop_contained, drop_payload};
use magpie_shim::{coop, UnsafeCell};
use std::any::Any;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// The part of a task every type-erased pointer can reach. First field of [`Cell`].
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: Id,
    /// Where it was spawned, and the name given with `task::Builder::name` (one pointer).
    pub(crate) site: Site,
    /// Spawn time and poll count (`Handle::tasks`).
    pub(crate) meta: TaskMeta,
    /// Links of the owned-task registry; guarded by the lock of the task's registry shard.
    pub(crate) links: UnsafeCell<Links>,
}

/// The type-specific operations of a task.
pub(crate) struct Vtable {
    /// Runs the task for one queue entry, consuming that entry's reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a new queue entry (its reference already counted) to the task's scheduler. The
    /// caller holds a reference of its own across the call.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the block. Called by whoever dropped the last reference.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// JoinHandle poll: writes `Poll<Result<T, JoinError>>` to `dst` when the output is ready,
    /// else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// JoinHandle drop: gives up join interest, drops the output or the waker as needed, and
    /// the handle's reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Shutdown: drops the future (if no one else owns it) and completes the task as
    /// cancelled, consuming one reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// The future, then its output.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

pub(crate) struct Trailer {
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
    trailer: Trailer,
}

/// No `Send` bound here: a local task's future is `!Send` (scheduler/local.rs). Where a
/// future may be polled is decided by its scheduler `S`, which `task::new_task` (`Send`
/// futures, any worker) and `task::new_local_task` (one thread) choose.
impl<F, S> Cell<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    const VTABLE: Vtable = Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    };

    /// Allocates a task. The state starts as `INITIAL` (scheduled, join interest, three
    /// references); the caller turns the pointer into those three references.
    pub(crate) fn allocate(
        future: F,
        scheduler: S,
        id: Id,
        name: Option<TaskName>,
        location: &'static std::panic::Location<'static>,
        spawned_at: u64,
    ) -> NonNull<Header> {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: &Self::VTABLE,
                id,
                site: Site::new(name, location),
                meta: TaskMeta::new(spawned_at),
                links: UnsafeCell::new(Links::default()),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            trailer: Trailer {
                join_waker: UnsafeCell::new(None),
            },
        });
        NonNull::from(Box::leak(cell)).cast()
    }
}

/// # Safety
///
/// `ptr` must point to a live `Cell<F, S>` (one reference held by the caller).
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: `Header` is the first field of the `#[repr(C)]` `Cell<F, S>` this vtable was
    // built for, so the pointer to it is a pointer to the cell; the caller's reference keeps
    // the block alive for the borrow.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Replaces a stage that holds no pinned future (an output, or nothing).
    ///
    /// # Safety
    ///
    /// The caller owns the stage (state.rs: it holds RUNNING; or COMPLETE and JOIN_INTEREST;
    /// or it is the completer that saw COMPLETE without JOIN_INTEREST), and the stage is not
    /// `Running` (a pinned future is only ever dropped in place, never moved).
    unsafe fn replace_stage(&self, stage: Stage<F>) -> Stage<F> {
        self.stage.with_mut(|p| {
            // SAFETY: the caller owns the stage, so no other thread touches it now.
            let slot = unsafe { &mut *p };
            debug_assert!(!matches!(slot, Stage::Running(_)));
            mem::replace(slot, stage)
        })
    }

    /// Drops the pinned future where it lies and leaves `Consumed` in its place, even when
    /// the future's `Drop` panics.
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING and the stage is `Running`.
    unsafe fn drop_future_in_place(&self) {
        /// Writes `Consumed` over the dropped stage on the way out, unwinding or not.
        struct Consume<F: Future>(*mut Stage<F>);
        impl<F: Future> Drop for Consume<F> {
            fn drop(&mut self) {
                // SAFETY: the stage was dropped in place just before (or its drop unwound):
                // writing without dropping the old value is exactly what is needed.
                unsafe { std::ptr::write(self.0, Stage::Consumed) };
            }
        }
        self.stage.with_mut(|p| {
            let _consume = Consume(p);
            // SAFETY: RUNNING gives us the stage; dropping in place keeps Pin's promise
            // that a pinned future is dropped where it was polled.
            unsafe { std::ptr::drop_in_place(p) };
        });
    }

    /// Polls the future once under `catch_unwind`, with a fresh cooperative budget (restored
    /// afterwards, so a task polled inside another poll does not spend its caller's).
    ///
    /// # Safety
    ///
    /// The caller holds RUNNING and the stage is `Running`.
    unsafe fn poll_future(&self) -> Result<Poll<F::Output>, Box<dyn Any + Send>> {
        // SAFETY: the poller holds a reference to this task for the whole poll, which
        // outlives both the borrowed waker and the guard (dropped at the end of this fn).
        let waker = unsafe { super::waker::borrowed(NonNull::from(&self.header)) };
        let mut cx = Context::from_waker(&waker);
        // SAFETY: as above: the task is live until `_task` drops, at the end of this fn.
        let _task = unsafe { context::enter_task(NonNull::from(&self.header)) };
        panic::catch_unwind(AssertUnwindSafe(|| {
            self.stage.with_mut(|p| {
                // SAFETY: the caller holds RUNNING, which gives it the stage.
                let stage = unsafe { &mut *p };
                match stage {
                    Stage::Running(f) => {
                        // SAFETY: the future lives in the heap block and is never moved: it is
                        // dropped in place (`drop_future_in_place`), so pinning is sound.
                        let f = unsafe { Pin::new_unchecked(f) };
                        coop::with_budget(|| f.poll(&mut cx))
                    }
                    _ => unreachable!("a task was polled after its future was dropped"),
                }
            })
        }))
    }
}

/// Drops the future and stores the task's result. A panic in the future's `Drop` becomes
/// the result unless the task had already panicked (the first panic wins).
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller holds RUNNING (the stage is `Running`).
unsafe fn finish<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    result: Result<F::Output, JoinError>,
) {
    // SAFETY: the caller's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: RUNNING is held and the stage is `Running`.
    let dropped = panic::catch_unwind(AssertUnwindSafe(|| unsafe { cell.drop_future_in_place() }));
    let result = match dropped {
        Ok(()) => result,
        Err(payload) if matches!(&result, Err(e) if e.is_panic()) => {
            drop_payload(payload);
            result
        }
        Err(payload) => {
            drop_contained(result);
            Err(JoinError::panic(&cell.header, payload))
        }
    };
    #[cfg(feature = "tracing")]
    crate::trace::finished(
        &cell.header,
        match &result {
            Ok(_) => "completed",
            Err(e) if e.is_panic() => "panicked",
            Err(_) => "cancelled",
        },
    );
    // SAFETY: still RUNNING, and the stage is now `Consumed`.
    drop(unsafe { cell.replace_stage(Stage::Finished(result)) });
}

/// Publishes the result (RUNNING → COMPLETE), hands it to the JoinHandle or drops it,
/// leaves the registry, and drops the runner's reference.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller holds RUNNING, has stored the result, and hands
/// over its reference (the task may be freed before this returns).
unsafe fn complete<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    let last = {
        // SAFETY: the caller's reference keeps the cell alive within this block.
        let cell = unsafe { cell::<F, S>(ptr) };
        let snapshot = cell.header.state.transition_to_complete();
        // Out of the registry before the JoinHandle is woken: whoever awaits it then sees
        // the task counted out of `num_alive_tasks` and `Handle::tasks`.
        // SAFETY: a view of the runner's reference, which keeps the task alive across
        // `release`; `ManuallyDrop` keeps the view from dropping that reference.
        let view = mem::ManuallyDrop::new(unsafe { TaskRef::from_raw(ptr) });
        let registry_ref = cell.scheduler.release(&view).map(mem::forget).is_some();
        if !snapshot.has_join_interest() {
            // Nobody will read the output: it is ours to drop. User code: contain panics.
            // SAFETY: the completer that saw COMPLETE without JOIN_INTEREST owns the output.
            drop_contained(unsafe { cell.replace_stage(Stage::Consumed) });
        } else if snapshot.has_join_waker() {
            cell.trailer.join_waker.with(|w| {
                // SAFETY: we set COMPLETE while JOIN_WAKER was set: the JoinHandle will not
                // write the waker again, and the completer may read it (state.rs).
                if let Some(w) = unsafe { &*w } {
                    crate::unwind::contain(|| w.wake_by_ref());
                }
            });
        }
        // The runner's reference, and the registry's if it still had the task.
        if registry_ref {
            cell.header.state.ref_dec_twice()
        } else {
            cell.header.state.ref_dec()
        }
    };
    if last {
        // SAFETY: that was the last reference, and no borrow of the cell is live any more.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// Drops the future of a task whose abort was seen, stores the cancelled error, completes.
///
/// # Safety
///
/// As for [`complete`]: RUNNING held, the caller's reference handed over.
unsafe fn cancel<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive for the error.
    let error = JoinError::cancelled(unsafe { ptr.as_ref() });
    // SAFETY: forwarded from the caller: RUNNING is held, the stage is `Running`.
    unsafe {
        finish::<F, S>(ptr, Err(error));
        complete::<F, S>(ptr);
    }
}

/// Vtable `poll`.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>` and the caller hands over a queue entry's reference.
unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the entry's reference keeps the cell alive while `cell` is used.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        StartPoll::Skip => {
            // SAFETY: the entry's reference is ours to drop.
            drop(unsafe { TaskRef::from_raw(ptr) });
            return;
        }
        // SAFETY: RUNNING is held and the entry's reference is handed on.
        StartPoll::Cancel => return unsafe { cancel::<F, S>(ptr) },
        StartPoll::Poll => cell.header.meta.count_poll(),
    }
    // SAFETY: RUNNING is held and the stage is `Running`.
    let polled = unsafe { cell.poll_future() };
    match polled {
        Ok(Poll::Ready(output)) => {
            // SAFETY: RUNNING is held; the entry's reference is handed on.
            unsafe {
                finish::<F, S>(ptr, Ok(output));
                complete::<F, S>(ptr);
            }
        }
        Err(payload) => {
            let error = JoinError::panic(&cell.header, payload);
            // SAFETY: RUNNING is held; the entry's reference is handed on.
            unsafe {
                finish::<F, S>(ptr, Err(error));
                complete::<F, S>(ptr);
            }
        }
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            EndPoll::Idle { last_ref } => {
                if last_ref {
                    // SAFETY: the last reference was ours; `cell` is not used again.
                    unsafe { dealloc::<F, S>(ptr) };
                }
            }
            EndPoll::Reschedule => {
                // Woken during its own poll: a yield, to the back of the queue. The runner's
                // reference becomes the new entry's.
                // SAFETY: the runner's reference and SCHEDULED stand for this entry.
                let task = unsafe { Notified::from_raw(ptr) };
                let scheduler: *const S = &cell.scheduler;
                // SAFETY: the cell is alive until the task is queued; `yield_local` does not
                // read the scheduler after that, and neither does this function.
                if let Err(task) = unsafe { S::yield_local(scheduler, task) } {
                    // Not queued: the cell is still alive. Take a reference of our own so it
                    // outlives the hand-off below, whatever the entry does meanwhile.
                    cell.header.state.ref_inc();
                    cell.scheduler.yield_now(task);
                    // SAFETY: the reference taken above; `cell` is not used again.
                    drop(unsafe { TaskRef::from_raw(ptr) });
                }
            }
            // SAFETY: RUNNING is still held; the entry's reference is handed on.
            EndPoll::Cancel => unsafe { cancel::<F, S>(ptr) },
        },
    }
}

/// Vtable `schedule`.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller hands over a new queue entry's reference and
/// holds a reference of its own until this returns (so the cell, and the scheduler handle
/// borrowed from it, outlive the call even if the entry runs and completes meanwhile).
unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's own reference keeps the cell alive for the call.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the entry's reference and SCHEDULED stand for this entry.
    cell.scheduler.schedule(unsafe { Notified::from_raw(ptr) });
}

/// Vtable `dealloc`.
///
/// # Safety
///
/// The caller dropped the last reference to the live `Cell<F, S>` at `ptr`.
unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: no reference is left, so nobody else can reach the block, which came from
    // `Box::leak` in `allocate` with this exact type.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    // The join waker's drop (and, in theory, a leftover stage's) is user code.
    drop_contained(cell);
}

/// Vtable `try_read_output`.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>` whose JoinHandle (holding JOIN_INTEREST and a reference) is
/// the caller; `dst` points to a `Poll<Result<F::Output, JoinError>>`.
unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the JoinHandle's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    if !can_read_output(&cell.header, &cell.trailer, waker) {
        return;
    }
    // SAFETY: COMPLETE and we hold JOIN_INTEREST: the output is ours.
    let stage = unsafe { cell.replace_stage(Stage::Consumed) };
    let Stage::Finished(result) = stage else {
        panic!("JoinHandle polled after it returned its output");
    };
    // SAFETY: `JoinHandle<F::Output>::poll` passes a `*mut Poll<Result<F::Output, JoinError>>`.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
}

/// The JoinHandle's side of the join-waker protocol (state.rs): `true` when the output can be
/// read now; otherwise `waker` is stored and will be woken at completion. Only the JoinHandle
/// calls this.
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.has_join_waker() {
        // SAFETY: JOIN_WAKER is set, so the slot holds a waker and only reads may race with
        // ours (the completer's).
        let same = trailer
            .join_waker
            .with(|w| unsafe { (*w).as_ref() }.is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        if header.state.unset_join_waker().is_err() {
            return true;
        }
    }
    trailer.join_waker.with_mut(|w| {
        // SAFETY: JOIN_WAKER is clear, so the completer will not read the slot (it reads only
        // when it sets COMPLETE with JOIN_WAKER set); the JoinHandle alone writes it.
        unsafe { *w = Some(waker.clone()) };
    });
    header.state.set_join_waker().is_err()
}

/// Vtable `drop_join_handle`.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller is its JoinHandle, handing over its reference
/// and JOIN_INTEREST.
unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference is released when `_reference` drops.
    let _reference = unsafe { TaskRef::from_raw(ptr) };
    // SAFETY: `_reference` keeps the cell alive for this function.
    let cell = unsafe { cell::<F, S>(ptr) };
    let prev = cell.header.state.unset_join_interest();
    if prev.is_complete() {
        // An output whose `Drop` panics is contained here, as when the runtime drops the
        // output of a task detached before it completed: detaching must not panic in the
        // caller depending on which of the two came first.
        // SAFETY: COMPLETE seen while we still held JOIN_INTEREST: the output is ours.
        drop_contained(unsafe { cell.replace_stage(Stage::Consumed) });
    } else if prev.has_join_waker() {
        // SAFETY: we cleared JOIN_WAKER before COMPLETE: the completer will not read the slot.
        let waker = cell.trailer.join_waker.with_mut(|w| unsafe { (*w).take() });
        drop(waker);
    }
}

/// Vtable `shutdown`.
///
/// # Safety
///
/// `ptr` is a live `Cell<F, S>` and the caller hands over one reference.
unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive.
    let header = unsafe { ptr.as_ref() };
    if header.state.transition_to_shutdown() {
        // SAFETY: we own the future now (RUNNING); our reference is handed on.
        unsafe { cancel::<F, S>(ptr) };
    } else {
        // SAFETY: the caller's reference is ours to drop.
        drop(unsafe { TaskRef::from_raw(ptr) });
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::Header;

    /// The header is on every spawn's path, where its size shows (task/meta.rs): with the
    /// metrics' fields it is 56 bytes, 8 fewer than before them (task/site.rs).
    #[test]
    fn the_header_is_64_bytes_at_most() {
        let size = std::mem::size_of::<Header>();
        let limit = if cfg!(magpie_no_metrics) { 48 } else { 56 };
        assert!(size <= limit, "Header is {size} bytes");
    }
}

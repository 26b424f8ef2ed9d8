//! The task allocation and the functions that act on it.
//!
//! A task is **one** heap block, a `#[repr(C)]` [`Cell`]:
//!
//! ```text
//! Cell<F, S> ┌ Header   state word · vtable · id · registry links   (what a type-erased
//!            │                                                      pointer can reach)
//!            ├ S        the scheduler the task belongs to (an Arc)
//!            ├ Stage    the future, then its output, then nothing
//!            └ Trailer  the JoinHandle's waker
//! ```
//!
//! Everything outside this file sees a task as `NonNull<Header>` and calls through the
//! [`Vtable`], whose functions are monomorphised for each `(F, S)`. Which thread may touch the
//! stage and the trailer at which moment is written in `state.rs`.

use super::error::JoinError;
use super::registry::Links;
use super::state::{EndPoll, StartPoll, State};
use super::{Id, Notified, Schedule, TaskRef};
use crate::context;
use crate::sync::UnsafeCell;
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
    /// The name given with `task::Builder::name`, for errors and diagnostics.
    pub(crate) name: Option<Box<str>>,
    /// Links of the owned-task registry; guarded by the lock of the task's registry shard.
    pub(crate) links: UnsafeCell<Links>,
}

/// The type-specific operations of a task.
pub(crate) struct Vtable {
    /// Runs the task for one queue entry, consuming that entry's reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a new queue entry (its reference already counted) to the task's scheduler.
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

impl<F, S> Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
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
    pub(crate) fn allocate(future: F, scheduler: S, id: Id, name: Option<Box<str>>) -> NonNull<Header> {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: &Self::VTABLE,
                id,
                name,
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

/// Aborts the process if dropped: put around scheduler bookkeeping that must not unwind
/// half-way (a panic there would leave the state word and the stage disagreeing).
pub(crate) struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("magpie: a panic inside the task state machine; aborting");
            std::process::abort();
        }
    }
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// # Safety
    ///
    /// The caller owns the stage: it holds RUNNING, or COMPLETE + JOIN_INTEREST.
    unsafe fn set_stage(&self, stage: Stage<F>) -> Stage<F> {
        // SAFETY: the caller owns the stage (see the function's contract), so no other
        // thread reads or writes it now.
        self.stage.with_mut(|p| unsafe { mem::replace(&mut *p, stage) })
    }

    /// Polls the future once under `catch_unwind`. The caller holds RUNNING.
    fn poll_future(&self) -> Result<Poll<F::Output>, Box<dyn std::any::Any + Send>> {
        let waker = super::waker::borrowed(NonNull::from(&self.header));
        let mut cx = Context::from_waker(&waker);
        let _task = context::enter_task(NonNull::from(&self.header));
        panic::catch_unwind(AssertUnwindSafe(|| {
            self.stage.with_mut(|p| {
                // SAFETY: the caller holds RUNNING, which gives it the stage.
                let stage = unsafe { &mut *p };
                match stage {
                    Stage::Running(f) => {
                        // SAFETY: the future lives in the heap block and is never moved out
                        // while it is `Running` (it is dropped in place), so pinning is sound.
                        let f = unsafe { Pin::new_unchecked(f) };
                        f.poll(&mut cx)
                    }
                    _ => unreachable!("a task was polled after its future was dropped"),
                }
            })
        }))
    }

    /// Drops the future (caller holds RUNNING) and stores the task's result. A panic in the
    /// future's `Drop` is caught; it becomes the result when no earlier one was chosen.
    fn finish(&self, result: Result<F::Output, JoinError>) {
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller holds RUNNING.
            drop(unsafe { self.set_stage(Stage::Consumed) });
        }));
        let result = match (result, dropped) {
            (Err(e), Err(_)) if e.is_panic() => Err(e),
            (_, Err(payload)) => Err(JoinError::panic(&self.header, payload)),
            (r, Ok(())) => r,
        };
        // SAFETY: still RUNNING: the stage is ours until `complete` publishes it.
        drop(unsafe { self.set_stage(Stage::Finished(result)) });
    }

    /// Publishes the result (RUNNING → COMPLETE), hands it to the JoinHandle or drops it,
    /// leaves the registry, and drops the runner's reference. Consumes that reference.
    fn complete(&self) {
        let snapshot = self.header.state.transition_to_complete();
        if !snapshot.has_join_interest() {
            // Nobody will read the output; it is ours to drop. User code: contain panics.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: COMPLETE without JOIN_INTEREST: the completer owns the output.
                drop(unsafe { self.set_stage(Stage::Consumed) });
            }));
        } else if snapshot.has_join_waker() {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                self.trailer.join_waker.with(|w| {
                    // SAFETY: we set COMPLETE while JOIN_WAKER was set: the JoinHandle will not
                    // write the waker again, and reading it here is allowed (state.rs).
                    if let Some(w) = unsafe { &*w } {
                        w.wake_by_ref();
                    }
                })
            }));
        }
        let header = NonNull::from(&self.header);
        // SAFETY: a view of the runner's reference, which keeps the task alive across
        // `release`; `ManuallyDrop` keeps the view from dropping that reference.
        let view = mem::ManuallyDrop::new(unsafe { TaskRef::from_raw(header) });
        let registry_ref = self.scheduler.release(&view);
        let last = match registry_ref {
            Some(r) => {
                mem::forget(r);
                self.header.state.ref_dec_twice()
            }
            None => self.header.state.ref_dec(),
        };
        if last {
            // SAFETY: that was the last reference; no one else can reach the block.
            unsafe { (self.header.vtable.dealloc)(header) };
        }
    }

    /// Drops the future of a task whose abort was seen, stores the cancelled error, completes.
    fn cancel(&self) {
        self.finish(Err(JoinError::cancelled(&self.header)));
        self.complete();
    }
}

unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller's queue entry holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        StartPoll::Skip => {
            // SAFETY: the queue entry's reference is ours to drop.
            drop(unsafe { TaskRef::from_raw(ptr) });
            return;
        }
        StartPoll::Cancel => return cell.cancel(),
        StartPoll::Poll => {}
    }
    match cell.poll_future() {
        Ok(Poll::Ready(output)) => {
            cell.finish(Ok(output));
            cell.complete();
        }
        Ok(Poll::Pending) => {
            let guard = AbortOnUnwind;
            match cell.header.state.transition_to_idle() {
                EndPoll::Idle { last_ref } => {
                    if last_ref {
                        // SAFETY: the last reference was ours.
                        unsafe { dealloc::<F, S>(ptr) };
                    }
                }
                EndPoll::Reschedule => {
                    // Woken during its own poll: a yield. To the back of the queue, reusing
                    // the runner's reference as the new entry.
                    // SAFETY: SCHEDULED stays set and the runner's reference is handed on.
                    cell.scheduler.yield_now(unsafe { Notified::from_raw(ptr) });
                }
                EndPoll::Cancel => cell.cancel(),
            }
            mem::forget(guard);
        }
        Err(payload) => {
            cell.finish(Err(JoinError::panic(&cell.header, payload)));
            cell.complete();
        }
    }
}

unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller took a reference for this queue entry.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: as above; the entry owns that reference from here on.
    cell.scheduler.schedule(unsafe { Notified::from_raw(ptr) });
}

unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the caller dropped the last reference; the block came from `Box::leak` in
    // `allocate` with this exact type.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

unsafe fn try_read_output<F: Future, S: Schedule>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the JoinHandle holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    if !can_read_output(&cell.header, &cell.trailer, waker) {
        return;
    }
    // SAFETY: COMPLETE and we hold JOIN_INTEREST: the output is ours.
    let stage = unsafe { cell.set_stage(Stage::Consumed) };
    let Stage::Finished(result) = stage else {
        panic!("JoinHandle polled after it returned its output");
    };
    // SAFETY: `JoinHandle<F::Output>::poll` passes a `*mut Poll<Result<F::Output, JoinError>>`.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
}

/// The JoinHandle's side of the join-waker protocol (state.rs): `true` when the output can be
/// read now; otherwise `waker` is stored and will be woken at completion.
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
        // SAFETY: JOIN_WAKER is clear and the task is not complete: the slot is ours alone.
        unsafe { *w = Some(waker.clone()) };
    });
    header.state.set_join_waker().is_err()
}

unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the JoinHandle's reference is held until the end of this function.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the handle's reference is released when `_reference` drops, even if the drop of
    // the output below panics.
    let _reference = unsafe { TaskRef::from_raw(ptr) };
    let prev = cell.header.state.unset_join_interest();
    if prev.is_complete() {
        // SAFETY: COMPLETE seen while we still held JOIN_INTEREST: the output is ours.
        drop(unsafe { cell.set_stage(Stage::Consumed) });
    } else if prev.has_join_waker() {
        // SAFETY: we cleared JOIN_WAKER before COMPLETE: the completer will not read the slot.
        let waker = cell.trailer.join_waker.with_mut(|w| unsafe { (*w).take() });
        drop(waker);
    }
}

unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller passes its reference to us.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // We own the future now; `cancel` consumes a reference as the runner's would.
        cell.cancel();
    } else {
        // SAFETY: the caller's reference is ours to drop.
        drop(unsafe { TaskRef::from_raw(ptr) });
    }
}

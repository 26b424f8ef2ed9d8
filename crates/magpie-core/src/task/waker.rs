//! Wakers: the task pointer with one static vtable, no extra allocation.
//!
//! clone = one reference more; drop = one reference less (freeing the task when it was the
//! last); wake = one compare-exchange on the state word that sets SCHEDULED and hands a queue
//! entry (with a reference of its own) to the scheduler only when the task was idle. A wake
//! by value is a wake by reference followed by the drop of the waker's reference. A wake never drops the future: the
//! registry's reference keeps every unfinished task alive, so the last reference can only
//! fall away from a finished task.

use super::raw::Header;
use super::state::WakeAction;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task that does not own a reference.
///
/// # Safety
///
/// `header` is a live task, and the caller holds a reference to it for as long as the
/// returned waker (not its clones, which take their own) is used.
pub(crate) unsafe fn borrowed(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(header.as_ptr() as *const (), &VTABLE);
    // SAFETY: the vtable's contract holds for a `Header` pointer; `ManuallyDrop` keeps this
    // waker from dropping a reference it never took (clones do take one).
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// # Safety
///
/// `ptr` is a live task header for the duration of the borrow.
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: every waker built with `VTABLE` carries a `Header` pointer kept alive by a
    // reference (its own, or the borrowing caller's).
    unsafe { &*(ptr as *const Header) }
}

/// # Safety
///
/// `ptr` is the header of a live task and the waker being cloned holds a reference to it.
unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: a waker's data pointer is a live header.
    unsafe { header(ptr) }.state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

/// # Safety
///
/// `ptr` is the header of a live task and this waker owns one reference to it.
unsafe fn wake(ptr: *const ()) {
    // The waker's reference is kept until scheduling returns, then dropped: handing it to the
    // queue entry instead would let the task (and its scheduler) be freed under our feet
    // once another worker runs it.
    // SAFETY: forwarded contract.
    unsafe {
        wake_by_ref(ptr);
        drop_waker(ptr);
    }
}

/// # Safety
///
/// `ptr` is the header of a live task and this waker owns (or borrows) one reference to it.
unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the header alive.
    let h = unsafe { header(ptr) };
    if h.state.transition_to_notified_by_ref() == WakeAction::Schedule {
        // SAFETY: the transition took a new reference for the queue entry.
        unsafe { (h.vtable.schedule)(NonNull::from(h)) };
    }
}

/// # Safety
///
/// `ptr` is the header of a live task and this waker owns one reference to it.
unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the header alive until released here.
    let h = unsafe { header(ptr) };
    if h.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (h.vtable.dealloc)(NonNull::from(h)) };
    }
}

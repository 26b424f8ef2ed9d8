//! Where panics stop.
//!
//! User code (a poll, a `Drop`, a waker, a hook, a driver's event dispatch) may panic; the
//! scheduler must not unwind because of it. [`contain`] runs such code and swallows its
//! panic; [`AbortOnUnwind`] guards the scheduler's own transitions, where a panic means a
//! bug and going on would leave a task half-way through a state change.

use std::any::Any;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, containing its panic; `true` when it panicked.
///
/// The payload is dropped inside a second `catch_unwind` (a payload's `Drop` is user code
/// too); only a payload whose own drop panics is leaked, never unwound.
pub(crate) fn contain(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(payload) => {
            drop_payload(payload);
            true
        }
    }
}

/// Drops `value`, containing a panic of its `Drop`.
pub(crate) fn drop_contained<T>(value: T) {
    contain(move || drop(value));
}

/// Drops a panic payload that is no longer wanted, containing a panic of its `Drop`.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        mem::forget(again);
    }
}

/// Aborts the process if dropped while unwinding.
pub(crate) struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            magpie_shim::diagnostics::report(format_args!(
                "a panic inside the scheduler's own bookkeeping; aborting"
            ));
            std::process::abort();
        }
    }
}

//! The current runtime's driver (timers, clock, I/O reactor), as the time, net and signal
//! modules reach it. The driver itself is magpie-core's [`Driver`]; see its documentation for
//! how the idle worker holding it waits for timers and I/O.

use crate::time::shard_hint;
use magpie_core::Driver;
use magpie_shim::Arc;

/// The driver of the runtime the current thread is in, and the timer shard this thread
/// should use (its worker's own, or one picked per thread).
pub(crate) fn current() -> Option<(Arc<Driver>, usize)> {
    magpie_core::with_current(|handle| {
        let handle = handle?;
        let shard = magpie_core::worker_index(handle).unwrap_or_else(shard_hint);
        Some((handle.driver().clone(), shard))
    })
}

/// Runs `f` with the current runtime's driver, without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Driver>) -> R) -> R {
    magpie_core::with_current(|handle| f(handle.map(|h| &**h.driver())))
}

/// The timer shard the current thread should use (see [`current`]).
pub(crate) fn current_shard() -> usize {
    magpie_core::with_current(|handle| handle.and_then(magpie_core::worker_index))
        .unwrap_or_else(shard_hint)
}

//! A cheap, coarse monotonic clock for task ages.
//!
//! Stamping every spawn with `Instant::now()` costs about 24 ns on this project's VMs (a vDSO
//! `clock_gettime(CLOCK_MONOTONIC)` with a TSC read); `CLOCK_MONOTONIC_COARSE` costs about
//! 3.5 ns (it reads the time of the last kernel tick) and is good to a few milliseconds,
//! which is all a task's age needs. Other platforms use `Instant`. A spawn from a worker
//! does not read it at all: the worker keeps a reading, refreshed at each driver turn (every
//! `event_interval` ticks) and each time it wakes from a sleep in its parker, so a task's age
//! is short by at most the time of the polls since that reading.

/// Nanoseconds on a monotonic clock with a resolution of a few milliseconds (Linux) or
/// better; only differences of two readings mean anything.
#[inline]
pub(crate) fn coarse_nanos() -> u64 {
    imp::coarse_nanos()
}

/// A spawn time for a task spawned off the workers: [`coarse_nanos`], or nothing with the
/// metrics compiled out. (A worker stamps its spawns with its own reading, refreshed at
/// every driver turn and park: `WorkerLocal::coarse_now`.)
#[inline]
pub(crate) fn spawn_stamp() -> u64 {
    if cfg!(magpie_no_metrics) {
        0
    } else {
        coarse_nanos()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    #[inline]
    pub(super) fn coarse_nanos() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every
        // Linux since 2.6.32 and cannot fail with a valid pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::sync::OnceLock;
    use std::time::Instant;

    #[inline]
    pub(super) fn coarse_nanos() -> u64 {
        static BASE: OnceLock<Instant> = OnceLock::new();
        BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::coarse_nanos;
    use std::time::Duration;

    #[test]
    fn the_coarse_clock_moves_forward() {
        let a = coarse_nanos();
        std::thread::sleep(Duration::from_millis(30));
        let b = coarse_nanos();
        assert!(b >= a);
        // A few ms of resolution at most: 30 ms must show as at least 20.
        assert!(b - a >= 20_000_000, "{} ns", b - a);
    }
}

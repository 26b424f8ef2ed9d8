//! Support for `magpie::select!`: where an unbiased select starts polling.
//!
//! An unbiased `select!` polls its branches in order starting from a random one, so that a
//! branch that is always ready cannot starve the branches after it. The randomness only has to
//! differ between calls: a per-thread xorshift generator, seeded once per thread from std's
//! randomly keyed hasher, is enough. A run of `#[magpie::test(explore = N)]` restarts the
//! generator from its seed ([`reseed`]), so that a seed also fixes which branch each select
//! polls first (explore.rs).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    /// The generator's state; never 0 (xorshift would stay at 0).
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // Each `RandomState` is keyed afresh (random per thread, then incremented per call).
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish() | 1
}

/// Restarts this thread's generator from `seed`: the starts it gives from now on are a
/// function of `seed` alone.
pub(crate) fn reseed(seed: u64) {
    STATE.with(|state| state.set(magpie_shim::seed_state(seed)));
}

/// The branch an unbiased select with `branches` branches polls first: `0..branches`.
pub fn start(branches: usize) -> usize {
    if branches <= 1 {
        return 0;
    }
    STATE.with(|state| {
        // xorshift64 (Marsaglia): full period over the non-zero states.
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x % branches as u64) as usize
    })
}

/// The `offset`-th branch to poll when polling starts at branch `start` of `branches`
/// (a function, not inline `%` in the expansion, so that clippy sees no `x % 1` in users'
/// code when there is one branch).
#[inline]
pub fn nth_from(start: usize, offset: usize, branches: usize) -> usize {
    (start + offset) % branches
}

/// Panics for a `select!` whose branches are all disabled and which has no `else` branch.
#[cold]
#[track_caller]
pub fn all_branches_disabled() -> ! {
    panic!(
        "magpie::select!: all branches are disabled (their patterns did not match or their \
         `if` conditions were false) and there is no `else` branch"
    )
}

#[cfg(test)]
mod tests {
    use super::{reseed, start};

    #[test]
    fn start_covers_every_branch_and_stays_in_range() {
        let mut seen = [0usize; 5];
        for _ in 0..5_000 {
            seen[start(5)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 500), "uneven starts: {seen:?}");
        assert_eq!(start(1), 0);
        assert_eq!(start(0), 0);
    }

    #[test]
    fn reseeding_repeats_the_starts() {
        let starts = |seed| {
            reseed(seed);
            (0..64).map(|_| start(4)).collect::<Vec<_>>()
        };
        assert_eq!(starts(3), starts(3));
        assert_eq!(starts(0), starts(0));
        assert_ne!(starts(3), starts(4));
    }
}

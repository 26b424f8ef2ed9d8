//! Task identifiers.

use magpie_shim::unmodelled::{AtomicU64, Ordering};
use std::fmt;
use std::num::NonZeroU64;

/// A task's identifier: unique among all tasks of the process for its lifetime.
///
/// Ids are handed out in blocks of [`BLOCK`] per thread: a thread's spawns count up within
/// its block, and only every `BLOCK`th spawn takes a new block from the process-wide
/// counter. So spawning threads do not all write one shared counter, and the ids of one
/// thread's consecutive spawns share `id / BLOCK` (the registry shards by it, keeping a
/// worker's spawns on one shard at a time). Ids are unique, not in spawn order across
/// threads.
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(NonZeroU64);

/// Ids a thread takes from the process-wide counter at once (a power of two).
pub(crate) const BLOCK: u64 = 256;

impl Id {
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::thread_local! {
            /// The next id of this thread's block, and the end of the block.
            static MINE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
        }
        // Blocks are aligned to `BLOCK`; the first one starts at 1 (0 is no id), so the
        // process's first task is task 1.
        let take_block = || {
            let start = NEXT.fetch_add(BLOCK, Ordering::Relaxed);
            (start.max(1), start + BLOCK)
        };
        let id = MINE
            .try_with(|mine| {
                let (mut next, mut end) = mine.get();
                if next == end {
                    (next, end) = take_block();
                }
                mine.set((next + 1, end));
                next
            })
            // A spawn from a thread-local destructor: a block of its own, used once.
            .unwrap_or_else(|_| take_block().0);
        Id(NonZeroU64::new(id).expect("task id counter wrapped around"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_across_threads_and_a_threads_run_shares_a_block() {
        let per_thread: Vec<Vec<u64>> = (0..4)
            .map(|_| std::thread::spawn(|| (0..1_000).map(|_| Id::next().as_u64()).collect()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let all: HashSet<u64> = per_thread.iter().flatten().copied().collect();
        assert_eq!(all.len(), 4_000, "an id was handed out twice");
        for ids in &per_thread {
            // Within a thread, ids count up by one except where a new block starts.
            let jumps = ids.windows(2).filter(|w| w[1] != w[0] + 1).count();
            assert!(
                jumps <= 1_000 / BLOCK as usize + 1,
                "{jumps} jumps in {ids:?}"
            );
            assert!(ids
                .windows(2)
                .all(|w| w[0] / BLOCK != w[1] / BLOCK || w[1] == w[0] + 1));
        }
    }
}

//! magpie-timer: the timers behind `magpie::time`.
//!
//! - [`Wheel`] (`wheel.rs`): a hierarchical timer wheel, 6 levels × 64 slots with 1 ms slots
//!   at level 0 (2^36 ms, about two years, of range), a per-level occupancy bitmap so that
//!   "next deadline" is a bit scan, and O(1) insert and cancel. Deadlines are kept exactly,
//!   in nanoseconds: the wheel only decides *when to look* at an entry; the exact deadline
//!   decides whether it fires. Single-threaded; entries live in a slab (`entries.rs`).
//! - [`Timers`] (`timers.rs`): the thread-safe part: one wheel per shard behind its own
//!   lock, each shard's next deadline in an atomic, and the protocol that wakes a sleeping
//!   driver when a timer earlier than its wake-up time is registered. The entry states
//!   (registered, firing, fired, cancelled) and the race between cancel and fire are written
//!   out at the top of `timers.rs` and checked by the loom models in `loom_tests.rs`.
//! - [`Clock`] (`clock.rs`): the runtime's clock, which tests can pause and advance.
//!
//! This crate has no threads of its own. The runtime's driver asks [`Timers`] for the next
//! deadline, sleeps until then, and hands it the time with [`Timers::process`].

mod clock;
mod entries;
mod timers;
mod wheel;

#[cfg(all(test, loom))]
mod loom_tests;

pub use clock::{Clock, ClockError};
pub use timers::{TimerKey, Timers};
pub use wheel::{Key, Wheel, LEVELS, MAX_SPAN_MS, SLOTS};

/// Nanoseconds in one level-0 slot (1 ms), the wheel's unit of time.
pub const NANOS_PER_SLOT: u64 = 1_000_000;

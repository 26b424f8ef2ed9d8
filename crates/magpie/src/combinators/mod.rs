//! Combinators that run several futures concurrently inside one task: `join!`, `try_join!`
//! and `select!` (macros from `magpie-macros`, re-exported at the crate root) and
//! [`join_all`] / [`try_join_all`] (Python's `asyncio.gather`).
//!
//! - `maybe_done.rs`: one future of a `join!` / `try_join!`, holding its output once ready.
//! - `select.rs`: where an unbiased `select!` (and a `join!`) starts polling.
//! - `ready_list.rs`: per-child wakers that record which children of a `join_all` to re-poll.
//! - `join_all.rs`: `join_all` and `try_join_all`.
//!
//! The macros expand to code that names [`support`] through `::magpie::__private`; nothing
//! in it is part of the public API.

mod join_all;
mod maybe_done;
mod ready_list;
mod select;

pub use join_all::{join_all, try_join_all, JoinAll, TryJoinAll};
pub(crate) use select::reseed as reseed_select;

/// What the expansions of `join!`, `try_join!` and `select!` call (`magpie::__private`).
pub(crate) mod support {
    pub use super::maybe_done::{MaybeDone, TryMaybeDone};
    pub use super::select::{all_branches_disabled, nth_from, start as select_start};
    pub use std::future::{poll_fn, IntoFuture};
    pub use std::pin::pin;
    pub use std::task::Poll;
}

//! Streams: asynchronous iterators (`futures_core::Stream`), their combinators, and
//! [`generator`] to write one as an async block that yields (Python's async generators).
//!
//! ```
//! # magpie::run(async {
//! use magpie::stream::{self, StreamExt};
//!
//! let evens: Vec<u32> = stream::iter(1..=10).filter(|n| n % 2 == 0).collect().await;
//! assert_eq!(evens, [2, 4, 6, 8, 10]);
//! # });
//! ```
//!
//! [`Stream`] and [`StreamExt`] (with `next`, `map`, `filter`, `take`, `collect`, `for_each`,
//! `try_next`, ...) and the constructors ([`iter`], [`once`], [`empty`], [`unfold`], ...) are
//! futures-lite's, re-exported.

mod generator;

pub use generator::{generator, try_generator, Co, Yield};

pub use futures_lite::stream::{
    empty, iter, once, once_future, pending, poll_fn, repeat, repeat_with, try_unfold, unfold,
    Boxed, BoxedLocal, Stream, StreamExt,
};

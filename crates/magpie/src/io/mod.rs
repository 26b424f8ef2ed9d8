//! I/O: the readiness wrapper [`Async`] and the futures-io traits.
//!
//! `magpie::io` re-exports futures-io's `AsyncRead`, `AsyncWrite`, `AsyncBufRead`,
//! `AsyncSeek` and futures-lite's extension traits (`AsyncReadExt`, `AsyncSeekExt`, ...), so
//! `read`, `write_all`, `seek`, `read_to_end` and friends work on every magpie I/O type, and
//! futures-lite's [`BufReader`] (`BufReader::new(reader).lines()` reads a stream line by line).

mod async_io;

pub use async_io::Async;
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};

//! I/O: the readiness wrapper [`Async`], the futures-io traits, and the helpers a tokio user
//! reaches for.
//!
//! `magpie::io` re-exports futures-io's `AsyncRead`, `AsyncWrite`, `AsyncBufRead`,
//! `AsyncSeek` and futures-lite's extension traits (`AsyncReadExt`, `AsyncSeekExt`, ...), so
//! `read`, `write_all`, `seek`, `read_to_end` and friends work on every magpie I/O type, and
//! futures-lite's [`BufReader`] (`BufReader::new(reader).lines()` reads a stream line by line).
//!
//! tokio's helpers, for futures-io types (so that code need not mix the two families of
//! traits, whose extension methods clash: docs/ecosystem.md, "E0034"):
//!
//! | tokio                                     | magpie                                          |
//! |-------------------------------------------|-------------------------------------------------|
//! | `tokio::io::copy(&mut r, &mut w)`         | [`copy`]`(r, &mut w)`                           |
//! | `tokio::io::copy_bidirectional(a, b)`     | [`copy_bidirectional`]`(a, b)`                  |
//! | `tokio::io::split(io)`                    | [`split`]`(io)` (the halves share a lock)       |
//! | `TcpStream::split` / `into_split`         | `stream.clone()` or `(&stream, &stream)`: magpie's sockets are read and written through `&` |
//! | `BufReader::new(r).lines()`, `next_line()`| `BufReader::new(r).lines()`, a `Stream` of `io::Result<String>` (`.next().await`) |

mod async_io;
mod copy;

pub use async_io::Async;
pub use copy::copy_bidirectional;
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_lite::io::{
    copy, split, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, Lines,
    ReadHalf, WriteHalf,
};

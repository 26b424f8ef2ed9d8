//! magpie-io: the I/O reactor behind `magpie::net` and `magpie::io::Async`.
//!
//! - [`Reactor`] (`reactor.rs`): one poller per runtime (`sys::Poller`: epoll on Linux,
//!   `polling` elsewhere), the table of registered
//!   sources (a slab of keys), and `wait`, which blocks in the poller (with the timeout the
//!   runtime's driver gives it: the next timer deadline) and dispatches readiness.
//! - [`Source`] (`source.rs`): one registered file descriptor: its readiness word (readiness
//!   bits plus the reactor *turn*, one per wait, of the event that set them, so that an
//!   event racing with a `WouldBlock` is never lost), its waiting reader and writer;
//!   registered edge-triggered for both directions once, never re-armed. The protocol is
//!   written at the top of `source.rs` and checked by the loom model in `loom_tests.rs`.
//! - [`Registration`]: a source's owner. Dropping it deletes the fd from the poller (before
//!   the owner closes the fd, as the poller requires); the key is reused only after the reactor
//!   has finished a whole wait begun after the deletion, so no event still in flight for the
//!   old source reaches a new one.
//! - `sys` (`sys/`): every raw OS call (non-blocking mode, sockets, accept4, signal pipe),
//!   and the *source* vocabulary (`sys::RawSource`, `BorrowedSource`, `OwnedSource`,
//!   `AsSource`): file descriptors on Unix, sockets on Windows (where `polling` watches
//!   sockets only and has no edge mode: see `reactor.rs`, "Windows"). The signal pipe and
//!   the descriptor flags are Unix only.
//!
//! No threads of its own: the runtime's driver calls [`Reactor::wait`].

mod reactor;
mod source;
pub mod sys;

#[cfg(all(test, loom))]
mod loom_tests;

pub use reactor::{Reactor, Registration};
pub use source::{Direction, ReadyEvent, Source};

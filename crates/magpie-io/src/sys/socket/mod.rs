//! Sockets: created non-blocking (and close-on-exec / non-inheritable), a non-blocking
//! `connect`, `accept` giving non-blocking sockets, the pending error (`SO_ERROR`), and the
//! resource-exhaustion test for `accept` errors.
//!
//! - Unix (`unix.rs`): libc calls (`accept4`, `SOCK_NONBLOCK | SOCK_CLOEXEC` where the OS
//!   has them), plus Unix-socket paths ([`RawAddr::from_unix_path`], Unix only).
//! - Windows (`windows.rs`): Winsock through `socket2` (sockets created with
//!   `WSA_FLAG_NO_HANDLE_INHERIT`, then `FIONBIO`).
//!
//! Both export the same functions over the source vocabulary of [`super`] (`OwnedFd` /
//! `BorrowedFd` on Unix, `OwnedSocket` / `BorrowedSocket` on Windows).

/// The kind of socket to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `SOCK_STREAM`.
    Stream,
    /// `SOCK_DGRAM`.
    Datagram,
}

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

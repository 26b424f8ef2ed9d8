//! Every raw OS call magpie's I/O makes, in one place, each wrapped in a safe function that
//! returns `io::Error`s carrying the OS's error kind.
//!
//! - The *source* vocabulary (this file): what the reactor registers. On Unix a file
//!   descriptor ([`RawSource`] = `RawFd`, [`BorrowedSource`] = `BorrowedFd`, [`OwnedSource`]
//!   = `OwnedFd`, [`AsSource`] = `AsFd`); on Windows a socket (`RawSocket`, `BorrowedSocket`,
//!   `OwnedSocket`, `AsSocket`): `polling` watches sockets only there (AFD).
//! - `fd.rs` (Unix only): descriptor flags (non-blocking mode). On Windows,
//!   [`set_nonblocking`] sets `FIONBIO` on the socket.
//! - `socket.rs`: sockets created non-blocking and close-on-exec, non-blocking `connect`,
//!   `accept4`, and the conversions between `SocketAddr` and the C socket addresses (libc on
//!   Unix; `socket2` over Winsock on Windows, non-inheritable sockets).
//! - `signal.rs` (Unix only): the signal self-pipe (a pipe, the async-signal-safe write to
//!   it, the blocking wait on its read end and the drain). Windows has no signals;
//!   `magpie::signal::ctrl_c` uses the console control handler there instead.
//! - `epoll.rs` (Linux) / `portable.rs` (elsewhere, over `polling`): the poller, one small
//!   interface (`Poller`, `PollEvents`, `PollEvent`) with two implementations.

#[cfg(target_os = "linux")]
mod epoll;
#[cfg(unix)]
mod fd;
#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(unix)]
pub mod signal;
pub mod socket;

#[cfg(target_os = "linux")]
pub use epoll::{PollEvent, PollEvents, Poller};
#[cfg(unix)]
pub use fd::set_nonblocking;
#[cfg(not(target_os = "linux"))]
pub use portable::{PollEvent, PollEvents, Poller};

#[cfg(unix)]
pub use std::os::fd::{
    AsFd as AsSource, AsRawFd as AsRawSource, BorrowedFd as BorrowedSource, OwnedFd as OwnedSource,
    RawFd as RawSource,
};
#[cfg(windows)]
pub use std::os::windows::io::{
    AsRawSocket as AsRawSource, AsSocket as AsSource, BorrowedSocket as BorrowedSource,
    OwnedSocket as OwnedSource, RawSocket as RawSource,
};

/// Borrows `io`'s source: `as_fd` on Unix, `as_socket` on Windows.
#[cfg(unix)]
pub fn as_source<T: AsSource + ?Sized>(io: &T) -> BorrowedSource<'_> {
    io.as_fd()
}

/// Borrows `io`'s source: `as_fd` on Unix, `as_socket` on Windows.
#[cfg(windows)]
pub fn as_source<T: AsSource + ?Sized>(io: &T) -> BorrowedSource<'_> {
    io.as_socket()
}

/// The raw value of a borrowed source: `as_raw_fd` on Unix, `as_raw_socket` on Windows.
#[cfg(unix)]
pub fn raw_source(source: BorrowedSource<'_>) -> RawSource {
    source.as_raw_fd()
}

/// The raw value of a borrowed source: `as_raw_fd` on Unix, `as_raw_socket` on Windows.
#[cfg(windows)]
pub fn raw_source(source: BorrowedSource<'_>) -> RawSource {
    source.as_raw_socket()
}

/// Borrows a raw source (`borrow_raw` on both).
///
/// # Safety
///
/// `raw` must be an open descriptor (socket) for all of `'a`, and not -1 (`INVALID_SOCKET`).
pub unsafe fn borrow_raw<'a>(raw: RawSource) -> BorrowedSource<'a> {
    // SAFETY: the caller keeps `raw` open for `'a` and it is not the invalid value (this
    // fn's contract).
    unsafe { BorrowedSource::borrow_raw(raw) }
}

/// Puts the socket `socket` in non-blocking mode (`ioctlsocket(FIONBIO)`), as the reactor
/// requires. Windows only; on Unix this is the `O_NONBLOCK` of `fd.rs`.
#[cfg(windows)]
pub fn set_nonblocking(socket: BorrowedSource<'_>) -> std::io::Result<()> {
    socket2::SockRef::from(&socket).set_nonblocking(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn source_round_trip() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let borrowed = super::as_source(&listener);
        let raw = super::raw_source(borrowed);
        // SAFETY: `listener` is open for the whole test.
        let again = unsafe { super::borrow_raw(raw) };
        assert_eq!(super::raw_source(again), raw);
        super::set_nonblocking(again).unwrap();
    }
}

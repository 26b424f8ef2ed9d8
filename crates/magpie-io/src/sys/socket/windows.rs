//! Sockets on Windows, through `socket2` (Winsock): created non-inheritable
//! (`WSA_FLAG_NO_HANDLE_INHERIT`) and put in non-blocking mode (`FIONBIO`) before anyone
//! else sees them; `connect` failing with `WSAEWOULDBLOCK` means "in progress"; accepted
//! sockets are set non-blocking too.
//!
//! Every function returns the OS's error as an `io::Error`, so its kind is the OS's
//! (`AddrInUse`, `ConnectionRefused`, ...).

use super::Kind;
use socket2::{SockAddr, SockRef, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::windows::io::{BorrowedSocket, OwnedSocket};
use windows_sys::Win32::Networking::WinSock;

/// A socket address, as `connect`/`bind` take it.
pub struct RawAddr {
    addr: SockAddr,
}

impl RawAddr {
    /// The Winsock form of an IPv4 or IPv6 address.
    pub fn from_inet(addr: &SocketAddr) -> RawAddr {
        RawAddr {
            addr: SockAddr::from(*addr),
        }
    }
}

/// A new socket for `addr`'s family, non-inheritable and non-blocking.
pub fn socket(addr: &RawAddr, kind: Kind) -> io::Result<OwnedSocket> {
    let ty = match kind {
        Kind::Stream => Type::STREAM,
        Kind::Datagram => Type::DGRAM,
    };
    let socket = Socket::new(addr.addr.domain(), ty, None)?;
    socket.set_nonblocking(true)?;
    Ok(OwnedSocket::from(socket))
}

/// Starts connecting the non-blocking socket `socket` to `addr`.
///
/// Returns `Ok(true)` when the connection is already established, and `Ok(false)` when it
/// is in progress (`WSAEWOULDBLOCK`, or `WSAEINPROGRESS`): wait for writability, then read
/// the outcome with [`take_error`].
pub fn connect(socket: BorrowedSocket<'_>, addr: &RawAddr) -> io::Result<bool> {
    match SockRef::from(&socket).connect(&addr.addr) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(WinSock::WSAEWOULDBLOCK | WinSock::WSAEINPROGRESS)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The pending error of a socket (`SO_ERROR`), cleared by reading it: after a non-blocking
/// connect becomes writable, `Ok(None)` means it succeeded.
pub fn take_error(socket: BorrowedSocket<'_>) -> io::Result<Option<io::Error>> {
    SockRef::from(&socket).take_error()
}

/// Accepts one connection from the listening socket `socket` (IPv4 or IPv6), as a
/// non-blocking socket, with its peer's address.
pub fn accept_inet(socket: BorrowedSocket<'_>) -> io::Result<(OwnedSocket, SocketAddr)> {
    let (conn, addr) = accept_raw(socket)?;
    let addr = addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "accept returned an address that is not IPv4 or IPv6",
        )
    })?;
    Ok((conn, addr))
}

/// Accepts one connection from the listening socket `socket`, as a non-blocking socket,
/// without its address.
pub fn accept(socket: BorrowedSocket<'_>) -> io::Result<OwnedSocket> {
    Ok(accept_raw(socket)?.0)
}

fn accept_raw(socket: BorrowedSocket<'_>) -> io::Result<(OwnedSocket, SockAddr)> {
    let (conn, addr) = SockRef::from(&socket).accept()?;
    // Winsock gives the accepted socket the listener's mode already; set it anyway, so a
    // listener registered in blocking mode by someone else cannot hand out a blocking one.
    conn.set_nonblocking(true)?;
    Ok((OwnedSocket::from(conn), addr))
}

/// Whether an `accept` error means the process or system ran out of a resource (sockets or
/// buffer space): the connection stays queued, and retrying at once would only spin.
pub fn is_resource_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(WinSock::WSAEMFILE | WinSock::WSAENOBUFS)
    )
}

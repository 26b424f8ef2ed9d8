//! UDP: [`UdpSocket`].

use super::{first_success, resolve};
use crate::io::Async;
use magpie_io::sys::as_source;
use std::fmt;
use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};

/// A UDP socket (asyncio's `DatagramProtocol` transport).
///
/// Unconnected, it sends with [`send_to`](UdpSocket::send_to) and receives with
/// [`recv_from`](UdpSocket::recv_from); after [`connect`](UdpSocket::connect) it talks to
/// one peer with [`send`](UdpSocket::send) / [`recv`](UdpSocket::recv) and drops datagrams
/// from anyone else. Every method takes `&self`: share it in an `Arc` to send from one task
/// and receive in another. A datagram longer than the buffer is truncated, as with std.
///
/// ```
/// use magpie::net::UdpSocket;
///
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"hi", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    io: Async<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried (`AddrInUse`, ...); `InvalidInput` when
    /// `addr` resolves to nothing; an error outside a magpie runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = resolve(addr)?;
        let socket = first_success(&addrs, net::UdpSocket::bind)?;
        UdpSocket::from_std(socket)
    }

    /// Wraps a std socket, registering it with the runtime.
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Async::new(socket)?,
        })
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes there and only its datagrams
    /// are received. (No packet is sent: UDP has no handshake.)
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = resolve(addr)?;
        first_success(&addrs, |addr| self.io.get_ref().connect(addr))
    }

    /// Sends one datagram to `addr`; returns the bytes sent.
    pub async fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let addr = resolve(addr)?[0];
        self.io.write_with(|s| s.send_to(buf, addr)).await
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Receives one datagram without consuming it; returns its length and sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` before [`connect`](UdpSocket::connect); `ConnectionRefused` when an
    /// earlier datagram to the peer was answered by an ICMP "port unreachable".
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` before [`connect`](UdpSocket::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Allows (or forbids) sending to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &magpie_io::sys::raw_source(as_source(self)))
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for UdpSocket {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&self.io)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for UdpSocket {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&self.io)
    }
}

//! Sockets on Unix: created non-blocking and close-on-exec (in one call where the OS can), a
//! non-blocking `connect`, `accept4` (or `accept` + `fcntl` on Apple systems), and the
//! conversions between Rust's socket addresses and C's (with BSD's `sin_len`/`sin6_len`).
//!
//! Every function returns the OS's error as an `io::Error`, so its kind is the OS's
//! (`AddrInUse`, `ConnectionRefused`, ...).

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
#[cfg(target_vendor = "apple")]
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::Kind;

/// A C socket address, as `connect`/`bind` take it.
pub struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    /// The C form of an IPv4 or IPv6 address.
    pub fn from_inet(addr: &SocketAddr) -> RawAddr {
        // SAFETY: all-zero bytes are a valid `sockaddr_storage` (plain integers).
        let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let len = match addr {
            SocketAddr::V4(v4) => {
                // SAFETY: all-zero bytes are a valid `sockaddr_in` (plain integers); the
                // fields this OS has beyond these (BSD's `sin_len`) are set below.
                let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = v4.port().to_be();
                sin.sin_addr = libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                };
                #[cfg(any(
                    target_vendor = "apple",
                    target_os = "freebsd",
                    target_os = "netbsd",
                    target_os = "openbsd",
                    target_os = "dragonfly"
                ))]
                {
                    sin.sin_len = mem::size_of::<libc::sockaddr_in>() as u8;
                }
                // SAFETY: `sockaddr_storage` is larger than and as aligned as `sockaddr_in`.
                unsafe { (&mut storage as *mut _ as *mut libc::sockaddr_in).write(sin) };
                mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(v6) => {
                // SAFETY: all-zero bytes are a valid `sockaddr_in6`; as above.
                let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = v6.port().to_be();
                sin6.sin6_flowinfo = v6.flowinfo();
                sin6.sin6_addr = libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                };
                sin6.sin6_scope_id = v6.scope_id();
                #[cfg(any(
                    target_vendor = "apple",
                    target_os = "freebsd",
                    target_os = "netbsd",
                    target_os = "openbsd",
                    target_os = "dragonfly"
                ))]
                {
                    sin6.sin6_len = mem::size_of::<libc::sockaddr_in6>() as u8;
                }
                // SAFETY: `sockaddr_storage` is larger than and as aligned as `sockaddr_in6`.
                unsafe { (&mut storage as *mut _ as *mut libc::sockaddr_in6).write(sin6) };
                mem::size_of::<libc::sockaddr_in6>()
            }
        };
        RawAddr {
            storage,
            len: len as libc::socklen_t,
        }
    }

    /// The C form of a Unix socket path. A path starting with a NUL byte names an address in
    /// Linux's abstract namespace.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the path is empty, longer than `sun_path` allows, or (for a
    /// filesystem path) contains a NUL byte.
    pub fn from_unix_path(path: &Path) -> io::Result<RawAddr> {
        let bytes = path.as_os_str().as_bytes();
        // SAFETY: all-zero bytes are a valid `sockaddr_storage`.
        let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
        // SAFETY: `sockaddr_storage` is larger than and as aligned as `sockaddr_un`.
        let sun = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_un) };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let abstract_name = bytes.first() == Some(&0);
        if bytes.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a Unix socket path must not be empty",
            ));
        }
        if !abstract_name && bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a Unix socket path must not contain a NUL byte",
            ));
        }
        // A filesystem path needs room for its terminating NUL.
        let room = sun.sun_path.len() - usize::from(!abstract_name);
        if bytes.len() > room {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "Unix socket path is {} bytes long; at most {room} fit in sun_path",
                    bytes.len()
                ),
            ));
        }
        for (dst, src) in sun.sun_path.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        let base = mem::offset_of!(libc::sockaddr_un, sun_path);
        let len = base + bytes.len() + usize::from(!abstract_name);
        Ok(RawAddr {
            storage,
            len: len as libc::socklen_t,
        })
    }

    fn family(&self) -> libc::c_int {
        libc::c_int::from(self.storage.ss_family)
    }

    fn as_ptr(&self) -> *const libc::sockaddr {
        &self.storage as *const _ as *const libc::sockaddr
    }
}

/// Converts an IPv4/IPv6 C address filled in by the kernel to a `SocketAddr`.
fn to_inet(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the kernel wrote a `sockaddr_in`; the storage is large
            // and aligned enough for one.
            let sin = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the kernel returned an address of family {family}, not IPv4 or IPv6"),
        )),
    }
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A new socket for `addr`'s family, non-blocking and close-on-exec: from birth where the
/// OS can (`SOCK_NONBLOCK | SOCK_CLOEXEC`), else set right after creation (Apple systems,
/// where a `fork` + `exec` racing that window could inherit the descriptor, as with std's
/// sockets there).
pub fn socket(addr: &RawAddr, kind: Kind) -> io::Result<OwnedFd> {
    let ty = match kind {
        Kind::Stream => libc::SOCK_STREAM,
        Kind::Datagram => libc::SOCK_DGRAM,
    };
    #[cfg(not(target_vendor = "apple"))]
    let ty = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `socket` takes plain integers and returns a new descriptor or -1.
    let fd = check(unsafe { libc::socket(addr.family(), ty, 0) })?;
    // SAFETY: `fd` was just returned by `socket`, so it is open and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(target_vendor = "apple")]
    {
        crate::sys::fd::set_cloexec(fd.as_fd())?;
        crate::sys::fd::set_nonblocking(fd.as_fd())?;
        set_nosigpipe(fd.as_fd())?;
    }
    Ok(fd)
}

/// `SO_NOSIGPIPE`: a write to a socket whose peer has gone fails with `EPIPE` instead of
/// raising `SIGPIPE` (Apple systems have no `MSG_NOSIGNAL`).
#[cfg(target_vendor = "apple")]
fn set_nosigpipe(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a readable `c_int` and the length says so; `fd` is open (borrowed).
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NOSIGPIPE,
            &one as *const _ as *const libc::c_void,
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Starts connecting the non-blocking socket `fd` to `addr`.
///
/// Returns `Ok(true)` when the connection is already established (Unix sockets, often), and
/// `Ok(false)` when it is in progress: wait for writability, then read the outcome with
/// [`take_error`].
pub fn connect(fd: BorrowedFd<'_>, addr: &RawAddr) -> io::Result<bool> {
    loop {
        // SAFETY: `addr` points to `addr.len` initialised bytes of a socket address that
        // outlives the call; `fd` is borrowed, hence open.
        let ret = unsafe { libc::connect(fd.as_raw_fd(), addr.as_ptr(), addr.len) };
        if ret == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINPROGRESS) => return Ok(false),
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) if addr.family() == libc::AF_UNIX => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the Unix listener's backlog is full (connect returned EAGAIN); retry later",
                ))
            }
            _ => return Err(err),
        }
    }
}

/// The pending error of a socket (`SO_ERROR`), cleared by reading it: after a non-blocking
/// connect becomes writable, `Ok(None)` means it succeeded.
pub fn take_error(fd: BorrowedFd<'_>) -> io::Result<Option<io::Error>> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes and `len` is `value`'s size.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut value as *mut _ as *mut libc::c_void,
            &mut len,
        )
    })?;
    Ok((value != 0).then(|| io::Error::from_raw_os_error(value)))
}

/// Accepts one connection from the listening socket `fd` (which must be an IPv4 or IPv6
/// socket), as a non-blocking, close-on-exec socket, with its peer's address.
pub fn accept_inet(fd: BorrowedFd<'_>) -> io::Result<(OwnedFd, SocketAddr)> {
    let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let conn = accept4(fd, storage.as_mut_ptr().cast(), &mut len)?;
    // SAFETY: zero-initialised, then written by the kernel; every bit pattern is valid.
    let storage = unsafe { storage.assume_init() };
    Ok((conn, to_inet(&storage)?))
}

/// Accepts one connection from the listening socket `fd`, as a non-blocking, close-on-exec
/// socket, without its address.
pub fn accept(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    accept4(fd, std::ptr::null_mut(), std::ptr::null_mut())
}

/// `accept4(…, SOCK_NONBLOCK | SOCK_CLOEXEC)` where the OS has it; elsewhere (Apple systems)
/// `accept`, then both flags set on the new descriptor.
fn accept4(
    fd: BorrowedFd<'_>,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> io::Result<OwnedFd> {
    loop {
        // SAFETY: `addr`/`len` are either both null or point to a writable address buffer
        // and its size (the callers above); `fd` is borrowed, hence open.
        #[cfg(not(target_vendor = "apple"))]
        let ret = unsafe {
            libc::accept4(
                fd.as_raw_fd(),
                addr,
                len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        // SAFETY: as above.
        #[cfg(target_vendor = "apple")]
        let ret = unsafe { libc::accept(fd.as_raw_fd(), addr, len) };
        match check(ret) {
            Ok(conn) => {
                // SAFETY: `accept` returned a new descriptor that nobody else owns.
                let conn = unsafe { OwnedFd::from_raw_fd(conn) };
                #[cfg(target_vendor = "apple")]
                {
                    crate::sys::fd::set_cloexec(conn.as_fd())?;
                    crate::sys::fd::set_nonblocking(conn.as_fd())?;
                    set_nosigpipe(conn.as_fd())?;
                }
                return Ok(conn);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Whether an `accept` error means the process or system ran out of a resource (descriptors
/// or memory): the connection stays queued, and retrying at once would only spin.
pub fn is_resource_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    #[test]
    fn inet_addresses_round_trip() {
        for addr in [
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap(),
            "[::1]:443".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 9, 7, 3)),
        ] {
            let raw = RawAddr::from_inet(&addr);
            assert_eq!(to_inet(&raw.storage).unwrap(), addr);
        }
    }

    #[test]
    fn nonblocking_connect_and_accept() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = RawAddr::from_inet(&listener.local_addr().unwrap());
        let sock = socket(&addr, Kind::Stream).unwrap();
        let connected = connect(sock.as_fd(), &addr).unwrap();
        let client = TcpStream::from(sock);
        if !connected {
            // Loopback: the handshake completes promptly; wait for it the blocking way.
            let mut pfd = libc::pollfd {
                fd: client.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid `pollfd`.
            assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5_000) }, 1);
        }
        assert!(take_error(client.as_fd()).unwrap().is_none());
        let (conn, peer) = accept_inet(listener.as_fd()).unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let conn = TcpStream::from(conn);
        assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());
        // Born non-blocking.
        listener.set_nonblocking(true).unwrap();
        let err = accept_inet(listener.as_fd()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn refused_connect_reports_the_os_kind() {
        // Bind, learn the port, close: nothing listens there now.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let addr = RawAddr::from_inet(&port);
        let sock = socket(&addr, Kind::Stream).unwrap();
        match connect(sock.as_fd(), &addr) {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
            Ok(_) => {
                let mut pfd = libc::pollfd {
                    fd: sock.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid `pollfd`.
                assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5_000) }, 1);
                let err = take_error(sock.as_fd()).unwrap().expect("refused");
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            }
        }
    }

    #[test]
    fn unix_paths_are_checked() {
        assert!(RawAddr::from_unix_path(Path::new("")).is_err());
        let long = "x".repeat(200);
        let err = RawAddr::from_unix_path(Path::new(&long)).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("sun_path"), "{err}");
        let ok = RawAddr::from_unix_path(Path::new("/tmp/x.sock")).unwrap();
        assert_eq!(ok.family(), libc::AF_UNIX);
    }

    #[test]
    fn exhaustion_errors_are_recognised() {
        assert!(is_resource_exhaustion(&io::Error::from_raw_os_error(
            libc::EMFILE
        )));
        assert!(is_resource_exhaustion(&io::Error::from_raw_os_error(
            libc::ENFILE
        )));
        assert!(!is_resource_exhaustion(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }
}

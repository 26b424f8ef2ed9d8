//! Descriptor flags.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Puts `fd` in non-blocking mode (`O_NONBLOCK`), as the reactor requires.
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: `fcntl(F_GETFL)` on a descriptor the caller borrows (so it is open) reads its
    // flags and touches no memory of ours.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above; `F_SETFL` only changes the descriptor's status flags.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets close-on-exec (`FD_CLOEXEC`) on `fd`: for the systems whose `socket`, `accept` and
/// `pipe` cannot create a descriptor with it set (macOS and the other Apple systems).
#[cfg_attr(not(target_vendor = "apple"), allow(dead_code))]
pub(crate) fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: `fcntl(F_GETFD)` on a descriptor the caller borrows (so it is open) reads its
    // descriptor flags and touches no memory of ours.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; `F_SETFD` only changes the descriptor flags.
    if unsafe { libc::fcntl(raw, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn nonblocking_is_set_and_idempotent() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        set_nonblocking(a.as_fd()).unwrap();
        set_nonblocking(a.as_fd()).unwrap();
        let mut buf = [0u8; 1];
        let err = std::io::Read::read(&mut &a, &mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    }

    #[test]
    fn cloexec_is_set() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        set_cloexec(a.as_fd()).unwrap();
        // SAFETY: `F_GETFD` on an open descriptor reads its flags.
        let flags = unsafe { libc::fcntl(a.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
    }
}

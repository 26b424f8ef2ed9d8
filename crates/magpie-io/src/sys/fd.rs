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
}

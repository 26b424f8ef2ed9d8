//! The signal self-pipe: a pipe whose write end a signal handler writes one byte to, and
//! whose read end a thread waits on.
//!
//! A signal handler may only call async-signal-safe functions (no allocation, no lock), so it
//! cannot wake a task itself. It calls [`notify`] instead: one `write(2)` of one byte, which
//! makes the read end readable; the thread reading the pipe ([`wait_readable`], then
//! [`drain`]) does the rest (`magpie::signal`'s driver thread).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Creates a pipe, both ends non-blocking and close-on-exec: `(read end, write end)`.
/// `pipe2` where the OS has it; `pipe` + `fcntl` on Apple systems.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two `c_int`s, as `pipe2` requires; the flags are
    // valid `pipe2` flags.
    #[cfg(not(target_vendor = "apple"))]
    let ret = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    // SAFETY: `fds` is a writable array of two `c_int`s, as `pipe` requires.
    #[cfg(target_vendor = "apple")]
    let ret = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so both descriptors are open, and nothing else owns them:
    // each is wrapped exactly once, and closed when its `OwnedFd` drops.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(target_vendor = "apple")]
    for end in [&read, &write] {
        use std::os::fd::AsFd;
        super::fd::set_cloexec(end.as_fd())?;
        super::fd::set_nonblocking(end.as_fd())?;
    }
    Ok((read, write))
}

/// Writes one byte to `fd` (the write end of a [`pipe`]), from inside a signal handler.
///
/// Async-signal-safe: one `write(2)` (retried on `EINTR`), no allocation, no lock, no panic;
/// the thread's `errno` is saved before and restored after, so the code the signal
/// interrupted does not see it change. Errors are ignored: `EAGAIN` means the pipe is full,
/// so its reader has a wake-up pending already, and a handler has no one to report to.
pub fn notify(fd: BorrowedFd<'_>) {
    let saved = errno();
    let byte = [1u8];
    loop {
        // SAFETY: `fd` is borrowed, so open for the whole call; `byte` is one readable byte
        // that lives across the call.
        let written = unsafe { libc::write(fd.as_raw_fd(), byte.as_ptr().cast(), 1) };
        if written >= 0 || errno() != libc::EINTR {
            break;
        }
    }
    set_errno(saved);
}

/// Reads everything the pipe read end `fd` holds, returning how many bytes that was (at
/// least one).
///
/// # Errors
///
/// `WouldBlock` when the pipe is empty (no signal since the last drain);
/// `UnexpectedEof` when every write end is closed; any other error of `read(2)`.
pub fn drain(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut buf = [0u8; 64];
    let mut total = 0;
    loop {
        // SAFETY: `fd` is borrowed, so open for the whole call; `buf` is writable for
        // `buf.len()` bytes.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            0 if total == 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the write end of the signal pipe was closed",
                ))
            }
            0 => return Ok(total),
            n if n > 0 => total += n as usize,
            _ => {
                let err = io::Error::last_os_error();
                match err.kind() {
                    io::ErrorKind::Interrupted => {}
                    io::ErrorKind::WouldBlock if total > 0 => return Ok(total),
                    _ => return Err(err),
                }
            }
        }
    }
}

/// Blocks the calling thread until `fd` (the read end of a [`pipe`]) is readable, or its
/// write ends are all closed; a signal interrupting the wait (`EINTR`) does not end it.
///
/// # Errors
///
/// Any error of `poll(2)` other than `EINTR`; `fd` reported invalid (`POLLNVAL`).
pub fn wait_readable(fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut entry = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: `entry` is one writable `pollfd`, and the count passed is 1; `fd` is
        // borrowed, so open for the whole call. A timeout of -1 waits without a limit.
        let ready = unsafe { libc::poll(&mut entry, 1, -1) };
        if ready > 0 {
            if entry.revents & libc::POLLNVAL != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "poll reports the signal pipe's read end as not open (POLLNVAL)",
                ));
            }
            return Ok(());
        }
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The calling thread's `errno` (async-signal-safe: std reads the same thread-local).
fn errno() -> libc::c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the calling thread's `errno`.
fn set_errno(value: libc::c_int) {
    // SAFETY: as in `errno`; the thread's own `errno` is writable.
    unsafe { *errno_location() = value }
}

#[cfg(any(target_os = "linux", target_os = "dragonfly", target_os = "redox"))]
use libc::__errno_location as errno_location;

#[cfg(any(target_os = "android", target_os = "netbsd", target_os = "openbsd"))]
use libc::__errno as errno_location;

#[cfg(any(target_os = "freebsd", target_vendor = "apple"))]
use libc::__error as errno_location;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// `F_GETFD` / `F_GETFL` of `fd`.
    fn flags(fd: BorrowedFd<'_>) -> (libc::c_int, libc::c_int) {
        // SAFETY: `fcntl` reads the flags of a borrowed (so open) descriptor.
        unsafe {
            (
                libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
                libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            )
        }
    }

    #[test]
    fn pipe_ends_are_nonblocking_and_close_on_exec() {
        let (read, write) = pipe().unwrap();
        assert_ne!(read.as_raw_fd(), write.as_raw_fd());
        for fd in [read.as_fd(), write.as_fd()] {
            let (fd_flags, status_flags) = flags(fd);
            assert_ne!(fd_flags & libc::FD_CLOEXEC, 0, "close-on-exec");
            assert_ne!(status_flags & libc::O_NONBLOCK, 0, "non-blocking");
        }
        assert_eq!(flags(read.as_fd()).1 & libc::O_ACCMODE, libc::O_RDONLY);
        assert_eq!(flags(write.as_fd()).1 & libc::O_ACCMODE, libc::O_WRONLY);
    }

    #[test]
    fn drain_of_an_empty_pipe_would_block() {
        let (read, _write) = pipe().unwrap();
        let err = drain(read.as_fd()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn each_notify_is_one_byte_and_drain_takes_them_all() {
        let (read, write) = pipe().unwrap();
        for _ in 0..100 {
            notify(write.as_fd());
        }
        // More than one read's buffer: drain loops until the pipe is empty.
        assert_eq!(drain(read.as_fd()).unwrap(), 100);
        assert_eq!(
            drain(read.as_fd()).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn notify_on_a_full_pipe_is_ignored_and_keeps_errno() {
        let (read, write) = pipe().unwrap();
        // Fill the pipe until a write would block.
        let chunk = [0u8; 4096];
        let mut filled = 0usize;
        loop {
            // SAFETY: `write` is open; `chunk` is readable for its length.
            let n = unsafe { libc::write(write.as_raw_fd(), chunk.as_ptr().cast(), chunk.len()) };
            if n < 0 {
                assert_eq!(
                    io::Error::last_os_error().raw_os_error(),
                    Some(libc::EAGAIN)
                );
                break;
            }
            filled += n as usize;
        }
        set_errno(libc::ENOENT);
        notify(write.as_fd()); // EAGAIN inside, ignored
        assert_eq!(errno(), libc::ENOENT, "notify must restore errno");
        assert_eq!(drain(read.as_fd()).unwrap(), filled);
    }

    #[test]
    fn notify_keeps_errno_when_the_write_succeeds() {
        let (read, write) = pipe().unwrap();
        set_errno(libc::EBADF);
        notify(write.as_fd());
        assert_eq!(errno(), libc::EBADF);
        assert_eq!(drain(read.as_fd()).unwrap(), 1);
    }

    #[test]
    fn wait_readable_returns_once_a_byte_is_written() {
        let (read, write) = pipe().unwrap();
        // Already readable: returns at once.
        notify(write.as_fd());
        wait_readable(read.as_fd()).unwrap();
        assert_eq!(drain(read.as_fd()).unwrap(), 1);
        // Empty: waits for the other thread's byte.
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            notify(write.as_fd());
            write
        });
        wait_readable(read.as_fd()).unwrap();
        assert_eq!(drain(read.as_fd()).unwrap(), 1);
        drop(writer.join().unwrap());
        // Every write end closed: readable (end of file), not a hang.
        wait_readable(read.as_fd()).unwrap();
    }

    #[test]
    fn drain_reports_a_closed_write_end() {
        let (read, write) = pipe().unwrap();
        notify(write.as_fd());
        drop(write);
        // The pending byte first, then end of file.
        assert_eq!(drain(read.as_fd()).unwrap(), 1);
        assert_eq!(
            drain(read.as_fd()).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}

//! The poller on Linux: epoll, called directly.
//!
//! `polling` (the portable poller, `portable.rs`) spends five syscalls on every wait on
//! Linux: it arms a timerfd for the timeout, re-arms the timerfd's and the notifier's
//! one-shot registrations, and reads the notifier, whether or not anything notified. A busy
//! runtime waits (often with a zero timeout) between every few tasks, so that was most of
//! the reactor's cost on a keep-alive HTTP server (`benches/http_figures.rs`). Here a wait
//! is one `epoll_pwait2` (nanosecond timeouts; on kernels before 5.11, `epoll_wait` with the
//! timeout rounded *up* to a millisecond, so a timer is never woken early), plus one read of
//! the eventfd only when a notification actually arrived.
//!
//! Sources are registered edge-triggered for reading, writing and `EPOLLRDHUP` (the peer
//! shut its write side down), which the portable poller cannot ask for. Knowing that the
//! peer is done lets a stream read that came back short clear its readiness at once
//! (`Registration::read_closed`), saving the read that would only say `EAGAIN`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The eventfd's key: no source's key (a table index) gets near it.
const NOTIFY_KEY: u64 = u64::MAX;

/// What a source is registered for: both directions, the peer's hang-up, edge-triggered.
const INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// Events sized for one wait; more ready sources are reported by the next wait.
const CAPACITY: usize = 1024;

fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// One event: which source, and what became ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollEvent {
    /// The key the source was added with.
    pub key: usize,
    /// Data, end of stream, an error or a hang-up: a read will not block.
    pub readable: bool,
    /// Buffer space, an error or a hang-up: a write will not block.
    pub writable: bool,
    /// The peer shut its write side down (or the socket hung up or failed): reads from now
    /// on drain what is left and then return end of stream; no later edge is coming.
    pub read_closed: bool,
}

/// The buffer a wait fills.
pub struct PollEvents {
    list: Vec<libc::epoll_event>,
}

impl Default for PollEvents {
    fn default() -> PollEvents {
        PollEvents::new()
    }
}

impl PollEvents {
    /// An empty buffer.
    pub fn new() -> PollEvents {
        PollEvents {
            list: Vec::with_capacity(CAPACITY),
        }
    }

    /// Forgets the events of the last wait.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// The sources' events of the last wait (the notifier's are left out).
    pub fn iter(&self) -> impl Iterator<Item = PollEvent> + '_ {
        self.list.iter().filter_map(|event| {
            let (bits, key) = (event.events, event.u64);
            if key == NOTIFY_KEY {
                return None;
            }
            let has = |flag: libc::c_int| bits & flag as u32 != 0;
            let failed = has(libc::EPOLLERR) || has(libc::EPOLLHUP);
            Some(PollEvent {
                key: key as usize,
                readable: failed
                    || has(libc::EPOLLIN)
                    || has(libc::EPOLLRDHUP)
                    || has(libc::EPOLLPRI),
                writable: failed || has(libc::EPOLLOUT),
                read_closed: failed || has(libc::EPOLLRDHUP),
            })
        })
    }
}

/// An epoll instance and the eventfd that interrupts its waits.
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
    /// `epoll_pwait2` answered `ENOSYS` once: use `epoll_wait` from then on.
    no_pwait2: AtomicBool,
}

impl Poller {
    /// A new epoll instance with its eventfd registered.
    pub fn new() -> io::Result<Poller> {
        // SAFETY: plain syscalls; each returned descriptor is checked, then owned once.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let notifier = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::eventfd(
                0,
                libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
            ))?)
        };
        let poller = Poller {
            epoll,
            notifier,
            no_pwait2: AtomicBool::new(false),
        };
        let fd = poller.notifier.as_raw_fd();
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            fd,
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            NOTIFY_KEY,
        )?;
        Ok(poller)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: key };
        // SAFETY: `event` lives across the call; the kernel copies it. `fd` validity is the
        // callers' contract (`add`'s # Safety, or a descriptor this poller owns).
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Watches `fd`, edge-triggered, for both directions and the peer's hang-up, reporting
    /// its events under `key`.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until it is [`delete`](Poller::delete)d: epoll keeps watching
    /// the open file, and a descriptor closed and reused while registered would confuse
    /// events of two files.
    pub unsafe fn add(&self, fd: RawFd, key: usize) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, INTEREST, key as u64)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0)
    }

    /// Makes a thread blocked in [`wait`](Poller::wait) return, or the next wait return
    /// at once.
    pub fn notify(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to the eventfd this poller owns.
        let written =
            unsafe { libc::write(self.notifier.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if written < 0 {
            let err = io::Error::last_os_error();
            // A full counter: a notification is pending already.
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Blocks until an event, a notification or `timeout` (`None`: no limit), filling
    /// `events`. Returns how many events (the notifier's included) were read.
    pub fn wait(&self, events: &mut PollEvents, timeout: Option<Duration>) -> io::Result<usize> {
        events.list.clear();
        let n = self.epoll_wait(&mut events.list, timeout)?;
        // SAFETY: the kernel initialized the first `n` entries, and `n` <= capacity.
        unsafe { events.list.set_len(n) };
        if events.list.iter().any(|event| event.u64 == NOTIFY_KEY) {
            self.drain_notifier();
        }
        Ok(n)
    }

    fn epoll_wait(
        &self,
        list: &mut Vec<libc::epoll_event>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let (buf, cap) = (list.as_mut_ptr(), list.capacity() as libc::c_int);
        if !self.no_pwait2.load(Ordering::Relaxed) {
            let spec = timeout.map(|t| libc::timespec {
                tv_sec: t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: t.subsec_nanos() as libc::c_long,
            });
            let spec_ptr = spec
                .as_ref()
                .map_or(std::ptr::null(), |s| s as *const libc::timespec);
            // SAFETY: `buf` has room for `cap` events; `spec_ptr` is null or points at a
            // live timespec; a null signal mask leaves the mask alone (its size is unused).
            let n = unsafe {
                libc::syscall(
                    libc::SYS_epoll_pwait2,
                    self.epoll.as_raw_fd(),
                    buf,
                    cap,
                    spec_ptr,
                    std::ptr::null::<libc::sigset_t>(),
                    0usize,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ENOSYS) {
                return Err(err);
            }
            self.no_pwait2.store(true, Ordering::Relaxed);
        }
        let millis = match timeout {
            None => -1,
            // Rounded up: a timer must never be woken early.
            Some(t) => {
                let ms = t.as_nanos().div_ceil(1_000_000);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        // SAFETY: `buf` has room for `cap` events.
        let n = cvt(unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), buf, cap, millis) })?;
        Ok(n as usize)
    }

    /// Resets the eventfd's counter (so it cannot saturate). Edge-triggered, the next
    /// `notify` is a new edge either way.
    fn drain_notifier(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from the eventfd this poller owns; an
        // `EAGAIN` (already drained) is fine.
        let _ = unsafe {
            libc::read(
                self.notifier.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                8,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    fn events_of(poller: &Poller, timeout: Duration) -> Vec<PollEvent> {
        let mut events = PollEvents::new();
        poller.wait(&mut events, Some(timeout)).unwrap();
        events.iter().collect()
    }

    #[test]
    fn timeouts_are_never_early_and_notify_interrupts() {
        let poller = Poller::new().unwrap();
        for wait in [Duration::from_micros(300), Duration::from_millis(3)] {
            let start = Instant::now();
            assert!(events_of(&poller, wait).is_empty());
            assert!(start.elapsed() >= wait, "{:?} < {wait:?}", start.elapsed());
        }
        poller.notify().unwrap();
        poller.notify().unwrap();
        let start = Instant::now();
        assert!(events_of(&poller, Duration::from_secs(10)).is_empty());
        assert!(start.elapsed() < Duration::from_secs(5));
        // Drained: the next wait sleeps its timeout again.
        let start = Instant::now();
        events_of(&poller, Duration::from_millis(2));
        assert!(start.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn edges_for_data_and_for_the_peers_hang_up() {
        let poller = Poller::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // SAFETY: `a` outlives its registration (deleted below).
        unsafe { poller.add(a.as_raw_fd(), 7).unwrap() };
        // Registered: writable at once, nothing to read.
        let first = events_of(&poller, Duration::from_secs(5));
        assert_eq!(first.len(), 1);
        assert!(
            first[0].writable && !first[0].readable && !first[0].read_closed,
            "{first:?}"
        );
        // Edge-triggered: nothing new, nothing reported.
        assert!(events_of(&poller, Duration::from_millis(1)).is_empty());

        b.write_all(b"hi").unwrap();
        let data = events_of(&poller, Duration::from_secs(5));
        assert!(data[0].readable && !data[0].read_closed, "{data:?}");

        b.shutdown(std::net::Shutdown::Write).unwrap();
        let closed = events_of(&poller, Duration::from_secs(5));
        assert_eq!(closed[0].key, 7);
        assert!(closed[0].readable && closed[0].read_closed, "{closed:?}");
        let mut buf = [0u8; 8];
        assert_eq!((&a).read(&mut buf).unwrap(), 2);
        assert_eq!((&a).read(&mut buf).unwrap(), 0);

        poller.delete(std::os::fd::AsFd::as_fd(&a)).unwrap();
        drop(b);
        assert!(events_of(&poller, Duration::from_millis(1)).is_empty());
    }
}

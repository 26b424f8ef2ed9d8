//! The poller on systems other than Linux: `polling` (kqueue, event ports, ...), behind the
//! same small interface as `epoll.rs`. It cannot ask for the peer's hang-up on its own, so
//! `read_closed` is never reported and stream reads keep finishing with the read that says
//! `WouldBlock`.
//!
//! On Windows `polling` watches sockets only (AFD under IOCP) and has no edge-triggered
//! mode: sources are added one-shot there and the reactor re-arms them ([`Poller::rearm`];
//! `reactor.rs` says when).

use super::{BorrowedSource, RawSource};
use std::io;
use std::time::Duration;

/// One event: which source, and what became ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollEvent {
    /// The key the source was added with.
    pub key: usize,
    /// A read will not block.
    pub readable: bool,
    /// A write will not block.
    pub writable: bool,
    /// Never reported here (see the module documentation).
    pub read_closed: bool,
}

/// The buffer a wait fills.
#[derive(Default)]
pub struct PollEvents {
    events: polling::Events,
}

impl PollEvents {
    /// An empty buffer.
    pub fn new() -> PollEvents {
        PollEvents::default()
    }

    /// Forgets the events of the last wait.
    pub fn clear(&mut self) {
        self.events.clear();
    }

    /// The events of the last wait.
    pub fn iter(&self) -> impl Iterator<Item = PollEvent> + '_ {
        self.events.iter().map(|event| PollEvent {
            key: event.key,
            readable: event.readable,
            writable: event.writable,
            read_closed: false,
        })
    }
}

/// `polling::Poller`.
#[derive(Debug)]
pub struct Poller {
    poller: polling::Poller,
}

impl Poller {
    /// A new poller.
    pub fn new() -> io::Result<Poller> {
        Ok(Poller {
            poller: polling::Poller::new()?,
        })
    }

    /// Watches `fd`, edge-triggered, for both directions, reporting its events under `key`.
    /// On Windows: one-shot instead (no edge mode there); see [`Poller::rearm`].
    ///
    /// # Safety
    ///
    /// `fd` must stay open until it is [`delete`](Poller::delete)d.
    pub unsafe fn add(&self, fd: RawSource, key: usize) -> io::Result<()> {
        #[cfg(not(windows))]
        let mode = polling::PollMode::Edge;
        #[cfg(windows)]
        let mode = polling::PollMode::Oneshot;
        // SAFETY: the caller keeps `fd` open until it is deleted (this fn's contract).
        unsafe {
            self.poller
                .add_with_mode(fd, polling::Event::all(key), mode)
        }
    }

    /// Windows: re-arms the one-shot registration of `socket` for the given directions
    /// (none: stays disarmed until the next re-arm).
    #[cfg(windows)]
    pub fn rearm(
        &self,
        socket: BorrowedSource<'_>,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> io::Result<()> {
        let mut event = polling::Event::none(key);
        event.readable = readable;
        event.writable = writable;
        self.poller
            .modify_with_mode(socket, event, polling::PollMode::Oneshot)
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: BorrowedSource<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    /// Makes a blocked or the next [`wait`](Poller::wait) return.
    pub fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }

    /// Blocks until an event, a notification or `timeout`, filling `events`.
    pub fn wait(&self, events: &mut PollEvents, timeout: Option<Duration>) -> io::Result<usize> {
        self.poller.wait(&mut events.events, timeout)
    }
}

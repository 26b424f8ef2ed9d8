//! The reactor: the poller (`sys::Poller`: epoll on Linux, `polling` elsewhere), the table of
//! sources, and the wait that dispatches.
//!
//! # Keys
//!
//! A source's key is its index in the table. Dropping a [`Registration`] deletes the fd from
//! the poller at once and *retires* the key. A retired key is freed (for reuse) by the next
//! [`Reactor::wait`] that *begins* after the retirement, once it has dispatched its events:
//! that wait's events were fetched after the deletion, so none of them is for the old
//! source, and waits do not overlap (one dispatch lock). So no event still in flight for an
//! old source is ever delivered to a new one that got its key.
//!
//! # Notifications
//!
//! [`Reactor::notify`] must make a blocked wait return, or the next wait return at once,
//! and it is called often: every wake-up of the worker parked here, every timer moved
//! earlier. Most of them find the waiting thread already awake (it is dispatching, and the
//! tasks it wakes wake it back), where a write to the poller's notifier would only cost a
//! syscall now and a read and a useless return from the next wait later. So:
//!
//! - `notify` stores `notified`, then writes to the notifier only if `sleeping` is set;
//! - `wait` stores `sleeping`, then takes `notified` (turning the wait into a zero-timeout
//!   look if it was set), waits, and clears `sleeping`.
//!
//! Both pairs are `SeqCst`, so of a racing notify and wait at least one sees the other's
//! store: either the notify writes, or the wait finds `notified` and does not block.
//!
//! # Windows: one-shot emulation of edges
//!
//! `polling` on Windows (IOCP/AFD) has no edge-triggered mode, only level and one-shot. A
//! source is added there one-shot, and re-armed ([`Reactor::rearm`]) for the directions
//! whose readiness bit is clear, each time that set can have grown: after the dispatch of
//! each of its events (the event disarmed it) and after every `clear_readiness` (an
//! operation hit `WouldBlock`). A direction whose bit is set needs no watching: the next
//! operation either succeeds or clears the bit, which re-arms it. Re-arming is serialised
//! per source (`Source::arm`) and reads the state under that lock, so the last re-arm
//! always reflects the latest state; a re-arm that watches a direction that turned ready
//! meanwhile only costs a spurious event. `Registration::drop` marks the source deleted
//! under the same lock before deleting it from the poller, so no re-arm touches a socket
//! after its owner may have closed it.

use crate::source::{Direction, ReadyEvent, Source};
use crate::sys::{BorrowedSource, RawSource};
use crate::sys::{PollEvents, Poller};
use magpie_shim::unmodelled::AtomicU64;
use magpie_shim::{AtomicBool, AtomicUsize, Mutex, Ordering};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[derive(Default)]
struct Table {
    sources: Vec<Option<Arc<Source>>>,
    free: Vec<usize>,
    retired: Vec<usize>,
}

struct Dispatch {
    events: PollEvents,
    wake: Vec<Waker>,
}

/// The I/O reactor of one runtime. See the module documentation.
pub struct Reactor {
    poller: Poller,
    table: Mutex<Table>,
    dispatch: Mutex<Dispatch>,
    /// Turns so far: one per wait (see `source.rs`).
    turn: AtomicUsize,
    /// Registered sources (a lock-free count for the busy workers' driver turns).
    live: AtomicUsize,
    /// Readiness events dispatched to sources, over all turns (metrics).
    events: AtomicU64,
    shutdown: AtomicBool,
    /// A thread is in (or entering) the poller's wait: notifications must reach it.
    sleeping: AtomicBool,
    /// A notification not yet seen by a wait (see "Notifications").
    notified: AtomicBool,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.num_sources())
            .field("shutdown", &self.shutdown.load(Ordering::Relaxed))
            .finish()
    }
}

/// A registered source, owned by the I/O object of its fd. Dropping it deletes the fd from
/// the poller; the owner closes the fd after that.
pub struct Registration {
    reactor: Arc<Reactor>,
    source: Arc<Source>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("source", &self.source)
            .finish()
    }
}

impl Reactor {
    /// A reactor with its own poller (epoll on Linux).
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            table: Mutex::new(Table::default()),
            dispatch: Mutex::new(Dispatch {
                events: PollEvents::new(),
                wake: Vec::new(),
            }),
            turn: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            events: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
            notified: AtomicBool::new(false),
        })
    }

    /// Makes a thread blocked in [`Reactor::wait`] return, or the next wait return at once.
    pub fn notify(&self) -> io::Result<()> {
        self.notified.store(true, Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            self.poller.notify()
        } else {
            Ok(())
        }
    }

    /// Sources registered now.
    pub fn num_sources(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Readiness events dispatched so far.
    pub fn events_count(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Waits (turns) so far.
    pub fn turns_count(&self) -> u64 {
        self.turn.load(Ordering::Relaxed) as u64
    }

    /// Registers `fd` (which must be in non-blocking mode), edge-triggered, for both
    /// directions, once: no poll ever re-arms it (see `source.rs`).
    ///
    /// # Safety
    ///
    /// `fd` must stay open until the returned [`Registration`] is dropped (it is deleted
    /// from the poller then; the poller requires that before the fd is closed).
    pub unsafe fn register(self: &Arc<Self>, fd: BorrowedSource<'_>) -> io::Result<Registration> {
        let raw = crate::sys::raw_source(fd);
        if self.shutdown.load(Ordering::Acquire) {
            return Err(io::Error::other(
                "the magpie runtime has shut down: no new I/O can be registered",
            ));
        }
        let key = {
            let mut table = self.table.lock();
            let key = table.free.pop().unwrap_or(table.sources.len());
            let source = Arc::new(Source::new(key, raw));
            if key == table.sources.len() {
                table.sources.push(Some(source.clone()));
            } else {
                table.sources[key] = Some(source.clone());
            }
            self.live.fetch_add(1, Ordering::Relaxed);
            key
        };
        // SAFETY: the caller keeps `fd` open until the registration drops, and the drop
        // deletes it from the poller first.
        let added = unsafe { self.poller.add(raw, key) };
        let source = {
            let mut table = self.table.lock();
            let source = table.sources[key].clone().expect("just inserted");
            if let Err(e) = added {
                table.sources[key] = None;
                table.free.push(key);
                self.live.fetch_sub(1, Ordering::Relaxed);
                return Err(e);
            }
            source
        };
        Ok(Registration {
            reactor: self.clone(),
            source,
        })
    }

    /// Blocks in the poller for at most `timeout` (until notified or an event comes), then
    /// sets the readiness of the sources that have events and wakes their waiters (outside
    /// every lock). Returns how many events were dispatched.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut dispatch = self.dispatch.lock();
        let retired = std::mem::take(&mut self.table.lock().retired);
        dispatch.events.clear();
        self.sleeping.store(true, Ordering::SeqCst);
        let timeout = if self.notified.swap(false, Ordering::SeqCst) {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        let waited = self.poller.wait(&mut dispatch.events, timeout);
        self.sleeping.store(false, Ordering::SeqCst);
        let turn = self.turn.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        let mut wake = std::mem::take(&mut dispatch.wake);
        let mut count = 0;
        {
            // One table lock for the whole dispatch. Lock order: table, then a source's
            // waiters (`set_readiness`); nothing takes them the other way round.
            let mut table = self.table.lock();
            for event in dispatch.events.iter() {
                let Some(Some(source)) = table.sources.get(event.key) else {
                    continue;
                };
                count += 1;
                source.set_readiness(
                    event.readable,
                    event.writable,
                    event.read_closed,
                    turn,
                    &mut wake,
                );
                // The one-shot event disarmed the source (see "Windows").
                #[cfg(windows)]
                self.rearm(source);
            }
            for key in retired {
                table.sources[key] = None;
                table.free.push(key);
            }
        }
        if count > 0 {
            // Only the thread holding `dispatch` writes it: a load and a store.
            let events = self.events.load(Ordering::Relaxed);
            self.events.store(events + count as u64, Ordering::Relaxed);
        }
        drop(dispatch);
        wake_all(&mut wake);
        let mut dispatch = self.dispatch.lock();
        if dispatch.wake.capacity() < wake.capacity() {
            dispatch.wake = wake;
        }
        drop(dispatch);
        match waited {
            Ok(_) => Ok(count),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(count),
            Err(e) => Err(e),
        }
    }

    /// The runtime shut down: every source fails its next poll; waiters are woken.
    pub fn shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        let sources: Vec<Arc<Source>> = self
            .table
            .lock()
            .sources
            .iter()
            .flatten()
            .cloned()
            .collect();
        let mut wake = Vec::new();
        for source in sources {
            source.shutdown(&mut wake);
        }
        wake_all(&mut wake);
    }
}

#[cfg(windows)]
impl Reactor {
    /// Re-arms `source`'s one-shot registration for the directions with no readiness
    /// recorded (see "Windows: one-shot emulation of edges"). Skipped once the source was
    /// deleted. An error (the poller refusing) is reported, not returned: the waiters then
    /// wait for the next re-arm.
    fn rearm(&self, source: &Source) {
        let deleted = source.arm.lock();
        if *deleted {
            return;
        }
        let (readable, writable) = source.unready();
        // SAFETY: not deleted yet, and `Registration::drop` marks the source deleted (under
        // this lock) before the poller forgets it and before the owner closes the socket; so
        // the socket is open for this call.
        let socket = unsafe { crate::sys::borrow_raw(source.fd()) };
        if let Err(e) = self.poller.rearm(socket, source.key(), readable, writable) {
            magpie_shim::diagnostics::report(format_args!(
                "magpie-io: re-arming a socket in the poller failed: {e}"
            ));
        }
        drop(deleted);
    }
}

fn wake_all(wake: &mut Vec<Waker>) {
    for waker in wake.drain(..) {
        let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        if woke.is_err() {
            magpie_shim::diagnostics::report(format_args!("a panic in an I/O waker was contained"));
        }
    }
}

impl Registration {
    /// `Ready` when `direction` is ready (an error once the runtime shut down); otherwise
    /// stores the task's waker.
    pub fn poll_ready(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.source.poll_ready(direction, cx)
    }

    /// The operation would block: forget the readiness seen in `event` (see `source.rs`).
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.source.clear_readiness(event);
        // The cleared direction must be watched again (see "Windows").
        #[cfg(windows)]
        self.reactor.rearm(&self.source);
    }

    /// Whether the peer has shut its write side down (or the source hung up or failed), as
    /// far as the poller has reported: reads drain what is left, then return end of stream,
    /// and no later edge is coming. Never set where the poller cannot report it (see
    /// `sys/portable.rs`).
    pub fn read_closed(&self) -> bool {
        self.source.read_closed()
    }

    /// The registered fd (socket on Windows).
    pub fn fd(&self) -> RawSource {
        self.source.fd()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // No re-arm from now on (see "Windows"); held until the poller forgot the socket.
        #[cfg(windows)]
        let mut deleted = self.source.arm.lock();
        #[cfg(windows)]
        {
            *deleted = true;
        }
        // SAFETY: the owner keeps the fd open until this drop returns (`register`'s contract).
        let fd = unsafe { crate::sys::borrow_raw(self.source.fd()) };
        let _ = self.reactor.poller.delete(fd);
        #[cfg(windows)]
        drop(deleted);
        let mut table = self.reactor.table.lock();
        table.retired.push(self.source.key());
        self.reactor.live.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_notify_before_the_wait_makes_it_return_at_once() {
        let reactor = Reactor::new().unwrap();
        reactor.notify().unwrap();
        let start = Instant::now();
        reactor.wait(Some(Duration::from_secs(10))).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        // Consumed: the next wait sleeps its timeout.
        let start = Instant::now();
        reactor.wait(Some(Duration::from_millis(20))).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_notify_reaches_a_blocked_wait_every_time() {
        let reactor = Arc::new(Reactor::new().unwrap());
        for _ in 0..200 {
            let notifier = {
                let reactor = reactor.clone();
                std::thread::spawn(move || reactor.notify().unwrap())
            };
            let start = Instant::now();
            // Whether the notify lands before, during or after the wait begins, this wait
            // or the next one returns at once.
            reactor.wait(Some(Duration::from_secs(10))).unwrap();
            notifier.join().unwrap();
            reactor.wait(Some(Duration::ZERO)).unwrap();
            assert!(start.elapsed() < Duration::from_secs(5));
        }
    }
}

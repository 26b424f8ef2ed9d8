//! The timeline: a recorder of scheduler events, written out as Chrome Trace Event JSON
//! (Perfetto and `chrome://tracing` open it; `chrome.rs` writes it).
//!
//! Off by default (`Config::timeline_capacity`). With it off, each place that would record
//! costs one test of an `Option` the worker already has in cache. With it on, each worker
//! records into its own fixed-size ring (the oldest events are overwritten once it is
//! full), under a lock only that worker takes on the hot path, so the lock is uncontended
//! except while a reader copies the ring; blocking threads share one more ring. Each event
//! reads the clock (`Instant::now`), so a poll costs two clock reads and two lock round
//! trips more: the measured figure is in `docs/observability.md`.
//!
//! Events: poll start and end (task id and name), park and unpark, driver turns taken by a
//! busy worker, steals (from whom, how many), and blocking closures on the blocking
//! threads. Each ring is one track of the trace, so a trace has one track per worker thread
//! and one per blocking thread that ran a closure.

mod chrome;

use crate::task::raw::Header;
use crate::task::TaskName;
use magpie_shim::unmodelled::{AtomicU64, Mutex, Ordering};
use magpie_shim::CachePadded;
use std::time::{Duration, Instant};

/// One recorded event.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    PollStart { task: u64, name: Option<TaskName> },
    PollEnd,
    ParkStart,
    ParkEnd,
    TurnStart,
    TurnEnd,
    Steal { victim: usize, tasks: usize },
    BlockingStart { task: u64 },
    BlockingEnd,
}

impl Event {
    pub(crate) fn poll_start(header: &Header) -> Event {
        Event::PollStart {
            task: header.id.as_u64(),
            name: header.site.task_name(),
        }
    }
}

/// A fixed-size ring of timestamped events.
struct Ring {
    /// `(nanoseconds since the timeline's epoch, track, event)`.
    events: Vec<(u64, u32, Event)>,
    /// Where the next event goes once `events` is full.
    next: usize,
    capacity: usize,
    /// Events overwritten so far.
    lost: u64,
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        Ring {
            events: Vec::with_capacity(capacity.min(1 << 16)),
            next: 0,
            capacity,
            lost: 0,
        }
    }

    fn push(&mut self, at: u64, track: u32, event: Event) {
        if self.events.len() < self.capacity {
            self.events.push((at, track, event));
        } else {
            self.events[self.next] = (at, track, event);
            self.next = (self.next + 1) % self.capacity;
            self.lost += 1;
        }
    }

    /// The events, oldest first.
    fn copy(&self) -> impl Iterator<Item = &(u64, u32, Event)> {
        let (newer, older) = self.events.split_at(self.next);
        older.iter().chain(newer)
    }
}

/// The recorder of one runtime.
pub(crate) struct Timeline {
    epoch: Instant,
    workers: Box<[CachePadded<Mutex<Ring>>]>,
    blocking: Mutex<Ring>,
    blocking_threads: AtomicU64,
}

/// Track numbers: workers are `0..workers`, blocking thread `k` is `BLOCKING_TRACK + k`.
pub(crate) const BLOCKING_TRACK: u32 = 1000;

impl Timeline {
    /// A timeline keeping the last `capacity` events of each worker (and of the blocking
    /// threads together).
    pub(crate) fn new(workers: usize, capacity: usize) -> Timeline {
        let capacity = capacity.max(1);
        Timeline {
            epoch: Instant::now(),
            workers: (0..workers)
                .map(|_| CachePadded::new(Mutex::new(Ring::new(capacity))))
                .collect(),
            blocking: Mutex::new(Ring::new(capacity)),
            blocking_threads: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Records `event` on worker `worker`'s track.
    pub(crate) fn record(&self, worker: usize, event: Event) {
        let at = self.now();
        self.workers[worker].lock().push(at, worker as u32, event);
    }

    /// A track number for a blocking thread that starts now.
    pub(crate) fn blocking_track(&self) -> u32 {
        BLOCKING_TRACK + self.blocking_threads.fetch_add(1, Ordering::Relaxed) as u32
    }

    /// Records `event` on a blocking thread's track.
    pub(crate) fn record_blocking(&self, track: u32, event: Event) {
        let at = self.now();
        self.blocking.lock().push(at, track, event);
    }

    /// A copy of everything recorded so far.
    pub(crate) fn trace(&self) -> Trace {
        let taken = self.now();
        let mut tracks: Vec<Track> = Vec::new();
        let mut lost = 0;
        for (w, ring) in self.workers.iter().enumerate() {
            let ring = ring.lock();
            lost += ring.lost;
            tracks.push(Track {
                id: w as u32,
                name: format!("worker {w}"),
                events: ring.copy().map(|(at, _, e)| (*at, e.clone())).collect(),
            });
        }
        let ring = self.blocking.lock();
        lost += ring.lost;
        for (at, track, event) in ring.copy() {
            let index = match tracks.iter().position(|t| t.id == *track) {
                Some(i) => i,
                None => {
                    tracks.push(Track {
                        id: *track,
                        name: format!("blocking {}", track - BLOCKING_TRACK),
                        events: Vec::new(),
                    });
                    tracks.len() - 1
                }
            };
            tracks[index].events.push((*at, event.clone()));
        }
        Trace {
            tracks,
            taken: Duration::from_nanos(taken),
            lost,
        }
    }
}

/// A copy of a runtime's timeline (`Handle::timeline`), ready to be written as Chrome Trace
/// Event JSON.
#[derive(Clone, Debug)]
pub struct Trace {
    tracks: Vec<Track>,
    /// When the copy was taken, since the timeline's epoch.
    taken: Duration,
    lost: u64,
}

#[derive(Clone, Debug)]
struct Track {
    id: u32,
    name: String,
    events: Vec<(u64, Event)>,
}

impl Trace {
    /// Events in the copy, over all tracks.
    pub fn len(&self) -> usize {
        self.tracks.iter().map(|t| t.events.len()).sum()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tracks' names (`worker 0`, `worker 1`, …, `blocking 0`, …), in track order.
    pub fn track_names(&self) -> impl Iterator<Item = &str> {
        self.tracks.iter().map(|t| t.name.as_str())
    }

    /// Events overwritten because a ring was full (the oldest go first).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Writes the trace as Chrome Trace Event JSON (an object with `traceEvents`): open it
    /// in <https://ui.perfetto.dev> or `chrome://tracing`. Spans cut by the ring's start
    /// (an end whose begin was overwritten) are left out; spans still open when the copy
    /// was taken end at that moment, marked `"unfinished": true`.
    pub fn write_chrome_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        chrome::write(self, out)
    }

    /// [`Trace::write_chrome_json`] into a `String`.
    pub fn to_chrome_json(&self) -> String {
        let mut out = Vec::new();
        self.write_chrome_json(&mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the JSON writer writes UTF-8")
    }
}

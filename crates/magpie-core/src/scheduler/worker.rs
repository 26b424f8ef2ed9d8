//! A worker thread's loop.
//!
//! Every iteration is one *tick*:
//!
//! 1. Every `event_interval` ticks: a non-blocking driver turn (due timers, ready sockets),
//!    if no other worker holds the driver.
//! 2. Find a task, in this order:
//!    - every `global_queue_interval` ticks, the injector first, so remote spawns are not
//!      starved by a worker whose local queue never empties;
//!    - the LIFO slot, at most [`MAX_LIFO_POLLS`] times in a row (two tasks waking each other
//!      forever would otherwise starve the deque); past the cap its task goes to the back;
//!    - the local deque (FIFO);
//!    - a batch from the injector;
//!    - *searching* (if the throttle allows, idle.rs): other workers' deques from a random
//!      start, then the injector again; a victim's LIFO slot only if the victim is *stuck*
//!      (see below).
//! 3. Run it, or park (idle.rs, step 4) when nothing was found.
//!
//! # The LIFO slot is never stranded, and rarely stolen
//!
//! Whenever a poll queues a task on this worker (LIFO slot or deque), or a poll starts with
//! work still queued, and some worker sleeps while none searches, one sleeper is woken (a
//! cheap check, and a futex wake only when a worker really sleeps). Should the poll block
//! this thread, that searcher is there to take the queued work. Tasks the driver queues here
//! while it dispatches events (no poll runs then) wake nobody at once: the check before the
//! next poll wakes a helper if more than the one task this worker takes is left (tokio's
//! rule). The worker then runs that one task with nobody on the driver; should it block, the
//! monitor (monitor.rs) sends a sleeper to the driver within one of its periods.
//!
//! Taking a victim's LIFO task while the victim is healthy would move message-passing chains
//! between cores on every hop (tokio measured this as a regression, and Go takes `runnext`
//! only on its last stealing pass). So a searcher takes a LIFO task only when the victim's
//! poll counter has not moved across two search passes separated by a short spin: the
//! victim is stuck in one poll (the counter is odd while a poll runs). While some victim
//! holds a LIFO task, the searcher makes up to [`LIFO_PASSES`] passes before it gives up.
//!
//! # What a worker records
//!
//! Around every poll: the task's id in `WorkerMetrics::current_task` (the monitor and
//! `Handle::tasks` read it with the odd poll counter), and for one poll in
//! `POLL_TIME_SAMPLE_EVERY` on average, its duration (metrics/histogram.rs). Around each real
//! sleep in the parker (not each call to `park`, park.rs): the park count and the busy time. With the timeline on (timeline/mod.rs): poll, park,
//! turn and steal events in this worker's ring.

use super::idle::Idle;
use super::local::LocalSession;
use super::park::SleepWatch;
use super::{steal_retrying, Handle, Shared};
use crate::block_on::{Root, ThreadWaker};
use crate::context;
use crate::metrics::POLL_TIME_SAMPLE_EVERY;
use crate::task::Notified;
use crate::timeline::{Event, Timeline};
use magpie_shim::deque::Worker;
use magpie_shim::{diagnostics, AtomicBool, DynArc, Ordering};
use std::cell::{Cell, RefCell};
use std::task::{Wake, Waker};
use std::time::Instant;

/// How many times in a row a worker may run the task in its LIFO slot.
const MAX_LIFO_POLLS: u32 = 3;

/// Search passes a searcher makes while a victim holds a LIFO task, before it parks.
const LIFO_PASSES: usize = 4;

/// Spin iterations between two search passes (a few microseconds): how long a victim must
/// stay in one poll, with a task waiting in its LIFO slot, to count as stuck.
const PASS_SPIN: u32 = 256;

/// A worker's own state, reachable from its thread's context while the worker runs.
pub(crate) struct WorkerLocal {
    index: usize,
    handle: Handle,
    deque: Worker<Notified>,
    tick: Cell<u32>,
    lifo_streak: Cell<u32>,
    searching: Cell<bool>,
    /// Set while this worker dispatches driver events (a turn, or a park on the driver).
    in_driver: Cell<bool>,
    rng: Cell<u64>,
    /// Each victim's poll counter as this worker last saw it (LIFO stealing).
    lifo_seen: Box<[Cell<usize>]>,
    /// Polls until the next one whose duration is sampled (metrics/histogram.rs).
    polls_to_sample: Cell<u32>,
    /// See [`WorkerLocal::coarse_now`].
    coarse_now: Cell<u64>,
    /// The runtime's timeline, when it is on (a clone: read on every poll, it must sit on
    /// this thread's own lines).
    timeline: Option<std::sync::Arc<Timeline>>,
    /// The local tasks this worker runs (local.rs): the session of the thread running the
    /// loop. Null while a stand-in runs the loop (block_in_place.rs): local tasks belong to
    /// a thread, not to a worker.
    pub(super) session: Cell<*const LocalSession>,
    /// On a current-thread runtime: the waker of the `block_on` future this loop runs as
    /// its root, so that parking ends when it is woken. Null otherwise.
    root_waker: Cell<*const ThreadWaker>,
    /// While a stand-in thread runs this loop for a thread blocked in place: the flag that
    /// tells it to leave (block_in_place.rs). Null otherwise.
    pub(super) stand_in_stop: Cell<*const AtomicBool>,
    /// `Config::rng_seed`: the order of ready tasks drawn from a seed (see "Seeded order").
    seeded: Option<Seeded>,
}

/// The seeded order of a current-thread runtime: every ready task (and the root future,
/// when woken) is a candidate, and each tick one is drawn at random from the seed. Tasks
/// leave the queues for `ready` as they are found, in a fixed order (LIFO slot, deque,
/// injector, local queue), so that the draw depends only on the seed and on what the
/// program did.
struct Seeded {
    rng: Cell<u64>,
    ready: RefCell<Vec<Notified>>,
}

impl Seeded {
    fn new(seed: u64) -> Seeded {
        Seeded {
            rng: Cell::new(magpie_shim::seed_state(seed)),
            ready: RefCell::new(Vec::new()),
        }
    }

    fn next(&self) -> u64 {
        xorshift(&self.rng)
    }
}

/// What the seeded order picked.
enum Pick {
    Root,
    Task(Notified),
}

/// Wakes a worker whose local task was queued from another thread.
struct WorkerWake {
    handle: Handle,
    index: usize,
}

impl Wake for WorkerWake {
    fn wake(self: DynArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &DynArc<Self>) {
        let shared = &self.handle.shared;
        shared.remotes[self.index].parker.unpark(&*shared.driver);
    }
}

/// The park count, the busy time, the coarse clock and the timeline's park spans follow the
/// parker's real sleeps, not every call to `park` (park.rs: most return at once when a
/// spawner keeps a worker busy).
impl SleepWatch for WorkerLocal {
    fn falling_asleep(&self) {
        self.shared().remotes[self.index].metrics.park();
        if let Some(timeline) = &self.timeline {
            timeline.record(self.index, Event::ParkStart);
        }
    }

    fn woke(&self) {
        self.shared().remotes[self.index].metrics.busy_from_now();
        self.refresh_coarse_now();
        if let Some(timeline) = &self.timeline {
            timeline.record(self.index, Event::ParkEnd);
        }
    }
}

/// The body of worker thread `index`.
pub(super) fn run(index: usize, deque: Worker<Notified>, handle: Handle) {
    let shared = handle.shared.clone();
    shared.config.run_start_hook();
    {
        let _entered = context::try_enter().expect("a fresh worker thread is in no runtime");
        let _handle = context::set_handle(handle.clone());
        let _outside = shared.config.enter_thread_context();
        let wake = Waker::from(DynArc::new(WorkerWake {
            handle: handle.clone(),
            index,
        }));
        let session = handle.local_session(wake);
        let _session = context::set_local_session(&session);
        let local = WorkerLocal::new(index, handle, deque);
        local.session.set(&session);
        let _worker = context::set_worker(&local);
        local.run(None);
        local.drain();
        // This worker's local tasks end here, on their thread.
        session.close();
    }
    shared.config.run_stop_hook();
    // Counted out last, so that shutdown, once the count is zero, finds every hook run.
    let mut running = shared.synced.running_workers.lock();
    *running -= 1;
    shared.synced.workers_exited.notify_all();
}

impl WorkerLocal {
    /// The state of worker `index`, owning its deque, for the thread about to run its loop.
    pub(super) fn new(index: usize, handle: Handle, deque: Worker<Notified>) -> WorkerLocal {
        let shared = handle.shared.clone();
        let seeded = shared.config.rng_seed.map(Seeded::new);
        shared.remotes[index].metrics.busy_from_now();
        WorkerLocal {
            index,
            handle,
            deque,
            tick: Cell::new(0),
            lifo_streak: Cell::new(0),
            searching: Cell::new(false),
            in_driver: Cell::new(false),
            rng: Cell::new(
                0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9),
            ),
            lifo_seen: (0..shared.remotes.len())
                .map(|_| Cell::new(usize::MAX))
                .collect(),
            polls_to_sample: Cell::new(1),
            coarse_now: Cell::new(crate::metrics::clock::spawn_stamp()),
            timeline: shared.timeline.clone(),
            session: Cell::new(std::ptr::null()),
            root_waker: Cell::new(std::ptr::null()),
            stand_in_stop: Cell::new(std::ptr::null()),
            seeded,
        }
    }

    /// Gives up the deque (a current-thread runtime keeps it between `block_on`s), with the
    /// tasks the seeded order had taken out of the queues put back.
    pub(super) fn into_deque(self) -> Worker<Notified> {
        if let Some(seeded) = &self.seeded {
            for task in seeded.ready.borrow_mut().drain(..) {
                self.deque.push(task);
            }
        }
        if self.searching.get() {
            self.shared().idle.stop_searching();
        }
        // `WorkerLocal` has no `Drop`: the deque moves out.
        let WorkerLocal { deque, .. } = self;
        deque
    }

    /// Runs this loop with `root` (the `block_on` future of a current-thread runtime), polled
    /// when woken at the start of each batch of `event_interval` ticks and whenever the
    /// queues run dry (`run`); returns `true` once it completed, `false` at shutdown.
    pub(super) fn run_with_root(&self, root: &mut dyn Root, session: &LocalSession) -> bool {
        self.session.set(session);
        self.root_waker.set(root.thread_waker());
        let done = self.run(Some(root));
        self.root_waker.set(std::ptr::null());
        done
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    pub(super) fn handle_ref(&self) -> &Handle {
        &self.handle
    }

    /// This worker's index, `0..worker_threads`.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn belongs_to(&self, handle: &Handle) -> bool {
        self.handle.ptr_eq(handle)
    }

    /// This worker's coarse clock reading, for the spawn time of the tasks it spawns
    /// (metrics/clock.rs): refreshed at each driver turn and each time the worker wakes
    /// from a sleep in its parker.
    #[inline]
    pub(crate) fn coarse_now(&self) -> u64 {
        self.coarse_now.get()
    }

    fn refresh_coarse_now(&self) {
        if !cfg!(magpie_no_metrics) {
            self.coarse_now.set(crate::metrics::clock::coarse_nanos());
        }
    }

    /// Tasks were taken from `victim`'s queues.
    fn stole(&self, victim: usize, tasks: usize) {
        let shared = self.shared();
        shared.remotes[self.index].metrics.count_steal(tasks);
        if let Some(timeline) = &self.timeline {
            timeline.record(self.index, Event::Steal { victim, tasks });
        }
    }

    /// Whether to time the next poll: one in `POLL_TIME_SAMPLE_EVERY` on average, the gap
    /// to the next drawn uniformly from `1..2 * POLL_TIME_SAMPLE_EVERY`.
    #[inline]
    fn sample_this_poll(&self) -> bool {
        if cfg!(magpie_no_metrics) {
            return false;
        }
        let left = self.polls_to_sample.get() - 1;
        if left > 0 {
            self.polls_to_sample.set(left);
            return false;
        }
        let gap = 1 + self.next_random() % u64::from(2 * POLL_TIME_SAMPLE_EVERY - 1);
        self.polls_to_sample.set(gap as u32);
        true
    }

    /// A task became runnable on this worker's thread.
    ///
    /// Where it goes (the LIFO slot runs next; the deque is FIFO):
    /// - spawned: the LIFO slot, its previous occupant to the back of the deque;
    /// - woken: the LIFO slot only while the deque is empty, else the back of the deque;
    /// - yielded: the back of the deque.
    ///
    /// A wake jumps the queue only when there is no queue. tokio always puts a wake in the
    /// LIFO slot, which makes fan-in pay once per producer: an HTTP/2 connection task that
    /// spawned a task per stream is woken by each stream's response and, run next every
    /// time, flushes one response per `writev`. Sent to the back of a non-empty deque, it
    /// runs once after the stream tasks queued before it, and its later wakes are no-ops
    /// (it is already scheduled): one `writev` for the batch. Measured with h2load (16
    /// connections x 16 streams, 2 workers): 1.6x the requests/s at half the CPU per request
    /// (issue 20). A message-passing pair with nothing else queued still runs back to back
    /// through the slot, which is what the slot is for.
    #[inline]
    pub(crate) fn schedule_local(&self, task: Notified, why: Runnable) {
        let shared = self.shared();
        let queue_it = match why {
            Runnable::Spawned => false,
            Runnable::Woken => !self.deque.is_empty(),
            Runnable::Yielded => true,
        };
        let to_deque = if queue_it {
            self.deque.push(task);
            true
        } else if let Some(prev) = shared.remotes[self.index].lifo.push(task) {
            self.deque.push(prev);
            true
        } else {
            false
        };
        // A task that reached the deque is work beside the one this worker runs next: if
        // workers sleep and none searches, wake one (tokio's rule). A task that went only to
        // the LIFO slot wakes nobody: this worker runs it next. Waking a helper for it too
        // (the rule before the monitor existed) cost a futex wake, a context switch and a
        // fruitless search per spawn of a task chain (issue 20: 1.2-1.36x tokio's CPU).
        // Should the running poll block this thread instead, the monitor, awake whenever a
        // worker is (`park`), sees the stuck poll and the occupied slot and sends a sleeper to
        // take the task from the (stealable) slot within a period or two (monitor.rs).
        // Not while the driver dispatches events here: no poll runs, and the check before
        // this worker's next poll (`run_task`) wakes a helper if more than the one task it
        // takes is queued.
        if to_deque && !self.in_driver.get() {
            self.wake_helper_if_idle();
        }
    }

    /// There is stealable work here: if workers sleep and none searches, wake one. This only
    /// spreads load (this worker will run the work itself otherwise), so the cheap unfenced
    /// check is enough; remote pushes, which need a guarantee, use `notify_parked`.
    #[inline]
    fn wake_helper_if_idle(&self) {
        let shared = self.shared();
        if shared.remotes.len() > 1 && shared.idle.may_have_idle_sleepers() {
            shared.notify_parked();
        }
    }

    /// The loop, until shutdown (or, standing in, until the blocked worker wants it back).
    /// With a root: also until the root future completes, which returns `true`.
    pub(super) fn run(&self, mut root: Option<&mut dyn Root>) -> bool {
        let shared = self.shared();
        let event_interval = shared.config.event_interval.max(1);
        let global_interval = shared.config.global_queue_interval.max(1);
        // The root is polled (if woken) once per batch of `event_interval` ticks, and
        // whenever the queues run dry: tokio's rhythm. Polling it after every task that
        // woke it (each completion it awaits) would cost a poll per task.
        let mut root_due = true;
        while !self.leaving() {
            if root_due && self.seeded.is_none() {
                root_due = false;
                if let Some(root) = root.as_deref_mut() {
                    if root.poll_if_notified() {
                        return true;
                    }
                }
            }
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % event_interval == 0 {
                self.driver_turn();
                root_due = true;
            }
            if let Some(seeded) = &self.seeded {
                let root_ready = root
                    .as_deref()
                    .is_some_and(|r| r.thread_waker().is_notified());
                match self.pick_seeded(seeded, root_ready) {
                    Some(Pick::Root) => {
                        if root.as_deref_mut().is_some_and(|r| r.poll_if_notified()) {
                            return true;
                        }
                    }
                    Some(Pick::Task(task)) => self.run_task(task),
                    None => self.park(),
                }
                continue;
            }
            let task = match self.next_task(tick % global_interval == 0) {
                Some(task) => Some(task),
                None => self.search(),
            };
            match task {
                Some(task) => self.run_task(task),
                None => {
                    root_due = true;
                    if !self.root_notified() {
                        self.park();
                    }
                }
            }
        }
        false
    }

    /// Shutdown, or the end of a stand-in's turn.
    #[inline]
    fn leaving(&self) -> bool {
        let shared = self.shared();
        // SAFETY: `stand_in_stop` points into the `StandIn` that block_in_place.rs keeps
        // alive until this loop has left and said so.
        shared.closed.load(Ordering::Acquire)
            || unsafe { self.stand_in_stop.get().as_ref() }
                .is_some_and(|stop| stop.load(Ordering::Acquire))
    }

    /// The next local task of this thread's session, if any.
    #[inline(always)]
    fn pop_local(&self) -> Option<Notified> {
        // SAFETY: `session` is set by the frame that owns the session (worker::run, or the
        // block_on driving a current-thread runtime), which outlives this loop, on this
        // thread; a stand-in never has one.
        unsafe { self.session.get().as_ref() }?.pop()
    }

    #[inline]
    fn has_local_tasks(&self) -> bool {
        // SAFETY: as in `pop_local`.
        unsafe { self.session.get().as_ref() }.is_some_and(LocalSession::has_queued)
    }

    /// Whether the root future of a current-thread runtime was woken.
    fn root_notified(&self) -> bool {
        // SAFETY: `root_waker` is set by `run_with_root` for as long as it runs, and the
        // waker lives in the frame of the `block_on` that called it.
        unsafe { self.root_waker.get().as_ref() }.is_some_and(ThreadWaker::is_notified)
    }

    /// Work only this worker can run: its LIFO slot, its deque, its local tasks, the tasks
    /// the seeded order holds, its root future.
    fn has_own_work(&self) -> bool {
        self.shared().remotes[self.index].lifo.is_occupied()
            || !self.deque.is_empty()
            || self.has_local_tasks()
            || self
                .seeded
                .as_ref()
                .is_some_and(|s| !s.ready.borrow().is_empty())
            || self.root_notified()
    }

    /// The seeded order (see [`Seeded`]): moves what the queues hold into `ready`, then
    /// draws one candidate; `None` when there is none.
    fn pick_seeded(&self, seeded: &Seeded, root_ready: bool) -> Option<Pick> {
        let shared = self.shared();
        let mut ready = seeded.ready.borrow_mut();
        ready.extend(shared.remotes[self.index].lifo.take());
        while let Some(task) = self.deque.pop() {
            ready.push(task);
        }
        while let Some(task) = steal_retrying(|| shared.injector.steal()) {
            ready.push(task);
        }
        while let Some(task) = self.pop_local() {
            ready.push(task);
        }
        let candidates = ready.len() + usize::from(root_ready);
        if candidates == 0 {
            return None;
        }
        let pick = (seeded.next() % candidates as u64) as usize;
        if pick == ready.len() {
            Some(Pick::Root)
        } else {
            Some(Pick::Task(ready.swap_remove(pick)))
        }
    }

    fn driver_turn(&self) {
        self.refresh_coarse_now();
        let shared = self.shared();
        if let Some(_holding) = shared.synced.driver.try_lock() {
            let timeline = self.timeline.as_deref();
            if let Some(timeline) = timeline {
                timeline.record(self.index, Event::TurnStart);
            }
            self.in_driver.set(true);
            let panicked = crate::unwind::contain(|| shared.driver.turn());
            self.in_driver.set(false);
            if let Some(timeline) = timeline {
                timeline.record(self.index, Event::TurnEnd);
            }
            if panicked {
                diagnostics::report(format_args!(
                    "a panic while the driver dispatched events was contained"
                ));
            }
        }
    }

    fn next_task(&self, injector_first: bool) -> Option<Notified> {
        let shared = self.shared();
        if injector_first {
            if let Some(task) = steal_retrying(|| shared.injector.steal()) {
                return Some(task);
            }
        }
        // Local tasks every other tick first, else after the deque: neither starves.
        if self.tick.get() % 2 == 1 {
            if let Some(task) = self.pop_local() {
                return Some(task);
            }
        }
        let lifo = &shared.remotes[self.index].lifo;
        let streak = self.lifo_streak.get();
        if streak < MAX_LIFO_POLLS {
            if let Some(task) = lifo.take() {
                self.lifo_streak.set(streak + 1);
                return Some(task);
            }
        } else if let Some(task) = lifo.take() {
            self.deque.push(task);
        }
        self.lifo_streak.set(0);
        if let Some(task) = self.deque.pop() {
            return Some(task);
        }
        if let Some(task) = self.pop_local() {
            return Some(task);
        }
        steal_retrying(|| shared.injector.steal_batch_and_pop(&self.deque))
    }

    fn search(&self) -> Option<Notified> {
        let shared = self.shared();
        if !self.searching.get() {
            if !shared.idle.try_start_searching() {
                return None;
            }
            self.searching.set(true);
        }
        let n = shared.remotes.len();
        for pass in 0..LIFO_PASSES {
            let mut lifo_waiting = false;
            let start = self.next_random() as usize % n;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                let remote = &shared.remotes[victim];
                if let Some(task) =
                    steal_retrying(|| remote.stealer.steal_batch_and_pop(&self.deque))
                {
                    // The deque was empty before (`next_task` found nothing).
                    self.stole(victim, 1 + self.deque.len());
                    return Some(task);
                }
                if remote.lifo.is_occupied() {
                    let polls = remote.polls.load(Ordering::Relaxed);
                    if pass > 0 && polls % 2 == 1 && polls == self.lifo_seen[victim].get() {
                        // Stuck in one poll with a task waiting behind it: take the task.
                        if let Some(task) = remote.lifo.take() {
                            self.stole(victim, 1);
                            return Some(task);
                        }
                    }
                    self.lifo_seen[victim].set(polls);
                    lifo_waiting = true;
                }
            }
            if let Some(task) = steal_retrying(|| shared.injector.steal_batch_and_pop(&self.deque))
            {
                return Some(task);
            }
            if !lifo_waiting {
                break;
            }
            for _ in 0..PASS_SPIN {
                std::hint::spin_loop();
            }
        }
        None
    }

    #[inline(always)]
    fn run_task(&self, task: Notified) {
        let shared = self.shared();
        if self.searching.replace(false) && shared.idle.stop_searching() {
            // The last searcher found work: more may be queued behind it (idle.rs, step 3).
            shared.notify_parked();
        }
        let remote = &shared.remotes[self.index];
        if remote.lifo.is_occupied() || !self.deque.is_empty() {
            self.wake_helper_if_idle();
        }
        let header = task.header();
        remote.metrics.set_current_task(header.id.as_u64());
        let timeline = self.timeline.as_deref();
        if let Some(timeline) = timeline {
            timeline.record(self.index, Event::poll_start(header));
        }
        let started = self.sample_this_poll().then(Instant::now);
        // Odd while the poll runs (see `Remote::polls`).
        let polls = remote.polls.load(Ordering::Relaxed);
        // Release: a monitor that reads the odd value with Acquire reads this poll's task id
        // (slow_polls.rs). A plain store on x86; the even store below needs no ordering.
        remote.polls.store(polls.wrapping_add(1), Ordering::Release);
        task.run();
        // Read again: a poll that blocked in place made the counter even for the stand-in's
        // polls and odd again when it came back (block_in_place.rs).
        let polls = remote.polls.load(Ordering::Relaxed);
        remote.polls.store(polls.wrapping_add(1), Ordering::Relaxed);
        if let Some(started) = started {
            remote.metrics.poll_times.record(started.elapsed());
        }
        if let Some(timeline) = timeline {
            timeline.record(self.index, Event::PollEnd);
        }
    }

    /// Parks until there is work (or shutdown). What is recorded about it happens only when
    /// the parker really sleeps (`SleepWatch` below, park.rs).
    fn park(&self) {
        let shared = self.shared();
        self.park_until_work();
        // The monitor must be awake while any worker runs: to see a poll stuck with a task
        // waiting in its LIFO slot (`schedule_local`) or the driver unattended, and a slow
        // poll. It may be in its deep sleep, whichever way this worker was woken (by the
        // driver or by a producer). A fence and a load per park (monitor.rs).
        shared.monitor.driver_left();
    }

    fn park_until_work(&self) {
        let shared = self.shared();
        let was_searching = self.searching.replace(false);
        let sleepers = &shared.synced.sleepers;
        if shared
            .idle
            .transition_to_parked(sleepers, self.index, was_searching)
            && shared.has_work()
        {
            shared.notify_parked();
        }
        shared.driver.maybe_idle();
        let runtime_is_idle = || shared.is_runtime_idle();
        loop {
            self.in_driver.set(true);
            shared.remotes[self.index].parker.park(
                &shared.synced.driver,
                &*shared.driver,
                &runtime_is_idle,
                self,
            );
            self.in_driver.set(false);
            if !Idle::is_sleeping(sleepers, self.index) {
                // A producer took us off the sleeper list and counted us as searching.
                self.searching.set(true);
                return;
            }
            let has_local_work = self.has_own_work();
            if has_local_work || self.leaving() {
                if !shared.idle.unpark_self(sleepers, self.index) {
                    self.searching.set(true);
                }
                // When the driver dispatched events that queued work here, nobody waits on
                // it now. Another worker is woken only if more than one task is queued
                // (`run_task`); should the one task this worker runs block it, the monitor
                // sends a sleeper to the driver (monitor.rs): `park` makes sure it watches.
                return;
            }
        }
    }

    /// On exit: drop the queue entries left here. Their tasks stay in the registry, where
    /// shutdown finds them and drops their futures.
    fn drain(&self) {
        if self.searching.replace(false) {
            self.shared().idle.stop_searching();
        }
        drop(self.shared().remotes[self.index].lifo.take());
        while let Some(task) = self.deque.pop() {
            drop(task);
        }
    }

    /// xorshift64*: victim selection only needs to differ between workers and ticks.
    fn next_random(&self) -> u64 {
        xorshift(&self.rng)
    }
}

/// xorshift64* step of the state in `rng` (never zero).
fn xorshift(rng: &Cell<u64>) -> u64 {
    let mut x = rng.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng.set(x);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Why a task became runnable on a worker's thread ([`WorkerLocal::schedule_local`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runnable {
    /// Spawned by the running task.
    Spawned,
    /// Woken by the running task (or by the driver, dispatching events here).
    Woken,
    /// The running task yielded.
    Yielded,
}

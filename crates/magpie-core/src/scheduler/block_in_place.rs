//! `block_in_place`: blocking code on a worker thread, without stalling the worker's work.
//!
//! # The hand-off
//!
//! A worker's loop runs on a `WorkerLocal` (worker.rs) that lives in its thread's frame.
//! When a task on worker thread T calls `block_in_place(f)`:
//!
//! 1. T marks the poll it is inside as ended (the worker's poll counter goes even: the
//!    monitor and searchers must not take T for a stuck worker, nor its LIFO task for a
//!    stranded one), detaches the worker's local session (local tasks belong to T's thread,
//!    and wait for it), and steps out of the worker (context.rs `leave_worker`: while f
//!    runs, T is a plain thread of the runtime and may even `block_on`).
//! 2. T starts a *stand-in* thread and lends it the `WorkerLocal` by address. The stand-in
//!    runs the ordinary worker loop on it: the worker's queued tasks (LIFO slot, deque), its
//!    turns at the driver, its parking and searching. Until the hand-back T does not touch
//!    the `WorkerLocal`, which stays alive in T's frame (T is blocked below it).
//! 3. T runs `f`.
//! 4. T sets the stand-in's stop flag and unparks the worker's parker; the stand-in's loop
//!    (`WorkerLocal::leaving`) and its park loop see the flag and return, and the stand-in
//!    says it is done (under the `StandIn` lock, after its last touch of the `WorkerLocal`).
//!    T waits for that, joins the thread, and takes the worker back: session, context, an
//!    odd poll counter and the task id again; the poll that called `block_in_place` goes on.
//!
//! A panic in `f` goes through the same hand-back before it resumes. A task run by the
//! stand-in may block in place itself: it lends the worker to a second stand-in the same
//! way (each stand-in has its own stop flag; the previous one's is restored after).
//!
//! On a current-thread runtime there is no other thread to run the tasks: `block_in_place`
//! panics there. On any other thread (a `block_on` of a multi-thread runtime, a blocking
//! thread, outside any runtime) it just runs `f`, as tokio's does.

use super::worker::WorkerLocal;
use crate::context;
use magpie_shim::{diagnostics, AtomicBool, Condvar, Mutex, Ordering};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

/// What T and its stand-in share.
struct StandIn {
    stop: AtomicBool,
    done: Mutex<bool>,
    left: Condvar,
}

/// Where `block_in_place` was called.
enum Place {
    /// On a worker of a multi-thread runtime.
    Worker(*const WorkerLocal),
    /// Inside a current-thread runtime.
    CurrentThread,
    /// Anywhere else.
    Elsewhere,
}

/// Runs the blocking function `f` on this thread. On a worker thread of a multi-thread
/// runtime its queued tasks and its driver duty are first handed to a stand-in thread, so
/// that the runtime's other tasks keep running (even on a one-worker runtime); anywhere
/// else outside a current-thread runtime, `f` simply runs.
///
/// # Panics
///
/// On a current-thread runtime (inside its `block_on`): its one thread runs every task,
/// and nobody could stand in. A panic in `f` propagates, after the hand-back.
pub fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    let place = context::with_worker(|worker| match worker {
        Some(w) if w.handle_ref().is_current_thread() => Place::CurrentThread,
        Some(w) => Place::Worker(w),
        None => {
            let in_current_thread = context::is_entered()
                && context::with_current_handle(|h| h.is_some_and(|h| h.is_current_thread()));
            if in_current_thread {
                Place::CurrentThread
            } else {
                Place::Elsewhere
            }
        }
    });
    match place {
        Place::Elsewhere => f(),
        Place::CurrentThread => panic!(
            "block_in_place cannot be called on a current-thread runtime: its one thread \
             runs every task, so blocking it stops them all. Use spawn_blocking, or a \
             multi-thread runtime."
        ),
        // SAFETY: the pointer came from this thread's context, which holds it while the
        // worker loop below us runs; we are inside that loop's poll.
        Place::Worker(worker) => hand_off(unsafe { &*worker }, f),
    }
}

fn hand_off<F: FnOnce() -> R, R>(local: &WorkerLocal, f: F) -> R {
    let handle = local.handle_ref().clone();
    let shared = handle.shared.clone();
    let remote = &shared.remotes[local.index()];
    let task_id = remote.metrics.current_task();
    let stand_in = Arc::new(StandIn {
        stop: AtomicBool::new(false),
        done: Mutex::new(false),
        left: Condvar::new(),
    });

    // 1. End the poll for the others' eyes, detach the local session, step out.
    let polls = remote.polls.load(Ordering::Relaxed);
    remote.polls.store(polls.wrapping_add(1), Ordering::Relaxed);
    let session = local.session.replace(std::ptr::null());
    let previous_stop = local.stand_in_stop.replace(&stand_in.stop);
    let left = context::leave_worker();

    // 2. Lend the worker to a stand-in.
    let address = local as *const WorkerLocal as usize;
    let thread = {
        let stand_in = stand_in.clone();
        let handle = handle.clone();
        shared.config.thread_builder().spawn(move || {
            handle.config().run_start_hook();
            {
                let _entered = context::try_enter().expect("a fresh thread is in no runtime");
                let _handle = context::set_handle(handle.clone());
                let _outside = handle.config().enter_thread_context();
                // SAFETY: T lent us the `WorkerLocal` (the module documentation, step 2):
                // it stays alive, and untouched by T, until we say we are done below.
                let local = unsafe { &*(address as *const WorkerLocal) };
                let _worker = context::set_worker(local);
                local.run(None);
            }
            *stand_in.done.lock() = true;
            stand_in.left.notify_all();
            handle.config().run_stop_hook();
        })
    };

    // 3. Run `f` (inline, with the worker stalled, if no thread could be started).
    let outcome = match &thread {
        Ok(_) => panic::catch_unwind(AssertUnwindSafe(f)),
        Err(e) => {
            diagnostics::report(format_args!(
                "block_in_place could not start a stand-in thread ({e}); the worker's \
                 other tasks wait for the blocking call"
            ));
            panic::catch_unwind(AssertUnwindSafe(f))
        }
    };

    // 4. Take the worker back.
    if let Ok(thread) = thread {
        stand_in.stop.store(true, Ordering::Release);
        remote.parker.unpark(&*shared.driver);
        let mut done = stand_in.done.lock();
        while !*done {
            done = stand_in.left.wait(done);
        }
        drop(done);
        let _ = thread.join();
    }
    drop(left);
    local.stand_in_stop.set(previous_stop);
    local.session.set(session);
    remote.metrics.set_current_task(task_id);
    let polls = remote.polls.load(Ordering::Relaxed);
    remote.polls.store(polls.wrapping_add(1), Ordering::Release);
    match outcome {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}

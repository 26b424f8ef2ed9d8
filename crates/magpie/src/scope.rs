//! `scope` and `Group`: structured concurrency, Python's `asyncio.TaskGroup`.
//!
//! # Protocol
//!
//! A scope owns a [`JoinSet`] (behind a lock, since every clone of its [`Group`] may spawn
//! into it) and polls the body future itself. The scope's future:
//!
//! 1. stores its waker, so that a spawn from another thread wakes it to start watching the
//!    new task;
//! 2. polls the body, if it is still running;
//! 3. takes every finished task out of the set (`poll_join_next`);
//! 4. on the first failure — the body or a task returning `Err`, or a task panicking — closes
//!    the group (later spawns are refused), drops the body and aborts every task, then goes on
//!    taking tasks out of the set until it is empty: aborted tasks are waited for, so their
//!    futures have been dropped when the scope returns;
//! 5. once the body is done and the set is empty, closes the group *under the same lock* that
//!    saw the set empty (so no spawn slips in between) and returns.
//!
//! If the scope's future is dropped before that (cancelled, or unwinding from a panic of the
//! body), it closes the group and aborts every task left in the set; their futures are
//! dropped at their next scheduling point.
//!
//! Tasks hold `Group`s, and the group's set holds the tasks' handles: a reference cycle. It is
//! broken when the scope finishes or is dropped, because the set is then empty or emptied.
//!
//! # Locking
//!
//! The lock guards the set, the `closed` flag and the scope's waker. No user code runs under
//! it: tasks are spawned outside it (a runtime that is shutting down drops a spawned future
//! at once), and outputs, errors and handles taken out of the set are dropped after it is
//! released.

use crate::handle::Handle;
use crate::task::{AbortHandle, JoinSet};
use magpie_shim::{Arc, Mutex};
use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic;
use std::pin::pin;
use std::task::{Poll, Waker};

/// Runs `body` with a [`Group`] to spawn tasks into, and returns once the body and every task
/// in the group have finished: Python's `asyncio.TaskGroup`, or `std::thread::scope` for
/// tasks.
///
/// - **Success:** when the body returns `Ok(value)` and every task returns `Ok(())`, the
///   scope returns `Ok(value)` after the last task finished.
/// - **Errors:** the first `Err` — of the body or of any task — cancels everything else: the
///   body's future is dropped, every task is aborted, and once the aborted tasks' futures have
///   been dropped the scope returns that first error.
/// - **Panics:** a panic in a task cancels everything else the same way, and is then resumed
///   in the caller of `scope` (with [`std::panic::resume_unwind`], the original payload), as
///   `std::thread::scope` does: a panic is a bug, not an error value. If the scope itself runs
///   in a task, that task's `JoinHandle` reports it as [`JoinError::is_panic`]. A panic in the
///   body unwinds out of the scope directly; the group's tasks are aborted.
/// - **Cancellation:** dropping the scope's future aborts every task in the group, so no task
///   outlives its scope. A task aborted through the [`AbortHandle`] that
///   [`Group::spawn`] returned counts as finished, not as a failure.
///
/// The tasks run on the workers of the runtime the scope was started in (in parallel with the
/// body, which runs inside the task that awaits the scope).
///
/// ```
/// # magpie::run(async {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
///
/// let total = Arc::new(AtomicU32::new(0));
/// let counter = total.clone();
/// let doubled = magpie::scope(|group| async move {
///     for i in 1..=4 {
///         let total = counter.clone();
///         group.spawn(async move {
///             total.fetch_add(i, Ordering::SeqCst);
///             Ok(())
///         });
///     }
///     Ok::<_, std::io::Error>(21 * 2)
/// })
/// .await;
/// assert_eq!(doubled.unwrap(), 42);
/// assert_eq!(total.load(Ordering::SeqCst), 10); // every task has finished
/// # });
/// ```
///
/// The first error wins and cancels the rest:
///
/// ```
/// # magpie::run(async {
/// use std::time::Duration;
///
/// let result: Result<(), String> = magpie::scope(|group| async move {
///     group.spawn(async {
///         magpie::time::sleep(Duration::from_secs(3600)).await; // cancelled
///         Ok(())
///     });
///     group.spawn(async { Err("no such user".to_string()) });
///     Ok(())
/// })
/// .await;
/// assert_eq!(result, Err("no such user".to_string()));
/// # });
/// ```
///
/// [`JoinError::is_panic`]: crate::JoinError::is_panic
pub async fn scope<T, E, F, Fut>(body: F) -> Result<T, E>
where
    F: FnOnce(Group<E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    let shared = Arc::new(Shared {
        runtime: Handle::try_current().ok(),
        state: Mutex::new(State {
            tasks: JoinSet::new(),
            closed: false,
            waker: None,
        }),
    });
    let _abort_on_drop = AbortOnDrop(shared.clone());
    let mut body = pin!(Some(body(Group {
        shared: shared.clone(),
    })));
    let mut value = None;
    let mut failure = Failure::None;
    let mut cancelling = false;

    poll_fn(|cx| {
        shared.register(cx.waker());

        if let Some(future) = body.as_mut().as_pin_mut() {
            if let Poll::Ready(result) = future.poll(cx) {
                body.set(None);
                match result {
                    Ok(v) => value = Some(v),
                    Err(error) => failure.record_error(error),
                }
            }
        }

        loop {
            if failure.is_some() && !cancelling {
                // First failure: cancel everything else, then wait for the aborted tasks.
                cancelling = true;
                body.set(None);
                shared.close_and_abort_all();
            }
            let body_done = body.is_none();
            let next = {
                let mut state = shared.state.lock();
                let next = state.tasks.poll_join_next(cx);
                if body_done && matches!(next, Poll::Ready(None)) {
                    state.closed = true;
                }
                next
            };
            match next {
                Poll::Ready(Some(Ok(Ok(())))) => {}
                Poll::Ready(Some(Ok(Err(error)))) => failure.record_error(error),
                Poll::Ready(Some(Err(join_error))) => {
                    if join_error.is_panic() {
                        failure.record_panic(join_error.into_panic());
                    }
                    // Cancelled: aborted by us, or through its AbortHandle; not a failure.
                }
                Poll::Ready(None) if body_done => return Poll::Ready(()),
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;

    match failure {
        Failure::None => Ok(value.expect("magpie::scope: the body completed with a value")),
        Failure::Error(error) => Err(error),
        Failure::Panic(payload) => panic::resume_unwind(payload),
    }
}

/// The handle a [`scope`]'s body gets to spawn tasks into the scope. Cheap to clone, and
/// `Send + Sync`: move clones into tasks to spawn from them.
pub struct Group<E> {
    shared: Arc<Shared<E>>,
}

impl<E> Clone for Group<E> {
    fn clone(&self) -> Self {
        Group {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Group")
            .field("tasks", &state.tasks.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl<E: Send + 'static> Group<E> {
    /// Spawns `future` as a task of the scope, on the runtime the scope was started in.
    ///
    /// The task returns `Ok(())` or an error; the first error cancels the scope (see
    /// [`scope`]). To get values out of tasks, send them over a channel or collect them in
    /// shared state; or use [`join_all`](crate::join_all) when the futures need not run on
    /// other workers.
    ///
    /// Returns the task's [`AbortHandle`], or `None` when the scope has already finished or
    /// is cancelling after a failure: the future is then dropped without being polled, so no
    /// task ever outlives its scope. (In a race with the scope finishing, the task may be
    /// spawned and then aborted at once.)
    ///
    /// # Panics
    ///
    /// When the scope was started outside a magpie runtime and this thread is not in one
    /// either.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Option<AbortHandle>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        if self.shared.is_closed() {
            return None;
        }
        let handle = match &self.shared.runtime {
            Some(runtime) => runtime.spawn(future),
            None => crate::spawn(future),
        };
        let mut state = self.shared.state.lock();
        if state.closed {
            drop(state);
            handle.abort();
            return None;
        }
        let abort = state.tasks.insert(handle);
        let waker = state.waker.clone();
        drop(state);
        // The scope may be waiting on its body only: make it poll the set, so that it watches
        // the new task.
        if let Some(waker) = waker {
            waker.wake();
        }
        Some(abort)
    }
}

/// What a [`Group`] shares with its scope.
struct Shared<E> {
    /// The runtime the scope was started in, where its tasks run.
    runtime: Option<Handle>,
    state: Mutex<State<E>>,
}

struct State<E> {
    /// The group's tasks that have not been taken out by the scope yet.
    tasks: JoinSet<Result<(), E>>,
    /// No more spawns: the scope has finished, failed, or been dropped.
    closed: bool,
    /// The scope's waker, from its latest poll.
    waker: Option<Waker>,
}

impl<E> Shared<E> {
    fn register(&self, waker: &Waker) {
        let mut state = self.state.lock();
        match &state.waker {
            Some(known) if known.will_wake(waker) => {}
            _ => state.waker = Some(waker.clone()),
        }
    }

    fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Refuses further spawns and aborts every task in the set; they stay in it until taken.
    fn close_and_abort_all(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.tasks.abort_all();
    }
}

/// Closes the group and aborts its remaining tasks when the scope's future is dropped
/// (finished, cancelled, or unwinding).
struct AbortOnDrop<E>(Arc<Shared<E>>);

impl<E> Drop for AbortOnDrop<E> {
    fn drop(&mut self) {
        let (tasks, waker) = {
            let mut state = self.0.state.lock();
            state.closed = true;
            (std::mem::take(&mut state.tasks), state.waker.take())
        };
        // Outside the lock: dropping the set aborts its tasks and drops their handles (and
        // any output still in them).
        drop(tasks);
        drop(waker);
    }
}

/// The scope's first failure.
enum Failure<E> {
    None,
    Error(E),
    Panic(Box<dyn Any + Send + 'static>),
}

impl<E> Failure<E> {
    fn is_some(&self) -> bool {
        !matches!(self, Failure::None)
    }

    /// Keeps the first error; a later one is dropped.
    fn record_error(&mut self, error: E) {
        if let Failure::None = self {
            *self = Failure::Error(error);
        }
    }

    /// Keeps the first panic, which outranks any error: a panic is never swallowed.
    fn record_panic(&mut self, payload: Box<dyn Any + Send + 'static>) {
        if !matches!(self, Failure::Panic(_)) {
            *self = Failure::Panic(payload);
        }
    }
}

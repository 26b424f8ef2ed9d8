//! `join_all` and `try_join_all`: Python's `asyncio.gather` over any number of futures.
//!
//! The futures all run inside the one task that awaits the join. Each child has its own
//! waker (see `ready_list.rs`), so a poll of the join re-polls only the children that were
//! woken since the last one: joining 10,000 futures that finish one at a time costs O(1) per
//! wake-up, not O(N). A child's future is dropped as soon as it completes.

use super::ready_list::ReadyList;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits for every future in `iter` and returns their outputs in the order of `iter`:
/// Python's `asyncio.gather`.
///
/// The futures run concurrently inside the calling task (use [`spawn`](crate::spawn) or a
/// [`JoinSet`](crate::task::JoinSet) to run them in parallel on several workers). They are
/// taken from `iter` when `join_all` is called. Only the futures that were woken are polled
/// again, so this scales to tens of thousands of futures.
///
/// ```
/// # magpie::run(async {
/// use std::time::Duration;
///
/// let delays = [30u64, 10, 20];
/// let outputs = magpie::join_all(delays.iter().map(|&ms| async move {
///     magpie::time::sleep(Duration::from_millis(ms)).await;
///     ms
/// }))
/// .await;
/// assert_eq!(outputs, [30, 10, 20]); // input order, not completion order
/// # });
/// ```
pub fn join_all<I>(iter: I) -> JoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let children = Children::new(iter);
    let outputs = (0..children.len()).map(|_| None).collect();
    JoinAll { children, outputs }
}

/// Waits for every future in `iter`, each returning a `Result`, and returns their `Ok` values
/// in the order of `iter`; fails fast: the first `Err` is returned at once and the futures
/// still running are dropped.
///
/// Otherwise as [`join_all`].
///
/// ```
/// # magpie::run(async {
/// let parsed = magpie::try_join_all(["1", "2", "3"].map(|s| async move { s.parse::<u32>() })).await;
/// assert_eq!(parsed, Ok(vec![1, 2, 3]));
///
/// let failed = magpie::try_join_all(["1", "x"].map(|s| async move { s.parse::<u32>() })).await;
/// assert!(failed.is_err());
/// # });
/// ```
pub fn try_join_all<I, T, E>(iter: I) -> TryJoinAll<<I::Item as IntoFuture>::IntoFuture, T, E>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let children = Children::new(iter);
    let outputs = (0..children.len()).map(|_| None).collect();
    TryJoinAll {
        children: Some(children),
        outputs,
    }
}

/// The future of [`join_all`]: resolves to the outputs in input order.
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    children: Children<F>,
    /// `outputs[i]`: child `i`'s output, once it completed.
    outputs: Vec<Option<F::Output>>,
}

// Nothing in a `JoinAll` is pinned structurally: every child future is boxed.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let outputs = &mut this.outputs;
        match this.children.poll_children(cx, |index, output| {
            outputs[index] = Some(output);
            ControlFlow::<()>::Continue(())
        }) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(
                std::mem::take(outputs)
                    .into_iter()
                    .map(|output| output.expect("join_all: every child has completed"))
                    .collect(),
            ),
        }
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("len", &self.children.len())
            .field("running", &self.children.running)
            .finish()
    }
}

/// The future of [`try_join_all`]: resolves to the `Ok` values in input order, or to the
/// first `Err`.
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    /// `None` once finished: the children still running are dropped at the first error.
    children: Option<Children<F>>,
    outputs: Vec<Option<T>>,
}

// Nothing in a `TryJoinAll` is pinned structurally: every child future is boxed.
impl<F, T, E> Unpin for TryJoinAll<F, T, E> where F: Future<Output = Result<T, E>> {}

impl<F, T, E> Future for TryJoinAll<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let children = this
            .children
            .as_mut()
            .expect("try_join_all polled after it completed");
        let outputs = &mut this.outputs;
        let flow = match children.poll_children(cx, |index, result| match result {
            Ok(value) => {
                outputs[index] = Some(value);
                ControlFlow::Continue(())
            }
            Err(error) => ControlFlow::Break(error),
        }) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(flow) => flow,
        };
        // Finished either way: drop the children still running now, not when the future is.
        this.children = None;
        Poll::Ready(match flow {
            ControlFlow::Break(error) => Err(error),
            ControlFlow::Continue(()) => Ok(std::mem::take(outputs)
                .into_iter()
                .map(|output| output.expect("try_join_all: every child has completed"))
                .collect()),
        })
    }
}

impl<F, T, E> fmt::Debug for TryJoinAll<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TryJoinAll");
        match &self.children {
            Some(children) => d
                .field("len", &children.len())
                .field("running", &children.running),
            None => d.field("finished", &true),
        }
        .finish()
    }
}

/// The child futures of a join and the list of those woken.
struct Children<F: Future> {
    /// `futures[i]`: child `i`, or `None` once it completed (dropped at once).
    futures: Vec<Option<Pin<Box<F>>>>,
    ready: ReadyList,
    /// Scratch space for the indices drained from `ready`, kept for its capacity.
    batch: Vec<usize>,
    /// Children not completed yet.
    running: usize,
}

impl<F: Future> Children<F> {
    fn new<I>(iter: I) -> Children<F>
    where
        I: IntoIterator,
        I::Item: IntoFuture<IntoFuture = F>,
    {
        let futures: Vec<_> = iter
            .into_iter()
            .map(|future| Some(Box::pin(future.into_future())))
            .collect();
        let running = futures.len();
        Children {
            ready: ReadyList::new(running),
            futures,
            batch: Vec::new(),
            running,
        }
    }

    fn len(&self) -> usize {
        self.futures.len()
    }

    /// Polls the children woken since the last call, handing each output to `done` with the
    /// child's index. `Ready(Continue)` once every child has completed, `Ready(Break)` as soon
    /// as `done` breaks (the rest of the batch is then left unpolled).
    fn poll_children<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut done: impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> Poll<ControlFlow<B>> {
        if self.running == 0 {
            return Poll::Ready(ControlFlow::Continue(()));
        }
        let mut batch = std::mem::take(&mut self.batch);
        self.ready.drain(cx.waker(), &mut batch);
        let mut flow = ControlFlow::Continue(());
        for &index in &batch {
            let Some(future) = self.futures[index].as_mut() else {
                continue; // completed already: a stale wake
            };
            self.ready.arm(index);
            let mut child_cx = Context::from_waker(self.ready.waker(index));
            if let Poll::Ready(output) = future.as_mut().poll(&mut child_cx) {
                self.futures[index] = None;
                self.running -= 1;
                flow = done(index, output);
                if flow.is_break() {
                    break;
                }
            }
        }
        batch.clear();
        self.batch = batch;
        if flow.is_break() || self.running == 0 {
            Poll::Ready(flow)
        } else {
            Poll::Pending
        }
    }
}

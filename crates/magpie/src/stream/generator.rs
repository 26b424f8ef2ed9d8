//! `generator` and `try_generator`: write a stream as an `async` block that yields, Python's
//! `async def` with `yield`.
//!
//! # Protocol
//!
//! The stream owns the generator's future (boxed, so that the stream is `Unpin`) and shares a
//! one-value slot with the [`Co`] handle the future got:
//!
//! 1. `poll_next` polls the future with the consumer's context.
//! 2. `co.yield_(v).await` puts `v` in the slot on its first poll and returns `Pending`
//!    without arranging a wake-up: the stream sees the value right away, in the same
//!    `poll_next`, takes it and returns `Ready(Some(v))`. If the slot is full (two yields
//!    raced in a `join!`), the yield keeps its value and waits for a later turn.
//! 3. The next `poll_next` polls the future again; the yield whose value was taken returns
//!    `Ready(())`, and the generator runs on to its next yield (or its end).
//! 4. When the future completes the stream ends (`try_generator`: after yielding the `Err`
//!    the future returned, if any).
//!
//! Any other `.await` inside the generator (a sleep, a socket read) registers the consumer's
//! waker, as if the consumer awaited it itself. Dropping the stream drops the future: the
//! generator stops at the `.await` it was suspended on.
//!
//! The `Co` is meant for the generator's own future: a yield polled by some other task is
//! only seen the next time the stream is polled.

use futures_lite::stream::Stream;
use magpie_shim::{Arc, Mutex};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A stream whose items are produced by an async block: `f` gets a [`Co`] handle and yields
/// each item with `co.yield_(item).await`; the stream ends when the block returns.
///
/// `f` is called at once, but the future it returns runs only while the stream is polled,
/// and each yield suspends it until the consumer asks for the next item, so nothing is
/// buffered. Dropping the stream drops the
/// block's future, stopping the generator. The stream is `Unpin` (the block is boxed), and
/// `Send` when `T` and the block's future are.
///
/// ```
/// # magpie::run(async {
/// use magpie::stream::{generator, StreamExt};
/// use std::time::Duration;
///
/// let countdown = generator(|co| async move {
///     for n in (1..=3).rev() {
///         co.yield_(n).await;
///         magpie::time::sleep(Duration::from_millis(1)).await;
///     }
/// });
/// let seen: Vec<u32> = countdown.map(|n| n * 10).collect().await;
/// assert_eq!(seen, [30, 20, 10]);
/// # });
/// ```
pub fn generator<T, F, Fut>(f: F) -> impl Stream<Item = T> + Unpin
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    Generator { core: Core::new(f) }
}

/// A stream of `Result`s produced by an async block that may fail: `f` yields `Ok` items with
/// `co.yield_(item).await` and returns `Result<(), E>`, so `?` works inside it. An `Err`
/// returned by the block becomes the stream's last item; `Ok(())` just ends the stream.
///
/// Otherwise as [`generator`].
///
/// ```
/// # magpie::run(async {
/// use magpie::stream::{try_generator, StreamExt};
///
/// let numbers = try_generator(|co| async move {
///     for text in ["1", "2", "three", "4"] {
///         co.yield_(text.parse::<u32>()?).await;
///     }
///     Ok::<(), std::num::ParseIntError>(())
/// });
/// let items: Vec<_> = numbers.collect().await;
/// assert_eq!(items.len(), 3);
/// assert_eq!(items[..2], [Ok(1), Ok(2)]);
/// assert!(items[2].is_err()); // "three"; the generator stopped there
/// # });
/// ```
pub fn try_generator<T, E, F, Fut>(f: F) -> impl Stream<Item = Result<T, E>> + Unpin
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    TryGenerator { core: Core::new(f) }
}

/// The handle a generator yields its items through (see [`generator`]).
pub struct Co<T> {
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> Co<T> {
    /// Hands `value` to the stream's consumer and suspends the generator until the consumer
    /// asks for the next item.
    pub fn yield_(&self, value: T) -> Yield<'_, T> {
        Yield {
            co: self,
            value: Some(value),
        }
    }
}

impl<T> fmt::Debug for Co<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

/// The future of [`Co::yield_`].
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<'a, T> {
    co: &'a Co<T>,
    /// The value, until it is put in the slot.
    value: Option<T>,
}

// `T` is never pinned: the value is only moved into the slot.
impl<T> Unpin for Yield<'_, T> {}

impl<T> Future for Yield<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(value) = this.value.take() else {
            // Handed over in an earlier poll, and the stream has been polled again since.
            return Poll::Ready(());
        };
        let mut slot = this.co.slot.lock();
        if slot.is_none() {
            *slot = Some(value);
        } else {
            // Another yield's value is waiting: try again at the stream's next poll.
            this.value = Some(value);
        }
        // No wake-up needed: the stream that polled us looks at the slot before returning.
        Poll::Pending
    }
}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("handed_over", &self.value.is_none())
            .finish()
    }
}

/// What one step of a generator produced.
enum Step<T, R> {
    /// An item.
    Yielded(T),
    /// The future's output; the generator is finished.
    Returned(R),
    /// Finished earlier.
    Exhausted,
}

/// The future and the slot, shared by both kinds of generator.
struct Core<T, Fut: Future> {
    slot: Arc<Mutex<Option<T>>>,
    /// `None` once the future completed: it is dropped then, not when the stream is.
    future: Option<Pin<Box<Fut>>>,
    /// The future's output when it completed in the same poll as a yield (that is, without
    /// awaiting the yield): reported after that item.
    returned: Option<Fut::Output>,
}

impl<T, Fut: Future> Core<T, Fut> {
    fn new<F: FnOnce(Co<T>) -> Fut>(f: F) -> Core<T, Fut> {
        let slot = Arc::new(Mutex::new(None));
        let future = f(Co { slot: slot.clone() });
        Core {
            slot,
            future: Some(Box::pin(future)),
            returned: None,
        }
    }

    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Step<T, Fut::Output>> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(match self.returned.take() {
                Some(output) => Step::Returned(output),
                None => Step::Exhausted,
            });
        };
        let polled = future.as_mut().poll(cx);
        if let Poll::Ready(output) = polled {
            self.future = None;
            self.returned = Some(output);
        }
        if let Some(item) = self.slot.lock().take() {
            return Poll::Ready(Step::Yielded(item));
        }
        match self.returned.take() {
            Some(output) => Poll::Ready(Step::Returned(output)),
            None => Poll::Pending,
        }
    }
}

struct Generator<T, Fut: Future> {
    core: Core<T, Fut>,
}

// Nothing is pinned structurally: the future is boxed.
impl<T, Fut: Future> Unpin for Generator<T, Fut> {}

impl<T, Fut: Future<Output = ()>> Stream for Generator<T, Fut> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().core.poll_step(cx).map(|step| match step {
            Step::Yielded(item) => Some(item),
            Step::Returned(()) | Step::Exhausted => None,
        })
    }
}

struct TryGenerator<T, Fut: Future> {
    core: Core<T, Fut>,
}

// Nothing is pinned structurally: the future is boxed.
impl<T, Fut: Future> Unpin for TryGenerator<T, Fut> {}

impl<T, E, Fut: Future<Output = Result<(), E>>> Stream for TryGenerator<T, Fut> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        self.get_mut().core.poll_step(cx).map(|step| match step {
            Step::Yielded(item) => Some(Ok(item)),
            Step::Returned(Err(error)) => Some(Err(error)),
            Step::Returned(Ok(())) | Step::Exhausted => None,
        })
    }
}

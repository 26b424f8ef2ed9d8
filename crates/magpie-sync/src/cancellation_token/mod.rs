//! [`CancellationToken`], its two wait futures and its [`DropGuard`] (tokio-util's, with the
//! same names). The tree of nodes behind the tokens, its invariants and its lock order are in
//! `tree.rs`.

#[cfg(all(test, not(loom)))]
mod tests;
mod tree;

use crate::waiters::Key;
use magpie_shim::coop;
use magpie_shim::Arc;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tree::Node;

/// A token that can be cancelled once, and waited on until it is; cancelling it cancels its
/// [children](CancellationToken::child_token) too. `Clone + Send + Sync`; waiting needs
/// nothing but a [`Waker`](std::task::Waker), so it works on any executor.
///
/// A token is cancelled once, by [`cancel`](CancellationToken::cancel), and stays cancelled.
/// Tasks check it with [`is_cancelled`](CancellationToken::is_cancelled) or wait for it with
/// [`cancelled().await`](CancellationToken::cancelled), typically in a `select!` beside their
/// work. In asyncio terms it is the `asyncio.Event` a server sets at shutdown, or the
/// `task.cancel()` of a task group, except that nothing is thrown into the task: the task sees
/// the cancellation where it chooses to look, and winds down in its own way.
///
/// # Trees
///
/// [`child_token`](CancellationToken::child_token) makes a token that is cancelled with its
/// parent, and can also be cancelled alone:
///
/// - Cancelling a token cancels all its descendants (children, grandchildren, ...), never its
///   parent or siblings.
/// - A child made from an already cancelled token starts cancelled.
/// - Clones share one state: cancelling any clone cancels them all.
/// - When every clone of a child is dropped, the child leaves its parent, so a long-lived parent
///   that hands out children to short-lived requests holds none of them once they are gone.
/// - When every clone of an intermediate token is dropped, its children are handed to its
///   parent: they stay usable and are still cancelled when an ancestor that is alive is
///   cancelled. A tree may be dropped in any order.
///
/// # Example
///
/// A worker that runs until shutdown, as an asyncio task would run until `task.cancel()` (or a
/// shutdown `Event`) stops it. On magpie, `magpie::select!` races the two futures the same way.
///
/// ```
/// use futures_lite::future;
/// use magpie_sync::CancellationToken;
///
/// let shutdown = CancellationToken::new();
/// let worker = {
///     // One child per worker: cancelling it stops this worker only; cancelling `shutdown`
///     // stops them all.
///     let token = shutdown.child_token();
///     std::thread::spawn(move || {
///         future::block_on(async {
///             let work = async {
///                 loop {
///                     future::yield_now().await; // one unit of work
///                 }
///             };
///             future::or(work, token.cancelled()).await;
///             "stopped cleanly"
///         })
///     })
/// };
/// shutdown.cancel();
/// assert_eq!(worker.join().unwrap(), "stopped cleanly");
/// ```
pub struct CancellationToken {
    node: Arc<Node>,
}

impl CancellationToken {
    /// A new token, not cancelled, with no parent.
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self { node: Node::root() }
    }

    /// A new token that is cancelled when this one is (or any of its ancestors), and can also be
    /// cancelled on its own without affecting this one. If this token is already cancelled, the
    /// child starts cancelled.
    ///
    /// ```
    /// use magpie_sync::CancellationToken;
    ///
    /// let parent = CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled(), "a child never cancels its parent");
    ///
    /// let other = parent.child_token();
    /// parent.cancel();
    /// assert!(other.is_cancelled());
    /// assert!(parent.child_token().is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        Self {
            node: Node::child(&self.node),
        }
    }

    /// Cancels this token and all its descendants, and wakes every task waiting on any of them.
    /// Calling it again does nothing. When it returns, and once any cancel of an ancestor
    /// already under way has returned too, every descendant reports
    /// [`is_cancelled`](CancellationToken::is_cancelled) (a concurrent ancestor's cancel may
    /// have marked this token and not yet reached its children).
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// token.cancel();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        Node::cancel(&self.node);
    }

    /// Whether this token has been cancelled (by itself or an ancestor). Once `true`, it stays
    /// `true`.
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// A future that completes when this token is cancelled, at once if it already is.
    ///
    /// It is cancel-safe: dropping it before completion removes it from the token's waiters and
    /// loses nothing (a later `cancelled()` sees the same cancellation).
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// token.cancel();
    /// futures_lite::future::block_on(token.cancelled());
    /// ```
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        WaitForCancellationFuture {
            token: self,
            wait: Wait::new(),
        }
    }

    /// Like [`cancelled`](CancellationToken::cancelled), but the future owns a clone of the
    /// token, so it is `'static` and can be moved into a spawned task.
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// let waiter = std::thread::spawn({
    ///     let cancelled = token.clone().cancelled_owned();
    ///     move || futures_lite::future::block_on(cancelled)
    /// });
    /// token.cancel();
    /// waiter.join().unwrap();
    /// ```
    pub fn cancelled_owned(self) -> WaitForCancellationFutureOwned {
        WaitForCancellationFutureOwned {
            token: self,
            wait: Wait::new(),
        }
    }

    /// Runs `future` until it completes (`Some(output)`) or this token is cancelled (`None`, and
    /// `future` is dropped unfinished). The token is checked first at every poll, so an already
    /// cancelled token gives `None` without polling `future` at all.
    ///
    /// ```
    /// use futures_lite::future::{block_on, pending};
    ///
    /// let token = magpie_sync::CancellationToken::new();
    /// assert_eq!(block_on(token.run_until_cancelled(async { 7 })), Some(7));
    /// token.cancel();
    /// assert_eq!(block_on(token.run_until_cancelled(pending::<()>())), None);
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        race_cancellation(self.cancelled(), future).await
    }

    /// Like [`run_until_cancelled`](CancellationToken::run_until_cancelled), but the returned
    /// future owns the token, so it is `'static` when `future` is.
    pub async fn run_until_cancelled_owned<F: Future>(self, future: F) -> Option<F::Output> {
        race_cancellation(self.cancelled_owned(), future).await
    }

    /// A guard that cancels this token when it is dropped (when its scope ends, or on a panic
    /// that unwinds through it), unless [`disarm`](DropGuard::disarm)ed first.
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// {
    ///     let _guard = token.clone().drop_guard();
    /// }
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }

    /// How many children are linked to this token's node (for tests of the tree's memory).
    #[cfg(test)]
    pub(crate) fn child_count(&self) -> usize {
        self.node.child_count()
    }
}

impl Clone for CancellationToken {
    /// Another handle to the same token: cancelling either cancels both.
    fn clone(&self) -> Self {
        self.node.add_handle();
        Self {
            node: self.node.clone(),
        }
    }
}

impl Drop for CancellationToken {
    fn drop(&mut self) {
        Node::drop_handle(&self.node);
    }
}

// No user code runs while a node's lock is held (wakers run after it is released), so a panic
// elsewhere cannot leave the tree half-changed: a token is safe to use after an unwind.
impl std::panic::UnwindSafe for CancellationToken {}
impl std::panic::RefUnwindSafe for CancellationToken {}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Polls `cancelled` first, then `future`, until one of them is ready.
async fn race_cancellation<C, F>(cancelled: C, future: F) -> Option<F::Output>
where
    C: Future<Output = ()>,
    F: Future,
{
    let mut cancelled = std::pin::pin!(cancelled);
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if cancelled.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}

/// A waiter's place on a token's node: its key in the node's queue once it has waited.
struct Wait {
    key: Option<Key>,
}

impl Wait {
    const fn new() -> Self {
        Self { key: None }
    }

    fn poll(&mut self, node: &Node, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        if node.poll_wait(&mut self.key, cx.waker()) {
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn leave(&mut self, node: &Node) {
        node.leave(&mut self.key);
    }
}

/// The future returned by [`CancellationToken::cancelled`]: completes when the token is
/// cancelled. Dropping it leaves no trace on the token.
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFuture<'a> {
    token: &'a CancellationToken,
    wait: Wait,
}

impl Future for WaitForCancellationFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.token.node, cx)
    }
}

impl Drop for WaitForCancellationFuture<'_> {
    fn drop(&mut self) {
        self.wait.leave(&self.token.node);
    }
}

impl fmt::Debug for WaitForCancellationFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFuture")
            .field("is_cancelled", &self.token.is_cancelled())
            .finish()
    }
}

/// The future returned by [`CancellationToken::cancelled_owned`]: completes when the token is
/// cancelled; owns a clone of the token, so it is `'static`. Dropping it leaves no trace on the
/// token.
#[must_use = "futures do nothing unless polled"]
pub struct WaitForCancellationFutureOwned {
    token: CancellationToken,
    wait: Wait,
}

impl Future for WaitForCancellationFutureOwned {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.token.node, cx)
    }
}

impl Drop for WaitForCancellationFutureOwned {
    fn drop(&mut self) {
        // Runs before the token field is dropped: the node is still this token's.
        self.wait.leave(&self.token.node);
    }
}

impl fmt::Debug for WaitForCancellationFutureOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellationFutureOwned")
            .field("is_cancelled", &self.token.is_cancelled())
            .finish()
    }
}

/// Cancels its token when dropped; made by [`CancellationToken::drop_guard`].
///
/// Use it to tie a token to a scope: the tasks watching the token are stopped however the
/// scope is left, including by a panic.
#[must_use = "a DropGuard cancels its token at once if it is not kept"]
pub struct DropGuard {
    /// `None` only once disarmed.
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    ///
    /// ```
    /// let token = magpie_sync::CancellationToken::new();
    /// let guard = token.clone().drop_guard();
    /// let same = guard.disarm();
    /// assert!(!token.is_cancelled());
    /// same.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until disarmed")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}

// Compile-time checks of the auto traits.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    const fn assert_unpin<T: Unpin>() {}
    const fn assert_static<T: 'static>() {}
    assert_send_sync::<CancellationToken>();
    assert_send_sync::<DropGuard>();
    assert_send_sync::<WaitForCancellationFuture<'static>>();
    assert_send_sync::<WaitForCancellationFutureOwned>();
    assert_unpin::<WaitForCancellationFuture<'static>>();
    assert_unpin::<WaitForCancellationFutureOwned>();
    assert_static::<WaitForCancellationFutureOwned>();
};

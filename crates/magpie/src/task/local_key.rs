//! Task-local values: [`task_local!`](crate::task_local), [`LocalKey`] and the
//! [`TaskLocalFuture`] that carries a value with a future.
//!
//! Python's `contextvars.ContextVar` is the model: a value that follows the task rather than
//! the thread. A task may run on any worker and move between workers at each await, so a
//! `thread_local!` would show it whatever the last task on that thread left behind; a
//! task-local shows it the value of the scope it runs in, wherever it is polled.
//!
//! # How a value is carried
//!
//! Each key declared with `task_local!` owns one `thread_local!` slot,
//! `RefCell<Option<T>>`, `None` on every thread when no scope is being polled there.
//!
//! 1. [`LocalKey::scope`] moves the value into the returned [`TaskLocalFuture`]; between
//!    polls it lives there and in no thread's slot.
//! 2. Each poll swaps the future's value into the slot of the thread doing the poll (what the
//!    slot held, an enclosing scope's value or `None`, moves into the future meanwhile), polls
//!    the inner future, and swaps the two back. A guard does the second swap, so it happens
//!    also when the inner poll panics.
//! 3. Values are swapped, never cloned: `T` needs no bound, and each value is dropped once,
//!    with the `TaskLocalFuture` that holds it.
//!
//! Hence the value follows the future across workers; other tasks polled on the same thread
//! between two polls never see it; a scope inside another scope of the same key shadows the
//! outer value and gives it back when its poll returns; and a task spawned inside a scope
//! does not inherit the value, since the runtime polls it outside that scope (unlike
//! asyncio's `create_task`, which copies the current context into the new task: pass a value
//! on with `KEY.scope(KEY.get(), future)`). [`LocalKey::sync_scope`] does the same around one
//! call of a closure.
//!
//! The inner future is dropped with the value installed too (when it completes, and when the
//! `TaskLocalFuture` is dropped unfinished), so a `Drop` impl inside it can read the value.

use pin_project_lite::pin_project;
use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: statics of type [`LocalKey<T>`](crate::task::LocalKey) whose
/// value is set for the duration of a future with [`LocalKey::scope`] and read inside it with
/// [`LocalKey::with`], [`LocalKey::try_with`] or [`LocalKey::get`].
///
/// This is Python's `contextvars.ContextVar`: a value that follows the task (a request id,
/// a user, a trace span) wherever the task runs, without passing it through every call. One
/// difference: a task spawned inside a scope does not inherit the value (asyncio's
/// `create_task` copies the context); wrap what you spawn in a scope of its own.
///
/// Several keys may be declared in one invocation; attributes (doc comments included) and
/// visibility are kept.
///
/// ```
/// magpie::task_local! {
///     /// The id of the request the current task serves.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// async fn handle() -> String {
///     magpie::task::yield_now().await;
///     let user = USER.with(|user| user.clone());
///     format!("request {} for {user}", REQUEST_ID.get())
/// }
///
/// magpie::run(async {
///     let line = REQUEST_ID
///         .scope(7, USER.scope("ada".to_string(), handle()))
///         .await;
///     assert_eq!(line, "request 7 for ada");
///     // Outside the scope, the key is not set.
///     assert!(REQUEST_ID.try_with(|id| *id).is_err());
///     // A spawned task does not inherit the value: give it a scope of its own.
///     let spawned = magpie::spawn(REQUEST_ID.scope(8, async { REQUEST_ID.get() }));
///     assert_eq!(spawned.await.unwrap(), 8);
/// });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::task_local!($(#[$attr])* $vis static $name: $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __MAGPIE_TASK_LOCAL_SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(__MAGPIE_TASK_LOCAL_SLOT, ::std::stringify!($name))
        };
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local): set it for the
/// duration of a future with [`scope`](LocalKey::scope), read it inside with
/// [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or [`get`](LocalKey::get).
///
/// The value is carried by the future given to `scope`, never by a thread: it is set around
/// each poll of that future, on whichever worker polls it, and unset in between, so other
/// tasks polled on the same thread never see it, and a task spawned inside the scope starts
/// without it. A scope inside another scope of the same key shadows the outer value until
/// the inner future's poll returns, also when that poll panics.
pub struct LocalKey<T: 'static> {
    /// This thread's slot: the value of the scope being polled on this thread, if any.
    slot: std::thread::LocalKey<RefCell<Option<T>>>,
    /// The name of the static, for error messages.
    name: &'static str,
}

impl<T: 'static> LocalKey<T> {
    /// What the expansion of `task_local!` calls; not public API.
    #[doc(hidden)]
    pub const fn __new(
        slot: std::thread::LocalKey<RefCell<Option<T>>>,
        name: &'static str,
    ) -> LocalKey<T> {
        LocalKey { slot, name }
    }

    /// The name of the static this key was declared as.
    ///
    /// ```
    /// magpie::task_local! { static TRACE_ID: u64; }
    /// assert_eq!(TRACE_ID.name(), "TRACE_ID");
    /// ```
    pub fn name(&'static self) -> &'static str {
        self.name
    }

    /// Sets this key to `value` for the duration of `future`: the returned future holds the
    /// value and installs it around each poll of `future`, on whichever thread polls it
    /// (`ContextVar.set` for the extent of one coroutine). Inside a scope of the same key,
    /// the inner value shadows the outer one until the inner future's poll returns.
    ///
    /// The value is dropped with the returned future (or taken back with
    /// [`TaskLocalFuture::take_value`]).
    ///
    /// ```
    /// magpie::task_local! { static DEPTH: u32; }
    ///
    /// magpie::run(async {
    ///     DEPTH
    ///         .scope(1, async {
    ///             assert_eq!(DEPTH.get(), 1);
    ///             DEPTH.scope(2, async { assert_eq!(DEPTH.get(), 2) }).await;
    ///             assert_eq!(DEPTH.get(), 1);
    ///         })
    ///         .await;
    /// });
    /// ```
    pub fn scope<F: IntoFuture>(
        &'static self,
        value: T,
        future: F,
    ) -> TaskLocalFuture<T, F::IntoFuture> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future.into_future()),
        }
    }

    /// Sets this key to `value` while `f` runs, on this thread, and returns what `f` returns.
    /// `value` is dropped before this returns, after the previous value (if any) is back.
    ///
    /// ```
    /// magpie::task_local! { static LIMIT: usize; }
    ///
    /// let doubled = LIMIT.sync_scope(10, || LIMIT.with(|limit| limit * 2));
    /// assert_eq!(doubled, 20);
    /// assert!(LIMIT.try_with(|_| ()).is_err());
    /// ```
    ///
    /// # Panics
    ///
    /// Inside [`with`](LocalKey::with) (or `try_with`) of the same key, whose borrow of the
    /// value is still alive; and while this thread's thread-local storage is being destroyed.
    /// A panic in `f` propagates, with the previous value restored first.
    #[track_caller]
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut value = Some(value);
        match self.enter(&mut value, f) {
            Ok(output) => output,
            Err(err) => err.panic(self.name),
        }
    }

    /// Calls `f` with a reference to the value of the current scope.
    ///
    /// ```
    /// magpie::task_local! { static TENANT: String; }
    ///
    /// magpie::run(TENANT.scope("acme".to_string(), async {
    ///     assert_eq!(TENANT.with(|tenant| tenant.len()), 4);
    /// }));
    /// ```
    ///
    /// # Panics
    ///
    /// Outside any scope of this key (see [`try_with`](LocalKey::try_with)), with a message
    /// naming the key.
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(output) => output,
            Err(err) => panic!("{err}"),
        }
    }

    /// Calls `f` with a reference to the value of the current scope, or returns an
    /// [`AccessError`] outside any scope of this key (`ContextVar.get()` with no default
    /// raising `LookupError`).
    ///
    /// ```
    /// magpie::task_local! { static TENANT: String; }
    ///
    /// let err = TENANT.try_with(|tenant| tenant.len()).unwrap_err();
    /// assert!(err.to_string().contains("TENANT"));
    /// ```
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        let read = self.slot.try_with(|slot| {
            // Only `enter` borrows the slot mutably, and only for a swap: no user code runs
            // meanwhile, so this borrow cannot collide with it.
            match slot.borrow().as_ref() {
                Some(value) => Ok(f(value)),
                None => Err(AccessError {
                    key: self.name,
                    reason: Reason::NotSet,
                }),
            }
        });
        read.unwrap_or(Err(AccessError {
            key: self.name,
            reason: Reason::ThreadExiting,
        }))
    }

    /// Puts `*value` in this thread's slot and what the slot held in `*value`, runs `f`, and
    /// swaps the two back, also when `f` panics.
    fn enter<R>(
        &'static self,
        value: &mut Option<T>,
        f: impl FnOnce() -> R,
    ) -> Result<R, EnterError> {
        /// Swaps the values back when dropped: after `f` returns, or while it unwinds.
        struct SwapBack<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for SwapBack<'_, T> {
            fn drop(&mut self) {
                // The slot was reachable when `enter` swapped the value in, and every borrow of
                // it taken by `with` inside `f` ended before `f` returned or unwound past it.
                let _ = self
                    .key
                    .slot
                    .try_with(|slot| mem::swap(self.value, &mut *slot.borrow_mut()));
            }
        }

        let swapped_in = self.slot.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => {
                mem::swap(value, &mut *slot);
                Ok(())
            }
            Err(_) => Err(EnterError::Borrowed),
        });
        swapped_in.map_err(|_| EnterError::ThreadExiting)??;
        let swap_back = SwapBack { key: self, value };
        let output = f();
        drop(swap_back);
        Ok(output)
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the value of the current scope.
    ///
    /// ```
    /// magpie::task_local! { static REQUEST_ID: u64; }
    ///
    /// magpie::run(REQUEST_ID.scope(42, async {
    ///     assert_eq!(REQUEST_ID.get(), 42);
    /// }));
    /// ```
    ///
    /// # Panics
    ///
    /// Outside any scope of this key, like [`with`](LocalKey::with).
    #[track_caller]
    pub fn get(&'static self) -> T {
        match self.try_with(T::clone) {
            Ok(value) => value,
            Err(err) => panic!("{err}"),
        }
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`LocalKey::scope`]: `future`, run with the key set to the
    /// scope's value around each of its polls.
    ///
    /// It is `Send` when `T` and `F` are, so it can be spawned on the multi-thread runtime.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        // The scope's value between polls; during a poll, what the thread's slot held before.
        value: Option<T>,
        // `None` once the inner future has completed (and been dropped).
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let key = *this.key;
            let mut future = this.future;
            if mem::needs_drop::<F>() && future.is_some() {
                // The inner future is dropped with the value installed, so that its `Drop`
                // impls can read it. Where the slot cannot be entered (inside a `with` of the
                // same key, or while the thread exits) the field's own drop drops it, unset.
                let _ = key.enter(this.value, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the scope's value out of the future, leaving the key unset for the polls still
    /// to come; `None` if it was taken before.
    ///
    /// ```
    /// use std::pin::pin;
    ///
    /// magpie::task_local! { static SESSION: String; }
    ///
    /// magpie::run(async {
    ///     let mut scoped = pin!(SESSION.scope("s-1".to_string(), async {
    ///         SESSION.with(|session| session.len())
    ///     }));
    ///     assert_eq!(scoped.as_mut().await, 3);
    ///     assert_eq!(scoped.as_mut().take_value().as_deref(), Some("s-1"));
    ///     assert_eq!(scoped.take_value(), None);
    /// });
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    /// Polls the inner future with the value installed; drops the inner future, still with
    /// the value installed, once it completes.
    ///
    /// # Panics
    ///
    /// When polled again after completing; when polled inside `with` of the same key; and
    /// when the inner future panics (the previous value is back in place first).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let key = *this.key;
        let mut future = this.future;
        let polled = key.enter(this.value, || {
            let poll = future.as_mut().as_pin_mut()?.poll(cx);
            if poll.is_ready() {
                future.set(None);
            }
            Some(poll)
        });
        match polled {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!(
                "the `TaskLocalFuture` of task-local `{}` was polled after it completed",
                key.name
            ),
            Err(err) => err.panic(key.name),
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("key", &self.key.name)
            .field("value", &self.value)
            .field("completed", &self.future.is_none())
            .finish_non_exhaustive()
    }
}

/// Why a task-local could not be read: returned by [`LocalKey::try_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError {
    key: &'static str,
    reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    /// No scope of the key is being polled on this thread.
    NotSet,
    /// This thread's thread-local storage is being destroyed.
    ThreadExiting,
}

impl AccessError {
    /// The name of the key that could not be read.
    pub fn key(&self) -> &'static str {
        self.key
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.key;
        match self.reason {
            Reason::NotSet => write!(
                f,
                "cannot access a task-local storage value without setting it first \
                 (`{key}` is not set in this task: use `{key}.scope(value, future)` \
                 or `{key}.sync_scope(value, f)`)"
            ),
            Reason::ThreadExiting => write!(
                f,
                "cannot access task-local `{key}`: this thread's thread-local storage \
                 is being destroyed"
            ),
        }
    }
}

impl Error for AccessError {}

/// Why a scope could not be entered.
enum EnterError {
    /// A `with` of the same key is borrowing the value.
    Borrowed,
    /// This thread's thread-local storage is being destroyed.
    ThreadExiting,
}

impl EnterError {
    #[track_caller]
    fn panic(self, key: &str) -> ! {
        match self {
            EnterError::Borrowed => panic!(
                "cannot enter a scope of task-local `{key}` inside `{key}.with`: \
                 the value is borrowed there"
            ),
            EnterError::ThreadExiting => panic!(
                "cannot enter a scope of task-local `{key}`: this thread's thread-local \
                 storage is being destroyed"
            ),
        }
    }
}

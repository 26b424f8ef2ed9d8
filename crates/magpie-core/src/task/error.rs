//! `JoinError`: why a task produced no output.

use super::raw::Header;
use super::{Id, TaskName};
use std::any::Any;
use std::fmt;

/// A task failed to produce its output: it was cancelled (aborted, or the runtime shut down
/// before it finished) or it panicked.
pub struct JoinError {
    id: Id,
    name: Option<TaskName>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(SyncPayload),
}

/// A panic payload that is `Sync` because it is only ever reached through `&mut self` or by
/// value: a shared reference to it gives no access to the payload.
struct SyncPayload(Box<dyn Any + Send + 'static>);

// SAFETY: `SyncPayload` exposes its contents only by value (`into_panic`) or through an
// exclusive reference; `&SyncPayload` offers no way to reach the `!Sync` payload, so sharing
// it between threads cannot race.
unsafe impl Sync for SyncPayload {}

impl JoinError {
    pub(crate) fn cancelled(task: &Header) -> JoinError {
        JoinError {
            id: task.id,
            name: task.site.task_name(),
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(task: &Header, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id: task.id,
            name: task.site.task_name(),
            repr: Repr::Panic(SyncPayload(payload)),
        }
    }

    #[cfg(all(test, not(loom)))]
    fn for_test(repr: Repr) -> JoinError {
        JoinError {
            id: Id::next(),
            name: None,
            repr,
        }
    }

    /// The task was aborted, or dropped at runtime shutdown, before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// When the task was cancelled rather than panicking; see [`JoinError::try_into_panic`].
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error, not a panic")
    }

    /// The panic payload, or the error back when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.0),
            Repr::Cancelled => Err(self),
        }
    }

    /// The name of the task that failed, if it was given one (`task::Builder::name`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => {
                p.0.downcast_ref::<&'static str>()
                    .copied()
                    .or_else(|| p.0.downcast_ref::<String>().map(String::as_str))
            }
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, " was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, " panicked with message {msg:?}"),
            (Repr::Panic(_), None) => write!(f, " panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({})", self.id),
            (Repr::Panic(_), Some(msg)) => write!(f, "JoinError::Panic({}, {msg:?})", self.id),
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({}, ..)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn join_error_is_send_sync_and_an_error() {
        assert_send_sync::<JoinError>();
        let _: Box<dyn std::error::Error + Send + Sync> =
            Box::new(JoinError::for_test(Repr::Cancelled));
    }

    #[test]
    fn display_names_the_task_and_the_panic_message() {
        let e = JoinError::for_test(Repr::Panic(SyncPayload(Box::new("boom"))));
        let id = e.id();
        assert!(e.is_panic() && !e.is_cancelled());
        assert_eq!(
            e.to_string(),
            format!("task {id} panicked with message \"boom\"")
        );
        let mut c = JoinError::for_test(Repr::Cancelled);
        c.name = Some("fetch".into());
        assert_eq!(
            c.to_string(),
            format!("task {} (fetch) was cancelled", c.id())
        );
        assert!(c.try_into_panic().is_err());
    }

    #[test]
    fn into_panic_returns_the_payload() {
        let e = JoinError::for_test(Repr::Panic(SyncPayload(Box::new(String::from("why")))));
        let p = e.into_panic();
        assert_eq!(p.downcast_ref::<String>().unwrap(), "why");
    }
}

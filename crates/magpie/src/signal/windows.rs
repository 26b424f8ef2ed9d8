//! `ctrl_c` on Windows: the console control handler (see the parent module's "How it works").
//!
//! One handler for the process, installed by the first poll. Each Ctrl-C bumps `generation`
//! and wakes every waker in `waiters`, under one lock; a future completes once `generation`
//! differs from the value it read at its first poll. Reading the generation and storing the
//! waker happen under the same lock as the handler's bump-and-wake, so a Ctrl-C is never
//! lost between them.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use windows_sys::core::BOOL;
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_C_EVENT};

#[derive(Default)]
struct Waiters {
    /// Ctrl-C events seen so far.
    generation: u64,
    /// The next waiter's id.
    next_id: u64,
    /// The pending futures' wakers, by id.
    wakers: HashMap<u64, Waker>,
}

/// The process's waiters, locked (std's mutex: usable from the OS's handler thread; a
/// poisoned lock is taken over, as nothing here can leave it inconsistent).
fn waiters() -> MutexGuard<'static, Waiters> {
    static WAITERS: OnceLock<Mutex<Waiters>> = OnceLock::new();
    WAITERS
        .get_or_init(|| Mutex::new(Waiters::default()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Installs the handler once for the process; the outcome of that one attempt is kept (a
/// refusal is reported to every caller).
fn install() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        // SAFETY: `handler` is an `extern "system" fn(u32) -> BOOL` that lives for the whole
        // program (a plain function), as `SetConsoleCtrlHandler` requires; it is never
        // removed.
        let ok = unsafe { SetConsoleCtrlHandler(Some(handler), 1) };
        if ok == 0 {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(())
        }
    });
    outcome.map_err(io::Error::from_raw_os_error)
}

/// The console control handler. Windows calls it on a thread it creates for the event, not
/// in an interrupted context, so it may lock and wake tasks. Returns TRUE (handled) for
/// Ctrl-C, FALSE for every other event (the next handler, by default the process exit).
unsafe extern "system" fn handler(ctrl_type: u32) -> BOOL {
    if ctrl_type != CTRL_C_EVENT {
        return 0;
    }
    let wakers: Vec<Waker> = {
        let mut waiters = waiters();
        waiters.generation = waiters.generation.wrapping_add(1);
        waiters.wakers.drain().map(|(_, waker)| waker).collect()
    };
    for waker in wakers {
        // A panic must not unwind into the OS's thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
    }
    1
}

/// One `ctrl_c` wait: `None` until its first poll, then its id and the generation it saw.
struct CtrlC {
    seen: Option<(u64, u64)>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.seen.is_none() {
            install()?;
        }
        let mut waiters = waiters();
        let (id, start) = match self.seen {
            Some(seen) => seen,
            None => {
                let id = waiters.next_id;
                waiters.next_id += 1;
                let seen = (id, waiters.generation);
                self.seen = Some(seen);
                seen
            }
        };
        if waiters.generation != start {
            waiters.wakers.remove(&id);
            return Poll::Ready(Ok(()));
        }
        match waiters.wakers.get_mut(&id) {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            Some(stored) => stored.clone_from(cx.waker()),
            None => {
                waiters.wakers.insert(id, cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

impl Drop for CtrlC {
    fn drop(&mut self) {
        if let Some((id, _)) = self.seen {
            waiters().wakers.remove(&id);
        }
    }
}

/// Completes at the next Ctrl-C after its first poll.
pub(super) fn ctrl_c() -> impl Future<Output = io::Result<()>> + Send {
    CtrlC { seen: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use windows_sys::Win32::System::Console::CTRL_BREAK_EVENT;

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// The handler is called here as the OS calls it (Wine cannot deliver a console event to
    /// a test whose output is a pipe).
    #[test]
    fn a_ctrl_c_event_completes_a_pending_wait_and_other_events_pass_through() {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut wait = Box::pin(ctrl_c());
        assert!(wait.as_mut().poll(&mut cx).is_pending());

        // SAFETY: the handler takes any event code; called on this thread as the OS would.
        let handled = unsafe { handler(CTRL_BREAK_EVENT) };
        assert_eq!(handled, 0, "not ours: passed on");
        assert!(!flag.0.load(Ordering::SeqCst));
        assert!(wait.as_mut().poll(&mut cx).is_pending());

        // SAFETY: as above.
        let handled = unsafe { handler(CTRL_C_EVENT) };
        assert_eq!(handled, 1, "Ctrl-C is handled");
        assert!(flag.0.load(Ordering::SeqCst), "the pending wait was woken");
        assert!(matches!(wait.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));

        // A wait first polled after the event waits for the next one, and leaves no waker
        // behind when dropped.
        let mut later = Box::pin(ctrl_c());
        assert!(later.as_mut().poll(&mut cx).is_pending());
        drop(later);
        assert!(waiters().wakers.is_empty());
    }
}

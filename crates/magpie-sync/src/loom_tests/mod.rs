//! loom models of every wait/notify path, one file per primitive. Run them with
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p magpie-sync --release --lib <filter>
//! ```
//!
//! Models wait with [`block_on`] below rather than `loom::future::block_on`, which needs loom's
//! `futures` feature and with it one more crate (pin-utils).

mod barrier;
mod broadcast;
mod cancellation_token;
mod mpsc;
mod notify;
mod oneshot;
mod semaphore;
mod watch;

use std::future::Future;
use std::task::{Context, Poll, Wake, Waker};

/// Drives `future` to completion on the current loom thread, parking on a loom `Notify` that
/// the waker notifies (what `loom::future::block_on` does): a wake-up that never comes is a
/// deadlock that loom reports.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct NotifyWaker(loom::sync::Notify);

    impl Wake for NotifyWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.notify();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.notify();
        }
    }

    // std's `Arc`, as `Waker::from` requires; its count is no part of any model.
    let notify = std::sync::Arc::new(NotifyWaker(loom::sync::Notify::new()));
    let waker = Waker::from(notify.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        notify.0.wait();
    }
}

//! `MaybeDone` and `TryMaybeDone`: one future of a `join!` / `try_join!`, holding its output
//! once it is ready, so that the macro can poll the unfinished ones and hand back every output
//! at the end.
//!
//! Each moves through three states: `Running` (the future, pinned in place) → `Done` (the
//! future dropped, its output kept) → `Taken` (the output handed to the macro). The future is
//! dropped as soon as it completes, not when the whole join does.

use pin_project_lite::pin_project;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project! {
    /// One future of a `join!`: polled until ready, then its output kept until taken.
    // pin-project-lite takes no doc comments on fields; the variants' docs name them.
    #[allow(missing_docs)]
    #[project = MaybeDoneProj]
    pub enum MaybeDone<F: Future> {
        /// Still running.
        Running { #[pin] future: F },
        /// Completed; `output` is `None` once taken.
        Done { output: Option<F::Output> },
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps anything that converts into a future.
    pub fn new(future: impl IntoFuture<IntoFuture = F>) -> MaybeDone<F> {
        MaybeDone::Running {
            future: future.into_future(),
        }
    }

    /// Polls the future if it is still running; `Ready` once it has completed (now or before).
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Running { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return Poll::Pending,
            },
            MaybeDoneProj::Done { .. } => return Poll::Ready(()),
        };
        // Drops the finished future in place.
        self.set(MaybeDone::Done {
            output: Some(output),
        });
        Poll::Ready(())
    }

    /// Takes the output.
    ///
    /// # Panics
    ///
    /// When the future has not completed, or its output was taken already (a bug in the
    /// macro expansion, never in user code).
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        match self.project() {
            MaybeDoneProj::Done { output } => {
                output.take().expect("magpie::join!: output taken twice")
            }
            MaybeDoneProj::Running { .. } => {
                unreachable!("magpie::join!: output taken before the future completed")
            }
        }
    }
}

pin_project! {
    /// One future of a `try_join!`: like [`MaybeDone`], but an `Err` output is handed back at
    /// once, so that the join can fail fast.
    #[allow(missing_docs)]
    #[project = TryMaybeDoneProj]
    pub enum TryMaybeDone<F, T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        /// Still running.
        Running { #[pin] future: F },
        /// Completed with `Ok`; `output` is `None` once taken.
        Done { output: Option<T> },
        /// Completed with `Err`, which was handed back.
        Failed,
    }
}

impl<F, T, E> TryMaybeDone<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    /// Wraps anything that converts into a future of a `Result`.
    pub fn new(future: impl IntoFuture<IntoFuture = F>) -> TryMaybeDone<F, T, E> {
        TryMaybeDone::Running {
            future: future.into_future(),
        }
    }

    /// Polls the future if it is still running: `Ready(Ok(()))` once it completed with `Ok`
    /// (now or before), `Ready(Err(e))` when it completes with `Err(e)` now.
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let result = match self.as_mut().project() {
            TryMaybeDoneProj::Running { future } => match future.poll(cx) {
                Poll::Ready(result) => result,
                Poll::Pending => return Poll::Pending,
            },
            TryMaybeDoneProj::Done { .. } => return Poll::Ready(Ok(())),
            TryMaybeDoneProj::Failed => {
                unreachable!("magpie::try_join!: polled again after it failed")
            }
        };
        match result {
            Ok(output) => {
                self.set(TryMaybeDone::Done {
                    output: Some(output),
                });
                Poll::Ready(Ok(()))
            }
            Err(error) => {
                self.set(TryMaybeDone::Failed);
                Poll::Ready(Err(error))
            }
        }
    }

    /// Takes the `Ok` output.
    ///
    /// # Panics
    ///
    /// When the future has not completed with `Ok`, or its output was taken already (a bug
    /// in the macro expansion, never in user code).
    pub fn take_output(self: Pin<&mut Self>) -> T {
        match self.project() {
            TryMaybeDoneProj::Done { output } => output
                .take()
                .expect("magpie::try_join!: output taken twice"),
            _ => unreachable!("magpie::try_join!: output taken before the future succeeded"),
        }
    }
}

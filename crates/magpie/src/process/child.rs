//! [`Child`]: a spawned process, its pipes, and the thread-free wait for its exit.

use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use super::{orphans, sigchld::SigchldWatch};
#[cfg(target_os = "linux")]
use crate::io::Async;
use crate::io::AsyncReadExt;
use futures_lite::future::try_zip;
use std::fmt;
use std::future::poll_fn;
use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::process::{Child as StdChild, ExitStatus, Output};
use std::task::{Context, Poll};

/// How the exit of one child is waited for (see "Waiting costs no thread" in the module
/// documentation).
pub(super) enum Waiter {
    /// Linux: the child's pidfd, readable once it exits.
    #[cfg(target_os = "linux")]
    Pidfd(Async<OwnedFd>),
    /// A listener of SIGCHLD, from the process's signal registry.
    Sigchld(SigchldWatch),
}

impl Waiter {
    /// A waiter for `child`, which has just been spawned and not been waited for. The pidfd
    /// needs the current runtime's reactor; without one (or without a pidfd) the waiter is a
    /// SIGCHLD listener, which needs none.
    pub(super) fn new(child: &StdChild) -> io::Result<Waiter> {
        #[cfg(target_os = "linux")]
        if !super::sigchld::forced() {
            if let Some(pidfd) = super::pidfd::open(child.id()) {
                return Ok(Waiter::Pidfd(pidfd));
            }
        }
        let _ = child;
        Ok(Waiter::Sigchld(SigchldWatch::new()?))
    }

    fn kind(&self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Waiter::Pidfd(_) => "pidfd",
            Waiter::Sigchld(_) => "sigchld",
        }
    }

    /// Waits until `child` has exited, and reaps it. Call `child.try_wait()` once after the
    /// waiter was created and before the first call to this (a SIGCHLD that came before the
    /// waiter existed is not seen); [`Child::poll_wait`] does so at every poll.
    ///
    /// Each wake-up also checks the orphan queue ([`orphans::reap`]).
    pub(super) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut StdChild,
    ) -> Poll<io::Result<ExitStatus>> {
        let mut check = || {
            orphans::reap();
            child
                .try_wait()?
                .ok_or_else(|| io::Error::from(io::ErrorKind::WouldBlock))
        };
        match self {
            #[cfg(target_os = "linux")]
            Waiter::Pidfd(pidfd) => {
                pidfd.poll_with(magpie_io::Direction::Read, cx, &mut |_: &OwnedFd| check())
            }
            Waiter::Sigchld(watch) => watch.poll_check(cx, &mut check),
        }
    }
}

/// A child process spawned by [`Command::spawn`](super::Command::spawn): tokio's
/// `process::Child`.
///
/// Its piped standard streams are in the public fields (take them out with
/// `child.stdout.take()`); a stream that was not piped is `None`.
///
/// Dropping a `Child` does not kill the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set), and does not leave it a zombie
/// either: see "No zombies" in the [module documentation](super).
pub struct Child {
    /// The child's stdin, if it was piped: writing to it feeds the child; dropping it closes
    /// the pipe, and the child reads end of file.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// Exactly one of `running` and `status` is `Some`: the process until it is reaped,
    /// then its exit status.
    running: Option<Running>,
    status: Option<ExitStatus>,
}

/// A process not yet reaped.
struct Running {
    child: StdChild,
    waiter: Waiter,
    kill_on_drop: bool,
}

impl Child {
    /// Wraps a just-spawned std child: its pipes to the reactor, a [`Waiter`] for its exit.
    /// On failure the process is killed (and reaped, now or through the orphan queue), so
    /// nothing is left running unseen.
    pub(super) fn new(mut child: StdChild, kill_on_drop: bool) -> io::Result<Child> {
        match Child::wrap(&mut child) {
            Ok((stdin, stdout, stderr, waiter)) => {
                // A SIGCHLD before the waiter existed is not seen by it: `poll_wait` checks
                // the child before every wait, so an exit before this point is found then.
                Ok(Child {
                    stdin,
                    stdout,
                    stderr,
                    running: Some(Running {
                        child,
                        waiter,
                        kill_on_drop,
                    }),
                    status: None,
                })
            }
            Err(e) => {
                let _ = child.kill();
                if matches!(child.try_wait(), Ok(None)) {
                    orphans::push(child);
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn wrap(
        child: &mut StdChild,
    ) -> io::Result<(
        Option<ChildStdin>,
        Option<ChildStdout>,
        Option<ChildStderr>,
        Waiter,
    )> {
        let stdin = child.stdin.take().map(ChildStdin::from_std).transpose()?;
        let stdout = child.stdout.take().map(ChildStdout::from_std).transpose()?;
        let stderr = child.stderr.take().map(ChildStderr::from_std).transpose()?;
        let waiter = Waiter::new(child)?;
        Ok((stdin, stdout, stderr, waiter))
    }

    /// The OS process id, until the child has been reaped (by [`wait`](Child::wait) or
    /// [`try_wait`](Child::try_wait) returning its status); `None` after, since the id may
    /// then belong to another process.
    pub fn id(&self) -> Option<u32> {
        self.running.as_ref().map(|r| r.child.id())
    }

    /// Waits for the child to exit and returns its exit status; every later call returns the
    /// same status at once.
    ///
    /// Closes the child's stdin first (drops [`Child::stdin`]), as tokio does, so a child
    /// reading its input to the end is not left waiting for more.
    ///
    /// **Cancel-safe:** dropping the future (a `timeout`, a `select!` branch that lost) loses
    /// nothing; call `wait` again later.
    ///
    /// # Errors
    ///
    /// When `waitpid` fails (`ECHILD`: something else reaped the child, e.g. a
    /// `waitpid(-1)` elsewhere in the process), or, on Linux's pidfd path, when the runtime
    /// the child was spawned on has shut down (its reactor held the pidfd; `try_wait` and
    /// `kill` still work). The SIGCHLD path needs no runtime and keeps waiting.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let running = self.running.as_mut().expect("not reaped: no status yet");
        // Checked before every wait: an exit before the waiter existed (a SIGCHLD it could
        // not see) is found here.
        let polled = match running.child.try_wait() {
            Ok(Some(status)) => Poll::Ready(Ok(status)),
            Ok(None) => running.waiter.poll_exit(cx, &mut running.child),
            Err(e) => Poll::Ready(Err(e)),
        };
        Poll::Ready(self.settle(std::task::ready!(polled)))
    }

    /// Reaps the child if it has exited, without waiting: `Ok(None)` while it runs. Does not
    /// close stdin.
    ///
    /// # Errors
    ///
    /// When `waitpid` fails (see [`wait`](Child::wait)).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let running = self.running.as_mut().expect("not reaped: no status yet");
        match running.child.try_wait() {
            Ok(None) => Ok(None),
            Ok(Some(status)) => self.settle(Ok(status)).map(Some),
            Err(e) => self.settle(Err(e)).map(Some),
        }
    }

    /// A wait's outcome: an exit status is recorded (the child is reaped); an error gets the
    /// child's pid in its message, keeping its kind.
    fn settle(&mut self, outcome: io::Result<ExitStatus>) -> io::Result<ExitStatus> {
        match outcome {
            Ok(status) => {
                self.reaped(status);
                Ok(status)
            }
            Err(e) => {
                let pid = self
                    .id()
                    .map_or_else(|| "?".to_owned(), |pid| pid.to_string());
                Err(io::Error::new(
                    e.kind(),
                    format!("failed to wait for child process {pid}: {e}"),
                ))
            }
        }
    }

    /// Records the exit status and drops the waiter (closing the pidfd, or ending the SIGCHLD
    /// subscription).
    fn reaped(&mut self, status: ExitStatus) {
        self.status = Some(status);
        self.running = None;
    }

    /// Sends SIGKILL to the child and returns without waiting for it to exit (then call
    /// [`wait`](Child::wait) to reap it, or drop the `Child`: it is reaped then too).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when the child has already been reaped (its id may belong to another
    /// process by now), or when `kill(2)` fails.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.running {
            Some(running) => running.child.kill(),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot kill the child process: it has already exited and been reaped",
            )),
        }
    }

    /// Sends SIGKILL to the child and waits for it to exit ([`start_kill`](Child::start_kill)
    /// then [`wait`](Child::wait)). Cancel-safe as `wait` is: the signal is sent at the
    /// first poll.
    ///
    /// # Errors
    ///
    /// As `start_kill` and `wait`.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Closes stdin, then reads all of stdout and stderr (those that were piped) while
    /// waiting for the child to exit: the three run concurrently, so a child that fills both
    /// pipes cannot deadlock against its parent.
    ///
    /// # Errors
    ///
    /// A failed read, or as [`wait`](Child::wait).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = read_all(self.stdout.take());
        let stderr = read_all(self.stderr.take());
        let (status, (stdout, stderr)) = try_zip(self.wait(), try_zip(stdout, stderr)).await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// How this child's exit is waited for: `"pidfd"` or `"sigchld"`, or `None` once reaped
    /// (for `Debug` and the tests).
    fn waiter_kind(&self) -> Option<&'static str> {
        self.running.as_ref().map(|r| r.waiter.kind())
    }
}

/// Everything `pipe` yields until end of file; empty for a stream that was not piped.
async fn read_all(pipe: Option<impl crate::io::AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut out).await?;
    }
    Ok(out)
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("waiter", &self.waiter_kind())
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

impl Drop for Child {
    /// Not yet reaped: SIGKILL first with `kill_on_drop`, then, unless it has exited by now
    /// (reaped here), the child is handed to the orphan reaper (see the module docs).
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            if running.kill_on_drop {
                let _ = running.child.kill();
            }
            if matches!(running.child.try_wait(), Ok(None)) {
                orphans::adopt(running.child, running.waiter);
            }
        }
    }
}

//! Subprocesses: tokio's `process` API (Python's `asyncio.create_subprocess_exec`).
//!
//! [`Command`] wraps [`std::process::Command`]; [`Command::spawn`] gives a [`Child`] whose
//! piped stdin/stdout/stderr ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]) are
//! non-blocking pipes driven by the runtime's reactor (futures-io's `AsyncWrite` /
//! `AsyncRead`, and tokio's with the feature `tokio-io`), and whose exit is awaited with
//! [`Child::wait`].
//!
//! ```
//! use magpie::io::{AsyncBufReadExt, BufReader};
//! use magpie::process::Command;
//! use std::process::Stdio;
//!
//! # magpie::Runtime::new().unwrap().block_on(async {
//! let mut child = Command::new("sh")
//!     .args(["-c", "echo one; echo two"])
//!     .stdout(Stdio::piped())
//!     .spawn()?;
//! let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
//! let mut seen = Vec::new();
//! while let Some(line) = magpie::stream::StreamExt::next(&mut lines).await {
//!     seen.push(line?);
//! }
//! assert_eq!(seen, ["one", "two"]);
//! assert!(child.wait().await?.success());
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! **Platforms:** Unix only for now. On Windows the module is absent (no pipes the reactor
//! can watch there: `polling` watches sockets only); it is planned, not there yet.
//!
//! # Waiting costs no thread
//!
//! No thread blocks in `waitpid`. A child is waited for in one of two ways, picked at spawn:
//!
//! - **Linux (kernel 5.3 and later): a pidfd.** `pidfd_open` gives a descriptor that becomes
//!   readable when the child exits; it is registered with the reactor, and when it is
//!   readable the child is reaped with `waitpid(pid, WNOHANG)`.
//! - **Elsewhere, or where `pidfd_open` fails (`ENOSYS` on older kernels, `EPERM` under a
//!   seccomp filter), and when the environment variable `MAGPIE_PROCESS_SIGCHLD` is set to
//!   anything but `0` (read once, at the first spawn): SIGCHLD.** Each child waited this way
//!   is a SIGCHLD listener of the process's one signal registry (the self-pipe and thread
//!   behind [`signal::unix`](crate::signal::unix): no descriptor per child). Every SIGCHLD
//!   thus wakes every such child, and each calls `waitpid(its own pid, WNOHANG)`.
//!
//! magpie never calls `waitpid(-1)`: a child spawned with `std::process::Command` keeps its
//! exit status for its own `wait`. (Installing the SIGCHLD action changes nothing for such
//! children: the action only writes to the registry's pipe; the previous disposition keeps
//! running.)
//!
//! # No zombies: when a dropped child is reaped
//!
//! A [`Child`] dropped before its exit was seen is not left a zombie. With
//! [`Command::kill_on_drop`]`(true)` it is sent SIGKILL first. Then, if it has not exited
//! yet:
//!
//! - **Dropped inside a runtime:** a small task is spawned on that runtime that waits for the
//!   child the same way [`Child::wait`] would (pidfd or SIGCHLD, no thread) and reaps it as
//!   soon as it exits.
//! - **Dropped outside a runtime, or that task cancelled because its runtime shut down:** the
//!   child joins a process-wide orphan queue. Every orphan in the queue is checked (one
//!   `waitpid(its pid, WNOHANG)` each) and reaped if it has exited at each
//!   [`Command::spawn`] and whenever any magpie child (or orphan task) is woken by its
//!   pidfd or by a SIGCHLD. An orphan that exits while no magpie child is spawned or waited
//!   for again stays a zombie until then, or until this process exits.
//!
//! # What to know
//!
//! - **SIGCHLD path:** the first child waited for through SIGCHLD installs the process's
//!   SIGCHLD action (`SA_RESTART`, so interrupted system calls resume), and it stays for the
//!   life of the process (the signal registry's, as for any `signal::unix` listener); with no
//!   magpie child waiting, a SIGCHLD costs the registry's thread one wake-up.
//! - **`SIGCHLD` set to `SIG_IGN`** (by the program, or inherited through `exec`) makes the
//!   kernel reap children itself, so their statuses are gone and `wait` fails with `ECHILD`
//!   (an error, not a hang). That applies to the pidfd path, which leaves the disposition
//!   alone; the SIGCHLD path replaces it with its action. Other code calling `waitpid(-1)`
//!   has the same effect on both paths.
//! - **Pipes:** dropping [`Child::stdin`] closes the child's input; `wait` drops it first.
//!   Reading [`Child::stdout`] to the end waits for every process holding the pipe's write
//!   end, grandchildren included.
//!
//! # Errors
//!
//! A program that cannot be started gives the OS's error kind with the program named:
//! `failed to spawn `nosuch`: No such file or directory (os error 2)`. Running out of
//! descriptors (`EMFILE`) is an error from `spawn`, never a panic. Spawning outside a magpie
//! runtime is an error that says so (the pipes and the pidfd wait need its reactor).

mod child;
mod command;
mod orphans;
#[cfg(target_os = "linux")]
mod pidfd;
mod pipes;
mod sigchld;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};

/// Compile-time checks: the process types move between tasks.
const _: () = {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    #[allow(dead_code)]
    fn checks() {
        send_sync::<Command>();
        send_sync::<Child>();
        send_sync::<ChildStdin>();
        send_sync::<ChildStdout>();
        send_sync::<ChildStderr>();
        fn wait(child: &mut Child) {
            send(&child.wait());
        }
        fn output(command: &mut Command) {
            send(&command.output());
        }
        let _ = (wait, output);
    }
};

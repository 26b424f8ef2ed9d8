//! [`Command`]: a `std::process::Command` whose spawn gives an async [`Child`].

use super::{orphans, Child};
use crate::driver;
use std::ffi::OsStr;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A process builder: tokio's `process::Command`, wrapping [`std::process::Command`] (same
/// methods, same defaults: the child inherits this process's stdin, stdout and stderr unless
/// told otherwise), spawning a [`Child`] that is waited for asynchronously.
///
/// ```
/// use magpie::process::Command;
///
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let out = Command::new("echo").arg("hello").output().await?;
/// assert!(out.status.success());
/// assert_eq!(out.stdout, b"hello\n");
/// let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
/// assert_eq!(status.code(), Some(3));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Whether `stdin` / `stdout` / `stderr` were set through this wrapper: `output` pipes
    /// (or nulls) only those that were not.
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` when it has no `/`), with no
    /// arguments, this process's environment and working directory, and inherited stdio.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Clears the child's environment (it gets only what `env`/`envs` add after this).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: `Stdio::piped()` gives [`Child::stdin`], `Stdio::null()` an empty
    /// input, `Stdio::inherit()` (the default for `spawn` and `status`) this process's.
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's stdout (`Stdio::piped()` gives [`Child::stdout`]).
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's stderr (`Stdio::piped()` gives [`Child::stderr`]).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping a [`Child`] spawned from this command before it was reaped sends it
    /// SIGKILL (default `false`: the child keeps running, and is reaped in the background
    /// when it exits; see the [module documentation](super)).
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Runs the child as user `id` (`setuid` in the child, before `exec`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Runs the child as group `id` (`setgid` in the child, before `exec`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// Puts the child in process group `pgroup` (`0`: a new group led by the child).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// The wrapped std command.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The wrapped std command, for what this wrapper lacks (`pre_exec`, `arg0`, ...). Stdio
    /// set through it is not seen by [`output`](Command::output)'s defaults, which then
    /// replace it: set stdio through this wrapper.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process. Its piped streams are in the [`Child`]'s fields.
    ///
    /// Before spawning, the queue of orphaned children is checked (see the module docs).
    ///
    /// # Errors
    ///
    /// - Outside a magpie runtime (`ErrorKind::Other`, saying so): the pipes and the wait need
    ///   the runtime's reactor.
    /// - When the program cannot be started, with the OS's error kind (`NotFound`,
    ///   `PermissionDenied`, ...) and a message naming it:
    ///   ``failed to spawn `nosuch`: No such file or directory (os error 2)``.
    /// - When descriptors run out (`EMFILE`) or the reactor refuses a registration: the
    ///   child, if already started, is killed, and reaped at once or through the orphan
    ///   queue.
    pub fn spawn(&mut self) -> io::Result<Child> {
        if driver::with_current(|d| d.is_none()) {
            return Err(io::Error::other(format!(
                "failed to spawn `{}`: magpie::process::Command::spawn must be called from \
                 inside a magpie runtime (Runtime::block_on, a spawned task, or \
                 #[magpie::main] / #[magpie::test])",
                self.program()
            )));
        }
        orphans::reap();
        let child = self
            .std
            .spawn()
            .map_err(|e| self.error("failed to spawn", e))?;
        Child::new(child, self.kill_on_drop)
            .map_err(|e| self.error("failed to set up the pipes or the wait of", e))
    }

    /// Spawns the process and waits for it to exit. Its piped streams, if any were piped, are
    /// closed at once (by default all three are inherited).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop(child.stdin.take());
        drop(child.stdout.take());
        drop(child.stderr.take());
        child.wait().await
    }

    /// Spawns the process, collects all of its stdout and stderr, and waits for it to exit.
    ///
    /// Unless set on this command, stdout and stderr are piped (and collected) and stdin is
    /// null (the child reads end of file). These defaults are set on the command itself (as
    /// tokio does): a later `spawn` of the same `Command` keeps them.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait_with_output`].
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        self.spawn()?.wait_with_output().await
    }

    fn program(&self) -> std::borrow::Cow<'_, str> {
        self.std.get_program().to_string_lossy()
    }

    /// `e` with `what` and the program named, keeping its kind.
    fn error(&self, what: &str, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{what} `{}`: {e}", self.program()))
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}

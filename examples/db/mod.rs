//! PostgreSQL on magpie, shared by `examples/database.rs` and `examples/tests/database.rs`
//! (each includes this file with `#[path]`): where the server is, a connection over
//! `magpie::net::TcpStream` with tokio-postgres, and a small connection pool.
//!
//! The server is the throwaway cluster of `scripts/postgres.sh` unless the environment names
//! one: `MAGPIE_PG_HOST` and `MAGPIE_PG_PORT` (with `MAGPIE_PG_USER`, `MAGPIE_PG_DBNAME`,
//! `MAGPIE_PG_PASSWORD` optional), as `.ci/run` exports them from the script's output.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use magpie::net::TcpStream;
use magpie::sync::{Semaphore, SemaphorePermit};
use magpie::JoinHandle;
use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

/// Any error, as the example and the tests report them.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// `scripts/postgres.sh`, found from this package's directory (`examples/`).
pub(crate) fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

/// Where a PostgreSQL server is and who to connect as.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) dbname: String,
    pub(crate) password: Option<String>,
    /// The script's directory for this cluster, when the script started it.
    pub(crate) state_dir: Option<PathBuf>,
    /// Where the settings came from, for messages.
    pub(crate) source: String,
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} (user {}, database {})",
            self.host, self.port, self.user, self.dbname
        )
    }
}

impl Settings {
    /// Builds settings from `KEY=VALUE` pairs named as the script prints them
    /// (`MAGPIE_PG_HOST`, `MAGPIE_PG_PORT`, ...).
    fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, String)>,
        source: &str,
    ) -> Result<Settings, String> {
        let (mut host, mut port, mut user, mut dbname, mut password, mut state_dir) =
            (None, None, None, None, None, None);
        for (key, value) in pairs {
            match key {
                "MAGPIE_PG_HOST" => host = Some(value),
                "MAGPIE_PG_PORT" => port = Some(value),
                "MAGPIE_PG_USER" => user = Some(value),
                "MAGPIE_PG_DBNAME" => dbname = Some(value),
                "MAGPIE_PG_PASSWORD" => password = Some(value),
                "MAGPIE_PG_STATE_DIR" => state_dir = Some(PathBuf::from(value)),
                _ => {}
            }
        }
        let host = host.ok_or_else(|| format!("{source}: no MAGPIE_PG_HOST"))?;
        let port = port.ok_or_else(|| format!("{source}: no MAGPIE_PG_PORT"))?;
        let port = port
            .trim()
            .parse()
            .map_err(|_| format!("{source}: MAGPIE_PG_PORT={port:?} is not a port number"))?;
        Ok(Settings {
            host,
            port,
            user: user.unwrap_or_else(|| "magpie".to_owned()),
            dbname: dbname.unwrap_or_else(|| "magpie".to_owned()),
            password,
            state_dir,
            source: source.to_owned(),
        })
    }

    /// Parses what `scripts/postgres.sh start` or `env` prints.
    pub(crate) fn parse(text: &str, source: &str) -> Result<Settings, String> {
        Settings::from_pairs(
            text.lines()
                .filter_map(|line| line.trim().split_once('='))
                .map(|(key, value)| (key, value.to_owned())),
            source,
        )
    }

    /// The server named by `MAGPIE_PG_HOST` and `MAGPIE_PG_PORT`, if both are set.
    pub(crate) fn from_env() -> Option<Result<Settings, String>> {
        const KEYS: [&str; 5] = [
            "MAGPIE_PG_HOST",
            "MAGPIE_PG_PORT",
            "MAGPIE_PG_USER",
            "MAGPIE_PG_DBNAME",
            "MAGPIE_PG_PASSWORD",
        ];
        if std::env::var_os("MAGPIE_PG_HOST").is_none()
            || std::env::var_os("MAGPIE_PG_PORT").is_none()
        {
            return None;
        }
        let pairs = KEYS
            .into_iter()
            .filter_map(|key| std::env::var(key).ok().map(|value| (key, value)));
        Some(Settings::from_pairs(pairs, "the environment (MAGPIE_PG_*)"))
    }

    /// The server to use by default: the environment's, else the script's local cluster
    /// (started, or reused when it already runs).
    pub(crate) fn local() -> Result<Settings, String> {
        match Settings::from_env() {
            Some(settings) => settings,
            None => start_cluster(None),
        }
    }

    /// tokio-postgres' connection settings (the address itself is magpie's business).
    pub(crate) fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("magpie");
        if let Some(password) = &self.password {
            config.password(password);
        }
        config
    }
}

/// Runs `scripts/postgres.sh COMMAND` with `MAGPIE_PG_STATE_DIR=state_dir` when given, and
/// returns what it printed on stdout; an error carries its stderr. Bounded by `limit`: the
/// script is killed past it. Output goes through files, not pipes, so that nothing the script
/// leaves running (the server) can keep a read from finishing.
pub(crate) fn run_script(
    command: &str,
    state_dir: Option<&Path>,
    limit: Duration,
) -> Result<String, String> {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let script = script_path();
    let tag = format!(
        "magpie-postgres-sh-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    );
    let out_path = std::env::temp_dir().join(format!("{tag}.out"));
    let err_path = std::env::temp_dir().join(format!("{tag}.err"));
    let describe = format!("{} {command}", script.display());
    let result = (|| {
        let out = File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
        let err = File::create(&err_path).map_err(|e| format!("{}: {e}", err_path.display()))?;
        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .arg(command)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(dir) = state_dir {
            cmd.env("MAGPIE_PG_STATE_DIR", dir);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {describe}: {e}"))?;
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{describe} did not finish in {limit:?}; killed it"));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("waiting for {describe}: {e}")),
            }
        };
        let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        if status.success() {
            Ok(stdout)
        } else {
            Err(format!(
                "{describe} failed ({status}):\n{}",
                stderr.trim_end()
            ))
        }
    })();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    result
}

/// Starts the script's cluster in `state_dir` (the script's default directory when `None`),
/// or reuses it when it already runs, and returns its settings.
pub(crate) fn start_cluster(state_dir: Option<&Path>) -> Result<Settings, String> {
    // Installing PostgreSQL from Debian's packages may take minutes; starting takes seconds.
    let out = run_script("start", state_dir, Duration::from_secs(1200))?;
    let mut settings = Settings::parse(&out, "scripts/postgres.sh start")?;
    if settings.state_dir.is_none() {
        settings.state_dir = state_dir.map(Path::to_path_buf);
    }
    Ok(settings)
}

/// A connected client and the task that drives its connection.
pub(crate) struct Connected {
    /// tokio-postgres' handle: queries go through it.
    pub(crate) client: Client,
    /// The connection (tokio-postgres' `Connection`, a future that does the socket's reads
    /// and writes), spawned on magpie; it finishes when the client is dropped (`Ok`) or the
    /// server goes away (`Err`).
    pub(crate) connection: JoinHandle<Result<(), tokio_postgres::Error>>,
}

/// Connects to `settings`' server: a `magpie::net::TcpStream` handed to tokio-postgres'
/// `Config::connect_raw` (tokio's I/O traits, from magpie's "tokio-io" feature), without TLS,
/// and its connection spawned as a magpie task.
pub(crate) async fn connect(settings: &Settings) -> Result<Connected, BoxError> {
    let stream = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(|e| format!("cannot connect to PostgreSQL at {settings}: {e}"))?;
    // Queries are small request/response exchanges: don't let Nagle hold them back.
    stream.set_nodelay(true)?;
    let (client, connection) = settings.config().connect_raw(stream, NoTls).await?;
    let connection = magpie::spawn(connection);
    Ok(Connected { client, connection })
}

/// Asks the server to cancel what `client` is running, over a new magpie connection
/// (PostgreSQL's cancel request goes on a connection of its own).
pub(crate) async fn cancel(client: &Client, settings: &Settings) -> Result<(), BoxError> {
    let stream = TcpStream::connect((settings.host.as_str(), settings.port)).await?;
    client
        .cancel_token()
        .cancel_query_raw(stream, NoTls)
        .await?;
    Ok(())
}

/// A fixed set of connections (or anything else) shared by many tasks: a task takes one with
/// [`get`](Pool::get), waiting while all are in use, and gives it back by dropping the guard.
/// asyncpg's `pool.acquire()`.
///
/// Built from a `magpie::sync::Semaphore` (one permit per free item: waiting for an item is
/// waiting for a permit, in arrival order) and a `Mutex<Vec<T>>` of the free items, locked
/// only for a push or a pop, never across an `.await` (a std mutex: giving back happens in
/// `Drop`, which cannot wait).
pub(crate) struct Pool<T> {
    free: Mutex<Vec<T>>,
    permits: Semaphore,
    size: usize,
}

impl<T> Pool<T> {
    /// A pool of `items`.
    pub(crate) fn new(items: Vec<T>) -> Pool<T> {
        let size = items.len();
        Pool {
            free: Mutex::new(items),
            permits: Semaphore::new(size),
            size,
        }
    }

    /// How many items the pool has, in use or not.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Waits for a free item and takes it until the guard is dropped.
    pub(crate) async fn get(&self) -> Pooled<'_, T> {
        let permit = self
            .permits
            .acquire()
            .await
            .expect("the pool's semaphore is never closed");
        // A permit is held for every item taken, and a guard puts its item back before its
        // permit goes back: with a permit in hand, an item is there.
        let item = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .expect("a permit without a free item");
        Pooled {
            pool: self,
            item: Some(item),
            _permit: permit,
        }
    }

    /// Takes the items back out (those not in use).
    pub(crate) fn into_inner(self) -> Vec<T> {
        self.free.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// An item taken from a [`Pool`]; dropping it gives the item back.
pub(crate) struct Pooled<'a, T> {
    pool: &'a Pool<T>,
    item: Option<T>,
    // Dropped after `drop` below has put the item back (fields drop after `Drop::drop`).
    _permit: SemaphorePermit<'a>,
}

impl<T> Deref for Pooled<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("taken until dropped")
    }
}

impl<T> DerefMut for Pooled<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("taken until dropped")
    }
}

impl<T> Drop for Pooled<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(item);
        }
    }
}

//! Where a PostgreSQL server is, for magpie's database examples and tests: the throwaway
//! cluster of `scripts/postgres.sh` (started, or reused when it runs) unless the environment
//! names one, `MAGPIE_PG_HOST` and `MAGPIE_PG_PORT` (with `MAGPIE_PG_USER`,
//! `MAGPIE_PG_DBNAME`, `MAGPIE_PG_PASSWORD` optional), as `.ci/run` exports them from the
//! script's output.
//!
//! Included with `#[path]` by the tokio-postgres example and test (through `db/mod.rs`) and
//! by the sqlx ones (`examples/sqlx.rs`, `examples/ecosystem/tests/sqlx.rs`), so it uses
//! nothing but std: each client library turns [`Settings`] into its own configuration.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Any error, as the example and the tests report them.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// `scripts/postgres.sh`, found above the including package's directory (`examples/` or
/// `examples/ecosystem/`).
pub(crate) fn script_path() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .ancestors()
        .map(|dir| dir.join("scripts/postgres.sh"))
        .find(|script| script.is_file())
        .unwrap_or_else(|| package.join("../scripts/postgres.sh"))
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

    /// The settings as a `postgres://user[:password]@host:port/dbname` URL, the form that
    /// clients taking a connection string (sqlx, psql) accept; the user and the password are
    /// percent-encoded.
    pub(crate) fn url(&self) -> String {
        let credentials = match &self.password {
            Some(password) => format!("{}:{}", url_encode(&self.user), url_encode(password)),
            None => url_encode(&self.user),
        };
        format!(
            "postgres://{credentials}@{}:{}/{}",
            self.host,
            self.port,
            url_encode(&self.dbname)
        )
    }

    /// The server to use by default: the environment's, else the script's local cluster
    /// (started, or reused when it already runs).
    pub(crate) fn local() -> Result<Settings, String> {
        match Settings::from_env() {
            Some(settings) => settings,
            None => start_cluster(None),
        }
    }
}

/// `text` with every byte but the URL-safe ones (letters, digits, `-._~`) percent-encoded.
fn url_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
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

/// `true` (after saying so) when `MAGPIE_SKIP_POSTGRES=1` asks to skip these tests.
pub(crate) fn skipped(test: &str) -> bool {
    if std::env::var("MAGPIE_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("{test}: skipped: MAGPIE_SKIP_POSTGRES=1");
        return true;
    }
    false
}

/// Panics with what went wrong and how to get a server (or skip).
pub(crate) fn no_server(test: &str, message: &str) -> ! {
    panic!(
        "{test}: no PostgreSQL server.\n{message}\n\
         The test starts one with scripts/postgres.sh (which installs PostgreSQL from Debian's \
         packages when absent); or name a server with MAGPIE_PG_HOST and MAGPIE_PG_PORT; or \
         set MAGPIE_SKIP_POSTGRES=1 to skip the database tests."
    )
}

/// The shared server, found or started once for the whole test binary.
pub(crate) fn shared_server(test: &str) -> Settings {
    static SERVER: OnceLock<Result<Settings, String>> = OnceLock::new();
    match SERVER.get_or_init(Settings::local) {
        Ok(settings) => settings.clone(),
        Err(message) => no_server(test, message),
    }
}

/// A name no other test, run or process uses at the same time.
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

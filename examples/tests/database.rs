//! tokio-postgres on magpie against a real PostgreSQL server: concurrent inserts and selects
//! over several connections, a query cut short by `magpie::time::timeout` (and cancelled on
//! the server), and the server stopped in the middle of a query.
//!
//! The server: the one `MAGPIE_PG_HOST`/`MAGPIE_PG_PORT` name (`.ci/run` exports them), else
//! the local cluster of `scripts/postgres.sh start`, which these tests run themselves (it
//! installs PostgreSQL from Debian's packages when absent). The server-stopped test always
//! starts a cluster of its own, in a directory of its own, and deletes it at the end. When no
//! server can be had the tests fail, saying why; `MAGPIE_SKIP_POSTGRES=1` skips them instead.
//!
//! Every test runs under a watchdog: a hang fails it after 30 s instead of stalling the suite.

#[path = "../db/mod.rs"]
mod db;

use db::{no_server, shared_server, skipped, unique, BoxError, Connected, Pool};
use magpie::time::{sleep, timeout};
use magpie::JoinHandle;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

/// How long any test may take before it is failed as hung.
const WATCHDOG: Duration = Duration::from_secs(30);
/// Longer than any watchdog: a sleep that ends early was cancelled, not finished.
const LONG_SLEEP_SQL: &str = "SELECT pg_sleep(600)";

/// Runs `future` on a 2-worker runtime under the watchdog.
fn run<F: Future>(test: &str, future: F) -> F::Output {
    let runtime = magpie::Runtime::builder()
        .worker_threads(2)
        .build()
        .expect("failed to start the runtime");
    runtime.block_on(async {
        match timeout(WATCHDOG, future).await {
            Ok(output) => output,
            Err(_) => panic!("{test}: watchdog: not done in {WATCHDOG:?} (hung?)"),
        }
    })
}

/// The first column of the first row of a simple query's answer.
fn first_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
        _ => None,
    })
}

/// The server process serving `client`.
async fn backend_pid(client: &Client) -> Result<i32, BoxError> {
    Ok(client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0))
}

/// What the backend `pid` runs now, seen from `observer`: `Some((state, query))`.
async fn activity(observer: &Client, pid: i32) -> Result<Option<(String, String)>, BoxError> {
    let row = observer
        .query_opt(
            "SELECT coalesce(state, ''), coalesce(query, '') FROM pg_stat_activity WHERE pid = $1",
            &[&pid],
        )
        .await?;
    Ok(row.map(|row| (row.get(0), row.get(1))))
}

/// Waits (within `limit`) until the backend `pid` is running `LONG_SLEEP_SQL`.
async fn wait_until_sleeping(observer: &Client, pid: i32, limit: Duration) -> Result<(), BoxError> {
    let deadline = Instant::now() + limit;
    loop {
        let now = activity(observer, pid).await?;
        if matches!(&now, Some((state, query)) if state == "active" && query == LONG_SLEEP_SQL) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("backend {pid} never ran {LONG_SLEEP_SQL:?}: {now:?}").into());
        }
        sleep(Duration::from_millis(20)).await;
    }
}

/// How many times a query is tried again after a late cancel ended it.
const LATE_CANCEL_RETRIES: usize = 5;

/// `true` for the error a cancel request causes.
fn is_cancel(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::QUERY_CANCELED)
}

/// Runs `sql` on a connection that has been sent a cancel request, again if the cancel hits
/// it. A cancel request can land late: PostgreSQL signals the cancelled backend twice (its
/// process, then its process group), and when the backend handles the first signal before
/// the second comes, the second cancels whatever the backend runs next.
async fn query_after_cancel(client: &Client, sql: &str) -> Vec<SimpleQueryMessage> {
    for _ in 0..LATE_CANCEL_RETRIES {
        match client.simple_query(sql).await {
            Err(e) if is_cancel(&e) => continue,
            other => return other.unwrap_or_else(|e| panic!("{sql:?} failed: {e}")),
        }
    }
    panic!("{sql:?} was cancelled {LATE_CANCEL_RETRIES} times in a row");
}

/// Starts `LONG_SLEEP_SQL` on `client` (backend `pid`) in a task of its own and returns once
/// the server runs it; started again if a late cancel (see [`query_after_cancel`]) ends it
/// before that.
async fn start_sleeping(
    client: &Arc<Client>,
    observer: &Client,
    pid: i32,
) -> JoinHandle<Result<Vec<SimpleQueryMessage>, tokio_postgres::Error>> {
    for _ in 0..LATE_CANCEL_RETRIES {
        let sleeping = {
            let client = Arc::clone(client);
            magpie::spawn(async move { client.simple_query(LONG_SLEEP_SQL).await })
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if sleeping.is_finished() {
                match sleeping.await.unwrap() {
                    Err(e) if is_cancel(&e) => break,
                    other => panic!("{LONG_SLEEP_SQL} ended: {other:?}"),
                }
            }
            let now = activity(observer, pid).await.unwrap();
            if matches!(&now, Some((state, query)) if state == "active" && query == LONG_SLEEP_SQL)
            {
                return sleeping;
            }
            assert!(
                Instant::now() < deadline,
                "backend {pid} never ran {LONG_SLEEP_SQL:?} (it shows {now:?}), and the \
                 query still waits for an answer"
            );
            sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("{LONG_SLEEP_SQL:?} was cancelled {LATE_CANCEL_RETRIES} times before it ran");
}

fn payload(task: i32, seq: i32) -> String {
    format!("task {task} row {seq} ✓")
}

/// 4 connections in a pool, 32 tasks inserting 25 rows each (a connection per row) while 4
/// reader tasks count rows; then every task reads its own rows back, and the whole table is
/// checked: every (task, seq) exactly once, with its payload. And one connection shared by
/// many tasks at once (tokio-postgres pipelines their queries): each gets its own answer.
#[test]
fn concurrent_inserts_and_selects() {
    const TEST: &str = "concurrent_inserts_and_selects";
    const CONNECTIONS: usize = 4;
    const TASKS: i32 = 32;
    const ROWS: i32 = 25;
    const READERS: usize = 4;
    if skipped(TEST) {
        return;
    }
    let settings = shared_server(TEST);
    let table = unique("magpie_test_rows");
    run(TEST, async {
        let mut clients = Vec::new();
        let mut connections = Vec::new();
        for _ in 0..CONNECTIONS {
            let Connected { client, connection } = db::connect(&settings)
                .await
                .unwrap_or_else(|e| no_server(TEST, &e.to_string()));
            clients.push(client);
            connections.push(connection);
        }
        // Several connections: several server processes.
        let mut pids = Vec::new();
        for client in &clients {
            pids.push(backend_pid(client).await.unwrap());
        }
        pids.sort_unstable();
        pids.dedup();
        assert_eq!(pids.len(), CONNECTIONS, "backends: {pids:?}");

        clients[0]
            .batch_execute(&format!(
                "CREATE TABLE {table} (task int NOT NULL, seq int NOT NULL, payload text NOT NULL,
                                       PRIMARY KEY (task, seq))"
            ))
            .await
            .unwrap();
        let pool = Arc::new(Pool::new(clients));
        let total = (TASKS * ROWS) as i64;

        // Readers: the count only grows, and never past what is inserted.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (pool, table, done) = (Arc::clone(&pool), table.clone(), Arc::clone(&done));
                magpie::spawn(async move {
                    let sql = format!("SELECT count(*) FROM {table}");
                    let (mut last, mut reads) = (0i64, 0usize);
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        let client = pool.get().await;
                        let count: i64 = client.query_one(&sql, &[]).await.unwrap().get(0);
                        drop(client);
                        assert!(count >= last, "the count went from {last} down to {count}");
                        assert!(
                            count <= total,
                            "{count} rows, more than the {total} inserted"
                        );
                        last = count;
                        reads += 1;
                        if finished {
                            // Read after every insert finished: all of them are there.
                            assert_eq!(count, total);
                            return reads;
                        }
                        magpie::task::yield_now().await;
                    }
                })
            })
            .collect();

        let writers: Vec<_> = (0..TASKS)
            .map(|task| {
                let (pool, table) = (Arc::clone(&pool), table.clone());
                magpie::spawn(async move {
                    let insert = format!(
                        "INSERT INTO {table} (task, seq, payload) VALUES ($1, $2, $3) \
                         RETURNING task, seq"
                    );
                    for seq in 0..ROWS {
                        let client = pool.get().await;
                        let row = client
                            .query_one(&insert, &[&task, &seq, &payload(task, seq)])
                            .await
                            .unwrap();
                        assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (task, seq));
                    }
                    // This task's rows, read back on whichever connection is free.
                    let client = pool.get().await;
                    let rows = client
                        .query(
                            &format!(
                                "SELECT seq, payload FROM {table} WHERE task = $1 ORDER BY seq"
                            ),
                            &[&task],
                        )
                        .await
                        .unwrap();
                    let got: Vec<(i32, String)> =
                        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                    let want: Vec<(i32, String)> =
                        (0..ROWS).map(|seq| (seq, payload(task, seq))).collect();
                    assert_eq!(got, want, "task {task}'s rows");
                })
            })
            .collect();
        for joined in magpie::join_all(writers).await {
            joined.expect("a writer task failed");
        }
        done.store(true, Ordering::Release);
        for joined in magpie::join_all(readers).await {
            assert!(joined.expect("a reader task failed") >= 1);
        }

        // The whole table.
        let client = pool.get().await;
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*), count(DISTINCT (task, seq)), count(DISTINCT task), \
                     min(seq), max(seq) FROM {table}"
                ),
                &[],
            )
            .await
            .unwrap();
        let summary: (i64, i64, i64, i32, i32) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        assert_eq!(summary, (total, total, TASKS as i64, 0, ROWS - 1));
        let rows = client
            .query(
                &format!("SELECT task, seq, payload FROM {table} ORDER BY task, seq"),
                &[],
            )
            .await
            .unwrap();
        let got: Vec<(i32, i32, String)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let want: Vec<(i32, i32, String)> = (0..TASKS)
            .flat_map(|task| (0..ROWS).map(move |seq| (task, seq, payload(task, seq))))
            .collect();
        assert_eq!(got, want);
        drop(client);

        // One connection, many tasks at once: requests pipelined on one socket, answers
        // matched back to the right task.
        let clients = Arc::into_inner(pool)
            .expect("every task is done with the pool")
            .into_inner();
        assert_eq!(
            clients.len(),
            CONNECTIONS,
            "every connection came back to the pool"
        );
        let clients = Arc::new(clients);
        let first_pid = backend_pid(&clients[0]).await.unwrap();
        let asking: Vec<_> = (0..64i32)
            .map(|i| {
                let clients = Arc::clone(&clients);
                magpie::spawn(async move {
                    let row = clients[0]
                        .query_one("SELECT $1::int * 2, pg_backend_pid()", &[&i])
                        .await
                        .unwrap();
                    (i, row.get::<_, i32>(0), row.get::<_, i32>(1))
                })
            })
            .collect();
        for joined in magpie::join_all(asking).await {
            let (i, doubled, pid) = joined.unwrap();
            assert_eq!(doubled, i * 2);
            assert_eq!(pid, first_pid, "all on the one connection");
        }

        clients[0]
            .batch_execute(&format!("DROP TABLE {table}"))
            .await
            .unwrap();
        drop(clients);
        // The clients are gone: every connection ends cleanly.
        for connection in connections {
            connection.await.unwrap().unwrap();
        }
    });
}

/// `timeout` gives up on a long query after 200 ms; the other connection works meanwhile;
/// a cancel request (over a new magpie connection) stops the query on the server, and the
/// first connection answers again. Then a query awaited to the end while a cancel arrives
/// fails with `query_canceled`.
#[test]
fn query_cancelled_by_timeout() {
    const TEST: &str = "query_cancelled_by_timeout";
    if skipped(TEST) {
        return;
    }
    let settings = shared_server(TEST);
    run(TEST, async {
        let Connected { client, connection } = db::connect(&settings)
            .await
            .unwrap_or_else(|e| no_server(TEST, &e.to_string()));
        let Connected {
            client: observer,
            connection: observer_connection,
        } = db::connect(&settings).await.unwrap();
        let pid = backend_pid(&client).await.unwrap();

        let started = Instant::now();
        let gave_up = timeout(
            Duration::from_millis(200),
            client.simple_query(LONG_SLEEP_SQL),
        )
        .await;
        assert!(gave_up.is_err(), "pg_sleep(600) finished: {gave_up:?}");
        // Long before the sleep would end (what "quickly" can mean on a loaded machine).
        assert!(started.elapsed() < Duration::from_secs(20));

        // The server still runs it; the other connection is not held up.
        wait_until_sleeping(&observer, pid, Duration::from_secs(20))
            .await
            .unwrap();
        let one = observer.simple_query("SELECT 1").await.unwrap();
        assert_eq!(first_value(&one).as_deref(), Some("1"));

        // Cancel it on the server: the connection is free again, long before 600 s.
        db::cancel(&client, &settings).await.unwrap();
        let two = query_after_cancel(&client, "SELECT 2").await;
        assert_eq!(first_value(&two).as_deref(), Some("2"));
        let now = activity(&observer, pid).await.unwrap();
        assert!(
            matches!(&now, Some((state, _)) if state == "idle"),
            "backend {pid} after the cancel: {now:?}"
        );

        // A query awaited to the end while the cancel comes: an error saying so.
        let client = Arc::new(client);
        let sleeping = start_sleeping(&client, &observer, pid).await;
        db::cancel(&client, &settings).await.unwrap();
        let error = sleeping
            .await
            .unwrap()
            .expect_err("a cancelled query must fail");
        assert!(is_cancel(&error), "{error}");
        let three = query_after_cancel(&client, "SELECT 3").await;
        assert_eq!(first_value(&three).as_deref(), Some("3"));

        drop((client, observer));
        connection.await.unwrap().unwrap();
        observer_connection.await.unwrap().unwrap();
    });
}

/// A cluster of the test's own, deleted (server stopped first) when dropped.
struct OwnCluster {
    dir: PathBuf,
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Err(e) = db::run_script("stop", Some(&self.dir), Duration::from_secs(120)) {
            eprintln!("could not delete the test's cluster: {e}");
        }
    }
}

/// The server stops at once (`pg_ctl stop -m immediate`) while a query runs: the query
/// fails with an error (no hang), the connection ends, the client reports itself closed, and
/// new connections are refused; once the server is started again, a new connection works.
#[test]
fn server_stopped_mid_query() {
    const TEST: &str = "server_stopped_mid_query";
    if skipped(TEST) {
        return;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let cluster = OwnCluster {
        dir: std::env::temp_dir().join(format!("{}_{nanos}", unique("magpie-pg-test"))),
    };
    let settings = match db::start_cluster(Some(&cluster.dir)) {
        Ok(settings) => settings,
        Err(message) => no_server(TEST, &message),
    };
    let dir = cluster.dir.clone();
    let settings_again = run(TEST, async {
        let Connected { client, connection } = db::connect(&settings).await.unwrap();
        let Connected {
            client: observer,
            connection: observer_connection,
        } = db::connect(&settings).await.unwrap();
        let pid = backend_pid(&client).await.unwrap();
        let client = Arc::new(client);
        let querying = {
            let client = Arc::clone(&client);
            magpie::spawn(async move { client.simple_query(LONG_SLEEP_SQL).await })
        };
        wait_until_sleeping(&observer, pid, Duration::from_secs(20))
            .await
            .unwrap();

        let kill_dir = dir.clone();
        magpie::task::spawn_blocking(move || {
            db::run_script("kill", Some(&kill_dir), Duration::from_secs(60))
        })
        .await
        .unwrap()
        .unwrap();

        // The query ends with an error, not a hang (the watchdog would say so).
        let error = querying
            .await
            .unwrap()
            .expect_err("a query whose server stopped must fail");
        let message = error.to_string();
        eprintln!("{TEST}: the query failed with: {message}");
        assert!(
            error.is_closed()
                || matches!(
                    error.code(),
                    Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN
                )
                || std::error::Error::source(&error).is_some(),
            "an error that says the server went away, not {error:?}"
        );
        // Both connections end (with the server's goodbye or an I/O error: either way done).
        let _ = connection.await.unwrap();
        let _ = observer_connection.await.unwrap();
        assert!(client.is_closed());
        assert!(observer.is_closed());
        let after = client.simple_query("SELECT 1").await.expect_err("closed");
        assert!(after.is_closed(), "{after:?}");

        // Nobody listens any more.
        let refused = db::connect(&settings).await;
        assert!(refused.is_err(), "connected to a stopped server");

        // Started again, the cluster takes connections again.
        let start_dir = dir.clone();
        magpie::task::spawn_blocking(move || db::start_cluster(Some(&start_dir)))
            .await
            .unwrap()
            .unwrap_or_else(|message| no_server(TEST, &message))
    });
    run(TEST, async {
        let Connected { client, connection } = db::connect(&settings_again).await.unwrap();
        let one = client.simple_query("SELECT 1").await.unwrap();
        assert_eq!(first_value(&one).as_deref(), Some("1"));
        drop(client);
        connection.await.unwrap().unwrap();
    });
    drop(cluster);
    assert!(!dir.exists(), "the test's cluster is deleted");
}

//! sqlx on magpie under `tokio_compat(true)` against a real PostgreSQL server
//! (`examples/sqlx.rs`): a pool shared by concurrent magpie tasks, transactions rolled back
//! (explicitly and by dropping them) and committed, a query cut short by magpie's timeout
//! leaving the pool usable, an SQL error that names the problem, and the panic a new user
//! meets without the setting.
//!
//! The server: the one `MAGPIE_PG_HOST`/`MAGPIE_PG_PORT` name (`.ci/run` exports them), else
//! the local cluster of `scripts/postgres.sh start`, which these tests run themselves. When no
//! server can be had the tests fail, saying why; `MAGPIE_SKIP_POSTGRES=1` skips them instead.
//! Every test runs under a 30 s watchdog.

#[path = "../../db/server.rs"]
mod pg;

use pg::{shared_server, skipped, unique};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long any test may take before it is failed as hung.
const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `future` on a 2-worker runtime with `tokio_compat(true)` under the watchdog.
fn run<F: Future>(test: &str, future: F) -> F::Output {
    let runtime = magpie::Runtime::builder()
        .worker_threads(2)
        .tokio_compat(true)
        .build()
        .expect("failed to start the runtime");
    runtime.block_on(async {
        match magpie::time::timeout(WATCHDOG, future).await {
            Ok(output) => output,
            Err(_) => panic!("{test}: watchdog: not done in {WATCHDOG:?} (hung?)"),
        }
    })
}

/// A pool of at most `max` connections to the shared server.
async fn pool(test: &str, max: u32) -> PgPool {
    let settings = shared_server(test);
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&settings.url())
        .await
        .unwrap_or_else(|e| pg::no_server(test, &format!("sqlx cannot connect to {settings}: {e}")))
}

/// The number of rows of `table`, through `executor`.
async fn count<'e, E: sqlx::PgExecutor<'e>>(executor: E, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(executor)
        .await
        .unwrap()
}

#[test]
fn a_pool_serves_concurrent_magpie_tasks() {
    const TEST: &str = "a_pool_serves_concurrent_magpie_tasks";
    if skipped(TEST) {
        return;
    }
    run(TEST, async {
        let pool = pool(TEST, 4).await;
        let table = unique("magpie_sqlx_rows");
        sqlx::query(&format!("CREATE TABLE {table} (id int8 PRIMARY KEY)"))
            .execute(&pool)
            .await
            .unwrap();
        // 40 tasks at once on 4 connections: each inserts a row and computes on the server.
        let tasks: Vec<_> = (0..40_i64)
            .map(|id| {
                let (pool, table) = (pool.clone(), table.clone());
                magpie::spawn(async move {
                    sqlx::query(&format!("INSERT INTO {table} VALUES ($1)"))
                        .bind(id)
                        .execute(&pool)
                        .await
                        .unwrap();
                    let doubled: i64 = sqlx::query_scalar("SELECT $1::int8 * 2")
                        .bind(id)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    doubled
                })
            })
            .collect();
        for (id, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), 2 * id as i64);
        }
        assert_eq!(count(&pool, &table).await, 40);
        assert!(
            pool.size() <= 4,
            "the pool opened {} connections",
            pool.size()
        );
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn transactions_roll_back_and_commit() {
    const TEST: &str = "transactions_roll_back_and_commit";
    if skipped(TEST) {
        return;
    }
    run(TEST, async {
        let pool = pool(TEST, 2).await;
        let table = unique("magpie_sqlx_tx");
        sqlx::query(&format!("CREATE TABLE {table} (id int8)"))
            .execute(&pool)
            .await
            .unwrap();
        let insert = format!("INSERT INTO {table} SELECT generate_series(1, 3)");

        // Rolled back explicitly: seen inside, gone after.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&insert).execute(&mut *tx).await.unwrap();
        assert_eq!(count(&mut *tx, &table).await, 3);
        tx.rollback().await.unwrap();
        assert_eq!(count(&pool, &table).await, 0);

        // Dropped without a commit (an error path's `?`, a cancelled task): rolled back too.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&insert).execute(&mut *tx).await.unwrap();
        drop(tx);
        assert_eq!(count(&pool, &table).await, 0);

        // Committed: kept.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(&insert).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&pool, &table).await, 3);

        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn a_query_cut_by_a_magpie_timeout_leaves_the_pool_usable() {
    const TEST: &str = "a_query_cut_by_a_magpie_timeout_leaves_the_pool_usable";
    if skipped(TEST) {
        return;
    }
    run(TEST, async {
        let pool = pool(TEST, 1).await;
        // magpie's timer cuts a query running on sqlx's tokio-driven connection.
        let started = Instant::now();
        let cut = magpie::time::timeout(
            Duration::from_millis(200),
            sqlx::query("SELECT pg_sleep(1)").execute(&pool),
        )
        .await;
        assert!(cut.is_err(), "pg_sleep(1) finished within 200 ms?");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // The pool's only connection was mid-query. sqlx does not cancel the statement on the
        // server: when the dropped query gives the connection back, sqlx pings it first, and
        // the ping waits for the statement to end (the same on tokio). So the connection
        // comes back after about 1 s, and the pool answers again.
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(one, 1);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "the pool took {:?} to answer again",
            started.elapsed()
        );
        pool.close().await;
    });
}

#[test]
fn an_sql_error_names_the_problem() {
    const TEST: &str = "an_sql_error_names_the_problem";
    if skipped(TEST) {
        return;
    }
    run(TEST, async {
        let pool = pool(TEST, 1).await;
        let error = sqlx::query("SELEC 1").execute(&pool).await.unwrap_err();
        let database = error.as_database_error().expect("a server-side error");
        assert_eq!(database.code().as_deref(), Some("42601")); // syntax_error
        assert!(error.to_string().contains("SELEC"), "{error}");
        pool.close().await;
    });
}

#[test]
fn without_tokio_compat_sqlx_fails_naming_tokio() {
    const TEST: &str = "without_tokio_compat_sqlx_fails_naming_tokio";
    if skipped(TEST) {
        return;
    }
    let url = shared_server(TEST).url();
    let runtime = magpie::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        // As a new user would: it compiles, then panics inside the task that connects.
        let connect =
            magpie::spawn(async move { PgPoolOptions::new().connect(&url).await.map(drop) });
        let failure = connect.await.unwrap_err();
        assert!(failure.is_panic());
        let payload = failure.into_panic();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default()
            .to_owned();
        assert!(message.to_lowercase().contains("tokio"), "{message}");
        eprintln!("{TEST}: the panic: {message}");
    });
}

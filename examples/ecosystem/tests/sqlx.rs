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

use magpie_ecosystem::{panic_message, run_test};
use pg::{shared_server, skipped, unique};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::future::Future;
use std::time::{Duration, Instant};

/// Runs `body` with a pool of at most `max` connections to the shared server, on a
/// `tokio_compat` runtime under the watchdog, and closes the pool after it; skips it when
/// `MAGPIE_SKIP_POSTGRES=1`.
fn with_pool<F, Fut>(test: &str, max: u32, body: F)
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = ()>,
{
    if skipped(test) {
        return;
    }
    run_test(test, true, async {
        let pool = pool(test, max).await;
        body(pool.clone()).await;
        pool.close().await;
    });
}

/// Runs `sql`, which must succeed.
async fn execute(pool: &PgPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

/// Creates a table with `columns` under a name no other test or run uses; returns the name.
async fn create_table(pool: &PgPool, prefix: &str, columns: &str) -> String {
    let table = unique(prefix);
    execute(pool, &format!("CREATE TABLE {table} ({columns})")).await;
    table
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
    with_pool(
        "a_pool_serves_concurrent_magpie_tasks",
        4,
        |pool| async move {
            let table = create_table(&pool, "magpie_sqlx_rows", "id int8 PRIMARY KEY").await;
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
            execute(&pool, &format!("DROP TABLE {table}")).await;
        },
    );
}

#[test]
fn transactions_roll_back_and_commit() {
    with_pool("transactions_roll_back_and_commit", 2, |pool| async move {
        let table = create_table(&pool, "magpie_sqlx_tx", "id int8").await;
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

        execute(&pool, &format!("DROP TABLE {table}")).await;
    });
}

#[test]
fn a_query_cut_by_a_magpie_timeout_leaves_the_pool_usable() {
    let test = "a_query_cut_by_a_magpie_timeout_leaves_the_pool_usable";
    with_pool(test, 1, |pool| async move {
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
    });
}

#[test]
fn an_sql_error_names_the_problem() {
    with_pool("an_sql_error_names_the_problem", 1, |pool| async move {
        let error = sqlx::query("SELEC 1").execute(&pool).await.unwrap_err();
        let database = error.as_database_error().expect("a server-side error");
        assert_eq!(database.code().as_deref(), Some("42601")); // syntax_error
        assert!(error.to_string().contains("SELEC"), "{error}");
    });
}

#[test]
fn without_tokio_compat_sqlx_fails_naming_tokio() {
    const TEST: &str = "without_tokio_compat_sqlx_fails_naming_tokio";
    if skipped(TEST) {
        return;
    }
    let url = shared_server(TEST).url();
    run_test(TEST, false, async {
        // As a new user would: it compiles, then panics inside the task that connects.
        let connect =
            magpie::spawn(async move { PgPoolOptions::new().connect(&url).await.map(drop) });
        let message = panic_message(connect.await.unwrap_err());
        assert!(message.to_lowercase().contains("tokio"), "{message}");
        eprintln!("{TEST}: the panic: {message}");
    });
}

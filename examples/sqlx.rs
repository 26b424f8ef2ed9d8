//! sqlx on magpie: PostgreSQL through sqlx's connection pool, queried from magpie tasks.
//!
//! sqlx is a tokio crate (feature `runtime-tokio`): its connections are `tokio::net`
//! sockets, its pool sleeps on `tokio::time` and spawns its upkeep with `tokio::spawn`. So
//! the runtime is built with `tokio_compat(true)` (docs/ecosystem.md): the queries are
//! awaited by magpie tasks on magpie's workers; the sockets are polled by the small tokio
//! runtime magpie keeps beside them.
//!
//! ```sh
//! cargo run --release --example sqlx
//! ```
//!
//! The server: the one `MAGPIE_PG_HOST`/`MAGPIE_PG_PORT` name, else the throwaway cluster of
//! `scripts/postgres.sh`, which this example starts (installing PostgreSQL from Debian's
//! packages when absent) or reuses; `scripts/postgres.sh stop` removes it.
//! `examples/ecosystem/tests/sqlx.rs` checks the same things.

#[path = "db/server.rs"]
mod pg;

use pg::BoxError;
use sqlx::postgres::PgPoolOptions;
use sqlx::Row;
use std::time::{Duration, Instant};

fn main() -> Result<(), BoxError> {
    let settings = pg::Settings::local()?;
    println!("PostgreSQL at {settings}");
    let runtime = magpie::Runtime::builder().tokio_compat(true).build()?;
    runtime.block_on(async {
        // asyncpg's create_pool: at most 4 connections, opened as needed.
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&settings.url())
            .await?;
        let table = pg::unique("magpie_sqlx_demo");
        sqlx::query(&format!(
            "CREATE TABLE {table} (id int8 PRIMARY KEY, task text NOT NULL)"
        ))
        .execute(&pool)
        .await?;

        // 20 magpie tasks insert at once, sharing the pool's 4 connections.
        let started = Instant::now();
        let inserts: Vec<_> = (0..20_i64)
            .map(|id| {
                let (pool, table) = (pool.clone(), table.clone());
                magpie::spawn(async move {
                    sqlx::query(&format!("INSERT INTO {table} VALUES ($1, $2)"))
                        .bind(id)
                        .bind(format!("task {id}"))
                        .execute(&pool)
                        .await
                })
            })
            .collect();
        for insert in inserts {
            insert.await??;
        }
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&pool)
            .await?;
        println!(
            "20 concurrent inserts over {} connections: {count} rows in {:?}",
            pool.size(),
            started.elapsed()
        );

        // A transaction rolled back: its rows are gone, the table is as it was.
        let mut tx = pool.begin().await?;
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
        let inside: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        let after: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&pool)
            .await?;
        println!("inside a transaction that deleted them: {inside} rows; rolled back: {after}");

        let row = sqlx::query(&format!(
            "SELECT id, task FROM {table} ORDER BY id DESC LIMIT 1"
        ))
        .fetch_one(&pool)
        .await?;
        println!(
            "the last row: id {}, {:?}",
            row.get::<i64, _>("id"),
            row.get::<String, _>("task")
        );

        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        Ok(())
    })
}

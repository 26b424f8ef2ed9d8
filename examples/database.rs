//! PostgreSQL on magpie: tokio-postgres over `magpie::net::TcpStream`, a small pool of
//! connections, and many tasks inserting rows at once, then reading them back.
//!
//! ```sh
//! cargo run --release --example database                    # 4 connections, 64 tasks × 100 rows
//! cargo run --release --example database -- 8 256 50       # CONNECTIONS TASKS ROWS_PER_TASK
//! ```
//!
//! The server: the one `MAGPIE_PG_HOST`/`MAGPIE_PG_PORT` (and `MAGPIE_PG_USER`,
//! `MAGPIE_PG_DBNAME`, `MAGPIE_PG_PASSWORD`) name, else the throwaway local cluster of
//! `scripts/postgres.sh start`, which this example runs (it installs PostgreSQL from Debian's
//! packages when absent, or reuses the cluster when it already runs). `scripts/postgres.sh
//! stop` deletes the cluster.
//!
//! The asyncio notes the tour follows end by pointing at "Asyncio and Databases"; in asyncio this is asyncpg's
//! pool and a `gather` of inserting coroutines:
//!
//! ```python
//! async def insert_rows(pool, task):
//!     for seq in range(ROWS):
//!         async with pool.acquire() as conn:
//!             await conn.execute("INSERT INTO items VALUES ($1, $2, $3)", task, seq, f"task {task} row {seq}")
//!
//! async def main():
//!     pool = await asyncpg.create_pool(min_size=4, max_size=4)
//!     await pool.execute("CREATE TABLE items (task int, seq int, payload text, PRIMARY KEY (task, seq))")
//!     await asyncio.gather(*(insert_rows(pool, task) for task in range(64)))
//!     rows = await pool.fetch("SELECT task, seq, payload FROM items ORDER BY task, seq")
//!
//! asyncio.run(main())
//! ```
//!
//! Here: tokio-postgres (`default-features = false`: no tokio runtime) connects with
//! `Config::connect_raw` over a magpie `TcpStream` (tokio's I/O traits come from magpie's
//! `tokio-io` feature) and its `Connection` runs as a magpie task; the pool is a magpie
//! `Semaphore` over the idle connections (`examples/db/mod.rs`); `magpie::spawn` and
//! `magpie::join_all` are `create_task` and `gather`.

#[path = "db/mod.rs"]
mod db;

use db::{BoxError, Connected, Pool, Settings};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, Statement};

const USAGE: &str = "\
usage: cargo run --release --example database [-- [CONNECTIONS [TASKS [ROWS_PER_TASK]]]]
  defaults: 4 connections, 64 tasks, 100 rows per task
  the server: MAGPIE_PG_HOST and MAGPIE_PG_PORT (MAGPIE_PG_USER, MAGPIE_PG_DBNAME,
  MAGPIE_PG_PASSWORD), else the local cluster of scripts/postgres.sh start";

/// What the command line asks for.
struct Plan {
    connections: usize,
    tasks: usize,
    rows_per_task: usize,
}

/// One pooled connection: the client and its prepared INSERT.
struct Conn {
    client: Client,
    insert: Statement,
}

fn main() -> ExitCode {
    let plan = match parse_args() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("database: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::local() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!(
                "database: no PostgreSQL server to connect to.\n{message}\n\
                 Start one with `scripts/postgres.sh start` (it installs PostgreSQL from \
                 Debian's packages when absent), or name one with MAGPIE_PG_HOST and \
                 MAGPIE_PG_PORT."
            );
            return ExitCode::FAILURE;
        }
    };
    println!(
        "database: PostgreSQL at {settings}, from {}",
        settings.source
    );
    let runtime = match magpie::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("database: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings, plan)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("database: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Plan, String> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|_| "arguments must be UTF-8".to_owned())
        })
        .collect::<Result<_, _>>()?;
    if args.len() > 3 || args.iter().any(|a| a == "-h" || a == "--help") {
        return Err("unexpected arguments".to_owned());
    }
    let number = |i: usize, default: usize, max: usize, name: &str| -> Result<usize, String> {
        match args.get(i) {
            None => Ok(default),
            Some(a) => match a.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "{name} must be a number from 1 to {max}, not {a:?}"
                )),
            },
        }
    };
    Ok(Plan {
        // The local cluster allows 100 connections.
        connections: number(0, 4, 64, "CONNECTIONS")?,
        tasks: number(1, 64, 100_000, "TASKS")?,
        rows_per_task: number(2, 100, 100_000, "ROWS_PER_TASK")?,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn per_second(n: usize, d: Duration) -> String {
    format!("{:.0}", n as f64 / d.as_secs_f64().max(1e-9))
}

/// The payload row `seq` of `task` carries, checked when read back.
fn payload(task: i32, seq: i32) -> String {
    format!("task {task} row {seq}")
}

async fn run(settings: Settings, plan: Plan) -> Result<(), BoxError> {
    // Connect: all the pool's connections at once (asyncpg.create_pool).
    let started = Instant::now();
    let connecting = (0..plan.connections).map(|_| {
        let settings = settings.clone();
        magpie::spawn(async move { db::connect(&settings).await })
    });
    let mut clients = Vec::new();
    let mut connections = Vec::new();
    for joined in magpie::join_all(connecting).await {
        let Connected { client, connection } = joined??;
        clients.push(client);
        connections.push(connection);
    }
    println!(
        "database: {} connections opened in {}",
        plan.connections,
        ms(started.elapsed())
    );
    let version: String = clients[0]
        .query_one("SHOW server_version", &[])
        .await?
        .get(0);
    println!("database: server version {version}");

    // A table of this run's own, so that runs side by side don't meet.
    let table = format!("magpie_example_{}", std::process::id());
    clients[0]
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table};
             CREATE TABLE {table} (task int NOT NULL, seq int NOT NULL, payload text NOT NULL,
                                   PRIMARY KEY (task, seq))"
        ))
        .await?;
    println!("database: table {table} created");
    let insert_sql = format!("INSERT INTO {table} (task, seq, payload) VALUES ($1, $2, $3)");

    let result = exercise(&table, &insert_sql, clients, &plan).await;

    // Drop the table whatever happened, on a connection of its own (the pool's are gone).
    let cleanup = async {
        let Connected { client, connection } = db::connect(&settings).await?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
            .await?;
        drop(client);
        connection.await??;
        Ok::<_, BoxError>(())
    };
    let cleaned = cleanup.await;
    // The clients are dropped: each connection says goodbye to the server and ends.
    let closed = async {
        for connection in connections {
            connection.await??;
        }
        Ok::<_, BoxError>(())
    };
    let closed = closed.await;
    result?;
    cleaned?;
    closed?;
    println!("database: table dropped, connections closed");
    Ok(())
}

/// Inserts, reads back and checks; `clients` are dropped on return.
async fn exercise(
    table: &str,
    insert_sql: &str,
    clients: Vec<Client>,
    plan: &Plan,
) -> Result<(), BoxError> {
    // Every pooled connection prepares the INSERT once.
    let mut conns = Vec::new();
    for client in clients {
        let insert = client.prepare(insert_sql).await?;
        conns.push(Conn { client, insert });
    }

    // For comparison: one task, one connection, one row after another.
    let baseline_rows = (plan.tasks * plan.rows_per_task).min(1_000);
    let started = Instant::now();
    for seq in 0..baseline_rows as i32 {
        let conn = &conns[0];
        conn.client
            .execute(&conn.insert, &[&-1i32, &seq, &payload(-1, seq)])
            .await?;
    }
    let baseline = started.elapsed();
    println!(
        "database: 1 task, 1 connection: {baseline_rows} rows inserted in {} ({} rows/s)",
        ms(baseline),
        per_second(baseline_rows, baseline)
    );
    conns[0]
        .client
        .execute(&format!("DELETE FROM {table} WHERE task = -1"), &[])
        .await?;

    // The gather: every task inserts its rows, taking a connection from the pool per row.
    let pool = Arc::new(Pool::new(conns));
    let started = Instant::now();
    let inserting = (0..plan.tasks as i32).map(|task| {
        let pool = Arc::clone(&pool);
        let rows = plan.rows_per_task as i32;
        magpie::spawn(async move {
            let mut latencies = Vec::with_capacity(rows as usize);
            for seq in 0..rows {
                let asked = Instant::now();
                let conn = pool.get().await;
                conn.client
                    .execute(&conn.insert, &[&task, &seq, &payload(task, seq)])
                    .await?;
                drop(conn);
                latencies.push(asked.elapsed());
            }
            Ok::<_, tokio_postgres::Error>(latencies)
        })
    });
    let mut latencies = Vec::new();
    for joined in magpie::join_all(inserting).await {
        latencies.extend(joined??);
    }
    let elapsed = started.elapsed();
    let rows = plan.tasks * plan.rows_per_task;
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "database: {} tasks × {} rows over {} connections: {rows} rows inserted in {} ({} rows/s, \
         {:.1}× the single connection)",
        plan.tasks,
        plan.rows_per_task,
        pool.size(),
        ms(elapsed),
        per_second(rows, elapsed),
        (rows as f64 / elapsed.as_secs_f64()) / (baseline_rows as f64 / baseline.as_secs_f64()),
    );
    println!(
        "database: per insert, waiting for a connection included: p50 {}, p99 {}, max {}",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );

    // Read everything back and check it: every (task, seq) once, with its payload.
    let started = Instant::now();
    let conn = pool.get().await;
    let all = conn
        .client
        .query(
            &format!("SELECT task, seq, payload FROM {table} ORDER BY task, seq"),
            &[],
        )
        .await?;
    drop(conn);
    let read = started.elapsed();
    if all.len() != rows {
        return Err(format!("read back {} rows, inserted {rows}", all.len()).into());
    }
    for (i, row) in all.iter().enumerate() {
        let (task, seq) = (
            (i / plan.rows_per_task) as i32,
            (i % plan.rows_per_task) as i32,
        );
        let got: (i32, i32, &str) = (row.get(0), row.get(1), row.get(2));
        if got != (task, seq, payload(task, seq).as_str()) {
            return Err(format!("row {i} is {got:?}, expected task {task} row {seq}").into());
        }
    }
    println!(
        "database: {rows} rows read back in one query in {} ({} rows/s), all as written",
        ms(read),
        per_second(rows, read)
    );

    // Many small queries at once: each task counts its own rows.
    let started = Instant::now();
    let counting = (0..plan.tasks as i32).map(|task| {
        let pool = Arc::clone(&pool);
        let sql = format!("SELECT count(*), coalesce(sum(seq), 0) FROM {table} WHERE task = $1");
        magpie::spawn(async move {
            let conn = pool.get().await;
            let row = conn.client.query_one(&sql, &[&task]).await?;
            Ok::<_, tokio_postgres::Error>((row.get::<_, i64>(0), row.get::<_, i64>(1)))
        })
    });
    let expected_sum = (plan.rows_per_task * (plan.rows_per_task - 1) / 2) as i64;
    for (task, joined) in magpie::join_all(counting).await.into_iter().enumerate() {
        let (count, sum) = joined??;
        if count != plan.rows_per_task as i64 || sum != expected_sum {
            return Err(format!(
                "task {task}: {count} rows summing to {sum}, expected {} summing to {expected_sum}",
                plan.rows_per_task
            )
            .into());
        }
    }
    let counted = started.elapsed();
    println!(
        "database: {} concurrent per-task counts in {}, all {} rows each",
        plan.tasks,
        ms(counted),
        plan.rows_per_task
    );
    Ok(())
}

//! PostgreSQL on magpie with tokio-postgres, shared by `examples/database.rs` and
//! `examples/tests/database.rs` (each includes this file with `#[path]`): a connection over
//! `magpie::net::TcpStream`, and a small connection pool. Where the server is comes from
//! [`server`] (`db/server.rs`), which the sqlx example and test share.

// Each includer uses a different part of this module.
#![allow(dead_code)]

mod server;

pub(crate) use server::*;

use magpie::net::TcpStream;
use magpie::sync::{Semaphore, SemaphorePermit};
use magpie::JoinHandle;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio_postgres::{Client, NoTls};

impl Settings {
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

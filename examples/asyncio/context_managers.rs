//! Section 6, asynchronous context managers: `async with`.
//!
//! ```python
//! class AsyncContextManager:
//!     async def __aenter__(self):
//!         print('Entering the context')
//!         return self
//!     async def __aexit__(self, exc_type, exc, tb):
//!         print('Exiting the context')
//!
//! async def main():
//!     async with AsyncContextManager():
//!         print('Inside the context')
//! ```
//!
//! Rust has no `async with` and no async `Drop`. Two idioms cover it:
//!
//! - **A guard**: `__aenter__` is an `async fn` that returns a value whose `Drop` is
//!   `__aexit__`. `Drop` runs however the scope ends (normally, `?`, a panic, or the future
//!   being dropped because its task was cancelled or a timeout expired), but it cannot
//!   `.await`: the exit is synchronous.
//! - **A `with_` function** taking the body as an async closure
//!   (`contextlib.asynccontextmanager`'s shape): it awaits the enter, the body, then an
//!   async exit, on success and on error. A cancelled body never reaches that async exit, so
//!   the resource keeps a `Drop` as the synchronous fallback: the exit is guaranteed, only
//!   its async part is not.

use crate::{header, ms, say, secs};
use magpie::time;

/// The notebook's class: [`AsyncContextManager::enter`] is `__aenter__`; the guard it
/// returns does `__aexit__` when dropped.
struct AsyncContextManager;

impl AsyncContextManager {
    /// `async def __aenter__(self)`: may await (connect, acquire), then hands out the guard.
    async fn enter() -> ContextGuard {
        time::sleep(secs(0.05)).await;
        say!("Entering the context");
        ContextGuard
    }
}

/// What `async with` binds; dropping it is `__aexit__`.
struct ContextGuard;

impl Drop for ContextGuard {
    fn drop(&mut self) {
        say!("Exiting the context");
    }
}

/// A resource whose exit needs to await: a connection that says goodbye to its server.
struct Connection {
    name: &'static str,
    /// Set by the async exit; `Drop` does the exit only when it did not run.
    closed: bool,
}

impl Connection {
    /// `__aenter__`.
    async fn open(name: &'static str) -> Connection {
        time::sleep(secs(0.05)).await;
        say!("Entering the context: {name} connected");
        Connection {
            name,
            closed: false,
        }
    }

    /// A query; `"fail"` fails, `"slow"` takes ten of the notes' seconds.
    async fn query(&self, sql: &str) -> Result<String, String> {
        match sql {
            "fail" => Err(format!("{}: syntax error in {sql:?}", self.name)),
            "slow" => {
                time::sleep(secs(10)).await;
                Ok("too late".to_owned())
            }
            _ => {
                time::sleep(secs(0.05)).await;
                Ok(format!("rows for {sql:?}"))
            }
        }
    }

    /// `__aexit__(exc_type, exc, tb)`: the async exit, told whether the body failed.
    async fn close(mut self, error: Option<&String>) {
        time::sleep(secs(0.05)).await; // the goodbye to the server
        self.closed = true;
        match error {
            None => say!("Exiting the context: {} closed (async exit)", self.name),
            Some(e) => say!(
                "Exiting the context: {} closed (async exit, after the error: {e})",
                self.name
            ),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if !self.closed {
            // The async exit never ran: the body (or the exit) was cancelled, or panicked.
            // No awaiting here; a real connection would just close its socket.
            say!(
                "Exiting the context: {} closed by Drop (cancelled: the synchronous fallback)",
                self.name
            );
        }
    }
}

/// `async with connect(name) as conn: <body>`: enter, run the body, then the async exit,
/// on success and on error alike; the body's result comes back.
async fn with_connection<T>(
    name: &'static str,
    body: impl AsyncFnOnce(&Connection) -> Result<T, String>,
) -> Result<T, String> {
    let conn = Connection::open(name).await;
    let result = body(&conn).await;
    conn.close(result.as_ref().err()).await;
    result
}

/// The section.
pub async fn main() {
    header("6. Asynchronous context managers: async with");

    // async with AsyncContextManager(): print('Inside the context')
    {
        let _context = AsyncContextManager::enter().await;
        say!("Inside the context");
    } // __aexit__: the guard drops here

    // The exit runs on an error too: `?` leaves the scope early, the guard drops.
    async fn failing_body() -> Result<(), String> {
        let _context = AsyncContextManager::enter().await;
        say!("Inside the context");
        Err("the body failed".to_owned())?;
        say!("never printed");
        Ok(())
    }
    if let Err(e) = failing_body().await {
        say!("An error occurred: {e}");
    }

    // An async exit, on success ...
    let rows = with_connection("db", async |conn| conn.query("SELECT 1").await).await;
    say!("the body returned {rows:?}");
    // ... and on error.
    let failed = with_connection("db", async |conn| {
        let rows = conn.query("fail").await?;
        say!("never printed: {rows}");
        Ok(rows)
    })
    .await;
    if let Err(e) = failed {
        say!("An error occurred: {e}");
    }

    // Cancellation: asyncio.wait_for(body, 0.5) cancels the body; here the timeout drops
    // the future, and with it the connection: its Drop does the exit.
    let start = time::now();
    let slow = time::timeout(
        secs(0.5),
        with_connection("db", async |conn| conn.query("slow").await),
    )
    .await;
    say!(
        "timeout(0.5, a 10 s query) -> {slow:?} after {}: the body was dropped, the exit still ran",
        ms(time::now() - start)
    );

    // The same for a cancelled task (task.cancel()): its future is dropped, the guard too.
    let task = magpie::spawn(async {
        let _context = AsyncContextManager::enter().await;
        say!("Inside the context (a task about to be cancelled)");
        time::sleep(secs(10)).await;
    });
    time::sleep(secs(0.2)).await;
    task.abort();
    let cancelled = task.await.expect_err("the task was not cancelled");
    say!("the task: {cancelled}");
}

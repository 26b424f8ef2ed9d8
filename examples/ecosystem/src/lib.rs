//! The crates services already use that call tokio themselves, on magpie: the applications
//! that `examples/axum.rs`, `examples/grpc.rs` and `examples/sqlx.rs` run and that this
//! package's tests (`examples/ecosystem/tests/`) serve and call over real connections.
//!
//! - [`axum_app`]: an axum `Router`, served by magpie's hyper server; tower-http's timeout
//!   (under `tokio_compat(true)`), gzip and trace layers.
//! - [`grpc`]: a tonic service (unary and server-streaming), served by magpie's hyper server
//!   over HTTP/2 and called by tonic's generated client over hyper-util's client on magpie:
//!   no tokio at all.
//!
//! Both are served the same way: by [`serve_on_loopback`] in the tests, by
//! [`serve_until_ctrl_c`] in the examples.
//! `docs/ecosystem.md` has the table of crates: which run natively, which under
//! `tokio_compat(true)`, which do not run.

pub mod axum_app;
pub mod grpc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use magpie::net::TcpListener;
use magpie::JoinError;
use magpie_examples::web_servers::{ServeStats, Server, ServerConfig};
use std::convert::Infallible;
use std::error::Error;
use std::future::Future;
use std::io;
use std::time::Duration;

/// A server of some application running as a magpie task (for the tests): its address, the
/// sender that stops it, and its task.
pub struct Running {
    /// `http://<addr>`.
    pub base: String,
    /// Send (or drop) to stop the server gracefully.
    pub stop: magpie::sync::oneshot::Sender<()>,
    /// The server's task: its stats once stopped.
    pub server: magpie::JoinHandle<std::io::Result<ServeStats>>,
}

/// Serves `app` (called once per request, as [`Server::serve_with`] does) on `127.0.0.1:0`
/// with the default server settings, as a magpie task.
///
/// # Panics
///
/// When the loopback listener cannot be bound.
pub async fn serve_on_loopback<A, F, B>(app: A) -> Running
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    let listener = magpie::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback listener");
    let addr = listener.local_addr().expect("local_addr");
    let (stop, stopped) = magpie::sync::oneshot::channel::<()>();
    let server =
        magpie::spawn(Server::new(ServerConfig::default()).serve_with(listener, stopped, app));
    Running {
        base: format!("http://{addr}"),
        stop,
        server,
    }
}

impl Running {
    /// Stops the server gracefully and returns its stats.
    ///
    /// # Panics
    ///
    /// When the server's task failed or serving failed.
    pub async fn stop(self) -> ServeStats {
        let _ = self.stop.send(());
        self.server
            .await
            .expect("the server's task")
            .expect("serving")
    }
}

/// Serves `app` on `addr` with the server's request log on, until Ctrl-C; says where it
/// listens (`what` names the application) and, at the end, what it served. The examples'
/// `serve` mode.
///
/// # Errors
///
/// When `addr` cannot be bound, or accepting fails for good.
pub async fn serve_until_ctrl_c<A, F, B>(what: &str, addr: &str, app: A) -> io::Result<()>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    let listener = TcpListener::bind(addr).await?;
    println!(
        "{what}: listening on http://{} (Ctrl-C stops it)",
        listener.local_addr()?
    );
    let config = ServerConfig {
        log: true,
        ..ServerConfig::default()
    };
    let stats = Server::new(config)
        .serve_with(listener, magpie::signal::ctrl_c(), app)
        .await?;
    println!(
        "stopped: {} connections, {} requests",
        stats.connections, stats.requests
    );
    Ok(())
}

/// A 2-worker runtime for the tests, with tokio's context on its threads when
/// `tokio_compat`.
///
/// # Panics
///
/// When the runtime cannot start.
pub fn test_runtime(tokio_compat: bool) -> magpie::Runtime {
    magpie::Runtime::builder()
        .worker_threads(2)
        .tokio_compat(tokio_compat)
        .build()
        .expect("failed to start the runtime")
}

/// How long a test of this package may take before it is failed as hung.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `future` on [`test_runtime`] under the [`WATCHDOG`]: a hang fails the test named
/// `test` instead of stalling the suite.
///
/// # Panics
///
/// When `future` is not done within the watchdog's limit (or the runtime cannot start).
pub fn run_test<F: Future>(test: &str, tokio_compat: bool, future: F) -> F::Output {
    test_runtime(tokio_compat).block_on(async {
        match magpie::time::timeout(WATCHDOG, future).await {
            Ok(output) => output,
            Err(_) => panic!("{test}: watchdog: not done in {WATCHDOG:?} (hung?)"),
        }
    })
}

/// The message of a task's panic, as the tests of "what happens without tokio_compat" read
/// it.
///
/// # Panics
///
/// When the task did not panic (it was cancelled).
pub fn panic_message(failure: JoinError) -> String {
    assert!(failure.is_panic(), "the task did not panic: {failure}");
    let payload = failure.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

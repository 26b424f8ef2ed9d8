//! The crates services already use that call tokio themselves, on magpie: the applications
//! that `examples/axum.rs`, `examples/grpc.rs` and `examples/sqlx.rs` run and that this
//! package's tests (`examples/ecosystem/tests/`) serve and call over real connections.
//!
//! - [`axum_app`]: an axum `Router`, served by magpie's hyper server; tower-http's timeout
//!   layer under `tokio_compat(true)`.
//! - [`grpc`]: a tonic service (unary and server-streaming), served by magpie's hyper server
//!   over HTTP/2 and called by tonic's generated client over hyper-util's client on magpie:
//!   no tokio at all.
//!
//! Both are served the same way, by [`serve_on_loopback`] in the tests.
//! `docs/ecosystem.md` has the table of crates: which run natively, which under
//! `tokio_compat(true)`, which do not run.

pub mod axum_app;
pub mod grpc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use magpie_examples::web_servers::{ServeStats, Server, ServerConfig};
use std::convert::Infallible;
use std::error::Error;
use std::future::Future;
use std::net::SocketAddr;

/// A server of some application running as a magpie task (for the tests): its address, the
/// sender that stops it, and its task.
pub struct Running {
    /// The loopback address it listens on.
    pub addr: SocketAddr,
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
        addr,
        base: format!("http://{addr}"),
        stop,
        server,
    }
}

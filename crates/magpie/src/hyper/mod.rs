//! Feature `hyper`: hyper 1.x on magpie.
//!
//! hyper leaves the runtime to its user through four seams, and this module fills each with
//! magpie:
//!
//! | hyper needs | magpie gives | used for |
//! |---|---|---|
//! | `hyper::rt::Read` + `Write` | [`HyperIo`] around any futures-io stream | the connection's bytes |
//! | `hyper::rt::Executor` | [`HyperExecutor`]: `magpie::spawn` | HTTP/2 streams, the client's connections |
//! | `hyper::rt::Timer` | [`HyperTimer`]: [`time`](crate::time) sleeps | header-read timeouts, HTTP/2 keep-alive, the client pool's idle reaper |
//! | a connector (`tower::Service<Uri>`) | [`HyperConnector`] over [`TcpStream`](crate::net::TcpStream) | `hyper_util::client::legacy::Client` |
//!
//! A server: accept on magpie, wrap each stream in [`HyperIo`], and hand it to
//! `hyper::server::conn::http1` (or `http2` with [`HyperExecutor`], or
//! `hyper_util::server::conn::auto`), giving the builder [`HyperTimer`] so its timeouts
//! work:
//!
//! ```ignore
//! let (stream, _) = listener.accept().await?;
//! magpie::spawn(async move {
//!     let served = hyper::server::conn::http1::Builder::new()
//!         .timer(magpie::hyper::HyperTimer)
//!         .header_read_timeout(Duration::from_secs(5))
//!         .serve_connection(magpie::hyper::HyperIo::new(stream), service_fn(hello))
//!         .await;
//! });
//! ```
//!
//! A client: `Client::builder(HyperExecutor).timer(HyperTimer).pool_timer(HyperTimer)
//! .build(HyperConnector::new())`. `examples/http_server.rs` and `examples/http_client.rs` show
//! both whole; `docs/ecosystem.md` lists what else runs on magpie.
//!
//! Only hyper's runtime traits are used here. hyper-util's `client-legacy` feature, which
//! `HyperConnector` implements a trait of, compiles tokio's socket types for its own tokio
//! connector; none of tokio runs.

mod connector;
mod executor;
mod io;
mod timer;

pub use connector::HyperConnector;
pub use executor::HyperExecutor;
pub use io::HyperIo;
pub use timer::HyperTimer;

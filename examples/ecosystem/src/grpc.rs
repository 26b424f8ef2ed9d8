//! A tonic gRPC service on magpie, with no tokio anywhere: the service that tonic generates
//! from `proto/greeter.proto` is a tower `Service` over HTTP/2, so magpie's hyper server
//! ([`Server::serve_with`], hyper-util's HTTP/1.1-and-HTTP/2 server with HTTP/2 streams
//! spawned as magpie tasks) serves it ([`app`]), and tonic's generated client runs over
//! hyper-util's client with magpie's connector and executor ([`client`]).
//!
//! The calls:
//! - `SayHello` (unary): `Hello, <name>!`; an empty name is `INVALID_ARGUMENT`.
//! - `Countdown` (server streaming): the numbers from `from` down to 1, `interval_ms` apart
//!   (a magpie sleep between two). The stream is a future-driven `Stream` held by hyper's
//!   HTTP/2 stream task: when the client drops its end (or the connection goes), hyper drops
//!   it, and with it the sleep it was in. [`Greetings::open_streams`] counts the live ones.
//!
//! tonic's own transport (`tonic::transport::Channel`, `Server`) is built on tokio's sockets
//! and timers: it works from magpie tasks under `tokio_compat(true)` (the tests call this
//! server through a `Channel` too), but a service needs neither.
//!
//! [`Server::serve_with`]: magpie_examples::web_servers::Server::serve_with

/// The messages, the service trait and the client generated from `proto/greeter.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("greeter");
}

use futures_lite::Stream;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::client::legacy::Client;
use magpie::hyper::{HyperConnector, HyperExecutor, HyperTimer};
use proto::greeter_client::GreeterClient;
use proto::greeter_server::{Greeter, GreeterServer};
use proto::{CountdownRequest, HelloReply, HelloRequest, Tick};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Response, Status};
use tower::util::Oneshot;
use tower::ServiceExt;

/// The largest `from` a countdown accepts.
pub const MAX_COUNTDOWN: u32 = 10_000;
/// The longest `interval_ms` a countdown accepts.
pub const MAX_INTERVAL_MS: u32 = 10_000;

/// The service: `SayHello` and `Countdown`, and a count of the countdowns streaming now.
#[derive(Clone, Debug, Default)]
pub struct Greetings {
    open_streams: Arc<AtomicUsize>,
}

impl Greetings {
    /// How many `Countdown` streams are alive: started and neither finished nor dropped.
    pub fn open_streams(&self) -> usize {
        self.open_streams.load(Ordering::SeqCst)
    }
}

/// Counts one live stream; the count goes down when the stream is dropped, finished or not.
struct OpenStream(Arc<AtomicUsize>);

impl OpenStream {
    fn new(count: &Arc<AtomicUsize>) -> OpenStream {
        count.fetch_add(1, Ordering::SeqCst);
        OpenStream(count.clone())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What `Countdown` answers with: ticks, until the end or the client goes.
pub type TickStream = Pin<Box<dyn Stream<Item = Result<Tick, Status>> + Send>>;

#[tonic::async_trait]
impl Greeter for Greetings {
    async fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        if name.is_empty() {
            return Err(Status::invalid_argument("SayHello: the name is empty"));
        }
        Ok(Response::new(HelloReply {
            message: format!("Hello, {name}!"),
        }))
    }

    type CountdownStream = TickStream;

    async fn countdown(
        &self,
        request: tonic::Request<CountdownRequest>,
    ) -> Result<Response<TickStream>, Status> {
        let CountdownRequest { from, interval_ms } = request.into_inner();
        if from > MAX_COUNTDOWN {
            return Err(Status::invalid_argument(format!(
                "Countdown: from = {from} is above the limit of {MAX_COUNTDOWN}"
            )));
        }
        if interval_ms > MAX_INTERVAL_MS {
            return Err(Status::invalid_argument(format!(
                "Countdown: interval_ms = {interval_ms} is above the limit of {MAX_INTERVAL_MS}"
            )));
        }
        let interval = Duration::from_millis(interval_ms.into());
        let open = OpenStream::new(&self.open_streams);
        // The state is (the next number, the guard that counts this stream as open).
        let ticks = futures_lite::stream::unfold((from, open), move |(next, open)| async move {
            if next == 0 {
                return None;
            }
            if next != from {
                magpie::time::sleep(interval).await;
            }
            Some((Ok(Tick { remaining: next }), (next - 1, open)))
        });
        Ok(Response::new(Box::pin(ticks)))
    }
}

/// `service` as the per-request function magpie's server calls: the hyper request in (any
/// body: tonic reads it as a stream of gRPC frames), tonic's response out. A generated tonic
/// server never fails: every problem is a gRPC status in the response.
pub fn app(
    service: GreeterServer<Greetings>,
) -> impl Fn(Request<Incoming>) -> Oneshot<GreeterServer<Greetings>, Request<Incoming>>
       + Clone
       + Send
       + Sync
       + 'static {
    move |req: Request<Incoming>| service.clone().oneshot(req)
}

/// hyper-util's client on magpie, speaking HTTP/2 only (gRPC's transport).
pub type Http2Client = Client<HyperConnector, tonic::body::Body>;

/// tonic's generated client for the server at `origin` (`http://127.0.0.1:50051`), over
/// [`Http2Client`]: connections made by magpie's connector (no Nagle delay), HTTP/2
/// connection tasks spawned on magpie, hyper's timers on magpie's. Clones share the
/// connection pool; concurrent calls share one HTTP/2 connection as streams.
pub fn client(origin: hyper::Uri) -> GreeterClient<Http2Client> {
    let http = Client::builder(HyperExecutor)
        .http2_only(true)
        .timer(HyperTimer)
        .build(HyperConnector::new().nodelay(true));
    GreeterClient::with_origin(http, origin)
}

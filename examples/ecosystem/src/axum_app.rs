//! The axum application of `examples/axum.rs`, here so that the tests
//! (`examples/ecosystem/tests/axum.rs`, `reqwest.rs`) serve the very same router.
//!
//! axum runs on magpie without any compatibility layer for the server: a `Router` is a
//! tower `Service`, and magpie's hyper server ([`Server::serve_with`]) accepts the
//! connections and calls it for each request ([`app`]). Three tower-http layers wrap it:
//! `TimeoutLayer` (it calls tokio, `tokio::time::sleep`, so the runtime is built with
//! `tokio_compat(true)`), `CompressionLayer` (gzip, for clients that accept it) and
//! `TraceLayer` (a `tracing` span per request; its response hook counts the responses,
//! [`traced_responses`]).
//!
//! Routes:
//! - `GET /`: a greeting;
//! - `GET /users/{id}`: JSON `{"id": id, "name": "user-<id>"}` (a path parameter);
//! - `POST /echo`: the JSON body back (axum's `Json` extractor and response);
//! - `GET /notes`, `POST /notes`: a list kept in shared state behind a magpie `Mutex`;
//! - `GET /slow?ms=N`: a magpie sleep of N ms, cut off with `408 Request Timeout` by
//!   tower-http's timeout layer after [`TIMEOUT`];
//! - `GET /report`: [`REPORT_LINES`] lines of text, gzip-compressed for a client that sends
//!   `accept-encoding: gzip`;
//! - anything else: 404.
//!
//! [`Server::serve_with`]: magpie_examples::web_servers::Server::serve_with

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::Request;
use magpie::sync::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::util::Oneshot;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How long a request may take before tower-http's layer answers 408.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// The lines of `GET /report`.
pub const REPORT_LINES: usize = 500;

/// Responses the trace layer has seen finish, in this process.
static TRACED: AtomicU64 = AtomicU64::new(0);

/// How many responses tower-http's trace layer has seen, over every router of this process.
pub fn traced_responses() -> u64 {
    TRACED.load(Ordering::SeqCst)
}

/// The application's shared state.
#[derive(Clone, Default)]
pub struct Notes(Arc<Mutex<Vec<String>>>);

/// The router: every route above, with the timeout layer.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "Hello from axum, served by magpie\n" }))
        .route("/users/{id}", get(user))
        .route("/echo", post(echo))
        .route("/notes", get(list_notes).post(add_note))
        .route("/slow", get(slow))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such route\n") })
        .with_state(Notes::default())
        .route("/report", get(report))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http().on_response(
            |_: &axum::http::Response<_>, _: Duration, _: &tracing::Span| {
                TRACED.fetch_add(1, Ordering::SeqCst);
            },
        ))
}

async fn report() -> String {
    (0..REPORT_LINES)
        .map(|i| format!("line {i}: magpie served this, and tower-http compressed it\n"))
        .collect()
}

async fn user(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "id": id, "name": format!("user-{id}") }))
}

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

async fn list_notes(State(notes): State<Notes>) -> Json<Vec<String>> {
    Json(notes.0.lock().await.clone())
}

async fn add_note(State(notes): State<Notes>, body: String) -> StatusCode {
    notes.0.lock().await.push(body);
    StatusCode::CREATED
}

/// `?ms=N`.
#[derive(Deserialize)]
struct SlowQuery {
    ms: u64,
}

async fn slow(Query(q): Query<SlowQuery>) -> String {
    magpie::time::sleep(Duration::from_millis(q.ms)).await;
    format!("slept {} ms\n", q.ms)
}

/// `router` as the per-request function magpie's server calls: the hyper request in, the
/// router's response out (a router never fails: every problem is a response).
pub fn app(
    router: Router,
) -> impl Fn(Request<Incoming>) -> Oneshot<Router, Request<axum::body::Body>>
       + Clone
       + Send
       + Sync
       + 'static {
    move |req: Request<Incoming>| router.clone().oneshot(req.map(axum::body::Body::new))
}

/// Serves [`router`] on `127.0.0.1:0` as a magpie task (for the tests).
///
/// # Panics
///
/// When the loopback listener cannot be bound.
pub async fn serve_on_loopback() -> crate::Running {
    crate::serve_on_loopback(app(router())).await
}

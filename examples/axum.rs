//! axum on magpie: a `Router` (path parameters, JSON, shared state, a query string, a
//! fallback) served by magpie's hyper server, with tower-http's timeout, gzip and trace
//! layers.
//!
//! ```sh
//! cargo run --release --example axum                   # serves on 127.0.0.1:3000 until Ctrl-C
//! cargo run --release --example axum -- 127.0.0.1:8080
//! curl localhost:3000/users/7                          # {"id":7,"name":"user-7"}
//! curl -d '{"a":1}' -H 'content-type: application/json' localhost:3000/echo
//! curl 'localhost:3000/slow?ms=2000'                   # 408 after 500 ms (tower-http)
//! curl -H 'accept-encoding: gzip' localhost:3000/report | gunzip | tail -1
//! ```
//!
//! The server needs nothing of tokio: magpie accepts the connections and hyper calls the
//! router. tower-http's timeout sleeps on tokio's timer, so the runtime is built with
//! `tokio_compat(true)` (docs/ecosystem.md). The routes are in `examples/ecosystem/src/axum_app.rs`,
//! which `examples/ecosystem/tests/axum.rs` serves too.

use magpie_ecosystem::{axum_app, serve_until_ctrl_c};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let runtime = magpie::Runtime::builder().tokio_compat(true).build()?;
    runtime.block_on(serve_until_ctrl_c(
        "axum on magpie",
        &addr,
        axum_app::app(axum_app::router()),
    ))
}

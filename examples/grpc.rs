//! gRPC with tonic on magpie: the service generated from
//! `examples/ecosystem/proto/greeter.proto` (at build time, with a protoc from crates.io)
//! served over HTTP/2 by magpie's hyper server, and called by tonic's generated client over
//! hyper-util's client on magpie. No tokio runtime and no `tokio_compat`: tonic's codegen is
//! tower and hyper, which magpie serves natively.
//!
//! ```sh
//! cargo run --release --example grpc                         # serves, calls itself, stops
//! cargo run --release --example grpc -- serve 127.0.0.1:50051  # serves until Ctrl-C
//! cargo run --release --example grpc -- call http://127.0.0.1:50051 Ada
//! grpcurl -plaintext -import-path examples/ecosystem/proto -proto greeter.proto \
//!     -d '{"from": 3, "interval_ms": 500}' 127.0.0.1:50051 greeter.Greeter/Countdown
//! ```
//!
//! The service is in `examples/ecosystem/src/grpc.rs`; `examples/ecosystem/tests/grpc.rs`
//! serves and calls it.

use futures_lite::StreamExt;
use magpie_ecosystem::grpc::proto::greeter_server::GreeterServer;
use magpie_ecosystem::grpc::proto::{CountdownRequest, HelloRequest};
use magpie_ecosystem::grpc::{self, Greetings};
use magpie_ecosystem::{serve_on_loopback, serve_until_ctrl_c};
use std::error::Error;
use std::time::Instant;

type BoxError = Box<dyn Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = magpie::Runtime::new()?;
    match args.first().map(String::as_str) {
        None => runtime.block_on(demo()),
        Some("serve") => {
            let addr = args.get(1).map_or("127.0.0.1:50051", String::as_str);
            runtime.block_on(serve(addr))
        }
        Some("call") => {
            let origin = args.get(1).map_or("http://127.0.0.1:50051", String::as_str);
            let name = args.get(2).map_or("magpie", String::as_str);
            runtime.block_on(call(origin, name))
        }
        Some(other) => Err(format!(
            "unknown command `{other}`: expected no argument, `serve [ADDR]` or \
             `call [ORIGIN] [NAME]`"
        )
        .into()),
    }
}

/// Serves on an ephemeral loopback port, calls it, stops it.
async fn demo() -> Result<(), BoxError> {
    let server = serve_on_loopback(grpc::app(GreeterServer::new(Greetings::default()))).await;
    println!("gRPC server on {}", server.base);
    call(&server.base, "asyncio").await?;
    let stats = server.stop().await;
    println!(
        "stopped: {} connection, {} calls",
        stats.connections, stats.requests
    );
    Ok(())
}

/// Serves until Ctrl-C.
async fn serve(addr: &str) -> Result<(), BoxError> {
    let service = GreeterServer::new(Greetings::default());
    serve_until_ctrl_c("gRPC server", addr, grpc::app(service)).await?;
    Ok(())
}

/// A unary call, a countdown streamed tick by tick, and a call the server refuses.
async fn call(origin: &str, name: &str) -> Result<(), BoxError> {
    let mut client = grpc::client(origin.parse()?);
    let reply = client
        .say_hello(HelloRequest {
            name: name.to_owned(),
        })
        .await?;
    println!("SayHello({name:?}) -> {:?}", reply.into_inner().message);

    let started = Instant::now();
    let mut ticks = client
        .countdown(CountdownRequest {
            from: 3,
            interval_ms: 200,
        })
        .await?
        .into_inner();
    while let Some(tick) = ticks.next().await {
        println!(
            "Countdown: {} at {:>4} ms",
            tick?.remaining,
            started.elapsed().as_millis()
        );
    }

    let refused = client
        .say_hello(HelloRequest {
            name: String::new(),
        })
        .await
        .expect_err("an empty name is refused");
    println!(
        "SayHello(\"\") -> {:?}: {}",
        refused.code(),
        refused.message()
    );
    Ok(())
}

//! tonic on magpie (`examples/grpc.rs`'s service, `examples/ecosystem/src/grpc.rs`): the
//! generated server served by magpie's hyper server over HTTP/2 and called over real
//! loopback connections, by tonic's generated client on hyper-util's client on magpie (no
//! tokio context anywhere: the first tests check there is none) and by tonic's own
//! tokio-based `Channel` under `tokio_compat(true)`; unary and server-streaming calls, error
//! statuses, and a stream the client drops ending on the server.

use futures_lite::StreamExt;
use magpie_ecosystem::grpc::proto::greeter_client::GreeterClient;
use magpie_ecosystem::grpc::proto::greeter_server::GreeterServer;
use magpie_ecosystem::grpc::proto::{CountdownRequest, HelloRequest};
use magpie_ecosystem::grpc::{self, Greetings};
use magpie_ecosystem::{panic_message, run_test, serve_on_loopback, Running};
use std::time::{Duration, Instant};
use tonic::Code;

/// Serves a fresh [`Greetings`] on loopback; returns the server and the service's handle.
async fn serve() -> (Running, Greetings) {
    let greetings = Greetings::default();
    let running = serve_on_loopback(grpc::app(GreeterServer::new(greetings.clone()))).await;
    (running, greetings)
}

fn hello(name: &str) -> HelloRequest {
    HelloRequest {
        name: name.to_owned(),
    }
}

#[test]
fn unary_calls_on_magpie_alone() {
    run_test("unary_calls_on_magpie_alone", false, async {
        // Nothing of tokio is running: the service and the client are magpie and hyper only.
        assert!(tokio::runtime::Handle::try_current().is_err());
        let (server, _) = serve().await;
        let mut client = grpc::client(server.base.parse().unwrap());

        let reply = client.say_hello(hello("magpie")).await.unwrap();
        assert_eq!(reply.into_inner().message, "Hello, magpie!");

        // 20 concurrent calls, each from its own magpie task, as streams of one connection.
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let mut client = client.clone();
                magpie::spawn(async move {
                    assert!(tokio::runtime::Handle::try_current().is_err());
                    client.say_hello(hello(&format!("task {i}"))).await
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let reply = call.await.unwrap().unwrap();
            assert_eq!(reply.into_inner().message, format!("Hello, task {i}!"));
        }

        // Bad input is a gRPC status that names the problem.
        let empty = client.say_hello(hello("")).await.unwrap_err();
        assert_eq!(empty.code(), Code::InvalidArgument);
        assert_eq!(empty.message(), "SayHello: the name is empty");

        drop(client);
        let stats = server.stop().await;
        assert_eq!(stats.requests, 22);
        assert_eq!(stats.cut_off, 0);
    });
}

#[test]
fn a_server_stream_arrives_in_order_and_on_time() {
    run_test(
        "a_server_stream_arrives_in_order_and_on_time",
        false,
        async {
            let (server, greetings) = serve().await;
            let mut client = grpc::client(server.base.parse().unwrap());

            let interval = Duration::from_millis(30);
            let started = Instant::now();
            let mut ticks = client
                .countdown(CountdownRequest {
                    from: 5,
                    interval_ms: 30,
                })
                .await
                .unwrap()
                .into_inner();
            let mut seen = Vec::new();
            let mut arrived = Vec::new();
            while let Some(tick) = ticks.next().await {
                seen.push(tick.unwrap().remaining);
                arrived.push(started.elapsed());
            }
            assert_eq!(seen, [5, 4, 3, 2, 1]);
            // Never early: four sleeps of the interval separate the first tick from the last.
            assert!(
                arrived[4] - arrived[0] >= interval * 4,
                "ticks arrived at {arrived:?}, less than 4 × {interval:?} apart"
            );
            assert_eq!(
                greetings.open_streams(),
                0,
                "the finished stream was dropped"
            );

            // Limits: a status before any tick.
            let too_long = client
                .countdown(CountdownRequest {
                    from: grpc::MAX_COUNTDOWN + 1,
                    interval_ms: 1,
                })
                .await
                .unwrap_err();
            assert_eq!(too_long.code(), Code::InvalidArgument);
            assert!(too_long.message().contains("from = 10001"), "{too_long}");

            drop(client);
            assert_eq!(server.stop().await.cut_off, 0);
        },
    );
}

#[test]
fn a_stream_the_client_drops_ends_on_the_server() {
    run_test(
        "a_stream_the_client_drops_ends_on_the_server",
        false,
        async {
            let (server, greetings) = serve().await;
            let mut client = grpc::client(server.base.parse().unwrap());
            let mut ticks = client
                .countdown(CountdownRequest {
                    from: grpc::MAX_COUNTDOWN,
                    interval_ms: 10,
                })
                .await
                .unwrap()
                .into_inner();
            for expected in [10_000, 9_999, 9_998] {
                assert_eq!(ticks.next().await.unwrap().unwrap().remaining, expected);
            }
            assert_eq!(greetings.open_streams(), 1);

            // The client goes: hyper resets the HTTP/2 stream, and the server drops the countdown
            // (and the sleep it waits in) instead of ticking on for 100 s.
            drop(ticks);
            let deadline = Instant::now() + Duration::from_secs(10);
            while greetings.open_streams() != 0 {
                assert!(
                    Instant::now() < deadline,
                    "the server still streams 10 s after the client dropped its end"
                );
                magpie::time::sleep(Duration::from_millis(5)).await;
            }

            // The connection and the server carry on.
            let reply = client.say_hello(hello("again")).await.unwrap();
            assert_eq!(reply.into_inner().message, "Hello, again!");
            drop(client);
            assert_eq!(server.stop().await.cut_off, 0);
        },
    );
}

#[test]
fn tonics_own_channel_works_under_tokio_compat() {
    run_test("tonics_own_channel_works_under_tokio_compat", true, async {
        let (server, _) = serve().await;
        let base = server.base.clone();
        // tonic's transport: tokio's TcpStream, a tokio::spawn'ed buffer worker.
        let channel = tonic::transport::Endpoint::from_shared(base)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = GreeterClient::new(channel);
        let reply = client.say_hello(hello("channel")).await.unwrap();
        assert_eq!(reply.into_inner().message, "Hello, channel!");
        let ticks: Vec<u32> = client
            .countdown(CountdownRequest {
                from: 3,
                interval_ms: 1,
            })
            .await
            .unwrap()
            .into_inner()
            .map(|tick| tick.unwrap().remaining)
            .collect()
            .await;
        assert_eq!(ticks, [3, 2, 1]);
        drop(client);
        server.stop().await;
    });
}

#[test]
fn tonics_own_channel_without_tokio_compat_fails_naming_tokio() {
    run_test(
        "tonics_own_channel_without_tokio_compat_fails_naming_tokio",
        false,
        async {
            let (server, _) = serve().await;
            let base = server.base.clone();
            // As a new user would: it compiles, then panics inside the task that connects.
            let connect = magpie::spawn(async move {
                let endpoint = tonic::transport::Endpoint::from_shared(base).unwrap();
                endpoint.connect().await.map(drop)
            });
            let message = panic_message(connect.await.unwrap_err());
            assert!(
                message.contains("Tokio 1.x runtime") || message.contains("no reactor running"),
                "{message}"
            );
            server.stop().await;
        },
    );
}

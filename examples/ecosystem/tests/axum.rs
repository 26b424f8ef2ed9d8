//! axum on magpie (`examples/axum.rs`'s router, `examples/ecosystem/src/axum_app.rs`): served by
//! magpie's hyper server on a runtime with `tokio_compat(true)`, answered over real
//! loopback connections by the in-repo hyper client: every route, 20 concurrent requests,
//! tower-http's timeout (tokio's timer, driven by the compat side) cutting off a slow one,
//! and a graceful stop; tower-http's gzip compression (asked for through reqwest) and its
//! trace layer.

use hyper::StatusCode;
use magpie_ecosystem::{axum_app, test_runtime};
use magpie_examples::web_servers::{client, get, post_json};
use std::time::Duration;

#[test]
fn an_axum_router_is_served_by_magpie() {
    test_runtime(true).block_on(async {
        let server = axum_app::serve_on_loopback().await;
        let base = server.base.clone();
        let http = client();

        let hello = get(&http, &format!("{base}/")).await.unwrap();
        assert_eq!(hello.status, StatusCode::OK);
        assert_eq!(hello.body, "Hello from axum, served by magpie\n");

        let user = get(&http, &format!("{base}/users/7")).await.unwrap();
        assert_eq!(user.status, StatusCode::OK);
        assert_eq!(user.content_type.as_deref(), Some("application/json"));
        let user: serde_json::Value = serde_json::from_str(&user.body).unwrap();
        assert_eq!(user, serde_json::json!({"id": 7, "name": "user-7"}));

        let echoed = post_json(&http, &format!("{base}/echo"), r#"{"a":[1,2,3]}"#)
            .await
            .unwrap();
        assert_eq!(echoed.status, StatusCode::OK);
        assert_eq!(echoed.body, r#"{"a":[1,2,3]}"#);

        let bad = post_json(&http, &format!("{base}/echo"), "{not json")
            .await
            .unwrap();
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        let missing = get(&http, &format!("{base}/nowhere")).await.unwrap();
        assert_eq!(missing.status, StatusCode::NOT_FOUND);

        // 20 concurrent requests, each adding a note to the shared state.
        let adds: Vec<_> = (0..20)
            .map(|i| {
                let (http, url) = (http.clone(), format!("{base}/notes"));
                magpie::spawn(async move {
                    post_json(&http, &url, &format!("note {i}"))
                        .await
                        .unwrap()
                        .status
                })
            })
            .collect();
        for add in adds {
            assert_eq!(add.await.unwrap(), StatusCode::CREATED);
        }
        let notes = get(&http, &format!("{base}/notes")).await.unwrap();
        let notes: Vec<String> = serde_json::from_str(&notes.body).unwrap();
        assert_eq!(notes.len(), 20);

        // Within the timeout: answered; past it: tower-http's 408, on tokio's timer.
        let quick = get(&http, &format!("{base}/slow?ms=10")).await.unwrap();
        assert_eq!(quick.body, "slept 10 ms\n");
        let started = std::time::Instant::now();
        let cut = get(&http, &format!("{base}/slow?ms=60000")).await.unwrap();
        assert_eq!(cut.status, StatusCode::REQUEST_TIMEOUT);
        assert!(started.elapsed() >= axum_app::TIMEOUT);
        assert!(started.elapsed() < Duration::from_secs(30));

        let stats = server.stop().await;
        assert_eq!(stats.requests, 28, "{stats:?}");
    });
}

#[test]
fn tower_http_compression_and_trace_layers_run_on_magpie() {
    test_runtime(true).block_on(async {
        let server = axum_app::serve_on_loopback().await;
        let base = server.base.clone();
        let traced_before = axum_app::traced_responses();
        // reqwest without its gzip feature: the header is ours, the bytes arrive as sent.
        let http = reqwest::Client::new();
        let plain = http.get(format!("{base}/report")).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.unwrap();
        assert_eq!(
            plain.iter().filter(|&&b| b == b'\n').count(),
            axum_app::REPORT_LINES
        );

        let gzipped = http
            .get(format!("{base}/report"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        let gzipped = gzipped.bytes().await.unwrap();
        assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "gzip's magic bytes");
        assert!(
            gzipped.len() * 5 < plain.len(),
            "{} bytes compressed to {}",
            plain.len(),
            gzipped.len()
        );
        // The trace layer saw both responses (other tests may add theirs meanwhile).
        assert!(axum_app::traced_responses() >= traced_before + 2);
        server.stop().await;
    });
}

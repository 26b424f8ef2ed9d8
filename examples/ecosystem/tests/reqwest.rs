//! reqwest, a client that calls tokio directly (its connector uses `tokio::net`, its pool
//! `tokio::spawn`s connection tasks, its timeouts sleep on `tokio::time`), from magpie tasks:
//! under `tokio_compat(true)` it works against an axum server served by magpie; without the
//! setting it fails the way a new user sees it, with tokio's "no reactor running" panic in
//! the task, which `docs/ecosystem.md` names with its fix.

use magpie_ecosystem::axum_app;
use magpie_ecosystem::{serve_on_loopback, Running};
use std::time::Duration;

#[test]
fn reqwest_works_from_magpie_tasks_under_tokio_compat() {
    let rt = magpie::Runtime::builder()
        .worker_threads(2)
        .tokio_compat(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let Running {
            base, stop, server, ..
        } = serve_on_loopback(axum_app::app(axum_app::router())).await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        // 20 concurrent GETs, each from its own magpie task.
        let gets: Vec<_> = (0..20u64)
            .map(|id| {
                let (http, url) = (http.clone(), format!("{base}/users/{id}"));
                magpie::spawn(async move {
                    let user: serde_json::Value =
                        http.get(url).send().await.unwrap().json().await.unwrap();
                    user
                })
            })
            .collect();
        for (id, get) in gets.into_iter().enumerate() {
            let user = get.await.unwrap();
            assert_eq!(user["id"], id as u64);
            assert_eq!(user["name"], format!("user-{id}"));
        }
        // A JSON POST, and reqwest's own timeout (tokio's timer) against a slow route.
        let echoed: serde_json::Value = http
            .post(format!("{base}/echo"))
            .json(&serde_json::json!({"hello": "magpie"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echoed["hello"], "magpie");
        let timed_out = http
            .get(format!("{base}/slow?ms=400"))
            .timeout(Duration::from_millis(50))
            .send()
            .await
            .unwrap_err();
        assert!(timed_out.is_timeout(), "{timed_out}");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn reqwest_without_tokio_compat_panics_with_no_reactor_running() {
    let rt = magpie::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap();
    let message = rt.block_on(async {
        let Running {
            base, stop, server, ..
        } = serve_on_loopback(axum_app::app(axum_app::router())).await;
        let failed = magpie::spawn(async move {
            let http = reqwest::Client::new();
            let _ = http.get(format!("{base}/")).send().await;
        })
        .await
        .unwrap_err();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(failed.is_panic());
        let payload = failed.into_panic();
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    });
    assert!(
        message.contains("no reactor running"),
        "reqwest without tokio_compat: {message}"
    );
}

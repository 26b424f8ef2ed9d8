//! reqwest, a client that calls tokio directly (its connector uses `tokio::net`, its pool
//! `tokio::spawn`s connection tasks, its timeouts sleep on `tokio::time`), from magpie tasks:
//! under `tokio_compat(true)` it works against an axum server served by magpie; without the
//! setting it fails the way a new user sees it, with tokio's "no reactor running" panic in
//! the task, which `docs/ecosystem.md` names with its fix.

use magpie_ecosystem::{axum_app, panic_message, test_runtime};
use std::time::Duration;

#[test]
fn reqwest_works_from_magpie_tasks_under_tokio_compat() {
    test_runtime(true).block_on(async {
        let server = axum_app::serve_on_loopback().await;
        let base = server.base.clone();
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
        server.stop().await;
    });
}

#[test]
fn reqwest_without_tokio_compat_panics_with_no_reactor_running() {
    let message = test_runtime(false).block_on(async {
        let server = axum_app::serve_on_loopback().await;
        let base = server.base.clone();
        let failed = magpie::spawn(async move {
            let http = reqwest::Client::new();
            let _ = http.get(format!("{base}/")).send().await;
        })
        .await
        .unwrap_err();
        server.stop().await;
        panic_message(failed)
    });
    assert!(
        message.contains("no reactor running"),
        "reqwest without tokio_compat: {message}"
    );
}

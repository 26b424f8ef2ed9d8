//! The feature `tracing`: task spawn and finish, and slow-poll reports without a hook, as
//! `tracing` events. Run with `cargo test -p magpie --features tracing --test tracing_events`
//! (`.ci/run` does).
#![cfg(feature = "tracing")]

mod common;

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Keeps every event as `target: message {field=value, ...}`.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("{}:", event.metadata().target()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn spawns_finishes_and_slow_polls_are_tracing_events() {
    let collect = Collect::default();
    tracing::subscriber::set_global_default(collect.clone()).unwrap();
    common::guard("tracing", || {
        let rt = magpie::Runtime::builder()
            .worker_threads(2)
            .slow_poll_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        rt.block_on(async {
            magpie::task::Builder::new()
                .name("traced")
                .spawn(async { std::thread::sleep(Duration::from_millis(200)) })
                .unwrap()
                .await
                .unwrap();
        });
        // The finished report comes at the monitor's next look.
        std::thread::sleep(Duration::from_millis(100));
    });
    let events = collect.0.lock().unwrap().clone();
    let has = |target: &str, words: &[&str]| {
        events
            .iter()
            .any(|e| e.starts_with(target) && words.iter().all(|w| e.contains(w)))
    };
    assert!(
        has("magpie::task:", &["task spawned", "\"traced\""]),
        "{events:#?}"
    );
    assert!(
        has("magpie::task:", &["task finished", "completed"]),
        "{events:#?}"
    );
    assert!(
        has("magpie::slow_poll:", &["finished=false", "\"traced\""]),
        "{events:#?}"
    );
    assert!(has("magpie::slow_poll:", &["finished=true"]), "{events:#?}");
}

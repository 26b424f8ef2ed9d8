//! The timeline: a mixed workload recorded, written as Chrome Trace Event JSON, loaded back
//! and checked (balanced spans on every track, one track per worker thread).

mod common;

use common::guard;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn recorded_workload() -> String {
    let rt = magpie::Runtime::builder()
        .worker_threads(2)
        .timeline(100_000)
        .build()
        .unwrap();
    rt.block_on(async {
        let named = magpie::task::Builder::new()
            .name("napper \"quoted\"")
            .spawn(async {
                for _ in 0..3 {
                    magpie::time::sleep(Duration::from_millis(2)).await;
                }
            })
            .unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|_| magpie::spawn(async { magpie::task::yield_now().await }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        magpie::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)))
            .await
            .unwrap();
        named.await.unwrap();
    });
    let trace = rt.handle().timeline().expect("the timeline is on");
    assert!(trace.len() > 100, "{} events", trace.len());
    assert_eq!(trace.lost(), 0);
    let names: Vec<_> = trace.track_names().collect();
    assert!(names.starts_with(&["worker 0", "worker 1"]), "{names:?}");
    assert!(names.contains(&"blocking 0"), "{names:?}");
    trace.to_chrome_json()
}

#[test]
fn the_trace_loads_back_with_balanced_spans_and_a_track_per_worker() {
    guard("timeline", || {
        let json = recorded_workload();
        let doc: Value = serde_json::from_str(&json).expect("valid JSON");
        let events = doc["traceEvents"].as_array().expect("traceEvents");
        let mut thread_names = BTreeMap::new();
        let mut open: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut last_ts: BTreeMap<i64, f64> = BTreeMap::new();
        let mut span_names = BTreeSet::new();
        let mut named_polls = 0;
        for e in events {
            let tid = e["tid"].as_i64().expect("tid");
            let name = e["name"].as_str().expect("name").to_owned();
            match e["ph"].as_str().expect("ph") {
                "M" => {
                    if name == "thread_name" {
                        thread_names.insert(tid, e["args"]["name"].as_str().unwrap().to_owned());
                    }
                    continue;
                }
                "B" => {
                    if e["args"]["name"] == "napper \"quoted\"" {
                        named_polls += 1;
                    }
                    span_names.insert(name.clone());
                    open.entry(tid).or_default().push(name);
                }
                "E" => {
                    let begun = open.entry(tid).or_default().pop();
                    assert_eq!(
                        begun.as_deref(),
                        Some(name.as_str()),
                        "E without B on {tid}"
                    );
                }
                "i" => assert_eq!(name, "steal"),
                other => panic!("unexpected phase {other}"),
            }
            let ts = e["ts"].as_f64().expect("ts");
            let last = last_ts.entry(tid).or_insert(0.0);
            assert!(ts >= *last, "time goes back on track {tid}");
            *last = ts;
        }
        for (tid, stack) in &open {
            assert!(
                stack.is_empty(),
                "unbalanced spans on track {tid}: {stack:?}"
            );
        }
        assert_eq!(thread_names.get(&0).map(String::as_str), Some("worker 0"));
        assert_eq!(thread_names.get(&1).map(String::as_str), Some("worker 1"));
        let workers = thread_names
            .values()
            .filter(|n| n.starts_with("worker "))
            .count();
        assert_eq!(workers, 2, "one track per worker thread: {thread_names:?}");
        for span in ["poll", "park", "blocking"] {
            assert!(span_names.contains(span), "no {span} span: {span_names:?}");
        }
        assert!(
            named_polls >= 4,
            "the named task polled {named_polls} times"
        );
    });
}

#[test]
fn without_the_setting_there_is_no_timeline() {
    let rt = common::runtime(1);
    assert!(rt.handle().timeline().is_none());
}

#[test]
#[should_panic(expected = "at least 1 event per worker")]
fn a_zero_capacity_is_refused() {
    magpie::Runtime::builder().timeline(0);
}

//! Slow-poll reports: a poll that blocks its worker is named while it still runs, and once
//! more when it returns; quick polls are never reported.

mod common;

use common::{guard, wait_until};
use magpie::task::SlowPoll;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// A runtime whose slow-poll reports arrive on the returned channel.
fn reporting(workers: usize, threshold: Duration) -> (magpie::Runtime, mpsc::Receiver<SlowPoll>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = magpie::Runtime::builder()
        .worker_threads(workers)
        .slow_poll_threshold(threshold)
        .on_slow_poll(move |report| {
            let _ = tx.lock().unwrap().send(report.clone());
        })
        .build()
        .unwrap();
    (rt, rx)
}

#[test]
fn a_blocking_sleep_is_reported_before_it_returns_and_again_after() {
    for workers in [1, 2] {
        guard("slow poll", move || {
            let (rt, reports) = reporting(workers, Duration::from_millis(100));
            let returned = Arc::new(AtomicBool::new(false));
            let done = returned.clone();
            let line = line!() + 3;
            let task = magpie::task::Builder::new()
                .name("sleepy")
                .spawn_on(
                    async move {
                        std::thread::sleep(Duration::from_millis(400));
                        done.store(true, Ordering::SeqCst);
                    },
                    rt.handle(),
                )
                .unwrap();
            let first = reports.recv_timeout(LIMIT).expect("no report");
            assert!(
                !returned.load(Ordering::SeqCst),
                "the first report came after the poll returned"
            );
            assert!(!first.finished());
            assert_eq!(first.task_id(), task.id());
            assert_eq!(first.task_name(), Some("sleepy"));
            assert!(first.location().file().ends_with("slow_poll.rs"));
            assert_eq!(first.location().line(), line);
            assert!(first.worker().is_some_and(|w| w < workers));
            assert!(first.elapsed() >= Duration::from_millis(100), "{first:?}");
            assert_eq!(first.threshold(), Duration::from_millis(100));
            let text = first.to_string();
            assert!(
                text.contains("name='sleepy'") && text.contains("slow_poll.rs"),
                "{text}"
            );

            let mut last = first;
            while !last.finished() {
                last = reports.recv_timeout(LIMIT).expect("no finished report");
            }
            assert!(returned.load(Ordering::SeqCst));
            assert_eq!(last.task_id(), task.id());
            // The monitor measures from its first look at the poll, up to 10 ms late.
            assert!(last.elapsed() >= Duration::from_millis(300), "{last:?}");
            rt.block_on(task).unwrap();
            assert!(reports.try_recv().is_err(), "one poll, one finished report");
        });
    }
}

#[test]
fn a_long_block_is_reported_at_doubling_intervals_not_every_period() {
    guard("doubling", || {
        let (rt, reports) = reporting(2, Duration::from_millis(50));
        rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(900)) }))
            .unwrap();
        let mut all = Vec::new();
        while let Ok(r) = reports.recv_timeout(Duration::from_millis(500)) {
            all.push(r);
        }
        let running: Vec<_> = all.iter().filter(|r| !r.finished()).collect();
        // At 50, 100, 200, 400 and 800 ms: five (a late look may merge two on a slow VM).
        assert!(
            (3..=5).contains(&running.len()),
            "{} running reports: {all:?}",
            running.len()
        );
        for pair in running.windows(2) {
            assert!(pair[1].elapsed() >= pair[0].elapsed() * 2 - Duration::from_millis(1));
        }
        assert_eq!(all.iter().filter(|r| r.finished()).count(), 1);
    });
}

#[test]
fn quick_polls_are_never_reported() {
    guard("quick polls", || {
        // 200 ms: far above a quick poll, even one the OS preempts on a busy VM.
        let (rt, reports) = reporting(2, Duration::from_millis(200));
        rt.block_on(async {
            for _ in 0..20 {
                let tasks: Vec<_> = (0..500)
                    .map(|_| {
                        magpie::spawn(async {
                            magpie::task::yield_now().await;
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                magpie::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(reports.recv_timeout(Duration::from_millis(200)).is_err());
    });
}

#[test]
fn a_panicking_hook_is_contained_and_reports_go_on() {
    guard("panicking hook", || {
        let calls = Arc::new(Mutex::new(0));
        let counted = calls.clone();
        let rt = magpie::Runtime::builder()
            .worker_threads(2)
            .slow_poll_threshold(Duration::from_millis(30))
            .on_slow_poll(move |_| {
                *counted.lock().unwrap() += 1;
                panic!("{}: a hook that panics", common::EXPECTED);
            })
            .build()
            .unwrap();
        common::quiet_expected_panics();
        for _ in 0..2 {
            rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(100)) }))
                .unwrap();
        }
        wait_until("both polls reported", LIMIT, || *calls.lock().unwrap() >= 4);
        assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    });
}

#[test]
#[should_panic(expected = "slow_poll_threshold must be more than zero")]
fn a_zero_threshold_is_refused() {
    magpie::Runtime::builder().slow_poll_threshold(Duration::ZERO);
}

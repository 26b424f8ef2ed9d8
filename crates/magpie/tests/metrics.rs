//! `RuntimeMetrics`: the exact meaning of each counter, and its Prometheus exposition
//! (checked with the format's grammar by `support/prometheus.rs`).

mod common;
mod support;

use common::{busy_for, guard, runtime, wait_until};
use magpie::metrics::RuntimeMetrics;
use std::sync::mpsc;
use std::time::Duration;
use support::prometheus::{self, Kind};

const LIMIT: Duration = Duration::from_secs(10);

fn total_polls(m: &RuntimeMetrics) -> u64 {
    (0..m.num_workers()).map(|w| m.worker_poll_count(w)).sum()
}

#[test]
fn spawned_tasks_count_every_spawn_from_everywhere() {
    guard("spawn counts", || {
        let rt = runtime(2);
        let m = rt.metrics();
        assert_eq!(m.num_workers(), 2);
        assert_eq!(m.spawned_tasks_count(), 0);
        // 10 from outside, each spawning 3 from a worker, and 4 blocking closures.
        rt.block_on(async {
            let outer: Vec<_> = (0..10)
                .map(|_| {
                    magpie::spawn(async {
                        let inner: Vec<_> = (0..3).map(|_| magpie::spawn(async {})).collect();
                        for h in inner {
                            h.await.unwrap();
                        }
                    })
                })
                .collect();
            for h in outer {
                h.await.unwrap();
            }
            for _ in 0..4 {
                magpie::task::spawn_blocking(|| ()).await.unwrap();
            }
        });
        assert_eq!(m.spawned_tasks_count(), 10 + 30 + 4);
        // A spawn refused after shutdown counts too.
        let handle = rt.handle().clone();
        drop(rt);
        drop(handle.spawn(async {}));
        assert_eq!(m.spawned_tasks_count(), 10 + 30 + 4 + 1);
    });
}

#[test]
fn alive_tasks_follow_spawns_aborts_and_completions() {
    guard("alive tasks", || {
        let rt = runtime(2);
        let m = rt.metrics();
        let handles: Vec<_> = (0..5)
            .map(|_| rt.spawn(std::future::pending::<()>()))
            .collect();
        assert_eq!(m.num_alive_tasks(), 5);
        handles[0].abort();
        handles[1].abort();
        wait_until("two aborted tasks leave", LIMIT, || {
            m.num_alive_tasks() == 3
        });
        rt.block_on(rt.spawn(async {})).unwrap();
        assert_eq!(m.num_alive_tasks(), 3, "a finished task is not alive");
        drop(rt);
        assert_eq!(m.num_alive_tasks(), 0, "shutdown drops every task");
    });
}

#[test]
fn poll_count_is_exact_on_one_worker() {
    guard("poll count", || {
        let rt = runtime(1);
        let m = rt.metrics();
        rt.block_on(rt.spawn(async {
            for _ in 0..99 {
                magpie::task::yield_now().await;
            }
        }))
        .unwrap();
        assert_eq!(m.worker_poll_count(0), 100, "one poll plus one per yield");
        let tasks_polls = total_polls(&m);
        assert_eq!(tasks_polls, 100);
    });
}

#[test]
fn busy_duration_counts_a_spinning_task_and_not_idle_time() {
    guard("busy duration", || {
        let rt = runtime(1);
        let m = rt.metrics();
        rt.block_on(rt.spawn(async { busy_for(Duration::from_millis(200)) }))
            .unwrap();
        let after_spin = m.worker_total_busy_duration(0);
        assert!(
            after_spin >= Duration::from_millis(200),
            "{after_spin:?} after a 200 ms spin"
        );
        std::thread::sleep(Duration::from_millis(300));
        let after_idle = m.worker_total_busy_duration(0);
        assert!(after_idle >= after_spin, "busy time never goes back");
        assert!(
            after_idle - after_spin < Duration::from_millis(150),
            "300 ms of idling added {:?} of busy time",
            after_idle - after_spin
        );
    });
}

#[test]
fn parks_are_counted_each_time_the_worker_idles() {
    guard("parks", || {
        let rt = runtime(1);
        let m = rt.metrics();
        let before = m.worker_park_count(0);
        rt.block_on(async {
            for _ in 0..10 {
                magpie::spawn(magpie::time::sleep(Duration::from_millis(5)))
                    .await
                    .unwrap();
            }
        });
        let parks = m.worker_park_count(0) - before;
        assert!(
            parks >= 10,
            "10 sleeps with nothing else to do: {parks} parks"
        );
    });
}

#[test]
fn a_second_worker_steals_from_a_busy_one() {
    guard("steals", || {
        let rt = runtime(2);
        let m = rt.metrics();
        // Tasks queued on a worker while it spins: the other worker steals them, unless the
        // OS keeps it off the CPU the whole time; a few tries make that a non-event.
        for _ in 0..5 {
            rt.block_on(rt.spawn(async {
                let handles: Vec<_> = (0..64)
                    .map(|_| magpie::spawn(async { busy_for(Duration::from_millis(1)) }))
                    .collect();
                busy_for(Duration::from_millis(50));
                for h in handles {
                    h.await.unwrap();
                }
            }))
            .unwrap();
            if m.worker_steal_count(0) + m.worker_steal_count(1) > 0 {
                return;
            }
        }
        panic!("no steals in five tries");
    });
}

#[test]
fn queue_depths_show_queued_tasks() {
    guard("queue depths", || {
        let rt = runtime(1);
        let m = rt.metrics();
        // The one worker runs a task that spawns 10 and, still inside its poll, reads.
        let local = rt
            .block_on(rt.spawn(async {
                let m = magpie::Handle::current().metrics();
                let handles: Vec<_> = (0..10).map(|_| magpie::spawn(async {})).collect();
                let depth = m.worker_local_queue_depth(0);
                drop(handles);
                depth
            }))
            .unwrap();
        assert_eq!(local, 10, "nine in the deque and one in the LIFO slot");

        // The worker is held inside a poll; spawns from outside wait in the injector.
        let (release, released) = mpsc::channel::<()>();
        let (entered, is_entered) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            entered.send(()).unwrap();
            released.recv().unwrap();
        });
        is_entered.recv().unwrap();
        let queued: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
        assert_eq!(m.global_queue_depth(), 5);
        release.send(()).unwrap();
        rt.block_on(async {
            blocker.await.unwrap();
            for h in queued {
                h.await.unwrap();
            }
        });
        assert_eq!(m.global_queue_depth(), 0);
        assert_eq!(m.worker_local_queue_depth(0), 0);
    });
}

#[test]
fn blocking_pool_gauges() {
    guard("blocking gauges", || {
        let rt = magpie::Runtime::builder()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let m = rt.metrics();
        assert_eq!(m.num_blocking_threads(), 0);
        let (release, released) = mpsc::channel::<()>();
        let released = std::sync::Arc::new(std::sync::Mutex::new(released));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let released = released.clone();
                rt.spawn_blocking(move || released.lock().unwrap().recv().unwrap())
            })
            .collect();
        wait_until("one thread runs, two closures wait", LIMIT, || {
            m.num_blocking_threads() == 1 && m.blocking_queue_depth() == 2
        });
        assert_eq!(m.num_idle_blocking_threads(), 0);
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        wait_until("the thread idles", LIMIT, || {
            m.num_idle_blocking_threads() == 1
        });
        assert_eq!(m.blocking_queue_depth(), 0);
    });
}

#[test]
fn timers_registered_fired_and_pending() {
    guard("timer counts", || {
        let rt = runtime(2);
        let m = rt.metrics();
        let (registered, fired) = (m.timers_registered_count(), m.timers_fired_count());
        rt.block_on(async {
            // Long enough that no sleep is already due at its first poll (it would then
            // complete without a timer).
            for _ in 0..3 {
                magpie::time::sleep(Duration::from_millis(20)).await;
            }
            // Registered, never fired: the future wins first.
            let quick = magpie::time::timeout(Duration::from_secs(60), async {
                magpie::task::yield_now().await;
            });
            quick.await.unwrap();
        });
        assert_eq!(m.timers_registered_count() - registered, 4);
        assert_eq!(m.timers_fired_count() - fired, 3);
        assert_eq!(m.timers_pending(), 0);
        let sleeper = rt.spawn(magpie::time::sleep(Duration::from_secs(60)));
        wait_until("the long sleep is pending", LIMIT, || {
            m.timers_pending() == 1
        });
        sleeper.abort();
        wait_until("the aborted sleep is gone", LIMIT, || {
            m.timers_pending() == 0
        });
    });
}

#[test]
fn io_sources_and_events() {
    guard("I/O counts", || {
        let rt = runtime(2);
        let m = rt.metrics();
        assert_eq!(m.io_sources_registered(), 0);
        let events_before = m.io_ready_events_count();
        let sources_during = rt.block_on(async {
            use magpie::io::{AsyncReadExt, AsyncWriteExt};
            let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = magpie::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0; 4];
                s.read_exact(&mut buf).await.unwrap();
                // Listener, accepted stream and client are all registered now.
                let during = magpie::Handle::current().metrics().io_sources_registered();
                s.write_all(&buf).await.unwrap();
                during
            });
            let mut c = magpie::net::TcpStream::connect(addr).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            c.read_exact(&mut buf).await.unwrap();
            server.await.unwrap()
        });
        assert_eq!(sources_during, 3, "listener, accepted stream and client");
        assert!(m.io_ready_events_count() > events_before);
        assert!(m.io_driver_turns_count() > 0);
        wait_until("every socket deregistered", LIMIT, || {
            m.io_sources_registered() == 0
        });
    });
}

#[test]
fn the_poll_time_histogram_samples_polls_into_the_right_buckets() {
    guard("poll-time histogram", || {
        let rt = runtime(1);
        let m = rt.metrics();
        // 3,000 polls of about 300 µs (0.9 s): the gap between samples is at most 511 polls.
        rt.block_on(rt.spawn(async {
            for _ in 0..3000 {
                busy_for(Duration::from_micros(300));
                magpie::task::yield_now().await;
            }
        }))
        .unwrap();
        let h = m.worker_poll_time_histogram(0);
        let polls = m.worker_poll_count(0);
        assert!(
            h.count() >= 3000 / 511,
            "{} samples of {polls} polls",
            h.count()
        );
        assert!(h.count() <= polls);
        let slow: u64 = h
            .buckets()
            .filter(|(bound, _)| bound.is_none_or(|b| b >= Duration::from_micros(512)))
            .map(|(_, n)| n)
            .sum();
        assert!(
            slow * 2 >= h.count(),
            "most samples are 300 µs polls, in the bucket up to 512 µs or above: {h:?}"
        );
        assert!(h.sum() >= Duration::from_micros(300) * (h.count() as u32 / 2));
        assert_eq!(
            m.poll_time_histogram(),
            h,
            "one worker: the merge is its histogram"
        );
    });
}

#[test]
fn a_worker_index_out_of_range_names_the_range() {
    let rt = runtime(2);
    let m = rt.metrics();
    let message = common::expect_panic(|| m.worker_poll_count(2));
    assert!(
        message.contains("worker index 2 is out of range"),
        "{message}"
    );
    assert!(message.contains("2 workers"), "{message}");
}

#[test]
fn the_prometheus_text_follows_the_format_and_matches_the_counters() {
    guard("prometheus", || {
        let rt = runtime(2);
        let m = rt.metrics();
        rt.block_on(async {
            for _ in 0..20 {
                magpie::spawn(magpie::time::sleep(Duration::from_millis(1)))
                    .await
                    .unwrap();
            }
            magpie::task::spawn_blocking(|| ()).await.unwrap();
        });
        // Quiet now: nothing moves between the text and the reads below.
        wait_until("all workers parked", LIMIT, || {
            m.global_queue_depth() == 0 && m.num_alive_tasks() == 0
        });
        let text = m.to_prometheus();
        let exposition = prometheus::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        for family in &exposition.families {
            assert!(family.name.starts_with("magpie_"), "{}", family.name);
            assert!(family.help.is_some(), "{} has no HELP", family.name);
            assert_ne!(family.kind, Kind::Untyped, "{} has no TYPE", family.name);
            if family.kind == Kind::Counter {
                assert!(family.name.ends_with("_total"), "{}", family.name);
            }
        }
        assert_eq!(exposition.value("magpie_workers", &[]), Some(2.0));
        assert_eq!(
            exposition.value("magpie_spawned_tasks_total", &[]),
            Some(m.spawned_tasks_count() as f64)
        );
        assert_eq!(m.spawned_tasks_count(), 21);
        assert_eq!(exposition.value("magpie_alive_tasks", &[]), Some(0.0));
        for w in 0..2 {
            let worker = w.to_string();
            let labels = [("worker", worker.as_str())];
            assert_eq!(
                exposition.value("magpie_worker_polls_total", &labels),
                Some(m.worker_poll_count(w) as f64)
            );
            assert!(exposition
                .value("magpie_worker_busy_seconds_total", &labels)
                .is_some());
            let count = exposition
                .value("magpie_worker_poll_duration_seconds_count", &labels)
                .unwrap();
            let inf = exposition
                .value(
                    "magpie_worker_poll_duration_seconds_bucket",
                    &[("worker", worker.as_str()), ("le", "+Inf")],
                )
                .unwrap();
            assert_eq!(count, inf);
        }
        let histogram = exposition
            .family("magpie_worker_poll_duration_seconds")
            .unwrap();
        assert_eq!(histogram.kind, Kind::Histogram);
        // A spawned 1 ms sleep first polled more than 1 ms after it was made (a late
        // worker on a loaded machine) completes without a timer, so the count of timers
        // is not exactly 20; the text must match the counters, whatever they are.
        let fired = m.timers_fired_count();
        assert!((1..=20).contains(&fired), "{text}");
        assert_eq!(
            exposition.value("magpie_timers_fired_total", &[]),
            Some(fired as f64)
        );
        assert_eq!(
            exposition.value("magpie_timers_registered_total", &[]),
            Some(m.timers_registered_count() as f64)
        );
    });
}

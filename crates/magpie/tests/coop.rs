//! The cooperative budget (`magpie_shim::coop`): a task looping on an always-ready leaf
//! future (zero sleeps, timeouts that elapse at once, a lagging interval, a readable socket,
//! a datagram it only peeks at) does not starve the other tasks of its worker; the budget is
//! refilled at every poll of a task or of a `block_on` future, so 1,000 ready operations take
//! about 1,000 / 128 polls; a timeout fires even when its future spends the whole budget at
//! every poll; and outside magpie's budgeted polls (a plain thread, another executor, a
//! `spawn_blocking` closure) the leaves never return a `Pending` that nothing would resolve.

mod common;

use common::{guard, poll_noop, runtime, wait_until};
use magpie::io::AsyncWriteExt;
use magpie::net::UdpSocket;
#[cfg(unix)]
use magpie::net::UnixStream;
#[cfg(not(unix))]
use magpie::net::{TcpListener, TcpStream};
use magpie::time::{interval_at, sleep, timeout, Elapsed};
use magpie::Runtime;
use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Ready operations in the tests that count polls.
const OPS: usize = 1000;

/// Polls one budgeted poll needs for [`OPS`] ready operations is `ceil(1000 / 128) = 8`;
/// the tests accept a generous range around it.
const EXPECTED_POLLS: std::ops::RangeInclusive<usize> = 5..=20;

/// A connected pair of streams: a Unix socket pair on Unix, a loopback TCP connection
/// elsewhere (Windows has no `UnixStream`).
#[cfg(unix)]
async fn stream_pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().unwrap()
}

/// A connected pair of streams: a Unix socket pair on Unix, a loopback TCP connection
/// elsewhere (Windows has no `UnixStream`).
#[cfg(not(unix))]
async fn stream_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Runs `future`, counting how many times it was polled.
async fn count_polls<F: Future>(future: F) -> (F::Output, usize) {
    let mut future = pin!(future);
    let mut polls = 0;
    let output = poll_fn(|cx| {
        polls += 1;
        future.as_mut().poll(cx)
    })
    .await;
    (output, polls)
}

/// [`OPS`] sleeps whose deadline is already due.
async fn zero_sleeps() {
    for _ in 0..OPS {
        sleep(Duration::ZERO).await;
    }
}

/// Sets `flag` when run.
fn set(flag: &Arc<AtomicBool>) -> impl Future<Output = ()> + Send + 'static {
    let flag = flag.clone();
    async move { flag.store(true, SeqCst) }
}

/// Called by a looping future right before it starts looping for ever.
type Started = Box<dyn FnOnce() + Send>;

/// On a one-worker runtime, runs the endless loop `make_loop` builds, then checks that a
/// task spawned from inside the loop's task (into the worker's LIFO slot) and a task
/// spawned from outside (into the injector) both run, and that the looping task can be
/// aborted (an abort takes effect only when the task returns from a poll).
fn assert_does_not_starve_its_worker<L, F>(what: &'static str, make_loop: L)
where
    L: FnOnce(Started) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    guard(what, move || {
        let rt = runtime(1);
        let looping = Arc::new(AtomicBool::new(false));
        let local_ran = Arc::new(AtomicBool::new(false));
        let remote_ran = Arc::new(AtomicBool::new(false));
        let started: Started = {
            let (looping, local_ran) = (looping.clone(), local_ran.clone());
            Box::new(move || {
                drop(magpie::spawn(set(&local_ran)));
                looping.store(true, SeqCst);
            })
        };
        let looper = rt.spawn(make_loop(started));
        wait_until(
            &format!("{what}: the loop starts"),
            Duration::from_secs(10),
            || looping.load(SeqCst),
        );
        drop(rt.spawn(set(&remote_ran)));
        wait_until(
            &format!("{what}: the tasks beside the loop run"),
            Duration::from_secs(10),
            || local_ran.load(SeqCst) && remote_ran.load(SeqCst),
        );
        looper.abort();
        let joined = rt.block_on(looper);
        assert!(
            joined.as_ref().is_err_and(|e| e.is_cancelled()),
            "{what}: the looping task was not cancelled: {joined:?}"
        );
    });
}

#[test]
fn a_loop_of_zero_sleeps_does_not_starve_its_worker() {
    assert_does_not_starve_its_worker("zero sleeps", |started| async move {
        started();
        loop {
            sleep(Duration::ZERO).await;
        }
    });
}

#[test]
fn a_loop_of_timeouts_that_elapse_at_once_does_not_starve_its_worker() {
    assert_does_not_starve_its_worker("elapsed timeouts", |started| async move {
        started();
        loop {
            let elapsed = timeout(Duration::ZERO, pending::<()>()).await;
            assert_eq!(elapsed, Err(Elapsed));
        }
    });
}

#[test]
fn a_lagging_interval_does_not_starve_its_worker() {
    assert_does_not_starve_its_worker("lagging interval", |started| async move {
        // A tick every nanosecond since a second ago, bursting to catch up: a billion ticks
        // due at once, each a few times slower than a nanosecond to take.
        let start = magpie::time::Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("the monotonic clock is more than a second old");
        let mut every = interval_at(start, Duration::from_nanos(1));
        started();
        loop {
            every.tick().await;
        }
    });
}

#[test]
fn a_loop_waiting_for_a_readable_socket_does_not_starve_its_worker() {
    assert_does_not_starve_its_worker("readable socket", |started| async move {
        let (reader, writer) = stream_pair().await;
        (&writer).write_all(b"never consumed").await.unwrap();
        reader.readable().await.unwrap();
        started();
        loop {
            reader.readable().await.unwrap();
        }
    });
}

#[test]
fn a_loop_peeking_at_a_datagram_does_not_starve_its_worker() {
    assert_does_not_starve_its_worker("peeked datagram", |started| async move {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = receiver.local_addr().unwrap();
        sender.send_to(b"never consumed", to).await.unwrap();
        let mut buf = [0; 64];
        receiver.peek_from(&mut buf).await.unwrap();
        started();
        loop {
            receiver.peek_from(&mut buf).await.unwrap();
        }
    });
}

#[test]
fn the_budget_is_refilled_at_every_poll_of_a_task() {
    guard("budget per task poll", || {
        let rt = runtime(1);
        let ((), polls) = rt.block_on(rt.spawn(count_polls(zero_sleeps()))).unwrap();
        assert!(
            EXPECTED_POLLS.contains(&polls),
            "{OPS} zero sleeps took {polls} polls of their task"
        );
    });
}

#[test]
fn the_budget_is_refilled_at_every_poll_of_a_block_on_future() {
    guard("budget per block_on poll", || {
        let rt = runtime(1);
        let ((), polls) = rt.block_on(count_polls(zero_sleeps()));
        assert!(
            EXPECTED_POLLS.contains(&polls),
            "{OPS} zero sleeps took {polls} polls of block_on's future"
        );
    });
}

/// Spawns [`OPS`] empty tasks and waits until every one has finished.
fn finished_tasks(rt: &Runtime) -> Vec<magpie::JoinHandle<()>> {
    let handles: Vec<_> = (0..OPS).map(|_| rt.spawn(async {})).collect();
    wait_until("the empty tasks finish", Duration::from_secs(10), || {
        handles.iter().all(|h| h.is_finished())
    });
    handles
}

async fn join_all(handles: Vec<magpie::JoinHandle<()>>) {
    for handle in handles {
        handle.await.unwrap();
    }
}

#[test]
fn joining_finished_tasks_spends_the_budget() {
    guard("budget of join handles", || {
        let rt = runtime(1);
        let handles = finished_tasks(&rt);
        let ((), polls) = rt.block_on(count_polls(join_all(handles)));
        assert!(
            EXPECTED_POLLS.contains(&polls),
            "joining {OPS} finished tasks took {polls} polls"
        );
    });
}

#[test]
fn a_timeout_fires_even_when_its_future_spends_the_whole_budget_at_every_poll() {
    guard("timeout around a budget hog", || {
        let rt = runtime(1);
        let started = Instant::now();
        let result = rt.block_on(timeout(Duration::from_millis(20), async {
            loop {
                sleep(Duration::ZERO).await;
            }
        }));
        assert_eq!(result, Err(Elapsed));
        assert!(started.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn leaves_polled_on_a_plain_thread_never_yield_for_the_budget() {
    guard("leaves outside magpie", || {
        let rt = runtime(1);
        let handles = finished_tasks(&rt);
        // Sockets with data the reactor has already reported, so readiness is set.
        let (reader, _writer, receiver, _sender) = rt.block_on(async {
            let (reader, writer) = stream_pair().await;
            (&writer).write_all(b"never consumed").await.unwrap();
            reader.readable().await.unwrap();
            let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let to = receiver.local_addr().unwrap();
            sender.send_to(b"never consumed", to).await.unwrap();
            receiver.peek_from(&mut [0; 64]).await.unwrap();
            (reader, writer, receiver, sender)
        });
        // One poll, by hand, with a waker that does nothing: any `Pending` would be final.
        let mut all_ready = Box::pin(async {
            for _ in 0..OPS {
                reader.readable().await.unwrap();
            }
            let mut buf = [0; 64];
            for _ in 0..OPS {
                receiver.peek_from(&mut buf).await.unwrap();
            }
            join_all(handles).await;
        });
        assert!(
            poll_noop(&mut all_ready).is_ready(),
            "a leaf future returned Pending outside any budgeted poll"
        );
    });
}

#[test]
fn a_spawn_blocking_closure_runs_without_a_budget_and_a_block_on_inside_restores_it() {
    guard("leaves in spawn_blocking", || {
        let rt = runtime(1);
        let (outer, nested, after) = rt
            .block_on(rt.spawn_blocking(|| {
                // Another executor: it never refills a budget, so none may be in force.
                let ((), outer) = futures_lite::future::block_on(count_polls(zero_sleeps()));
                // A magpie `block_on` gives each of its polls a budget...
                let ((), nested) = magpie::Handle::current().block_on(count_polls(zero_sleeps()));
                // ...and leaves the closure unconstrained again.
                let ((), after) = futures_lite::future::block_on(count_polls(zero_sleeps()));
                (outer, nested, after)
            }))
            .unwrap();
        assert_eq!(outer, 1, "zero sleeps yielded in a spawn_blocking closure");
        assert!(
            EXPECTED_POLLS.contains(&nested),
            "{OPS} zero sleeps took {nested} polls of a block_on inside spawn_blocking"
        );
        assert_eq!(after, 1, "block_on left its budget in the blocking closure");
    });
}

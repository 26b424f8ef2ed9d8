//! `join!`, `try_join!`, `select!`, `join_all` and `try_join_all`: outputs and their order,
//! concurrency inside one task, fail-fast drops, branch order and disabling, and how many
//! polls a join of 10,000 futures costs.

mod common;

use common::{
    counter, expect_panic, pending_forever, quiet_expected_panics, run_on, runtime, Tally, EXPECTED,
};
use futures_channel::{mpsc as async_mpsc, oneshot};
use futures_lite::StreamExt;
use magpie::time::sleep;
use magpie_shim::coop;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Wraps `future` so that every poll of it counts in `polls`.
async fn counting_polls<F: Future>(polls: Arc<AtomicUsize>, future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| {
        polls.fetch_add(1, SeqCst);
        future.as_mut().poll(cx)
    })
    .await
}

// ---- join! -------------------------------------------------------------------------------

#[test]
fn join_returns_every_output_in_the_order_written() {
    run_on("join order", 1, async {
        let (a, b, c) = magpie::join!(
            async {
                sleep(Duration::from_millis(30)).await;
                1u8
            },
            async { "two" },
            async {
                sleep(Duration::from_millis(10)).await;
                3.0f64
            },
        );
        assert_eq!((a, b, c), (1, "two", 3.0));

        let (only,) = magpie::join!(async { 7 });
        assert_eq!(only, 7);
    });
}

#[test]
fn join_polls_its_futures_concurrently_so_one_can_wait_for_a_later_one() {
    // Sequential polling would deadlock: the first future waits for the second to send.
    run_on("join: first waits for second", 1, async {
        let (tx, rx) = oneshot::channel::<u32>();
        let (received, ()) = magpie::join!(async { rx.await.unwrap() + 1 }, async {
            magpie::task::yield_now().await;
            tx.send(41).unwrap();
        });
        assert_eq!(received, 42);
    });
}

#[test]
fn join_takes_about_the_longest_future_not_the_sum() {
    let elapsed = run_on("join timing", 1, async {
        let started = Instant::now();
        magpie::join!(
            sleep(Duration::from_millis(300)),
            sleep(Duration::from_millis(300)),
            sleep(Duration::from_millis(300)),
        );
        started.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(300),
        "woke early: {elapsed:?}"
    );
    // The sum would be 900 ms; leave a wide margin for a loaded machine.
    assert!(
        elapsed < Duration::from_millis(850),
        "ran one after another: {elapsed:?}"
    );
}

#[test]
fn join_accepts_into_future_values_and_mut_references() {
    run_on("join IntoFuture", 2, async {
        let mut handle = magpie::spawn(async { 5 });
        let ready = std::future::ready("ready");
        let (joined, value) = magpie::join!(&mut handle, ready);
        assert_eq!(joined.unwrap(), 5);
        assert_eq!(value, "ready");
        // The handle was borrowed, not moved: it is still ours (and finished).
        assert!(handle.is_finished());
    });
}

#[test]
fn join_drops_each_future_as_soon_as_it_completes() {
    run_on("join drops early", 1, async {
        let tally = Tally::new();
        let guard = tally.guard();
        let (tx, rx) = oneshot::channel::<()>();
        let observed = tally.clone();
        magpie::join!(
            async move {
                let _guard = guard;
            },
            async move {
                rx.await.unwrap();
                // The first future completed on the first poll; it must be gone by now.
                observed.assert_all_dropped("the completed future of a join!");
            },
            async move {
                magpie::task::yield_now().await;
                tx.send(()).unwrap();
            },
        );
    });
}

/// A leaf operation that is always ready but, like magpie's own leaves, spends one unit of
/// the task's cooperative budget (and says `Pending` once the budget is spent).
async fn budgeted_ready() {
    poll_fn(|cx| {
        let spent = std::task::ready!(coop::poll_proceed(cx));
        spent.made_progress();
        Poll::Ready(())
    })
    .await
}

#[test]
fn join_rotates_so_a_future_that_is_always_ready_cannot_starve_another() {
    // `spinner` never waits for anything, so every poll of it ends with the task's budget
    // spent. If the join always polled it first, `stopper` would never get budget (a hang).
    // Each poll of the join gets a fresh budget, as a poll of a task does.
    run_on("join fairness", 1, async {
        let stop = Arc::new(AtomicBool::new(false));
        let spinning = stop.clone();
        let spinner = async move {
            let mut spins = 0u64;
            while !spinning.load(SeqCst) {
                budgeted_ready().await;
                spins += 1;
            }
            spins
        };
        let stopper = async move {
            budgeted_ready().await;
            stop.store(true, SeqCst);
        };
        let mut joined = pin!(async { magpie::join!(spinner, stopper) });
        let (spins, ()) = poll_fn(|cx| coop::with_budget(|| joined.as_mut().poll(cx))).await;
        assert!(spins >= coop::BUDGET as u64, "spins: {spins}");
    });
}

// ---- try_join! -----------------------------------------------------------------------------

#[test]
fn try_join_returns_every_ok_value_in_order() {
    run_on("try_join ok", 1, async {
        let result: Result<(u8, &str), String> = magpie::try_join!(
            async {
                sleep(Duration::from_millis(10)).await;
                Ok(1)
            },
            async { Ok("two") },
        );
        assert_eq!(result, Ok((1, "two")));
    });
}

#[test]
fn try_join_fails_fast_and_drops_the_other_futures_at_once() {
    run_on("try_join fail fast", 1, async {
        let tally = Tally::new();
        let polls = counter();
        let (g1, g2) = (tally.guard(), tally.guard());
        let p1 = polls.clone();
        let started = Instant::now();
        let result: Result<((), ()), &str> = magpie::try_join!(
            async move {
                let _g = g1;
                pending_forever(p1).await;
                Ok(())
            },
            async move {
                let _g = g2;
                sleep(Duration::from_millis(10)).await;
                Err("failed")
            },
        );
        assert_eq!(result, Err("failed"));
        // Both futures are gone when try_join! returns, not later.
        tally.assert_all_dropped("try_join! after an error");
        assert!(
            polls.load(SeqCst) >= 1,
            "the pending future was never polled"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn try_join_returns_the_first_error_to_happen() {
    run_on("try_join first error", 1, async {
        let result: Result<((), ()), &str> = magpie::try_join!(
            async {
                sleep(Duration::from_millis(200)).await;
                Err("late")
            },
            async {
                sleep(Duration::from_millis(5)).await;
                Err("early")
            },
        );
        assert_eq!(result, Err("early"));
    });
}

// ---- select! -------------------------------------------------------------------------------

#[test]
fn select_biased_polls_branches_in_the_order_written() {
    run_on("select biased", 1, async {
        for _ in 0..100 {
            let winner = magpie::select! {
                biased;
                v = async { 1 } => v,
                v = async { 2 } => v,
                v = async { 3 } => v,
            };
            assert_eq!(winner, 1);
        }
    });
}

#[test]
fn select_unbiased_starts_at_varying_branches() {
    run_on("select fairness", 1, async {
        let mut wins = [0usize; 3];
        for _ in 0..300 {
            let winner: usize = magpie::select! {
                v = async { 0 } => v,
                v = async { 1 } => v,
                v = async { 2 } => v,
            };
            wins[winner] += 1;
        }
        assert!(
            wins.iter().all(|&w| w > 0),
            "some ready branch never won: {wins:?}"
        );
    });
}

#[test]
fn select_returns_the_first_future_to_complete() {
    run_on("select first", 1, async {
        let winner = magpie::select! {
            _ = sleep(Duration::from_secs(60)) => "slow",
            _ = sleep(Duration::from_millis(5)) => "fast",
        };
        assert_eq!(winner, "fast");
    });
}

#[test]
fn select_disables_a_branch_whose_output_does_not_match_and_waits_for_the_others() {
    run_on("select disabled branch", 1, async {
        let none_polls = counter();
        let p = none_polls.clone();
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = magpie::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            tx.send(9).unwrap();
        });
        let value = magpie::select! {
            biased;
            Some(v) = counting_polls(p, async { None::<u32> }) => v,
            Ok(v) = rx => v * 2,
        };
        assert_eq!(value, 18);
        // The mismatching branch completed on its first poll and was never polled again.
        assert_eq!(none_polls.load(SeqCst), 1);
        sender.await.unwrap();
    });
}

#[test]
fn select_runs_else_when_no_branch_matches() {
    run_on("select else", 1, async {
        let value = magpie::select! {
            Some(v) = async { None::<u32> } => v,
            Ok(v) = async { Err::<u32, ()>(()) } => v,
            else => 100,
        };
        assert_eq!(value, 100);

        // Disabled by its condition: never polled, and `else` runs.
        let polls = counter();
        let p = polls.clone();
        let value = magpie::select! {
            v = counting_polls(p, async { 1 }), if false => v,
            else => 2,
        };
        assert_eq!(value, 2);
        assert_eq!(polls.load(SeqCst), 0);
    });
}

#[test]
fn select_without_else_panics_when_every_branch_is_disabled() {
    quiet_expected_panics();
    let message = expect_panic(|| {
        runtime(1).block_on(async {
            let _: u32 = magpie::select! {
                Some(v) = async { None::<u32> } => v,
            };
        })
    });
    assert!(message.contains("all branches are disabled"), "{message}");
    let _ = EXPECTED;
}

#[test]
fn select_drops_every_future_before_the_chosen_branch_runs() {
    run_on("select drops losers", 1, async {
        let tally = Tally::new();
        let (g1, g2, g3) = (tally.guard(), tally.guard(), tally.guard());
        let polls = counter();
        let (p1, p2) = (polls.clone(), polls.clone());
        let checked = tally.clone();
        magpie::select! {
            _ = async move { let _g = g1; pending_forever(p1).await } => unreachable!(),
            _ = async move { let _g = g2; sleep(Duration::from_millis(5)).await } => {
                checked.assert_all_dropped("select! losers and winner, before the body");
            }
            _ = async move { let _g = g3; pending_forever(p2).await } => unreachable!(),
        }
        assert_eq!(tally.created(), 3);
        assert!(polls.load(SeqCst) >= 2);
    });
}

#[test]
fn select_in_a_loop_with_mut_futures_keeps_them_across_iterations() {
    run_on("select loop", 2, async {
        let (tx, mut rx) = async_mpsc::unbounded::<u32>();
        let producer = magpie::spawn(async move {
            for i in 1..=5 {
                tx.unbounded_send(i).unwrap();
                sleep(Duration::from_millis(2)).await;
            }
            // Keep the sender alive past the deadline: the loop must end by the deadline.
            sleep(Duration::from_secs(60)).await;
            drop(tx);
        });
        let mut deadline = pin!(sleep(Duration::from_millis(300)));
        let mut handle = magpie::spawn(async { "side task" });
        let mut handle_done = false;
        let mut sum = 0;
        let mut rounds = 0;
        loop {
            rounds += 1;
            magpie::select! {
                _ = &mut deadline => break,
                Some(v) = rx.next() => sum += v,
                out = &mut handle, if !handle_done => {
                    assert_eq!(out.unwrap(), "side task");
                    handle_done = true;
                }
            }
        }
        assert_eq!(sum, 15);
        assert!(handle_done);
        assert!(rounds >= 7, "rounds: {rounds}");
        // The body may use what a branch borrowed: the borrows end before the body runs.
        deadline
            .as_mut()
            .reset(magpie::time::Instant::now() + Duration::from_millis(1));
        deadline.await;
        producer.abort();
    });
}

#[test]
fn select_body_control_flow_acts_on_the_surrounding_function() {
    async fn first_even(values: Vec<u32>) -> Result<u32, String> {
        for v in values {
            magpie::select! {
                x = async { v } => {
                    if x == 0 {
                        return Err("zero".to_string());
                    }
                    if x % 2 == 1 {
                        continue;
                    }
                    let parsed: u32 = x.to_string().parse().map_err(|_| "parse".to_string())?;
                    return Ok(parsed);
                }
            }
        }
        Err("none".into())
    }
    run_on("select control flow", 1, async {
        assert_eq!(first_even(vec![1, 3, 4, 6]).await, Ok(4));
        assert_eq!(first_even(vec![1, 0, 4]).await, Err("zero".into()));
        assert_eq!(first_even(vec![1, 3]).await, Err("none".into()));
    });
}

#[test]
fn select_binds_with_mut_and_ref_patterns() {
    run_on("select patterns", 1, async {
        let value = magpie::select! {
            Some(mut v) = async { Some(String::from("a")) } => {
                v.push('b');
                v
            }
        };
        assert_eq!(value, "ab");
        let value = magpie::select! {
            Ok(ref text) | Err(ref text) = async { Err::<String, String>("e".into()) } => {
                format!("{text}!")
            }
        };
        assert_eq!(value, "e!");
        let value = magpie::select! {
            (mut a, ref b) = async { (1, String::from("b")) } => {
                a += 1;
                format!("{a}{b}")
            }
        };
        assert_eq!(value, "2b");
    });
}

// ---- join_all / try_join_all ------------------------------------------------------------------

#[test]
fn join_all_of_ten_thousand_futures_returns_outputs_in_input_order() {
    const N: usize = 10_000;
    run_on("join_all 10k", 1, async {
        let polls = counter();
        // Future i yields (i % 7) times, so they finish in a scrambled order.
        let outputs = magpie::join_all((0..N).map(|i| {
            let polls = polls.clone();
            counting_polls(polls, async move {
                for _ in 0..i % 7 {
                    magpie::task::yield_now().await;
                }
                i
            })
        }))
        .await;
        assert_eq!(outputs.len(), N);
        assert!(outputs.iter().enumerate().all(|(i, &o)| i == o));
        // Each child is polled once per wake-up of its own: (i % 7) yields + 1.
        let expected: usize = (0..N).map(|i| i % 7 + 1).sum();
        assert_eq!(polls.load(SeqCst), expected);
    });
}

#[test]
fn join_all_polls_only_the_children_that_were_woken() {
    // 10,000 children wait on their own channel; they are released one at a time. Polling
    // every child on each wake-up would cost N^2 / 2 = 50 million polls; it must cost 2N.
    const N: usize = 10_000;
    run_on("join_all wake scaling", 2, async {
        let polls = counter();
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..N).map(|_| oneshot::channel::<usize>()).unzip();
        let release = magpie::spawn(async move {
            for (i, tx) in senders.into_iter().enumerate().rev() {
                tx.send(i).unwrap();
                if i % 64 == 0 {
                    magpie::task::yield_now().await;
                }
            }
        });
        let started = Instant::now();
        let outputs = magpie::join_all(
            receivers
                .into_iter()
                .map(|rx| counting_polls(polls.clone(), async move { rx.await.unwrap() })),
        )
        .await;
        release.await.unwrap();
        assert!(outputs.iter().enumerate().all(|(i, &o)| i == o));
        let polls = polls.load(SeqCst);
        assert!(
            (N..=2 * N).contains(&polls),
            "{polls} polls for {N} children released one by one"
        );
        assert!(started.elapsed() < Duration::from_secs(20));
    });
}

#[test]
fn join_all_of_nothing_is_an_empty_vec() {
    run_on("join_all empty", 1, async {
        let outputs: Vec<u8> = magpie::join_all(Vec::<std::future::Ready<u8>>::new()).await;
        assert!(outputs.is_empty());
        let ok: Result<Vec<u8>, ()> =
            magpie::try_join_all(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await;
        assert_eq!(ok, Ok(vec![]));
    });
}

#[test]
fn join_all_runs_its_futures_concurrently() {
    // Child 0 waits for a message that the last child sends: sequential polling would hang.
    run_on("join_all concurrency", 1, async {
        let (tx, rx) = oneshot::channel::<u32>();
        let mut rx = Some(rx);
        let mut tx = Some(tx);
        let futures: Vec<std::pin::Pin<Box<dyn Future<Output = u32> + Send>>> = (0..100u32)
            .map(|i| -> std::pin::Pin<Box<dyn Future<Output = u32> + Send>> {
                if i == 0 {
                    let rx = rx.take().unwrap();
                    Box::pin(async move { rx.await.unwrap() })
                } else if i == 99 {
                    let tx = tx.take().unwrap();
                    Box::pin(async move {
                        tx.send(1000).unwrap();
                        i
                    })
                } else {
                    Box::pin(async move { i })
                }
            })
            .collect();
        let outputs = magpie::join_all(futures).await;
        assert_eq!(outputs[0], 1000);
        assert_eq!(outputs[99], 99);
    });
}

#[test]
fn try_join_all_returns_ok_values_in_input_order() {
    run_on("try_join_all ok", 1, async {
        let result: Result<Vec<u64>, String> =
            magpie::try_join_all((0..50u64).map(|i| async move {
                sleep(Duration::from_millis(50 - i)).await;
                Ok(i * i)
            }))
            .await;
        assert_eq!(result.unwrap(), (0..50).map(|i| i * i).collect::<Vec<_>>());
    });
}

#[test]
fn try_join_all_drops_the_rest_as_soon_as_one_fails() {
    const N: usize = 1_000;
    run_on("try_join_all fail fast", 1, async {
        let tally = Tally::new();
        let polls = counter();
        let result: Result<Vec<()>, usize> = magpie::try_join_all((0..N).map(|i| {
            let guard = tally.guard();
            let polls = polls.clone();
            async move {
                let _guard = guard;
                if i == N / 2 {
                    sleep(Duration::from_millis(5)).await;
                    return Err(i);
                }
                pending_forever(polls).await;
                Ok(())
            }
        }))
        .await;
        assert_eq!(result, Err(N / 2));
        tally.assert_all_dropped("try_join_all after an error");
        assert_eq!(tally.created(), N);
        // The pending children were each polled once, not on every wake-up of the join.
        assert_eq!(polls.load(SeqCst), N - 1);
    });
}

/// The combinators' futures are `Send` when their parts are, so they can be spawned.
#[test]
fn combinator_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let join_all = magpie::join_all(vec![async { 1 }]);
    send(&join_all);
    let try_join_all = magpie::try_join_all(vec![async { Ok::<_, ()>(1) }]);
    send(&try_join_all);
    let joined = async { magpie::join!(async { 1 }, sleep(Duration::from_millis(1))) };
    send(&joined);
    let selected = async {
        magpie::select! {
            v = async { 1 } => v,
            _ = sleep(Duration::from_millis(1)) => 0,
        }
    };
    send(&selected);
    // And they run when spawned.
    let sum = run_on("spawned combinators", 2, async move {
        let (a, _) = magpie::spawn(joined).await.unwrap();
        let b = magpie::spawn(selected).await.unwrap();
        let c = magpie::spawn(join_all).await.unwrap()[0];
        let d = magpie::spawn(try_join_all).await.unwrap().unwrap()[0];
        a + b + c + d
    });
    assert_eq!(sum, 4);
}

//! `#[magpie::test(explore = N)]` and the seeded schedules under it: the same seed gives the
//! same order of polls, different seeds give different orders, and explore finds a lost
//! update that the seed-free (FIFO) order hides, then replays it from its seed.
//!
//! docs/testing.md quotes the worked example below (between the `ANCHOR` lines);
//! tests/testing_doc.rs checks that the two stay the same.
//!
//! Nothing here sets `MAGPIE_SEED`: the replay path is driven through `explore_with`, which
//! takes the override as a parameter, and the variable's parsing through `parse_seed`.

use magpie::__private::{explore_seeds, explore_with, parse_seed, replay_message, Failed};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ANCHOR: worked_example
use magpie::task::{spawn_local, yield_now};
use std::cell::Cell;
use std::rc::Rc;

/// Adds `amount` to `balance`. The read and the write are split by an await, so another
/// task may run between them: a lost update waiting to happen.
async fn deposit(balance: &Cell<u64>, amount: u64) {
    let current = balance.get();
    record(amount).await;
    balance.set(current + amount);
}

/// Stands in for I/O between the read and the write (an audit log, a database call).
async fn record(_amount: u64) {
    yield_now().await;
}

/// Stands in for a check that awaits before the second deposit.
async fn check_limits(_amount: u64) {
    yield_now().await;
}

/// Two concurrent deposits, 10 and 5, into one balance; returns the final balance.
async fn two_deposits() -> u64 {
    let balance = Rc::new(Cell::new(0));
    let first = spawn_local({
        let balance = balance.clone();
        async move { deposit(&balance, 10).await }
    });
    let second = spawn_local({
        let balance = balance.clone();
        async move {
            check_limits(5).await;
            deposit(&balance, 5).await
        }
    });
    first.await.unwrap();
    second.await.unwrap();
    balance.get()
}

/// In FIFO order the first deposit finishes while the second is still checking its limits.
#[magpie::test(flavor = "current_thread")]
async fn fifo_order_hides_the_lost_deposit() {
    assert_eq!(two_deposits().await, 15);
}

/// Under other orders the second deposit reads the balance before the first one writes it.
#[magpie::test(explore = 50)]
#[should_panic(expected = "lost update")]
async fn explore_finds_the_lost_deposit() {
    assert_eq!(two_deposits().await, 15, "lost update");
}
// ANCHOR_END: worked_example

// ANCHOR: worked_example_fix
/// The fix: hold a lock across the await, so that no other deposit reads in between.
async fn locked_deposit(balance: &magpie::sync::Mutex<u64>, amount: u64) {
    let mut balance = balance.lock().await;
    let current = *balance;
    record(amount).await;
    *balance = current + amount;
}

#[magpie::test(explore = 50)]
async fn the_locked_deposit_passes_every_seed() {
    let balance = Rc::new(magpie::sync::Mutex::new(0));
    let first = spawn_local({
        let balance = balance.clone();
        async move { locked_deposit(&balance, 10).await }
    });
    let second = spawn_local({
        let balance = balance.clone();
        async move {
            check_limits(5).await;
            locked_deposit(&balance, 5).await
        }
    });
    first.await.unwrap();
    second.await.unwrap();
    assert_eq!(*balance.lock().await, 15);
}
// ANCHOR_END: worked_example_fix

/// The body as a test closure: the final balance of `two_deposits`, checked.
async fn lost_update_body() {
    assert_eq!(two_deposits().await, 15, "lost update");
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// The first failing seed of `lost_update_body` in `0..50`, and its panic message.
fn first_failing_seed() -> (u64, String) {
    match explore_seeds(0..50, lost_update_body) {
        Ok(()) => panic!("no seed in 0..50 lost the update"),
        Err(failure) => match failure.failed {
            Failed::Panicked(payload) => (failure.seed, panic_message(payload.as_ref())),
            Failed::Returned(()) => unreachable!("the body returns ()"),
        },
    }
}

#[test]
fn the_fifo_seed_passes_and_some_seed_loses_the_update() {
    assert!(
        explore_seeds([0], lost_update_body).is_ok(),
        "FIFO order should hide it"
    );
    let (seed, message) = first_failing_seed();
    assert!(seed > 0, "{seed}");
    assert!(message.contains("lost update"), "{message}");
    // One deposit overwrote the other.
    assert!(
        message.contains("left: 5\n") || message.contains("left: 10\n"),
        "{message}"
    );
}

#[test]
fn the_failing_seed_reproduces_the_failure_alone() {
    let (seed, message) = first_failing_seed();
    for _ in 0..3 {
        match explore_seeds([seed], lost_update_body) {
            Ok(()) => panic!("seed {seed} passed when run alone"),
            Err(failure) => {
                assert_eq!(failure.seed, seed);
                let Failed::Panicked(payload) = failure.failed else {
                    unreachable!("the body returns ()")
                };
                assert_eq!(panic_message(payload.as_ref()), message);
            }
        }
    }
    // Every failing seed fails alone, and every passing seed passes alone.
    for other in 0..50 {
        let alone = explore_seeds([other], lost_update_body).is_err();
        let again = explore_seeds([other], lost_update_body).is_err();
        assert_eq!(alone, again, "seed {other}");
    }
}

#[test]
fn explore_stops_at_the_first_failing_seed_and_resumes_its_panic() {
    let (seed, message) = first_failing_seed();
    let runs = Cell::new(0);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        explore_with("explore::t", 50, None, || {
            runs.set(runs.get() + 1);
            lost_update_body()
        })
    }));
    let payload = result.expect_err("explore_with should fail");
    assert_eq!(panic_message(payload.as_ref()), message);
    assert_eq!(runs.get(), seed + 1, "seeds 0..={seed} run, then it stops");
}

#[test]
fn a_passing_body_runs_once_per_seed_each_time_as_a_fresh_future() {
    let runs = Cell::new(0);
    explore_with("explore::t", 25, None, || {
        runs.set(runs.get() + 1);
        // Each run owns its state: a fresh `Rc` per future.
        let state = Rc::new(Cell::new(0));
        async move {
            state.set(state.get() + 1);
            yield_now().await;
            assert_eq!(state.get(), 1);
        }
    });
    assert_eq!(runs.get(), 25);
}

#[test]
fn a_seed_override_runs_only_that_seed() {
    let (seed, message) = first_failing_seed();
    let runs = Cell::new(0);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        explore_with("explore::t", 50, Some(seed), || {
            runs.set(runs.get() + 1);
            lost_update_body()
        })
    }));
    let payload = result.expect_err("the failing seed should fail again");
    assert_eq!(panic_message(payload.as_ref()), message);
    assert_eq!(runs.get(), 1);

    // The FIFO seed passes on its own, and a seed beyond `runs` is run all the same.
    runs.set(0);
    explore_with("explore::t", 50, Some(0), || {
        runs.set(runs.get() + 1);
        lost_update_body()
    });
    assert_eq!(runs.get(), 1);
    let passes_beyond = (50..1000).find(|&s| explore_seeds([s], lost_update_body).is_ok());
    let beyond = passes_beyond.expect("some seed in 50..1000 should pass");
    explore_with("explore::t", 50, Some(beyond), lost_update_body);
}

#[test]
fn a_failing_result_fails_the_seed_without_a_panic() {
    let out: Result<(), String> = explore_with("explore::t", 50, None, || async {
        if two_deposits().await == 15 {
            Ok(())
        } else {
            Err("lost update".to_owned())
        }
    });
    assert_eq!(out, Err("lost update".to_owned()));

    let failure = explore_seeds(0..50, || async {
        if two_deposits().await == 15 {
            Ok(())
        } else {
            Err("lost update")
        }
    })
    .expect_err("some seed loses the update");
    let (seed, _) = first_failing_seed();
    assert_eq!(failure.seed, seed);
    assert!(matches!(
        failure.failed,
        Failed::Returned(Err("lost update"))
    ));
}

#[test]
fn the_replay_message_names_the_seed_and_the_test() {
    assert_eq!(
        replay_message("explore::module::finds_it", 17),
        "MAGPIE_SEED=17\nmagpie explore: the run with seed 17 failed; replay it alone with \
         `MAGPIE_SEED=17 cargo test module::finds_it`"
    );
    assert!(replay_message("lib_crate::t", 3).ends_with("`MAGPIE_SEED=3 cargo test t`"));
}

#[test]
fn magpie_seed_parses_a_number_or_panics_naming_the_value() {
    assert_eq!(parse_seed(None), None);
    assert_eq!(parse_seed(Some(OsStr::new("0"))), Some(0));
    assert_eq!(parse_seed(Some(OsStr::new("17"))), Some(17));
    assert_eq!(parse_seed(Some(OsStr::new(" 17\n"))), Some(17));
    assert_eq!(
        parse_seed(Some(OsStr::new("18446744073709551615"))),
        Some(u64::MAX)
    );
    for bad in ["", "seven", "-1", "1.5", "18446744073709551616", "0x10"] {
        let payload = panic::catch_unwind(|| parse_seed(Some(OsStr::new(bad))))
            .expect_err(&format!("{bad:?} should be refused"));
        let message = panic_message(payload.as_ref());
        assert!(
            message.starts_with("MAGPIE_SEED must be a seed"),
            "{message}"
        );
        assert!(
            message.ends_with(&format!("but it is {bad:?}")),
            "{message}"
        );
    }
}

/// One run of a program with local and `Send` tasks that yield and sleep, recording every
/// step as `(task, step)` in the order they ran.
fn schedule(seed: u64) -> Vec<(u32, u32)> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let result = explore_seeds([seed], || {
        let log = log.clone();
        async move {
            log.lock().unwrap().clear();
            let mut handles = Vec::new();
            for task in 0..6u32 {
                let log = log.clone();
                let steps = async move {
                    for step in 0..4u32 {
                        log.lock().unwrap().push((task, step));
                        if step % 2 == 0 {
                            yield_now().await;
                        } else {
                            // Tasks 0, 2, 4 and tasks 1, 3, 5 wake at the same instants.
                            let ms = u64::from(task % 2) + 1;
                            magpie::time::sleep(Duration::from_millis(ms)).await;
                        }
                    }
                };
                if task % 2 == 0 {
                    // A local task, holding an `Rc` across its awaits.
                    let local = Rc::new(task);
                    handles.push(spawn_local(async move {
                        steps.await;
                        drop(local);
                    }));
                } else {
                    handles.push(magpie::spawn(steps));
                }
            }
            for handle in handles {
                handle.await.unwrap();
            }
        }
    });
    assert!(result.is_ok(), "seed {seed}: {result:?}");
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 24);
    log
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    for seed in [0, 1, 2, 7, 1234, u64::MAX] {
        let first = schedule(seed);
        for _ in 0..3 {
            assert_eq!(schedule(seed), first, "seed {seed}");
        }
    }
}

#[test]
fn thirty_seeds_give_several_schedules() {
    let schedules: HashSet<Vec<(u32, u32)>> = (1..=30).map(schedule).collect();
    assert!(
        schedules.len() >= 10,
        "only {} distinct schedules",
        schedules.len()
    );
}

/// Which branch of an unbiased `select!` of two ready futures wins, 40 times, in two tasks.
fn select_winners(seed: u64) -> Vec<u8> {
    let winners = Rc::new(RefCell::new(Vec::new()));
    let result = explore_seeds([seed], || {
        let winners = winners.clone();
        async move {
            winners.borrow_mut().clear();
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let winners = winners.clone();
                    spawn_local(async move {
                        for _ in 0..20 {
                            let winner = magpie::select! {
                                a = async { 0u8 } => a,
                                b = async { 1u8 } => b,
                            };
                            winners.borrow_mut().push(winner);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        }
    });
    assert!(result.is_ok(), "seed {seed}: {result:?}");
    let winners = winners.borrow().clone();
    winners
}

#[test]
fn an_unbiased_select_follows_the_seed() {
    for seed in [0, 1, 5, 99] {
        let first = select_winners(seed);
        assert_eq!(first.len(), 40);
        // Both branches win sometimes: the start is still drawn, from the seed.
        assert!(first.contains(&0) && first.contains(&1), "{first:?}");
        for _ in 0..3 {
            assert_eq!(select_winners(seed), first, "seed {seed}");
        }
    }
    let distinct: HashSet<Vec<u8>> = (0..10).map(select_winners).collect();
    assert!(distinct.len() > 1);
}

/// Every run of an explore test is a fresh current-thread runtime with a paused clock.
#[magpie::test(explore = 5)]
async fn each_run_is_a_current_thread_runtime_with_a_paused_clock() {
    let real = std::time::Instant::now();
    let start = magpie::time::Instant::now();
    magpie::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(60));
    let here = std::thread::current().id();
    let there = magpie::spawn(async { std::thread::current().id() });
    assert_eq!(there.await.unwrap(), here);
    let shared = Rc::new(RefCell::new(Vec::new()));
    let writer = shared.clone();
    spawn_local(async move { writer.borrow_mut().push(1) })
        .await
        .unwrap();
    assert_eq!(*shared.borrow(), [1]);
}

#[magpie::test(explore = 10)]
async fn an_explore_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u64 = "15".parse()?;
    let balance = Rc::new(magpie::sync::Mutex::new(0));
    locked_deposit(&balance, n).await;
    assert_eq!(*balance.lock().await, 15);
    Ok(())
}

#[magpie::test(explore = 3, flavor = "current_thread", start_paused = true)]
async fn explore_accepts_the_flavor_and_paused_clock_it_implies() {
    let start = magpie::time::Instant::now();
    magpie::time::advance(Duration::from_secs(5)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

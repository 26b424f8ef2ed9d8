//! Runs functions expanded by `#[magpie::test]` as real tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[magpie::test]
async fn spawn_on_default_runtime() {
    let two = magpie::spawn(async { 1 + 1 }).await.unwrap();
    assert_eq!(two, 2);
}

#[magpie::test(worker_threads = 2)]
async fn spawn_on_two_workers() {
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let counter = Arc::clone(&counter);
            magpie::spawn(async move { counter.fetch_add(1, Ordering::SeqCst) })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 16);
}

#[magpie::test]
async fn handle_current_inside() {
    let _handle = magpie::Handle::current();
}

#[magpie::test(worker_threads = 2)]
async fn handle_current_inside_spawned_task() {
    let ok = magpie::spawn(async {
        let _handle = magpie::Handle::current();
        true
    })
    .await
    .unwrap();
    assert!(ok);
}

/// Doc comments stay on the generated test.
#[magpie::test]
async fn returns_result() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "20".parse()?;
    let doubled = magpie::spawn(async move { n * 2 }).await?;
    assert_eq!(doubled, 40);
    Ok(())
}

#[magpie::test]
#[should_panic(expected = "boom")]
async fn should_panic_is_kept() {
    panic!("boom");
}

#[magpie::test]
#[ignore = "checks that #[ignore] is kept (this test should show as ignored)"]
async fn ignore_is_kept() {
    assert_eq!(magpie::spawn(async { 3 }).await.unwrap(), 3);
}

#[magpie::test]
async fn body_runs_to_completion() {
    let mut steps = Vec::new();
    for i in 0..3 {
        steps.push(magpie::spawn(async move { i }).await.unwrap());
    }
    assert_eq!(steps, [0, 1, 2]);
}

#[magpie::test(start_paused = true)]
async fn start_paused_sleeps_take_no_real_time() {
    let real = std::time::Instant::now();
    let start = magpie::time::now();
    magpie::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert!(magpie::time::now() - start >= std::time::Duration::from_secs(3600));
    assert!(real.elapsed() < std::time::Duration::from_secs(60));
}

/// A current-thread test runs every task on the test's own thread, local ones included.
#[magpie::test(flavor = "current_thread")]
async fn current_thread_runs_tasks_on_the_test_thread() {
    let here = std::thread::current().id();
    let there = magpie::spawn(async { std::thread::current().id() });
    assert_eq!(there.await.unwrap(), here);
    let hits = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = hits.clone();
    magpie::task::spawn_local(async move {
        magpie::task::yield_now().await;
        counter.set(counter.get() + 1);
    })
    .await
    .unwrap();
    assert_eq!(hits.get(), 1);
}

#[magpie::test(flavor = "current_thread", start_paused = true)]
async fn current_thread_with_a_paused_clock() {
    let real = std::time::Instant::now();
    let start = magpie::time::now();
    magpie::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert_eq!(
        magpie::time::now() - start,
        std::time::Duration::from_secs(3600)
    );
    assert!(real.elapsed() < std::time::Duration::from_secs(60));
}

/// `flavor = "multi_thread"` is the default: tasks run on a worker thread.
#[magpie::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runs_tasks_on_workers() {
    let here = std::thread::current().id();
    let there = magpie::spawn(async { std::thread::current().id() });
    assert_ne!(there.await.unwrap(), here);
}

/// The body runs once per seed (crates/magpie/tests/explore.rs counts the runs exactly).
#[magpie::test(explore = 7)]
async fn explore_runs_the_body_at_most_n_times() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::SeqCst);
    // With MAGPIE_SEED set only one run happens; otherwise runs 0..7.
    assert!(run < 7, "run {run}");
}

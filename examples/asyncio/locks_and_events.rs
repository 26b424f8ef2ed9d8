//! Section 14, synchronisation: `Lock`, `Semaphore`, `Event`, `Condition`, `Barrier`.
//!
//! - `Lock`, `async with lock:` is `Mutex<T>`: `lock().await` gives a guard; the data lives
//!   inside the mutex.
//! - `Semaphore(n)`, `async with sem:` is `Semaphore::new(n)`: `acquire().await` gives a
//!   permit, released when dropped.
//! - `Event` (`set()`, `await wait()`) is `watch::channel(false)`: `send(true)`,
//!   `wait_for(|set| *set).await`; it stays set.
//! - `Condition` (`notify()`, `notify_all()`) is `Notify`: `notify_one()`, `notify_waiters()`,
//!   `notified().await`.
//! - `Barrier(n)` (`await wait()`) is `Barrier::new(n)`: `wait().await`; one waiter is told it
//!   is the leader.
//!
//! They are the async kind: waiting suspends the task, never the worker thread.

use crate::{header, ms, say, secs};
use magpie::sync::{watch, Barrier, Mutex, Notify, Semaphore};
use magpie::task::JoinSet;
use magpie::time;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The section.
pub async fn main() {
    header("14. Locks and events: Mutex, Semaphore, Event (watch), Condition (Notify), Barrier");
    lock().await;
    semaphore().await;
    event().await;
    condition().await;
    barrier().await;
}

/// `asyncio.Lock`: a read-modify-write with an await in the middle stays whole.
async fn lock() {
    let balance = Arc::new(Mutex::new(100u32));
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let balance = balance.clone();
        set.spawn(async move {
            // async with lock:
            let mut guard = balance.lock().await;
            let read = *guard;
            time::sleep(secs(0.01)).await; // an await while holding the lock
            *guard = read + 10;
        });
    }
    while set.join_next().await.is_some() {}
    say!(
        "Lock: 10 tasks each added 10 across an await: balance {} (no update lost)",
        *balance.lock().await
    );
}

/// `asyncio.Semaphore(2)`: at most two downloads at a time.
async fn semaphore() {
    let permits = Arc::new(Semaphore::new(2));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let start = time::now();
    let mut set = JoinSet::new();
    for _ in 0..6 {
        let (permits, running, most) = (permits.clone(), running.clone(), most.clone());
        set.spawn(async move {
            // async with sem:
            let _permit = permits.acquire().await.expect("the semaphore was closed");
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            time::sleep(secs(0.5)).await; // the download
            running.fetch_sub(1, Ordering::SeqCst);
        });
    }
    while set.join_next().await.is_some() {}
    say!(
        "Semaphore(2): 6 downloads of 0.5 s, at most {} at once, took {} (3 rounds)",
        most.load(Ordering::SeqCst),
        ms(time::now() - start)
    );
}

/// `asyncio.Event`: waiters wait until it is set; once set, it stays set.
async fn event() {
    let (set_event, event) = watch::channel(false);
    let mut waiters = JoinSet::new();
    for n in 1..=3 {
        let mut event = event.clone();
        waiters.spawn(async move {
            // await event.wait()
            let _ = event.wait_for(|is_set| *is_set).await;
            n
        });
    }
    time::sleep(secs(0.2)).await;
    let _ = set_event.send(true); // event.set()
    let mut woken = Vec::new();
    while let Some(n) = waiters.join_next().await {
        woken.push(n.expect("a waiter panicked"));
    }
    woken.sort();
    // A waiter that comes after set() does not wait.
    let mut late = event.clone();
    let _ = late.wait_for(|is_set| *is_set).await;
    say!("Event: set() woke waiters {woken:?}; a later wait() returned at once (it stays set)");
}

/// `asyncio.Condition`: `notify(1)` wakes one waiter, `notify_all()` the others.
async fn condition() {
    let condition = Arc::new(Notify::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let mut waiters = JoinSet::new();
    for _ in 0..3 {
        let (condition, woken) = (condition.clone(), woken.clone());
        waiters.spawn(async move {
            condition.notified().await; // await cond.wait()
            woken.fetch_add(1, Ordering::SeqCst);
        });
    }
    time::sleep(secs(0.1)).await; // let the three start waiting
    condition.notify_one(); // cond.notify(1)
    time::sleep(secs(0.1)).await;
    let after_one = woken.load(Ordering::SeqCst);
    condition.notify_waiters(); // cond.notify_all()
    while waiters.join_next().await.is_some() {}
    say!(
        "Condition: notify_one woke {after_one}, notify_waiters the other {}",
        woken.load(Ordering::SeqCst) - after_one
    );
}

/// `asyncio.Barrier(3)`: three parties wait until all have arrived.
async fn barrier() {
    let barrier = Arc::new(Barrier::new(3));
    let start = time::now();
    let mut parties = JoinSet::new();
    for n in 1..=3 {
        let barrier = barrier.clone();
        parties.spawn(async move {
            time::sleep(secs(0.1 * f64::from(n))).await; // arrive at different times
            let result = barrier.wait().await;
            (n, result.is_leader())
        });
    }
    let mut leaders = 0;
    while let Some(done) = parties.join_next().await {
        let (_, leader) = done.expect("a party panicked");
        leaders += usize::from(leader);
    }
    say!(
        "Barrier(3): parties arrived one by one; all left together when the last came, after {}; {leaders} leader",
        ms(time::now() - start)
    );
}

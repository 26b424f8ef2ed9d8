//! `CancellationToken`: waking every waiter, trees (a child follows its parent, never the other
//! way), drop guards, the owned future on other threads, and cancels racing new children and
//! waiters from several threads.

mod common;

use common::{counting_waker, poll, wakes, watchdog};
use futures_lite::future::block_on;
use magpie_sync::CancellationToken;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::thread;

#[test]
fn cancel_wakes_every_waiter_once() {
    let token = CancellationToken::new();
    let child = token.child_token();
    let (count, waker) = counting_waker();
    let mut a = pin!(token.cancelled());
    let mut b = pin!(token.cancelled());
    let mut owned = pin!(token.clone().cancelled_owned());
    let mut on_child = pin!(child.cancelled());
    assert!(poll(a.as_mut(), &waker).is_pending());
    assert!(poll(b.as_mut(), &waker).is_pending());
    assert!(poll(owned.as_mut(), &waker).is_pending());
    assert!(poll(on_child.as_mut(), &waker).is_pending());
    assert_eq!(wakes(&count), 0);
    token.cancel();
    assert_eq!(
        wakes(&count),
        4,
        "each waiter, on the token and its child, woken once"
    );
    assert!(poll(a.as_mut(), &waker).is_ready());
    assert!(poll(b.as_mut(), &waker).is_ready());
    assert!(poll(owned.as_mut(), &waker).is_ready());
    assert!(poll(on_child.as_mut(), &waker).is_ready());
    token.cancel();
    assert_eq!(wakes(&count), 4, "a second cancel wakes nobody");
}

#[test]
fn cancelled_completes_at_once_when_already_cancelled() {
    let token = CancellationToken::new();
    token.cancel();
    let (count, waker) = counting_waker();
    assert!(poll(pin!(token.cancelled()), &waker).is_ready());
    assert!(poll(pin!(token.clone().cancelled_owned()), &waker).is_ready());
    assert_eq!(wakes(&count), 0);
}

#[test]
fn a_cancelled_future_dropped_while_waiting_loses_nothing() {
    let token = CancellationToken::new();
    let (_, waker) = counting_waker();
    {
        let mut first = pin!(token.cancelled());
        assert!(poll(first.as_mut(), &waker).is_pending());
    }
    let (count, waker) = counting_waker();
    let mut second = pin!(token.cancelled());
    assert!(poll(second.as_mut(), &waker).is_pending());
    token.cancel();
    assert_eq!(wakes(&count), 1);
    assert!(poll(second.as_mut(), &waker).is_ready());
    // A future dropped after the cancel woke it, before it was polled again, is fine too.
    let other = CancellationToken::new();
    let mut woken = Box::pin(other.cancelled());
    assert!(poll(woken.as_mut(), &waker).is_pending());
    other.cancel();
    drop(woken);
    assert!(other.is_cancelled());
}

#[test]
fn a_child_is_cancelled_by_its_parent_but_never_the_reverse() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let sibling = parent.child_token();
    let grandchild = child.child_token();
    child.cancel();
    assert!(child.is_cancelled() && grandchild.is_cancelled());
    assert!(!parent.is_cancelled(), "a child does not cancel its parent");
    assert!(!sibling.is_cancelled(), "nor its siblings");
    parent.cancel();
    assert!(sibling.is_cancelled());
}

#[test]
fn cancelling_a_parent_cancels_every_descendant() {
    let root = CancellationToken::new();
    let a = root.child_token();
    let b = root.child_token();
    let a1 = a.child_token();
    let a11 = a1.child_token();
    let b1 = b.child_token();
    let (count, waker) = counting_waker();
    let mut deep = pin!(a11.cancelled());
    assert!(poll(deep.as_mut(), &waker).is_pending());
    root.cancel();
    for token in [&root, &a, &b, &a1, &a11, &b1] {
        assert!(token.is_cancelled(), "{token:?}");
    }
    assert_eq!(wakes(&count), 1);
    assert!(poll(deep.as_mut(), &waker).is_ready());
}

#[test]
fn a_child_of_a_cancelled_token_starts_cancelled() {
    let parent = CancellationToken::new();
    parent.cancel();
    let child = parent.child_token();
    assert!(child.is_cancelled());
    assert!(child.child_token().is_cancelled());
    block_on(child.cancelled());
}

#[test]
fn clones_share_one_state() {
    let token = CancellationToken::default();
    let clone = token.clone();
    let child_of_clone = clone.child_token();
    drop(clone);
    assert!(!child_of_clone.is_cancelled());
    token.cancel();
    assert!(child_of_clone.is_cancelled());
    assert_eq!(
        format!("{token:?}"),
        "CancellationToken { is_cancelled: true }"
    );
}

#[test]
fn a_child_outlives_its_dropped_parent_and_follows_the_grandparent() {
    let root = CancellationToken::new();
    let middle = root.child_token();
    let leaf = middle.child_token();
    drop(middle);
    assert!(!leaf.is_cancelled());
    let (count, waker) = counting_waker();
    let mut waiting = pin!(leaf.cancelled());
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    root.cancel();
    assert_eq!(wakes(&count), 1);
    assert!(leaf.is_cancelled());
}

#[test]
fn a_child_of_a_dropped_root_stays_usable() {
    let root = CancellationToken::new();
    let child = root.child_token();
    drop(root);
    let grandchild = child.child_token();
    assert!(!child.is_cancelled());
    child.cancel();
    assert!(grandchild.is_cancelled());
}

#[test]
fn a_drop_guard_cancels_when_dropped() {
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    assert!(!token.is_cancelled());
    assert!(format!("{guard:?}").contains("is_cancelled: false"));
    drop(guard);
    assert!(token.is_cancelled());
}

#[test]
fn a_drop_guard_cancels_on_a_panic_that_unwinds_through_it() {
    let token = CancellationToken::new();
    let guarded = token.clone();
    let result = std::panic::catch_unwind(move || {
        let _guard = guarded.drop_guard();
        panic!("expected panic: the guard must cancel");
    });
    assert!(result.is_err());
    assert!(token.is_cancelled());
}

#[test]
fn a_disarmed_drop_guard_gives_the_token_back_uncancelled() {
    let token = CancellationToken::new();
    let child = token.child_token();
    let returned = token.drop_guard().disarm();
    assert!(!returned.is_cancelled());
    assert!(!child.is_cancelled());
    returned.cancel();
    assert!(child.is_cancelled());
}

#[test]
fn cancelled_owned_is_static_and_send_and_completes_on_another_thread() {
    fn spawn_static<F: std::future::Future<Output = ()> + Send + 'static>(
        future: F,
    ) -> thread::JoinHandle<()> {
        thread::spawn(move || block_on(future))
    }
    watchdog(|| {
        let token = CancellationToken::new();
        let waiters: Vec<_> = (0..4)
            .map(|_| spawn_static(token.child_token().cancelled_owned()))
            .collect();
        token.cancel();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

#[test]
fn cancel_from_another_thread_wakes_blocked_waiters() {
    watchdog(|| {
        let token = CancellationToken::new();
        let start = Arc::new(Barrier::new(5));
        let waiters: Vec<_> = (0..4)
            .map(|i| {
                let (token, start) = (token.clone(), start.clone());
                thread::spawn(move || {
                    let token = if i % 2 == 0 {
                        token.child_token()
                    } else {
                        token
                    };
                    start.wait();
                    block_on(token.cancelled());
                    assert!(token.is_cancelled());
                })
            })
            .collect();
        start.wait();
        token.cancel();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// Several threads make and drop children, grandchildren and waiters while another cancels the
/// root: every token made from the tree before or after the cancel ends up cancelled, every
/// waiter returns, and nothing hangs.
#[test]
fn cancel_races_child_tokens_drops_and_waiters_from_several_threads() {
    watchdog(|| {
        for round in 0..50 {
            let root = CancellationToken::new();
            let middle = root.child_token();
            let start = Arc::new(Barrier::new(5));
            let workers: Vec<_> = (0..4)
                .map(|i| {
                    let (root, middle, start) = (root.clone(), middle.clone(), start.clone());
                    thread::spawn(move || {
                        start.wait();
                        let mut kept = Vec::new();
                        for n in 0..200 {
                            let parent = if n % 2 == 0 { &root } else { &middle };
                            let child = parent.child_token();
                            let grandchild = child.child_token();
                            // Drop the intermediate now and then: its child moves up.
                            if (n + i) % 3 == 0 {
                                drop(child);
                                kept.push(grandchild);
                            } else {
                                kept.push(child);
                                drop(grandchild);
                            }
                        }
                        // Wait on one of them; the cancel must reach it.
                        block_on(kept[kept.len() / 2].cancelled());
                        drop(middle);
                        kept
                    })
                })
                .collect();
            start.wait();
            if round % 2 == 0 {
                thread::yield_now();
            }
            root.cancel();
            for worker in workers {
                let kept = worker.join().unwrap();
                assert!(
                    kept.iter().all(CancellationToken::is_cancelled),
                    "round {round}"
                );
            }
            assert!(middle.is_cancelled());
        }
    });
}

#[test]
fn run_until_cancelled_gives_the_output_or_none_when_cancelled() {
    let token = CancellationToken::new();
    assert_eq!(block_on(token.run_until_cancelled(async { 1 })), Some(1));
    // Cancelled while the future waits: the future is dropped unfinished.
    let (count, waker) = counting_waker();
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    let mut run = Box::pin(token.run_until_cancelled(async move {
        let _guard = guard;
        futures_lite::future::pending::<u32>().await
    }));
    assert!(poll(run.as_mut(), &waker).is_pending());
    token.cancel();
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(run.as_mut(), &waker), std::task::Poll::Ready(None));
    drop(run);
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    // Already cancelled: the future is never polled.
    let polled = std::cell::Cell::new(false);
    let output = block_on(token.run_until_cancelled(async {
        polled.set(true);
    }));
    assert_eq!(output, None);
    assert!(!polled.get());
}

#[test]
fn run_until_cancelled_owned_is_static_and_runs_on_another_thread() {
    watchdog(|| {
        let token = CancellationToken::new();
        let run = token
            .child_token()
            .run_until_cancelled_owned(futures_lite::future::pending::<()>());
        let waiter = thread::spawn(move || block_on(run));
        token.cancel();
        assert_eq!(waiter.join().unwrap(), None);
    });
}

//! loom models of `CancellationToken`: a cancel racing a new child and a waiter registering on
//! it, and a cancel racing the drop of an intermediate token whose child is waited on.
//!
//! A lost wake-up makes `block_on` (`loom_tests/mod.rs`) wait for ever: loom reports a deadlock,
//! as it does for a lock-order cycle.

use loom::thread;

use super::block_on;
use crate::CancellationToken;
use magpie_shim::loom_model;

#[test]
fn cancel_races_child_token_and_a_waiter() {
    loom_model(
        "cancellation_token: cancel races child_token and a waiter",
        || {
            let parent = CancellationToken::new();
            let canceller = {
                let parent = parent.clone();
                thread::spawn(move || parent.cancel())
            };
            // The child is made before, during or after the cancel; its waiter registers at
            // any point of the cancel's walk.
            let child = parent.child_token();
            block_on(child.cancelled());
            canceller.join().unwrap();
            assert!(child.is_cancelled());
            assert!(parent.is_cancelled());
        },
    );
}

#[test]
fn cancel_races_a_waited_child_made_on_another_thread_and_a_waiter_on_the_parent() {
    loom_model(
        "cancellation_token: cancel races a waited child on another thread",
        || {
            let parent = CancellationToken::new();
            let canceller = {
                let parent = parent.clone();
                thread::spawn(move || parent.cancel())
            };
            let child_waiter = {
                let parent = parent.clone();
                thread::spawn(move || {
                    let child = parent.child_token();
                    block_on(child.cancelled());
                    assert!(child.is_cancelled());
                })
            };
            block_on(parent.cancelled());
            canceller.join().unwrap();
            child_waiter.join().unwrap();
        },
    );
}

#[test]
fn cancel_races_a_waiter_on_the_token_itself() {
    loom_model(
        "cancellation_token: cancel races a waiter on the token",
        || {
            let token = CancellationToken::new();
            let canceller = {
                let token = token.clone();
                thread::spawn(move || token.cancel())
            };
            block_on(token.cancelled_owned());
            canceller.join().unwrap();
        },
    );
}

#[test]
fn cancel_races_dropping_the_intermediate_of_a_waited_grandchild() {
    loom_model(
        "cancellation_token: cancel races dropping an intermediate token",
        || {
            let root = CancellationToken::new();
            let middle = root.child_token();
            let leaf = middle.child_token();
            let canceller = {
                let root = root.clone();
                thread::spawn(move || root.cancel())
            };
            // Unlinking `middle` (its child moves up to `root`) races the cancel's walk.
            let dropper = thread::spawn(move || drop(middle));
            block_on(leaf.cancelled());
            canceller.join().unwrap();
            dropper.join().unwrap();
            assert!(leaf.is_cancelled());
        },
    );
}

/// Dropping the first child moves the second into its place in the parent's list (and fixes
/// its index) while the cancel walks that list.
#[test]
fn cancel_races_dropping_a_sibling_of_a_waited_child() {
    loom_model(
        "cancellation_token: cancel races dropping a sibling",
        || {
            let root = CancellationToken::new();
            let first = root.child_token();
            let second = root.child_token();
            let canceller = {
                let root = root.clone();
                thread::spawn(move || root.cancel())
            };
            let dropper = thread::spawn(move || drop(first));
            block_on(second.cancelled());
            canceller.join().unwrap();
            dropper.join().unwrap();
            // The list is consistent afterwards: dropping the survivor unlinks it cleanly.
            drop(second);
            drop(root);
        },
    );
}

#[test]
fn cancel_of_a_child_races_dropping_its_parent() {
    loom_model(
        "cancellation_token: a child's cancel races its parent's drop",
        || {
            let root = CancellationToken::new();
            let child = root.child_token();
            let grandchild = child.child_token();
            let dropper = thread::spawn(move || drop(root));
            child.cancel();
            dropper.join().unwrap();
            assert!(grandchild.is_cancelled());
            drop(child);
            drop(grandchild);
        },
    );
}

/// A child's unlink lets the child go to lock its parent; meanwhile the parent's own unlink moves
/// the child up to the grandparent. The child must notice and unlink from the grandparent.
#[test]
fn dropping_a_child_races_dropping_its_parent() {
    loom_model(
        "cancellation_token: a child's drop races its parent's drop",
        || {
            let root = CancellationToken::new();
            let middle = root.child_token();
            let leaf = middle.child_token();
            let dropper = thread::spawn(move || drop(middle));
            drop(leaf);
            dropper.join().unwrap();
            assert_eq!(root.child_count(), 0, "nothing is left linked to the root");
        },
    );
}

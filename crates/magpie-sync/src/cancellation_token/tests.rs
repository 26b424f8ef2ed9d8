//! The tree's memory and links, checked from inside: child counts, parent links and `Weak`
//! references that must die with the last handle.

use super::tree::Node;
use super::CancellationToken;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Waker};

fn weak(token: &CancellationToken) -> Weak<Node> {
    Arc::downgrade(&token.node)
}

fn parent_of(token: &CancellationToken) -> Option<Arc<Node>> {
    token.node.parent()
}

#[test]
fn a_million_dropped_children_leave_nothing_in_their_parent() {
    let parent = CancellationToken::new();
    let mut last = Weak::new();
    for _ in 0..1_000_000 {
        let child = parent.child_token();
        let clone = child.clone();
        last = weak(&clone);
        drop(child);
        drop(clone);
    }
    assert_eq!(parent.child_count(), 0);
    assert!(last.upgrade().is_none(), "the last child's node is freed");
    // The parent's node is held by this handle alone.
    assert_eq!(Arc::strong_count(&parent.node), 1);
}

#[test]
fn many_live_children_dropped_in_any_order_leave_nothing() {
    let parent = CancellationToken::new();
    let mut children: Vec<_> = (0..1000).map(|_| parent.child_token()).collect();
    assert_eq!(parent.child_count(), 1000);
    // Drop from the middle, the front and the back, so the swap-removed siblings' indices are
    // exercised.
    let mut weaks = Vec::new();
    let mut step = 0usize;
    while !children.is_empty() {
        step = (step * 31 + 7) % children.len();
        let child = children.swap_remove(step);
        weaks.push(weak(&child));
        drop(child);
        assert_eq!(parent.child_count(), children.len());
    }
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
}

#[test]
fn a_dropped_intermediate_hands_its_children_to_its_parent() {
    let root = CancellationToken::new();
    let middle = root.child_token();
    let leaf = middle.child_token();
    let middle_node = weak(&middle);
    drop(middle);
    assert!(middle_node.upgrade().is_none(), "the middle node is freed");
    assert!(Arc::ptr_eq(&parent_of(&leaf).unwrap(), &root.node));
    assert_eq!(root.child_count(), 1);
    root.cancel();
    assert!(
        leaf.is_cancelled(),
        "the leaf is still cancelled by its grandparent"
    );
    assert_eq!(root.child_count(), 0);
    assert!(parent_of(&leaf).is_none());
}

#[test]
fn a_dropped_root_makes_its_children_roots() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let root_node = weak(&root);
    drop(root);
    assert!(root_node.upgrade().is_none());
    assert!(parent_of(&child).is_none());
    assert!(!child.is_cancelled());
    child.cancel();
    assert!(grandchild.is_cancelled());
}

#[test]
fn a_tree_dropped_parents_first_or_children_first_frees_every_node() {
    for parents_first in [true, false] {
        // root -> a -> (a1, a2 -> a21), root -> b
        let root = CancellationToken::new();
        let a = root.child_token();
        let a1 = a.child_token();
        let a2 = a.child_token();
        let a21 = a2.child_token();
        let b = root.child_token();
        let mut tokens = vec![root, a, a1, a2, a21, b];
        let weaks: Vec<_> = tokens.iter().map(weak).collect();
        if !parents_first {
            tokens.reverse();
        }
        for token in tokens {
            drop(token);
        }
        assert!(
            weaks.iter().all(|w| w.upgrade().is_none()),
            "a node outlived its handles (parents first: {parents_first})"
        );
    }
}

#[test]
fn cancelling_a_deep_chain_unlinks_it_without_recursion() {
    // A chain deep enough to overflow the stack if cancel or drop recursed.
    let root = CancellationToken::new();
    let mut chain = vec![root.child_token()];
    for _ in 0..100_000 {
        let next = chain.last().unwrap().child_token();
        chain.push(next);
    }
    root.cancel();
    assert!(chain.iter().all(CancellationToken::is_cancelled));
    assert!(chain
        .iter()
        .all(|t| t.child_count() == 0 && parent_of(t).is_none()));
    let weaks: Vec<_> = chain.iter().map(weak).collect();
    drop(chain);
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
}

#[test]
fn dropping_a_deep_uncancelled_chain_frees_it() {
    let root = CancellationToken::new();
    let mut chain = vec![root.child_token()];
    for _ in 0..100_000 {
        let next = chain.last().unwrap().child_token();
        chain.push(next);
    }
    let weaks: Vec<_> = chain.iter().map(weak).collect();
    drop(chain);
    assert_eq!(root.child_count(), 0);
    assert!(weaks.iter().all(|w| w.upgrade().is_none()));
}

#[test]
fn a_dropped_waiter_leaves_the_queue_and_a_cancel_empties_it() {
    let token = CancellationToken::new();
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut first = pin!(token.cancelled());
        let mut second = pin!(token.clone().cancelled_owned());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        // A second poll keeps one slot per waiter.
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert_eq!(token.node.waiter_count(), 2);
    }
    assert_eq!(token.node.waiter_count(), 0);
    let mut waiter = pin!(token.cancelled());
    assert!(waiter.as_mut().poll(&mut cx).is_pending());
    token.cancel();
    assert_eq!(token.node.waiter_count(), 0);
    assert!(waiter.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn dropping_a_child_during_a_cancel_loses_nothing() {
    // Children cancelled and unlinked by the walk, then dropped: their unlink finds no parent.
    let root = CancellationToken::new();
    let children: Vec<_> = (0..100).map(|_| root.child_token()).collect();
    let grandchildren: Vec<_> = children.iter().map(|c| c.child_token()).collect();
    root.cancel();
    drop(children);
    assert!(grandchildren.iter().all(CancellationToken::is_cancelled));
    assert_eq!(root.child_count(), 0);
}

#[test]
fn children_made_and_dropped_on_several_threads_while_cancelling_leave_nothing() {
    for round in 0..20 {
        let root = CancellationToken::new();
        let middle = root.child_token();
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let middle = middle.clone();
                std::thread::spawn(move || {
                    for n in 0..2000 {
                        let child = middle.child_token();
                        let grandchild = child.child_token();
                        if (n + i) % 2 == 0 {
                            drop(child);
                            drop(grandchild);
                        } else {
                            drop(grandchild);
                            drop(child);
                        }
                    }
                })
            })
            .collect();
        if round % 2 == 0 {
            middle.cancel();
        }
        for worker in workers {
            worker.join().unwrap();
        }
        assert_eq!(middle.child_count(), 0, "round {round}");
        assert_eq!(root.child_count(), 1, "round {round}: only `middle`");
        drop(middle);
        assert_eq!(root.child_count(), 0, "round {round}");
        assert_eq!(Arc::strong_count(&root.node), 1);
    }
}

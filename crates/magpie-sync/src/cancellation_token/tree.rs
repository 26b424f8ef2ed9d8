//! The tree behind [`CancellationToken`](super::CancellationToken): one [`Node`] per token
//! (shared by its clones), each with its own lock, linked to its parent and its children.
//!
//! # What each lock guards
//!
//! A node's [`Synced`] state is guarded by that node's lock: its parent link, its position in
//! the parent's child list, its own child list and its waiters. The `cancelled` flag is written
//! only under the lock and read without it. The handle count is an atomic of its own.
//!
//! Invariants, true whenever no lock is held:
//!
//! - **Linked both ways.** `x.parent == Some(p)` exactly when `p.children[x.index]` is `x`.
//! - **A cancelled node has no children and no waiters.** Cancelling a node cancels and unlinks
//!   its whole subtree and wakes every waiter; a child created later starts cancelled, with no
//!   parent; a future that finds the node cancelled does not queue. (The cancelled node itself
//!   stays in its own parent's list until its last handle is gone.)
//! - **An uncancelled node loses its parent link only to a new one, higher up**: when its
//!   parent's last handle is gone, it is moved to its grandparent (or becomes a root if there is
//!   none). So a cancel of any ancestor that still has handles reaches it. Only a cancel takes a
//!   node's parent link away for good, and it cancels the node in the same critical section.
//!
//! # Lock order
//!
//! **A thread takes a node's lock only while every lock it holds belongs to a node created
//! earlier.** Creation order is a total order, so no two threads can wait on each other: in a
//! wait-for cycle, the thread holding the newest of the locks involved would be waiting for an
//! older one.
//!
//! Every parent is older than its children: a new node is a leaf under an existing one, and
//! a node is only ever moved to its grandparent (older still). So walking down the tree, parent
//! before child, keeps the order. Going up (a node to its parent) is the only direction that
//! needs care: [`Node::unlink`] lets the node go, locks the parent and then the node, and
//! checks that the link still holds.
//!
//! # The operations
//!
//! - **Child** ([`Node::child`]): under the parent's lock, a cancelled parent gives a cancelled
//!   root; otherwise the child is pushed onto the parent's list.
//! - **Cancel** ([`Node::cancel`]): holds the cancelled node `x`'s lock throughout. It pops
//!   `x`'s children one by one; for each child `c` (locked under `x`) it moves `c`'s own children
//!   up into `x`'s list (each locked under `x` and `c`: top-down), then marks `c` cancelled and
//!   unlinks it. When the list is empty the whole subtree has been cancelled, and `x` is marked
//!   last. At most three locks are held, always ancestor before descendant. Because every
//!   not-yet-cancelled descendant stays linked to a locked ancestor, a concurrent `child` on a
//!   descendant either finds it cancelled or links the new node where the walk will find it, and
//!   a concurrent unlink of a descendant (below) moves its children to a node the walk still
//!   visits. A node that was already cancelled is left linked to its parent until it is dropped.
//! - **Unlink** ([`Node::unlink`], when the last handle is dropped; no waiter or new child can
//!   appear any more): with the parent `p` and the node `x` both locked, `x` leaves `p`'s list
//!   and each of `x`'s children (locked under `p` and `x`) moves to `p`'s list: a dropped
//!   intermediate node passes its children to its parent, which still cancels them. A node
//!   without a parent makes its children roots. The list is a `Vec` with `swap_remove`: the
//!   sibling moved into `x`'s place gets its new index after `x`'s lock is released, holding only
//!   `p` (`x` and that sibling have no order between them). Until then the sibling's index is
//!   stale, but it is only read under `p`'s lock, which this thread holds.
//!
//! # Memory
//!
//! A parent holds its children's nodes and a child holds its parent's (to find it when it is
//! dropped). The links form no cycle that outlives the handles: the last handle of a node
//! unlinks it from both sides, so its memory goes when the handles (and any cancel walking it)
//! are gone. A parent that outlives a million short-lived children holds none of them.

use crate::waiters::{Key, WaitQueue, WakeList};
use magpie_shim::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering};
use std::task::Waker;

/// One token's shared state.
pub(super) struct Node {
    /// Whether the node is cancelled. Set once, only under `synced`'s lock (`Release`); read
    /// with `Acquire` without the lock, so that what the canceller did before `cancel` is
    /// visible to whoever sees the flag.
    cancelled: AtomicBool,
    /// How many `CancellationToken`s (clones, guards, owned futures) share this node. The node is
    /// unlinked when it drops to zero; it never rises from zero (only a handle can clone).
    handles: AtomicUsize,
    synced: Mutex<Synced>,
}

/// What a node's lock guards.
struct Synced {
    /// The node whose cancellation cancels this one; `None` for a root, a cancelled node and a
    /// node whose last ancestor was dropped.
    parent: Option<Arc<Node>>,
    /// This node's position in `parent`'s `children` (meaningless without a parent). Read only
    /// under the parent's lock.
    index: usize,
    /// The uncancelled nodes created from this one (or moved here from a dropped child).
    children: Vec<Arc<Node>>,
    /// The `cancelled()` futures waiting on this node.
    waiters: WaitQueue<()>,
}

impl Node {
    /// A new root node with one handle.
    pub(super) fn root() -> Arc<Node> {
        Arc::new(Node::new(None, 0, false))
    }

    fn new(parent: Option<Arc<Node>>, index: usize, cancelled: bool) -> Node {
        Node {
            cancelled: AtomicBool::new(cancelled),
            handles: AtomicUsize::new(1),
            synced: Mutex::new(Synced {
                parent,
                index,
                children: Vec::new(),
                waiters: WaitQueue::new(),
            }),
        }
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// A new node with one handle whose cancellation follows `this`'s.
    pub(super) fn child(this: &Arc<Node>) -> Arc<Node> {
        let mut synced = this.synced.lock();
        // Relaxed: read under the lock that guards every write.
        if this.cancelled.load(Ordering::Relaxed) {
            return Arc::new(Node::new(None, 0, true));
        }
        let child = Arc::new(Node::new(Some(this.clone()), synced.children.len(), false));
        synced.children.push(child.clone());
        child
    }

    /// Cancels this node and every node below it, then wakes all their waiters.
    pub(super) fn cancel(this: &Arc<Node>) {
        let mut wake = WakeList::new();
        {
            let mut x = this.synced.lock();
            if this.cancelled.load(Ordering::Relaxed) {
                return;
            }
            while let Some(child) = x.children.pop() {
                let mut c = child.synced.lock();
                c.parent = None;
                if child.cancelled.load(Ordering::Relaxed) {
                    // A cancelled node has no children left to move.
                    continue;
                }
                // Move the grandchildren up (into the list this loop is emptying), so they
                // stay linked to a locked ancestor until their turn.
                for grandchild in std::mem::take(&mut c.children) {
                    let mut g = grandchild.synced.lock();
                    g.parent = Some(this.clone());
                    g.index = x.children.len();
                    drop(g);
                    x.children.push(grandchild);
                }
                child.mark_cancelled(&mut c, &mut wake);
            }
            this.mark_cancelled(&mut x, &mut wake);
        }
        wake.wake_all();
    }

    /// Sets the flag and moves the waiters' wakers to `wake`. Called with the lock held
    /// (`synced`) and no children left.
    fn mark_cancelled(&self, synced: &mut Synced, wake: &mut WakeList) {
        debug_assert!(synced.children.is_empty());
        self.cancelled.store(true, Ordering::Release);
        synced.waiters.notify_all(wake);
        // Release the slab: a cancelled node never queues a waiter again.
        synced.waiters = WaitQueue::new();
        synced.children = Vec::new();
    }

    /// Counts one more handle.
    pub(super) fn add_handle(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one handle less; the last one unlinks the node from the tree.
    pub(super) fn drop_handle(this: &Arc<Node>) {
        // AcqRel: the last handle's unlink comes after every other handle's use.
        if this.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            Node::unlink(this);
        }
    }

    /// Takes the node out of the tree: out of its parent's list, its children moved to the
    /// parent (or made roots).
    ///
    /// Locking the parent is going up the tree: `this` (newer) is let go first, both are locked
    /// in order, and the link is checked again: meanwhile a cancel may have unlinked `this`, or
    /// the parent may have been dropped and `this` moved up. A node's parent only ever moves up,
    /// so the loop ends. (A `try_lock` of the parent would save a lock in the common case, but
    /// loom models a `try_lock` that meets a held lock as blocking (tokio-rs/loom#376), so the
    /// models could not check that path.)
    fn unlink(this: &Arc<Node>) {
        let mut x = this.synced.lock();
        loop {
            let Some(parent) = x.parent.clone() else {
                // No parent: the children become roots. They are newer: lock in order.
                for child in std::mem::take(&mut x.children) {
                    child.synced.lock().parent = None;
                }
                return;
            };
            // Going up: let `this` go, then lock in order and check the link again.
            drop(x);
            let mut p = parent.synced.lock();
            x = this.synced.lock();
            if !x
                .parent
                .as_ref()
                .is_some_and(|now| Arc::ptr_eq(now, &parent))
            {
                drop(p);
                continue;
            }
            // Out of the parent's list.
            let index = x.index;
            x.parent = None;
            let removed = p.children.swap_remove(index);
            // Checked in release builds too: a wrong index would unlink a sibling silently.
            assert!(
                Arc::ptr_eq(&removed, this),
                "CancellationToken: a node's index does not name it in its parent's list"
            );
            // The children go to the parent (they are newer than both locked nodes). The parent
            // is not cancelled: a cancelled node has no children, and `this` was its child.
            for child in std::mem::take(&mut x.children) {
                let mut c = child.synced.lock();
                c.parent = Some(parent.clone());
                c.index = p.children.len();
                drop(c);
                p.children.push(child);
            }
            drop(x);
            // The sibling moved into the freed place learns its index, under the parent's
            // lock only (it has no order with `this`).
            if let Some(moved) = p.children.get(index) {
                moved.synced.lock().index = index;
            }
            return;
        }
    }

    /// Queues (or re-queues) the waiter owning `key` unless the node is cancelled; returns
    /// whether it is.
    pub(super) fn poll_wait(&self, key: &mut Option<Key>, waker: &Waker) -> bool {
        if self.is_cancelled() {
            self.leave(key);
            return true;
        }
        let mut synced = self.synced.lock();
        if self.cancelled.load(Ordering::Relaxed) {
            // Cancelled: the queue was emptied and replaced, the key names nothing.
            key.take();
            return true;
        }
        synced.waiters.wait_again(key, waker);
        false
    }

    /// The waiter owning `key` is gone: frees its slot, if it has one that is still queued.
    pub(super) fn leave(&self, key: &mut Option<Key>) {
        if key.is_none() {
            return;
        }
        let mut synced = self.synced.lock();
        if self.cancelled.load(Ordering::Relaxed) {
            // The queue the key named was dropped when the node was cancelled.
            key.take();
            return;
        }
        synced.waiters.leave(key);
    }

    /// How many children are linked to this node.
    #[cfg(test)]
    pub(super) fn child_count(&self) -> usize {
        self.synced.lock().children.len()
    }

    /// How many waiters are queued on this node.
    #[cfg(all(test, not(loom)))]
    pub(super) fn waiter_count(&self) -> usize {
        self.synced.lock().waiters.len()
    }

    /// The node's parent, if it is linked to one.
    #[cfg(all(test, not(loom)))]
    pub(super) fn parent(&self) -> Option<Arc<Node>> {
        self.synced.lock().parent.clone()
    }
}

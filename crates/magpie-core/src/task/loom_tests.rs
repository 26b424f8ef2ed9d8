//! loom models of the task state machine: every interleaving of a runner against a waker,
//! an abort, and a JoinHandle drop. Each model counts drops of the future and the output:
//! exactly one each, whatever the interleaving.

use super::{new_task, Id, Notified, Registry, Schedule, TaskRef};
use magpie_shim::{Arc, AtomicUsize, Mutex, Ordering};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Clone)]
struct TestScheduler {
    queue: Arc<Mutex<VecDeque<Notified>>>,
    registry: Arc<Registry>,
}

impl Schedule for TestScheduler {
    fn schedule(&self, task: Notified) {
        self.queue.lock().push_back(task);
    }
    fn release(&self, task: &TaskRef) -> Option<TaskRef> {
        self.registry.remove(task)
    }
}

impl TestScheduler {
    fn new() -> TestScheduler {
        TestScheduler {
            queue: Arc::new(Mutex::new(VecDeque::new())),
            registry: Arc::new(Registry::new(1)),
        }
    }
    fn spawn<F: Future + Send + 'static>(&self, f: F) -> super::JoinHandle<F::Output>
    where
        F::Output: Send + 'static,
    {
        let (owned, notified, join) = new_task(
            f,
            self.clone(),
            Id::next(),
            None,
            std::panic::Location::caller(),
            0,
        );
        assert!(self.registry.insert(owned).is_ok());
        self.schedule(notified);
        join
    }
    fn run_queued(&self) -> usize {
        let mut n = 0;
        loop {
            let next = self.queue.lock().pop_front();
            match next {
                Some(task) => {
                    task.run();
                    n += 1;
                }
                None => return n,
            }
        }
    }
    fn shutdown(&self) {
        self.registry.close();
        while let Some(task) = self.registry.pop() {
            task.shutdown();
        }
        while let Some(t) = self.queue.lock().pop_front() {
            drop(t);
        }
    }
}

/// Counts its drops.
#[derive(Debug)]
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending on the first poll (handing its waker to `slot`), ready on the second.
struct WakeMe {
    waker_slot: Arc<Mutex<Option<Waker>>>,
    polls: usize,
    _drop: DropCounter,
}
impl Future for WakeMe {
    type Output = DropCounter;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropCounter> {
        self.polls += 1;
        if self.polls == 1 {
            *self.waker_slot.lock() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(DropCounter(self._drop.0.clone()))
        }
    }
}

/// The output of a task that has finished: its JoinHandle is ready on the first poll.
impl WakeMe {
    /// Spawns a `WakeMe`; returns its handle, the slot its waker lands in, and the count of
    /// its drops.
    #[allow(clippy::type_complexity)]
    fn spawn(
        sched: &TestScheduler,
    ) -> (
        super::JoinHandle<DropCounter>,
        Arc<Mutex<Option<Waker>>>,
        Arc<AtomicUsize>,
    ) {
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let join = sched.spawn(WakeMe {
            waker_slot: slot.clone(),
            polls: 0,
            _drop: DropCounter(drops.clone()),
        });
        (join, slot, drops)
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the task has not finished"),
    }
}

#[test]
fn wake_while_running_is_not_lost() {
    magpie_shim::loom_model("wake_while_running_is_not_lost", || {
        let sched = TestScheduler::new();
        let (join, slot, drops) = WakeMe::spawn(&sched);
        let waker_thread = {
            let slot = slot.clone();
            loom::thread::spawn(move || loop {
                if let Some(w) = slot.lock().take() {
                    w.wake();
                    return;
                }
                loom::thread::yield_now();
            })
        };
        // The runner: poll until the queue stays empty and the waker has fired.
        let mut runs = 0;
        loop {
            runs += sched.run_queued();
            if join.is_finished() {
                break;
            }
            loom::thread::yield_now();
        }
        waker_thread.join().unwrap();
        assert_eq!(runs, 2);
        let output = block_on(join).unwrap();
        // The future (holding one counter) was dropped at completion.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(output);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        sched.shutdown();
    });
}

#[test]
fn abort_racing_completion_drops_the_future_once() {
    magpie_shim::loom_model("abort_racing_completion_drops_the_future_once", || {
        let sched = TestScheduler::new();
        let future_drops = Arc::new(AtomicUsize::new(0));
        let counter = DropCounter(future_drops.clone());
        let join = sched.spawn(async move {
            let _c = counter;
            7
        });
        let abort = join.abort_handle();
        let aborter = loom::thread::spawn(move || abort.abort());
        sched.run_queued();
        aborter.join().unwrap();
        sched.run_queued(); // an abort of an idle task schedules it
        match block_on(join) {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(future_drops.load(Ordering::SeqCst), 1);
        sched.shutdown();
    });
}

#[test]
fn join_handle_drop_racing_completion_drops_the_output_once() {
    magpie_shim::loom_model(
        "join_handle_drop_racing_completion_drops_the_output_once",
        || {
            let sched = TestScheduler::new();
            let output_drops = Arc::new(AtomicUsize::new(0));
            let out = output_drops.clone();
            let join = sched.spawn(async move { DropCounter(out) });
            let dropper = loom::thread::spawn(move || drop(join));
            sched.run_queued();
            dropper.join().unwrap();
            assert_eq!(output_drops.load(Ordering::SeqCst), 1);
            sched.shutdown();
        },
    );
}

#[test]
fn shutdown_racing_a_wake_drops_the_future_once() {
    magpie_shim::loom_model("shutdown_racing_a_wake_drops_the_future_once", || {
        let sched = TestScheduler::new();
        let (join, slot, drops) = WakeMe::spawn(&sched);
        sched.run_queued();
        let waker = slot.lock().take().expect("first poll stored its waker");
        let waker_thread = loom::thread::spawn(move || waker.wake());
        sched.shutdown();
        waker_thread.join().unwrap();
        sched.run_queued();
        assert!(block_on(join).unwrap_err().is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        sched.shutdown();
    });
}

/// A waker that records that it fired.
struct Flag(magpie_shim::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn join_waker_registration_racing_completion_is_not_lost() {
    magpie_shim::loom_model(
        "join_waker_registration_racing_completion_is_not_lost",
        || {
            let sched = TestScheduler::new();
            let mut join = sched.spawn(async { 5 });
            let runner = {
                let sched = sched.clone();
                loom::thread::spawn(move || {
                    sched.run_queued();
                })
            };
            let flag = std::sync::Arc::new(Flag(magpie_shim::AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let first = Pin::new(&mut join).poll(&mut Context::from_waker(&waker));
            runner.join().unwrap();
            match first {
                Poll::Ready(v) => assert_eq!(v.unwrap(), 5),
                Poll::Pending => {
                    // Registered before completion: the completer must have woken us.
                    assert!(flag.0.load(Ordering::SeqCst), "join waker was not woken");
                    assert_eq!(block_on(join).unwrap(), 5);
                }
            }
            sched.shutdown();
        },
    );
}

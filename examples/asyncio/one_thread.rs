//! Section 22, one thread: asyncio's own model. asyncio runs every task on one thread, so
//! tasks share plain objects: a list every task appends to needs no lock. magpie's
//! multi-thread runtime needs `Send` data (section 9); a **current-thread runtime**
//! (`magpie::Builder::new_current_thread()`) is asyncio's loop, and
//! `magpie::task::spawn_local` spawns tasks that share an `Rc<RefCell<..>>`: no `Send`, no
//! `Mutex`, no `LocalSet`.
//!
//! ```python
//! request = contextvars.ContextVar("request")
//!
//! async def worker(name, log):
//!     for i in range(3):
//!         log.append(f"{name}{i}")    # a plain list, shared: one thread
//!         await asyncio.sleep(0)      # let the others run
//!
//! async def handle():
//!     await asyncio.sleep(0)
//!     return f"handled {request.get()}"
//!
//! async def main():
//!     log = []
//!     await asyncio.gather(*(asyncio.create_task(worker(n, log)) for n in "abc"))
//!     print(" ".join(log))
//!     request.set("req-7")
//!     print(await handle())
//!     asyncio.create_task(asyncio.sleep(3600))   # still pending when main returns
//!
//! asyncio.run(main())   # cancels the hour-long task on the way out
//! ```
//!
//! With no seed, the runtime runs ready tasks first come, first served, as asyncio does, so
//! the log's interleaving is asyncio's. (`Builder::rng_seed` draws that order from a seed
//! instead, for tests that explore other orders.)

use crate::{header, say};
use magpie::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::thread::{self, ThreadId};
use std::time::Duration;

magpie::task_local! {
    /// The request the current task serves: `contextvars.ContextVar("request")`.
    static REQUEST: &'static str;
}

/// The section. A plain `fn`: it starts its own (current-thread) runtime.
pub fn main() {
    header("22. One thread: asyncio's own model (current-thread runtime, spawn_local, Rc)");
    let runtime = magpie::Builder::new_current_thread()
        .build()
        .expect("failed to start the current-thread runtime");
    let main_thread = thread::current().id();

    let mut leftover = None;
    runtime.block_on(async {
        shared_log(main_thread).await;
        task_local().await;

        // asyncio.create_task(asyncio.sleep(3600)), never awaited.
        leftover = Some(spawn_local(async {
            let _finally = SayOnDrop("the hour-long task is dropped as block_on returns");
            magpie::time::sleep(Duration::from_secs(3600)).await;
            say!("never printed: the task is gone before its hour is up");
        }));
        magpie::task::yield_now().await; // let it start its sleep
        say!("main returns with a task still sleeping for an hour");
    });
    // The local tasks still pending when block_on returns are dropped, on this thread, as
    // asyncio.run cancels what is left.
    let cancelled = runtime
        .block_on(leftover.expect("spawned above"))
        .expect_err("the hour-long task cannot have finished")
        .is_cancelled();
    say!("after block_on, its JoinHandle says cancelled: {cancelled}");
}

/// Three workers append to one `Rc<RefCell<Vec<_>>>`, yielding between appends.
async fn shared_log(main_thread: ThreadId) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let on_main_thread = Rc::new(Cell::new(true));
    let workers: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let log = Rc::clone(&log);
            let on_main_thread = Rc::clone(&on_main_thread);
            // `magpie::spawn` would refuse this future at compile time (it holds `Rc`s,
            // which are not `Send`); `spawn_local` takes it.
            spawn_local(async move {
                for i in 0..3 {
                    // A borrow that ends before the await: no other task can be inside it.
                    log.borrow_mut().push(format!("{name}{i}"));
                    if thread::current().id() != main_thread {
                        on_main_thread.set(false);
                    }
                    magpie::task::yield_now().await; // asyncio.sleep(0)
                }
            })
        })
        .collect();
    // asyncio.gather over the tasks.
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    say!(
        "three tasks appended to one Rc<RefCell<Vec>>: {}",
        log.borrow().join(" ")
    );
    say!(
        "every task ran on the thread that called block_on: {}",
        on_main_thread.get()
    );
}

/// A task-local, `contextvars.ContextVar`'s counterpart: set for one future with `scope`.
async fn task_local() {
    async fn handle() -> String {
        magpie::task::yield_now().await;
        format!("handled {}", REQUEST.get())
    }
    // request.set("req-7") for the extent of handle()
    say!("{}", REQUEST.scope("req-7", handle()).await);
    // Unlike create_task, which copies the context, a task spawned inside the scope starts
    // without it.
    let sees_it = REQUEST
        .scope("req-8", async {
            spawn_local(async { REQUEST.try_with(|r| *r).is_ok() }).await
        })
        .await;
    say!(
        "a task spawned inside the scope sees REQUEST: {}",
        sees_it.expect("the task panicked")
    );
    // Giving it a scope of its own.
    let scoped = spawn_local(REQUEST.scope("req-9", handle()));
    say!("{}", scoped.await.expect("the task panicked"));
}

/// Says its line when dropped: the leftover task's `finally`.
struct SayOnDrop(&'static str);

impl Drop for SayOnDrop {
    fn drop(&mut self) {
        say!("{}", self.0);
    }
}

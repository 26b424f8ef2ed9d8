//! Section 13, queues: `asyncio.Queue` is a `magpie::sync::mpsc` channel.
//!
//! ```python
//! queue = asyncio.Queue(maxsize=2)
//! workers = [asyncio.create_task(worker(f'worker-{i}', queue)) for i in range(3)]
//! for item in range(6):
//!     await queue.put(item)        # waits while the queue is full
//! await queue.join()               # until every item is task_done()
//! for w in workers: w.cancel()
//! ```
//!
//! `mpsc::channel(2)` is `Queue(maxsize=2)`: `send(x).await` is `put` (it waits for room:
//! backpressure), `recv().await` is `get`, `try_send` / `try_recv` are `put_nowait` /
//! `get_nowait` (`QueueFull` / `QueueEmpty` are their errors). `unbounded_channel()` is
//! `Queue()` with no maxsize. The queue has one receiver; several workers share it behind
//! a `Mutex`. `task_done()` / `join()` for a finished producer: drop the senders (the queue
//! closes, and once it is empty `recv()` returns `None`) and await the workers, which end
//! by themselves; nothing to cancel.

use crate::{header, ms, say, secs};
use magpie::sync::{mpsc, oneshot, Mutex};
use magpie::time;
use std::sync::Arc;

/// `async def worker(name, queue)`: takes items until the queue is closed and empty;
/// returns how many it processed.
async fn worker(name: &'static str, queue: Arc<Mutex<mpsc::Receiver<u32>>>) -> usize {
    let mut processed = 0;
    loop {
        // item = await queue.get() (one worker at a time waits on the queue)
        let item = queue.lock().await.recv().await;
        let Some(item) = item else {
            break; // closed and empty: the producer is done
        };
        time::sleep(secs(0.2)).await; // the work, with the queue free for the others
        say!("  {name}: processed item {item}");
        processed += 1; // queue.task_done()
    }
    processed
}

/// The section.
pub async fn main() {
    header("13. Queues: mpsc (asyncio.Queue), producer and workers");

    let (queue, items) = mpsc::channel::<u32>(2); // asyncio.Queue(maxsize=2)
    let items = Arc::new(Mutex::new(items));
    let workers: Vec<_> = ["worker-1", "worker-2", "worker-3"]
        .into_iter()
        .map(|name| magpie::spawn(worker(name, items.clone())))
        .collect();

    let start = time::now();
    for item in 0..6 {
        // await queue.put(item): waits while two items are queued
        if queue.send(item).await.is_err() {
            say!("the workers are gone");
        }
    }
    say!(
        "producer: put 6 items in {} (maxsize=2: put waited for room)",
        ms(time::now() - start)
    );
    drop(queue); // no more items: the queue closes once it is empty
    let mut processed = 0;
    for w in workers {
        processed += w.await.expect("a worker panicked"); // await queue.join()
    }
    say!(
        "queue.join(): {processed} items processed by 3 workers, after {}",
        ms(time::now() - start)
    );

    // put_nowait / get_nowait on a full / empty queue.
    let (queue, mut items) = mpsc::channel::<&str>(1);
    let _ = queue.try_send("first");
    match queue.try_send("second") {
        Ok(()) => say!("unexpected: room for a second item"),
        Err(e) => say!("put_nowait on a full queue -> QueueFull: {e}"),
    }
    let _ = items.try_recv();
    match items.try_recv() {
        Ok(v) => say!("unexpected: {v}"),
        Err(e) => say!("get_nowait on an empty queue -> QueueEmpty: {e}"),
    }

    // Asking a task and awaiting its answer: send a oneshot with the request (in asyncio, a
    // Future put on the queue with the item).
    let (requests, mut incoming) = mpsc::unbounded_channel::<(u32, oneshot::Sender<u32>)>();
    let squarer = magpie::spawn(async move {
        while let Some((n, reply)) = incoming.recv().await {
            let _ = reply.send(n * n);
        }
    });
    let (reply, answer) = oneshot::channel();
    let _ = requests.send((12, reply));
    say!(
        "a request over an unbounded queue, the answer over a oneshot: 12 * 12 = {:?}",
        answer.await
    );
    drop(requests);
    let _ = squarer.await;
}

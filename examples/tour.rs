//! A tour of magpie for asyncio users: `cargo run --release --example tour`.
//!
//! Each section prints what it shows. Later sections (channels, async generators) arrive with
//! the features they need.

use futures_lite::io::BufReader;
use futures_lite::StreamExt;
use magpie::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use magpie::task::{self, JoinSet};
use magpie::time::{self, MissedTickBehavior};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    // A panicking task prints through the panic hook, like an uncaught exception's traceback;
    // keep it to one line so the tour reads cleanly.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or("(non-string payload)");
        println!("(panic hook) a task panicked: {msg}");
    }));
    // asyncio.run(main()): build a runtime, run one future to completion, shut it down.
    magpie::run(async {
        coroutines_and_tasks().await;
        gather_with_join_set().await;
        exceptions_as_join_errors().await;
        cancellation().await;
        blocking_work().await;
        work_spread_over_workers().await;
        sleeping().await;
        timeouts().await;
        periodic_work().await;
        tcp_exchange().await.expect("the TCP exchange failed");
    });
    println!("\nThe runtime has shut down: every task that was still pending was dropped.");
    paused_time();
}

/// `async fn` is a coroutine; `magpie::spawn` is `asyncio.create_task`.
async fn coroutines_and_tasks() {
    println!("== Coroutines and tasks ==");
    async fn greet(name: &'static str) -> String {
        format!("Hello, {name}!")
    }
    // Awaiting a coroutine runs it inline, like `await greet("world")`.
    println!("{}", greet("world").await);

    // Spawning makes it a task that runs on the workers while we continue.
    let task1 = magpie::spawn(greet("Hello-task"));
    let task2 = magpie::spawn(greet("World-task"));
    println!("spawned tasks {} and {}", task1.id(), task2.id());
    // `await task1; await task2` — a JoinHandle yields Result<T, JoinError>.
    println!("{}", task1.await.expect("task1 panicked"));
    println!("{}", task2.await.expect("task2 panicked"));
}

/// `asyncio.gather` over many tasks: a JoinSet yields results as tasks finish.
async fn gather_with_join_set() {
    println!("\n== Many tasks at once (JoinSet) ==");
    let mut set = JoinSet::new();
    for n in 1..=10u64 {
        set.spawn(async move { (n, (1..=n).product::<u64>()) });
    }
    let mut results = Vec::new();
    while let Some(done) = set.join_next().await {
        results.push(done.expect("a factorial task panicked"));
    }
    results.sort();
    for (n, fact) in results {
        print!("{n}!={fact} ");
    }
    println!();
}

/// An exception in a task does not crash the loop: it becomes a `JoinError` at the await.
async fn exceptions_as_join_errors() {
    println!("\n== Exceptions: a panicking task is an error, not a crash ==");
    let ok = magpie::spawn(async { "fine" });
    println!("ok task -> {:?}", ok.await);
    let failing = task::Builder::new()
        .name("might_fail")
        .spawn(async {
            if true {
                panic!("Something went wrong!");
            }
            "unreachable"
        })
        .expect("spawn");
    match failing.await {
        Ok(v) => println!("unexpected success: {v}"),
        Err(e) if e.is_panic() => println!("Error: {e}"),
        Err(e) => println!("cancelled: {e}"),
    }
    // The runtime is unharmed: the worker that ran the panicking task still runs tasks.
    println!(
        "after the panic: {}",
        magpie::spawn(async { 6 * 7 }).await.unwrap()
    );
}

/// `task.cancel()` is `JoinHandle::abort`; the future is dropped (its cleanup runs).
async fn cancellation() {
    println!("\n== Cancellation ==");
    struct Cleanup;
    impl Drop for Cleanup {
        fn drop(&mut self) {
            println!("cleanup ran when the task was cancelled");
        }
    }
    let started = Arc::new(AtomicBool::new(false));
    let forever = magpie::spawn({
        let started = started.clone();
        async move {
            let _cleanup = Cleanup;
            started.store(true, Ordering::Release);
            loop {
                task::yield_now().await;
            }
        }
    });
    // Let it start, so that there is something to clean up (a task cancelled before its
    // first poll never ran any of its body).
    while !started.load(Ordering::Acquire) {
        task::yield_now().await;
    }
    forever.abort();
    let err = forever.await.unwrap_err();
    println!(
        "awaiting it gives: {err} (is_cancelled = {})",
        err.is_cancelled()
    );
}

/// `loop.run_in_executor` / `asyncio.to_thread`: blocking code goes to the blocking pool.
async fn blocking_work() {
    println!("\n== Blocking work on the blocking pool ==");
    let started = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(100));
                i
            })
        })
        .collect();
    let mut done = Vec::new();
    for h in handles {
        done.push(h.await.unwrap());
    }
    println!(
        "4 blocking sleeps of 100 ms finished in {:?} (side by side, not 400 ms): {done:?}",
        started.elapsed()
    );
}

/// Concurrency vs parallelism: CPU work in tasks runs on several worker threads at once.
async fn work_spread_over_workers() {
    println!("\n== Work spread over the workers ==");
    fn busy(ms: u64) -> u64 {
        let until = Instant::now() + Duration::from_millis(ms);
        let mut x = 0u64;
        while Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        x
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..(2 * workers) {
        set.spawn(async {
            busy(50);
            std::thread::current().id()
        });
    }
    let mut threads = HashSet::new();
    while let Some(t) = set.join_next().await {
        threads.insert(t.unwrap());
    }
    println!(
        "{} tasks of 50 ms CPU each took {:?} on {} worker thread(s) ({} available cores)",
        2 * workers,
        started.elapsed(),
        threads.len(),
        workers
    );
}

/// The time of day (UTC) as `HH:MM:SS.mmm`: the notes' `time.strftime('%X')`, to the ms.
fn clock_time() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        % 86_400_000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Milliseconds since `start` on the runtime's clock (`loop.time()` is `magpie::time::now()`).
fn ms_since(start: Instant) -> u128 {
    time::now().saturating_duration_since(start).as_millis()
}

/// The notes' coroutine: `await asyncio.sleep(delay); print(what)`.
async fn say_after(delay: Duration, what: &'static str) {
    time::sleep(delay).await;
    println!("{what}");
}

/// `asyncio.sleep` is `magpie::time::sleep`: awaiting two sleeps in turn adds them up, two
/// tasks sleep side by side.
async fn sleeping() {
    println!("\n== Sleeping: say_after in turn, then as two tasks; call_later ==");
    // The notes sleep 1 s and 2 s; a fifth of that keeps the tour quick (the paused-time
    // section at the end runs the real delays).
    let (one, two) = (Duration::from_millis(200), Duration::from_millis(400));

    println!("await say_after(200 ms, \"hello\"); await say_after(400 ms, \"world\"):");
    let start = time::now();
    println!("started at {} UTC", clock_time());
    say_after(one, "hello").await;
    say_after(two, "world").await;
    println!(
        "finished at {} UTC ({} ms: the sleeps add up)",
        clock_time(),
        ms_since(start)
    );

    println!("the same two as tasks (asyncio.create_task), then await task1; await task2:");
    let start = time::now();
    let task1 = magpie::spawn(say_after(one, "hello"));
    let task2 = magpie::spawn(say_after(two, "world"));
    println!("started at {} UTC", clock_time());
    task1.await.expect("task1 panicked");
    task2.await.expect("task2 panicked");
    println!(
        "finished at {} UTC ({} ms: the tasks slept side by side)",
        clock_time(),
        ms_since(start)
    );

    // loop.call_later(delay, callback) is a task that sleeps, then calls; its handle's
    // abort() is TimerHandle.cancel().
    let start = time::now();
    let later = magpie::spawn(async move {
        time::sleep(Duration::from_millis(50)).await;
        println!(
            "call_later(50 ms): the callback ran at {} ms",
            ms_since(start)
        );
    });
    let cancelled = magpie::spawn(async {
        time::sleep(Duration::from_millis(50)).await;
        println!("this callback was cancelled: never printed");
    });
    cancelled.abort();
    later.await.expect("the callback panicked");
    let err = cancelled.await.unwrap_err();
    println!("the other call_later, cancelled: {err}");
}

/// `asyncio.wait_for(aw, timeout)` / `async with asyncio.timeout(delay)` is
/// `magpie::time::timeout`: on timeout the future is dropped, as asyncio cancels it.
async fn timeouts() {
    println!("\n== Timeouts (asyncio.wait_for / asyncio.timeout) ==");
    // The slow operation's cleanup (its `finally`) records that it ran.
    struct Cleanup(Arc<AtomicBool>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    async fn slow_operation(cleaned_up: Arc<AtomicBool>) -> &'static str {
        let _cleanup = Cleanup(cleaned_up);
        time::sleep(Duration::from_secs(10)).await;
        "too late"
    }
    async fn fast_operation() -> &'static str {
        time::sleep(Duration::from_millis(20)).await;
        "fast result"
    }

    let cleaned_up = Arc::new(AtomicBool::new(false));
    let start = time::now();
    let slow = time::timeout(
        Duration::from_millis(100),
        slow_operation(cleaned_up.clone()),
    )
    .await;
    match slow {
        Ok(v) => println!("unexpected: {v}"),
        Err(elapsed) => println!(
            "timeout(100 ms, a 10 s operation) -> Err({elapsed:?}): \"{elapsed}\" after {} ms",
            ms_since(start)
        ),
    }
    println!(
        "the slow operation was dropped, as asyncio cancels it (its cleanup ran: {})",
        cleaned_up.load(Ordering::Acquire)
    );

    let start = time::now();
    let fast = time::timeout(Duration::from_secs(1), fast_operation()).await;
    println!(
        "timeout(1 s, a 20 ms operation) -> {fast:?} after {} ms",
        ms_since(start)
    );

    // `async with asyncio.timeout_at(when):` around several steps: one deadline for them all.
    let start = time::now();
    let deadline = start + Duration::from_millis(250);
    let steps = time::timeout_at(deadline, async {
        for step in 1..=3 {
            time::sleep(Duration::from_millis(100)).await;
            println!("step {step} of 100 ms done at {} ms", ms_since(start));
        }
    })
    .await;
    println!(
        "timeout_at(now + 250 ms, three steps) -> {steps:?} at {} ms",
        ms_since(start)
    );

    // asyncio's `cm.reschedule(when)` is `Sleep::reset`: the deadline moves, the timer with it.
    let start = time::now();
    let mut deadline = time::sleep(Duration::from_millis(50));
    Pin::new(&mut deadline).reset(start + Duration::from_millis(120));
    deadline.await;
    println!(
        "a 50 ms sleep reset to 120 ms fired after {} ms",
        ms_since(start)
    );
}

/// A periodic loop (`while True: work(); await asyncio.sleep(period)`) is
/// `magpie::time::interval`: ticks on a fixed schedule that the work's duration does not shift.
async fn periodic_work() {
    println!("\n== Periodic work (interval) ==");
    let mut every = time::interval(Duration::from_millis(50));
    let first = every.tick().await; // the first tick is immediate
    let mut due = vec![0];
    for _ in 0..3 {
        due.push((every.tick().await - first).as_millis());
    }
    println!("interval(50 ms): ticks due at {due:?} ms");

    // When the loop falls behind (here: a 110 ms stall after the second tick), the
    // MissedTickBehavior decides what happens to the ticks it missed. (`Delay`, the third,
    // puts the next tick a period after the late one: the schedule shifts, as the asyncio
    // sleep loop's does.)
    async fn stalled(behavior: MissedTickBehavior) -> Vec<u128> {
        let mut every = time::interval(Duration::from_millis(50));
        every.set_missed_tick_behavior(behavior);
        let first = every.tick().await;
        let mut due = vec![0];
        for n in 2..=5 {
            due.push((every.tick().await - first).as_millis());
            if n == 2 {
                time::sleep(Duration::from_millis(110)).await;
            }
        }
        due
    }
    let burst = magpie::spawn(stalled(MissedTickBehavior::Burst));
    let skip = magpie::spawn(stalled(MissedTickBehavior::Skip));
    println!("a 110 ms stall after the 2nd tick:");
    println!(
        "  Burst (the default): ticks due at {:?} ms (the missed ones fire at once)",
        burst.await.expect("the Burst task panicked")
    );
    println!(
        "  Skip:                ticks due at {:?} ms (the missed ones are skipped)",
        skip.await.expect("the Skip task panicked")
    );
}

/// asyncio's streams: `asyncio.start_server(handle, host, port)` is `TcpListener::bind` and
/// an accept loop spawning a task per connection; `asyncio.open_connection(host, port)` is
/// `TcpStream::connect`. One `TcpStream` is both the `StreamReader` (through a `BufReader`
/// for `readline`) and the `StreamWriter`; `examples/echo.rs` is a fuller server and client.
async fn tcp_exchange() -> std::io::Result<()> {
    println!("\n== Streams: a TCP exchange (start_server / open_connection) ==");

    // handle_upper(reader, writer): reply to each line in upper case until the client closes.
    async fn handle_upper(stream: TcpStream) -> std::io::Result<()> {
        let peer = stream.peer_addr()?;
        // A clone shares the socket: the BufReader reads from one, we write to the other.
        let mut lines = BufReader::new(stream.clone()).lines();
        let mut writer = stream;
        while let Some(line) = lines.next().await {
            let message = line?; // `await reader.readline()`, without the newline
            println!("  server: Received {message:?} from {peer}");
            let reply = message.to_uppercase();
            println!("  server: Send: {reply:?}");
            // `writer.write(data); await writer.drain()`
            writer.write_all(format!("{reply}\n").as_bytes()).await?;
        }
        println!("  server: EOF from the client; Close the connection");
        Ok(()) // dropping the stream closes the socket: the client reads EOF
    }

    // server = await asyncio.start_server(handle_upper, '127.0.0.1', 0)
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("Serving on {addr}");
    // `await server.serve_forever()`, as a task: a task per connection. (An accept error ends
    // this small server; examples/echo.rs logs it and goes on.)
    let server = magpie::spawn(async move {
        while let Ok((stream, _peer)) = listener.accept().await {
            magpie::spawn(async move {
                if let Err(e) = handle_upper(stream).await {
                    println!("  server: the connection failed: {e}");
                }
            });
        }
    });

    // reader, writer = await asyncio.open_connection('127.0.0.1', port)
    let stream = TcpStream::connect(addr).await?;
    let mut reader = BufReader::new(stream.clone());
    let mut writer = stream;
    for message in ["hello", "magpie", "streams"] {
        println!("client: Send: {message:?}");
        writer.write_all(format!("{message}\n").as_bytes()).await?;
        let mut reply = String::new();
        reader.read_line(&mut reply).await?; // `await reader.readline()`
        println!("client: Received: {:?}", reply.trim_end());
    }
    // writer.close(); await writer.wait_closed(): shut our side, then wait for the server's
    // EOF (`await reader.read()` returning b"").
    println!("client: Close the connection");
    writer.close().await?;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await?;
    println!("client: EOF from the server: closed on both sides");

    // server.close(): stop accepting (the listener is dropped with the cancelled task).
    server.abort();
    let _ = server.await;
    Ok(())
}

/// No asyncio counterpart: a fake clock for tests. A runtime built with
/// `Builder::start_paused(true)` (or a `#[magpie::test(start_paused = true)]` test) has its
/// clock paused; when it has nothing to do but wait for a timer, the clock jumps to it.
/// `magpie::time::advance` moves it by hand.
fn paused_time() {
    println!("\n== Paused time: a fake clock for tests ==");
    let runtime = magpie::Runtime::builder()
        .start_paused(true)
        .build()
        .expect("failed to start the paused runtime");
    println!("the notes' real delays, 1 s and 2 s, on a start_paused(true) runtime:");
    let real = Instant::now();
    runtime.block_on(async {
        let start = time::now();
        say_after(Duration::from_secs(1), "hello").await;
        say_after(Duration::from_secs(2), "world").await;
        println!("in turn: {:?} on the runtime's clock", time::now() - start);

        let start = time::now();
        let task1 = magpie::spawn(say_after(Duration::from_secs(1), "hello"));
        let task2 = magpie::spawn(say_after(Duration::from_secs(2), "world"));
        task1.await.expect("task1 panicked");
        task2.await.expect("task2 panicked");
        println!(
            "as two tasks: {:?} on the runtime's clock",
            time::now() - start
        );
    });
    println!(
        "both took {} ms of real time: with nothing else to do, the clock jumps to the next timer",
        real.elapsed().as_millis()
    );
}

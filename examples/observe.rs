//! Seeing inside a running runtime: the live task list, the metrics, and their Prometheus
//! text, taken while a small service runs (an echo server, its clients, and some tasks
//! waiting on timers).
//!
//! ```sh
//! cargo run --release --example observe
//! ```
//!
//! `docs/observability.md` explains every column and metric.

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() {
    let runtime = magpie::Runtime::builder()
        .worker_threads(2)
        .build()
        .expect("failed to start the runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local address");
        magpie::task::Builder::new()
            .name("accept-loop")
            .spawn(async move {
                loop {
                    let (mut stream, _) = listener.accept().await.expect("accept");
                    magpie::task::Builder::new()
                        .name("echo-connection")
                        .spawn(async move {
                            let mut buf = [0; 64];
                            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        })
                        .expect("inside the runtime");
                }
            })
            .expect("inside the runtime");
        let mut clients = Vec::new();
        for i in 0..3 {
            let client = magpie::task::Builder::new()
                .name(&format!("client-{i}"))
                .spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let mut buf = [0; 5];
                    for _ in 0..100 {
                        stream.write_all(b"hello").await.expect("write");
                        stream.read_exact(&mut buf).await.expect("read");
                        magpie::time::sleep(Duration::from_millis(2)).await;
                    }
                })
                .expect("inside the runtime");
            clients.push(client);
        }
        let sleepers: Vec<_> = (0..3)
            .map(|_| magpie::spawn(magpie::time::sleep(Duration::from_secs(60))))
            .collect();

        magpie::time::sleep(Duration::from_millis(100)).await;
        let handle = magpie::Handle::current();
        println!("The live tasks, 100 ms in (asyncio.all_tasks()):\n");
        println!("{}\n", magpie::task::table(&handle.tasks()));

        for client in clients {
            client.await.expect("a client failed");
        }
        let metrics = handle.metrics();
        println!("Metrics once the clients are done:");
        println!("  workers                {}", metrics.num_workers());
        println!("  alive tasks            {}", metrics.num_alive_tasks());
        println!("  spawned tasks          {}", metrics.spawned_tasks_count());
        for w in 0..metrics.num_workers() {
            println!(
                "  worker {w}: {} polls, {} parks, {} steals, busy {:?}",
                metrics.worker_poll_count(w),
                metrics.worker_park_count(w),
                metrics.worker_steal_count(w),
                metrics.worker_total_busy_duration(w),
            );
        }
        println!(
            "  I/O: {} sources, {} ready events; timers: {} registered, {} fired, {} pending",
            metrics.io_sources_registered(),
            metrics.io_ready_events_count(),
            metrics.timers_registered_count(),
            metrics.timers_fired_count(),
            metrics.timers_pending(),
        );
        println!("\nThe same as Prometheus text (first lines of `metrics.to_prometheus()`):\n");
        for line in metrics.to_prometheus().lines().take(12) {
            println!("{line}");
        }
        for s in sleepers {
            s.abort();
        }
    });
}

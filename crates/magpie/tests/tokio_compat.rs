//! `Builder::tokio_compat` (feature `tokio-compat`): tokio's context on every magpie thread
//! (inside `block_on`, in tasks, on blocking threads, on a `block_in_place` stand-in) and
//! none without the setting; tokio's timers and sockets from magpie tasks; `tokio::spawn`
//! running on the tokio side while magpie's tasks stay on magpie's workers; no thread left
//! behind and no hang at shutdown.
#![cfg(feature = "tokio-compat")]

use magpie::{Builder, Runtime};
use std::time::Duration;

fn compat(workers: usize) -> Runtime {
    Runtime::builder()
        .worker_threads(workers)
        .thread_name("compat-test")
        .tokio_compat(true)
        .build()
        .unwrap()
}

fn in_tokio() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

#[test]
fn every_magpie_thread_is_inside_tokio_with_the_setting() {
    let rt = compat(2);
    let (in_block_on, in_task, in_blocking, in_stand_in) = rt.block_on(async {
        let in_block_on = in_tokio();
        let in_task = magpie::spawn(async { in_tokio() }).await.unwrap();
        let in_blocking = magpie::task::spawn_blocking(in_tokio).await.unwrap();
        // A stand-in runs this worker's other tasks while it blocks in place.
        let in_stand_in = magpie::spawn(async {
            let beside = magpie::spawn(async { in_tokio() });
            magpie::task::block_in_place(|| std::thread::sleep(Duration::from_millis(20)));
            beside.await.unwrap()
        })
        .await
        .unwrap();
        (in_block_on, in_task, in_blocking, in_stand_in)
    });
    assert!(in_block_on && in_task && in_blocking && in_stand_in);
    // Outside block_on, this thread is not inside tokio.
    assert!(!in_tokio());
}

#[test]
fn no_tokio_context_without_the_setting() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let seen = rt.block_on(async {
        let task = magpie::spawn(async { in_tokio() }).await.unwrap();
        (in_tokio(), task)
    });
    assert_eq!(seen, (false, false));
}

#[test]
fn tokio_timers_and_sockets_work_from_magpie_tasks() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = compat(2);
    let echoed = rt.block_on(async {
        magpie::spawn(async {
            let start = std::time::Instant::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(start.elapsed() >= Duration::from_millis(20));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = magpie::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            });
            let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
            client.write_all(b"hello").await.unwrap();
            let mut buf = [0u8; 5];
            client.read_exact(&mut buf).await.unwrap();
            server.await.unwrap();
            buf
        })
        .await
        .unwrap()
    });
    assert_eq!(&echoed, b"hello");
}

#[test]
fn tokio_spawn_runs_on_the_tokio_thread_and_magpie_tasks_stay_on_the_workers() {
    let rt = compat(2);
    let (tokio_side, magpie_side) = rt.block_on(async {
        magpie::spawn(async {
            let tokio_side = tokio::spawn(async { thread_name() }).await.unwrap();
            let magpie_side = magpie::spawn(async { thread_name() }).await.unwrap();
            (tokio_side, magpie_side)
        })
        .await
        .unwrap()
    });
    assert_eq!(tokio_side, "compat-test-tokio");
    assert_eq!(magpie_side, "compat-test");
}

#[test]
fn a_current_thread_runtime_can_be_compatible_too() {
    let rt = Builder::new_current_thread()
        .tokio_compat(true)
        .build()
        .unwrap();
    let slept = rt.block_on(async {
        let local = magpie::task::spawn_local(async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            in_tokio()
        });
        local.await.unwrap()
    });
    assert!(slept);
}

/// The threads of this process whose name starts with `prefix` (Linux: /proc).
#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}

#[test]
fn dropping_three_runtimes_in_a_row_leaves_no_thread_and_does_not_wait_for_tokio_tasks() {
    for round in 0..3 {
        let rt = Runtime::builder()
            .worker_threads(2)
            .thread_name(format!("compat-drop-{round}"))
            .tokio_compat(true)
            .build()
            .unwrap();
        rt.block_on(async {
            // A tokio task that never ends, and a magpie task waiting on a tokio timer.
            tokio::spawn(std::future::pending::<()>());
            magpie::spawn(tokio::time::sleep(Duration::from_secs(3600)));
            magpie::task::spawn_blocking(|| ()).await.unwrap();
        });
        let dropped = std::time::Instant::now();
        drop(rt);
        assert!(
            dropped.elapsed() < Duration::from_secs(10),
            "dropping the runtime waited for the tokio side"
        );
        #[cfg(target_os = "linux")]
        assert_eq!(threads_named(&format!("compat-drop-{round}")), 0);
    }
}

#[test]
fn block_on_inside_block_in_place_nests_the_tokio_context() {
    let rt = compat(1);
    let handle = rt.handle().clone();
    let inside = rt.block_on(async move {
        magpie::spawn(async move {
            magpie::task::block_in_place(|| {
                handle.block_on(async {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    in_tokio()
                })
            })
        })
        .await
        .unwrap()
    });
    assert!(inside);
}

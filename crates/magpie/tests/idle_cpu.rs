//! An idle runtime uses no CPU: no timed polling loop while nothing is scheduled, a far-off
//! timer costs a handful of wake-ups, not one per millisecond, and sockets waiting for
//! data cost nothing while none comes.
//!
//! CPU time is the whole process's (`getrusage(RUSAGE_SELF)`), so each scenario runs alone
//! in this test binary (one `#[test]`, scenarios in sequence).
//!
//! Unix only: it reads the CPU time with `getrusage` and waits on Unix socket pairs.

#![cfg(unix)]

mod common;

use std::time::Duration;

fn process_cpu() -> Duration {
    // SAFETY: `getrusage` only writes the struct we pass, which is zero-initialised and
    // lives for the call.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU used by the process while `rt` sits idle for `wall`.
fn cpu_while_idle(_rt: &magpie::Runtime, wall: Duration) -> Duration {
    // Let start-up settle (threads parking) before measuring.
    std::thread::sleep(Duration::from_millis(100));
    let before = process_cpu();
    std::thread::sleep(wall);
    let used = process_cpu() - before;
    eprintln!("idle for {wall:?}: {used:?} of CPU");
    used
}

#[test]
fn idle_runtimes_use_no_cpu() {
    common::watchdog("idle cpu", common::HANG, || {
        let wall = Duration::from_secs(1);
        // A generous bound: a timed polling loop (even every 10 ms) over 4 workers would use
        // far more than this; a parked runtime uses close to zero.
        let bound = Duration::from_millis(60);

        let rt = common::runtime(4);
        let used = cpu_while_idle(&rt, wall);
        assert!(
            used < bound,
            "an idle 4-worker runtime used {used:?} of CPU in {wall:?}"
        );
        drop(rt);

        // A timer an hour away: the driver sleeps until the next cascade point, not in a loop.
        let rt = common::runtime(4);
        let sleeper = rt.spawn(magpie::time::sleep(Duration::from_secs(3600)));
        let used = cpu_while_idle(&rt, wall);
        assert!(
            used < bound,
            "a 4-worker runtime with one far timer used {used:?} of CPU in {wall:?}"
        );
        sleeper.abort();
        drop(rt);

        // Sockets registered with the reactor: a listener waiting in `accept` and an idle
        // connection waiting in `read`. The driver blocks in the poller; nothing polls.
        let rt = common::runtime(4);
        let (server, client) = rt.block_on(async {
            use magpie::io::AsyncReadExt;
            let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = magpie::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (conn, _) = listener.accept().await.unwrap();
            let server = magpie::spawn(async move {
                let mut conn = conn;
                let mut buf = [0u8; 1];
                let _ = conn.read(&mut buf).await;
                let _ = listener.accept().await;
            });
            (server, client)
        });
        let used = cpu_while_idle(&rt, wall);
        assert!(
            used < bound,
            "a 4-worker runtime waiting on two sockets used {used:?} of CPU in {wall:?}"
        );
        server.abort();
        drop(client);
        drop(rt);
    });
}

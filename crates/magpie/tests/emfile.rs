//! An accept loop that runs out of descriptors (EMFILE) backs off instead of spinning, and
//! recovers promptly once descriptors are freed.
//!
//! The scenario lowers `RLIMIT_NOFILE`, which would break every other test running in the
//! same process, so it runs in a child process: this test binary re-run with only the
//! ignored `emfile_child` test, marked by an environment variable. The child prints one
//! `EMFILE-FIGURES` line; the parent checks the exit status and the figures.
//!
//! Linux only: it reads `/proc/self/fd` to count the open descriptors.
#![cfg(target_os = "linux")]

mod common;

use magpie::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MAGPIE_EMFILE_CHILD";
/// Connections queued while the process has no descriptor to accept them with.
const QUEUED: usize = 3;
/// How long the accept loop is kept starving while its CPU time is measured.
const STARVED_FOR: Duration = Duration::from_secs(1);

#[test]
fn an_accept_loop_out_of_descriptors_backs_off_and_recovers() {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args(["--exact", "emfile_child", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("failed to start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the EMFILE scenario failed in the child process:\n{stdout}\n{stderr}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.find("EMFILE-FIGURES").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("the child printed no figures:\n{stdout}\n{stderr}"));
    println!("{line}");
    let figure = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no `{name}` in {line}"))
    };
    // A spinning loop would burn ~1,000 ms of CPU in the starved second; backing off costs
    // a few. The bound is generous for shared 2-core machines.
    assert!(
        figure("cpu_ms") < 150.0,
        "the starved accept loop used too much CPU: {line}"
    );
    assert!(
        figure("errors") >= 1.0,
        "accept never reported EMFILE: {line}"
    );
    assert!(
        figure("errors") < 200.0,
        "accept retried too often while starved: {line}"
    );
    // The back-off pause is at most 64 ms; allow for late wake-ups.
    assert!(
        figure("recovery_ms") < 1_000.0,
        "accept did not recover promptly once descriptors were freed: {line}"
    );
}

/// CPU time (user + system) this process has used so far.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct it is given and touches nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
#[ignore = "run in a child process by an_accept_loop_out_of_descriptors_backs_off_and_recovers"]
fn emfile_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        // Run by hand with --ignored: lowering the fd limit here would break the other
        // tests of this process, so only the parent's child process does it.
        eprintln!("emfile_child runs only as the child of its parent test");
        return;
    }
    let rt = common::runtime(2);
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();

    // Queue connections the kernel completes without an accept.
    let clients: Vec<_> = (0..QUEUED)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();

    // Lower the soft limit a little above the descriptors open now, then take every
    // descriptor left: the process is out of descriptors.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit`/`setrlimit` read and write the one struct given.
    unsafe { assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0) };
    let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    limit.rlim_cur = (open_now + 32).min(limit.rlim_max);
    // SAFETY: as above.
    unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0) };
    let mut hog = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
    }

    let accepted = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let accept_loop = {
        let (accepted, errors) = (accepted.clone(), errors.clone());
        rt.spawn(async move {
            let mut streams = Vec::new();
            while streams.len() < QUEUED {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        streams.push(stream);
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => {
                        // The error reaches the loop (it may log it) with the OS's code.
                        assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            streams
        })
    };

    // Starved: measure the CPU the whole process spends.
    common::wait_until("the first EMFILE", common::HANG, || {
        errors.load(Ordering::SeqCst) > 0
    });
    let cpu_before = process_cpu();
    std::thread::sleep(STARVED_FOR);
    let cpu = process_cpu() - cpu_before;
    let errors_while_starved = errors.load(Ordering::SeqCst);
    assert_eq!(accepted.load(Ordering::SeqCst), 0);

    // Free descriptors: every queued connection must now be accepted, promptly.
    let freed_at = Instant::now();
    hog.truncate(hog.len().saturating_sub(2 * QUEUED));
    common::wait_until("recovery", common::HANG, || {
        accepted.load(Ordering::SeqCst) == QUEUED
    });
    let recovery = freed_at.elapsed();
    let streams = rt.block_on(accept_loop).unwrap();
    assert_eq!(streams.len(), QUEUED);
    drop((streams, clients, hog));

    println!(
        "EMFILE-FIGURES cpu_ms={:.1} errors={} recovery_ms={:.1}",
        cpu.as_secs_f64() * 1e3,
        errors_while_starved,
        recovery.as_secs_f64() * 1e3
    );
}

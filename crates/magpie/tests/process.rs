//! `magpie::process`: exit codes and captured output, large transfers both ways without
//! deadlock, many concurrent children, kill and reaping (no zombies), `wait`'s cancel
//! safety, errors (missing program, no runtime, EMFILE), the exit status of a child spawned
//! with std left alone, and the same scenarios on the SIGCHLD path forced on.
//!
//! The SIGCHLD and EMFILE scenarios change the whole process (an environment switch read
//! once; a lowered descriptor limit), so each runs in a child process: this test binary
//! re-run with one ignored test, marked by an environment variable.
//!
//! Unix only (the module is); the zombie checks read `/proc`, so they are Linux only.
#![cfg(unix)]

mod common;

use common::{guard, runtime, HANG};
use magpie::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use magpie::process::Command;
use magpie::stream::StreamExt;
use std::io::ErrorKind;
use std::process::Stdio;
use std::time::Duration;

/// Marks the child process that runs [`sigchld_child`].
const SIGCHLD_CHILD_ENV: &str = "MAGPIE_PROCESS_TEST_SIGCHLD_CHILD";
/// Marks the child process that runs [`sig_ign_child`].
const SIG_IGN_CHILD_ENV: &str = "MAGPIE_PROCESS_TEST_SIG_IGN_CHILD";
/// Marks the child process that runs [`emfile_child`].
#[cfg(target_os = "linux")]
const EMFILE_CHILD_ENV: &str = "MAGPIE_PROCESS_TEST_EMFILE_CHILD";

/// Runs `future` on a fresh two-worker runtime under the hang watchdog.
fn run<F>(what: &str, future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    guard(what, move || runtime(2).block_on(future))
}

// ---- The scenarios, shared by the pidfd path (the plain tests) and the SIGCHLD path. ----

async fn exit_codes() {
    let status = Command::new("sh")
        .args(["-c", "exit 3"])
        .status()
        .await
        .unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(Command::new("true").status().await.unwrap().success());
    let out = Command::new("sh")
        .args(["-c", "exit 5"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

async fn stdout_and_stderr_captured() {
    let out = Command::new("sh")
        .args(["-c", "echo out; echo err >&2; echo \"$GREETING\""])
        .env("GREETING", "hi there")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"out\nhi there\n");
    assert_eq!(out.stderr, b"err\n");
}

/// Writes 4 MiB to `cat` while reading its output concurrently, then both pipes full at once
/// through `wait_with_output`.
async fn four_mib_both_ways(size: usize) {
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let to_write = data.clone();
    let writer = magpie::spawn(async move {
        stdin.write_all(&to_write).await.unwrap();
        // Dropping stdin closes the pipe: cat sees end of file.
    });
    let mut echoed = Vec::new();
    stdout.read_to_end(&mut echoed).await.unwrap();
    writer.await.unwrap();
    assert!(child.wait().await.unwrap().success());
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "cat echoed different bytes");

    // A child that fills stdout and stderr (more than a pipe holds, 64 KiB) before it exits.
    let script = format!("head -c {size} /dev/zero; head -c {size} /dev/zero >&2");
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert_eq!((out.stdout.len(), out.stderr.len()), (size, size));
}

async fn concurrent_children(n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            magpie::spawn(async move {
                let out = Command::new("echo").arg(i.to_string()).output().await;
                (i, out)
            })
        })
        .collect();
    for task in tasks {
        let (i, out) = task.await.unwrap();
        let out = out.unwrap_or_else(|e| panic!("child {i}: {e}"));
        assert!(out.status.success());
        assert_eq!(out.stdout, format!("{i}\n").into_bytes());
    }
}

async fn wait_is_cancel_safe() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let timed_out = magpie::time::timeout(Duration::from_millis(50), child.wait()).await;
    // `sleep 30` cannot have exited (only a 30 s stall would let it).
    assert!(timed_out.is_err(), "sleep 30 exited within the timeout");
    assert!(child.id().is_some());
    // The cancelled wait left nothing behind: the next one still sees the exit.
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(child.id(), None, "no id once reaped");
    // Waiting again gives the same status at once.
    assert_eq!(child.wait().await.unwrap(), status);
    assert_eq!(child.try_wait().unwrap(), Some(status));

    // A wait cancelled many times over (a short timeout in a loop) still ends with the status.
    let mut child = Command::new("sh")
        .args(["-c", "sleep 0.3; exit 9"])
        .spawn()
        .unwrap();
    let status = loop {
        if let Ok(status) = magpie::time::timeout(Duration::from_millis(5), child.wait()).await {
            break status.unwrap();
        }
    };
    assert_eq!(status.code(), Some(9));
}

async fn kill_then_wait() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    assert_eq!(child.try_wait().unwrap(), None);
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let err = child.start_kill().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// A child spawned with std keeps its exit status for std's `wait`, however many magpie
/// children exit (and SIGCHLDs arrive) before that.
async fn std_child_not_stolen() {
    let mut std_child = std::process::Command::new("sh")
        .args(["-c", "exit 7"])
        .spawn()
        .unwrap();
    for _ in 0..5 {
        assert!(Command::new("true").status().await.unwrap().success());
    }
    // Let the std child exit while magpie children come and go.
    magpie::time::sleep(Duration::from_millis(100)).await;
    concurrent_children(5).await;
    assert_eq!(std_child.wait().unwrap().code(), Some(7));
}

/// `/proc/<pid>/stat`'s state letter, or `None` when the process is gone (reaped).
#[cfg(target_os = "linux")]
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Polls until `pid` is gone (reaped); a zombie (`Z`) or a running process after the
/// generous limit fails the test.
#[cfg(target_os = "linux")]
async fn until_reaped(pid: u32, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match proc_state(pid) {
            None => return,
            Some(state) if std::time::Instant::now() >= deadline => {
                panic!("{what}: process {pid} not reaped after 10 s (state {state})")
            }
            Some(_) => magpie::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[cfg(target_os = "linux")]
async fn dropped_children_are_reaped() {
    // kill_on_drop: killed, then reaped.
    let child = Command::new("sleep")
        .arg("1000")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    drop(child);
    until_reaped(pid, "a dropped child with kill_on_drop").await;

    // Without kill: it runs to its end, then is reaped (never left a zombie).
    let child = Command::new("sleep").arg("0.2").spawn().unwrap();
    let pid = child.id().unwrap();
    drop(child);
    until_reaped(pid, "a dropped running child").await;
}

// ---- The pidfd path (the default on Linux; SIGCHLD elsewhere). ----

#[test]
fn exit_codes_and_output() {
    run("exit codes", async {
        exit_codes().await;
        stdout_and_stderr_captured().await;
    });
}

#[test]
fn four_mib_through_cat_and_both_pipes_full() {
    run("4 MiB", four_mib_both_ways(4 << 20));
}

#[test]
fn a_hundred_concurrent_children() {
    run("100 children", concurrent_children(100));
}

#[test]
fn wait_cancelled_by_timeout_then_waited_again() {
    run("cancel-safe wait", wait_is_cancel_safe());
}

#[test]
fn kill_and_wait() {
    run("kill", kill_then_wait());
}

#[test]
fn std_childs_status_is_not_stolen() {
    run("std child", std_child_not_stolen());
}

#[cfg(target_os = "linux")]
#[test]
fn dropped_children_leave_no_zombie() {
    run("dropped children", dropped_children_are_reaped());
}

/// A child dropped outside any runtime goes to the orphan queue, and the next spawn reaps it
/// once it has exited.
#[cfg(target_os = "linux")]
#[test]
fn a_child_dropped_outside_a_runtime_is_reaped_at_the_next_spawn() {
    guard("orphan queue", || {
        let rt = runtime(1);
        let child = rt.block_on(async { Command::new("true").spawn().unwrap() });
        let pid = child.id().unwrap();
        // Outside block_on: no runtime to hand the orphan to.
        drop(child);
        // `true` exits at once; give it time to become a zombie.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while proc_state(pid) != Some('Z') && proc_state(pid).is_some() {
            assert!(std::time::Instant::now() < deadline, "`true` did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
        rt.block_on(async {
            // The spawn checks the queue first (any other test's spawn may have done it).
            assert!(Command::new("true").status().await.unwrap().success());
            assert_eq!(
                proc_state(pid),
                None,
                "the orphan was not reaped by the spawn"
            );
        });
    });
}

#[test]
fn stdout_read_line_by_line_as_it_arrives() {
    run("lines", async {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo line $i; sleep 0.05; done"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        while let Some(line) = lines.next().await {
            seen.push(line.unwrap());
        }
        assert_eq!(seen, ["line 1", "line 2", "line 3"]);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn wait_closes_stdin_first() {
    run("wait closes stdin", async {
        // `cat` exits only at end of input: `wait` must close stdin or it would hang.
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(child.stdin.is_some());
        let status = magpie::time::timeout(HANG / 2, child.wait()).await;
        assert!(status.expect("wait did not close stdin").unwrap().success());
        assert!(child.stdin.is_none());
    });
}

/// A child whose runtime has shut down: on the pidfd path, `wait` elsewhere is an error (the
/// pidfd was registered with the gone reactor), never a hang, and `try_wait` and `kill` still
/// work; on the SIGCHLD path (the process's signal registry, no reactor) the wait goes on.
/// Either way the child is reaped.
#[test]
fn waiting_after_the_runtime_shut_down_is_an_error_not_a_hang() {
    guard("wait after shutdown", || {
        let first = runtime(1);
        let mut child = first.block_on(async { Command::new("sleep").arg("30").spawn().unwrap() });
        drop(first);
        let second = runtime(1);
        second.block_on(async {
            if format!("{child:?}").contains("sigchld") {
                // The SIGCHLD path waits through the process's signal registry, which needs
                // no runtime: the wait simply goes on, here on the second one.
                child.start_kill().unwrap();
                let status = magpie::time::timeout(Duration::from_secs(10), child.wait())
                    .await
                    .expect("wait hung after its runtime shut down")
                    .unwrap();
                assert!(!status.success(), "{status:?}");
                assert_eq!(child.id(), None);
                return;
            }
            let waited = magpie::time::timeout(Duration::from_secs(10), child.wait()).await;
            let err = waited
                .expect("wait hung after its runtime shut down")
                .unwrap_err();
            let message = err.to_string();
            assert!(
                message.starts_with("failed to wait for child process ")
                    && message.contains("shut down"),
                "{message}"
            );
            assert_eq!(child.try_wait().unwrap(), None);
            child.start_kill().unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "SIGKILL not delivered"
                );
                magpie::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(child.id(), None);
        });
    });
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    run("missing program", async {
        let err = Command::new("magpie-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let message = err.to_string();
        assert!(
            message.starts_with("failed to spawn `magpie-no-such-program`: "),
            "{message}"
        );
        let err = Command::new("magpie-no-such-program")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn spawning_outside_a_runtime_is_an_error() {
    let err = Command::new("true").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    let message = err.to_string();
    assert!(message.contains("`true`"), "{message}");
    assert!(message.contains("inside a magpie runtime"), "{message}");
}

#[test]
fn stdio_not_piped_is_none_and_current_dir_applies() {
    run("stdio and dir", async {
        let child = Command::new("true").spawn().unwrap();
        assert!(child.stdin.is_none() && child.stdout.is_none() && child.stderr.is_none());
        drop(child);
        let out = Command::new("pwd").current_dir("/").output().await.unwrap();
        assert_eq!(out.stdout, b"/\n");
        let out = Command::new("sh")
            .args(["-c", "echo \"[$HOME]\""])
            .env_clear()
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"[]\n");
    });
}

/// On Linux the default wait is the pidfd wherever the kernel lets this process open one.
#[cfg(target_os = "linux")]
#[test]
fn the_default_waiter_on_linux_is_a_pidfd_where_the_kernel_has_one() {
    // SAFETY: `pidfd_open(getpid(), 0)` reads no memory of ours; the descriptor it may
    // return is closed at once.
    let kernel_has_pidfd = unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0);
        if fd >= 0 {
            libc::close(fd as libc::c_int);
        }
        fd >= 0
    };
    let forced =
        std::env::var_os("MAGPIE_PROCESS_SIGCHLD").is_some_and(|v| !v.is_empty() && v != "0");
    let expected = if kernel_has_pidfd && !forced {
        "\"pidfd\""
    } else {
        "\"sigchld\""
    };
    run("pidfd", async move {
        let mut child = Command::new("sleep").arg("0.1").spawn().unwrap();
        let debug = format!("{child:?}");
        assert!(debug.contains(expected), "expected {expected}: {debug}");
        assert!(child.wait().await.unwrap().success());
        assert!(format!("{child:?}").contains("waiter: None"));
    });
}

// ---- The SIGCHLD path, forced on in a child process. ----

#[test]
fn the_sigchld_path_forced_on() {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["--exact", "sigchld_child", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(SIGCHLD_CHILD_ENV, "1")
        .env("MAGPIE_PROCESS_SIGCHLD", "1")
        .output()
        .expect("failed to start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("SIGCHLD-SCENARIOS-DONE"),
        "the SIGCHLD scenarios failed in the child process:\n{stdout}\n{stderr}"
    );
}

#[test]
#[ignore = "run in a child process by the_sigchld_path_forced_on"]
fn sigchld_child() {
    if std::env::var_os(SIGCHLD_CHILD_ENV).is_none() {
        eprintln!("sigchld_child runs only as the child of the_sigchld_path_forced_on");
        return;
    }
    run("SIGCHLD scenarios", async {
        let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
        let debug = format!("{child:?}");
        assert!(debug.contains("\"sigchld\""), "not on SIGCHLD: {debug}");
        assert!(child.wait().await.unwrap().success());

        exit_codes().await;
        stdout_and_stderr_captured().await;
        four_mib_both_ways(1 << 20).await;
        concurrent_children(30).await;
        wait_is_cancel_safe().await;
        kill_then_wait().await;
        std_child_not_stolen().await;
        #[cfg(target_os = "linux")]
        dropped_children_are_reaped().await;
    });
    println!("SIGCHLD-SCENARIOS-DONE");
}

// ---- EMFILE, in a child process (it lowers the descriptor limit). ----

#[cfg(target_os = "linux")]
#[test]
fn spawning_out_of_descriptors_is_an_error() {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["--exact", "emfile_child", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(EMFILE_CHILD_ENV, "1")
        .output()
        .expect("failed to start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("EMFILE-DONE"),
        "the EMFILE scenario failed in the child process:\n{stdout}\n{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run in a child process by spawning_out_of_descriptors_is_an_error"]
fn emfile_child() {
    if std::env::var_os(EMFILE_CHILD_ENV).is_none() {
        eprintln!("emfile_child runs only as the child of its parent test");
        return;
    }
    let rt = runtime(1);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit`/`setrlimit` read and write the one struct given.
    unsafe { assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0) };
    let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    limit.rlim_cur = (open_now + 16).min(limit.rlim_max);
    // SAFETY: as above.
    unsafe { assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0) };
    // Leave 0, 1, 2 ... 8 descriptors free: every step of a spawn (std's pipes, ours, the
    // pidfd) runs out somewhere; each must be an error or a working child, never a panic.
    let mut hog = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hog.push(f);
    }
    let mut errors = 0;
    for free in 0..=8 {
        let mut freed = Vec::new();
        for _ in 0..free {
            freed.extend(hog.pop());
        }
        drop(freed);
        let result = rt.block_on(async {
            Command::new("true")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output()
                .await
        });
        match result {
            Ok(out) => assert!(out.status.success()),
            Err(e) => {
                println!("{free} descriptors free: {e}");
                assert!(e.to_string().contains("`true`"), "{e}");
                errors += 1;
            }
        }
        // Take the descriptors back.
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hog.push(f);
        }
    }
    assert!(errors >= 1, "no spawn ran out of descriptors");
    drop(hog);
    println!("EMFILE-DONE errors={errors}");
}

// ---- SIGCHLD ignored (SIG_IGN), in a child process (it changes the disposition). ----

#[test]
fn sigchld_ignored_is_an_error_or_a_status_never_a_hang() {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["--exact", "sig_ign_child", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(SIG_IGN_CHILD_ENV, "1")
        .output()
        .expect("failed to start the child test process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("SIG-IGN-DONE"),
        "the SIG_IGN scenario failed in the child process:\n{stdout}\n{stderr}"
    );
}

#[test]
#[ignore = "run in a child process by sigchld_ignored_is_an_error_or_a_status_never_a_hang"]
fn sig_ign_child() {
    if std::env::var_os(SIG_IGN_CHILD_ENV).is_none() {
        eprintln!("sig_ign_child runs only as the child of its parent test");
        return;
    }
    // SAFETY: setting SIGCHLD's disposition to SIG_IGN installs no handler code.
    let previous = unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    assert_ne!(previous, libc::SIG_ERR);
    run("SIG_IGN", async {
        for _ in 0..3 {
            let mut child = Command::new("sh").args(["-c", "exit 4"]).spawn().unwrap();
            let waited = magpie::time::timeout(Duration::from_secs(10), child.wait()).await;
            match waited.expect("wait hung with SIGCHLD ignored") {
                // The SIGCHLD path replaced SIG_IGN with its action: a normal status.
                Ok(status) => assert_eq!(status.code(), Some(4)),
                // The kernel reaped the child itself (the pidfd path): ECHILD, named.
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.starts_with("failed to wait for child process "),
                        "{message}"
                    );
                    println!("with SIGCHLD ignored: {message}");
                }
            }
        }
    });
    println!("SIG-IGN-DONE");
}

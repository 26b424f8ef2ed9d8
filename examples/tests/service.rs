//! `examples/service.rs` driven as a real process: jobs posted over HTTP, SIGTERM sent while
//! jobs run, every finished job's file checked, and no child left behind (each job's process
//! is gone from `/proc` once the service reports it ended, and after the service exits).
//!
//! The service binary is the example `cargo test` builds beside this test
//! (`target/<profile>/examples/service`). Every wait has a generous deadline and every
//! socket a read timeout, so a bug fails a test instead of hanging it; nothing asserts how
//! fast this machine is.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The longest any wait of these tests lasts before it counts as a failure.
const DEADLINE: Duration = Duration::from_secs(30);

/// The example binary `cargo test` builds next to this test's own.
fn service_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/service-<hash> -> target/<profile>/examples/service
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let binary = profile_dir.join("examples").join("service");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds the examples; after `cargo test --test service` \
         alone, run `cargo build --example service` first",
        binary.display()
    );
    binary
}

/// A running service, killed (SIGKILL) if a test fails midway.
struct Service {
    child: Option<Child>,
    addr: String,
    dir: PathBuf,
}

impl Service {
    fn start(name: &str, grace_ms: u64, program: &[&str]) -> Service {
        let dir =
            std::env::temp_dir().join(format!("magpie-service-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut child = Command::new(service_binary())
            .arg(&dir)
            .args([
                "--addr",
                "127.0.0.1:0",
                "--grace-ms",
                &grace_ms.to_string(),
                "--",
            ])
            .args(program)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the service");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped"))
            .read_line(&mut first)
            .expect("the service's first line");
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Service {
            child: Some(child),
            addr,
            dir,
        }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// One HTTP/1.1 request on a fresh connection: (status, `x-job-status`, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, Option<String>, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connecting to the service");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("the response");
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no header end in {response:?}"));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        let job_status = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("x-job-status")
                .then(|| value.trim().to_owned())
        });
        (status, job_status, body.to_owned())
    }

    /// Posts a job; returns its (id, pid).
    fn post_job(&self, input: &str) -> (u64, i32) {
        let (status, _, body) = self.request("POST", "/jobs", input);
        assert_eq!(status, 202, "{body}");
        let value: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        (
            value["id"].as_u64().expect("an id"),
            value["pid"].as_i64().expect("a pid") as i32,
        )
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid, which it cannot outlive unwaited.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// Waits for the service to exit; its exit code and what it printed after the first line.
    fn wait(&mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("running");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                panic!("the service did not exit within {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = String::new();
        let _ = child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut rest);
        (status.code(), rest)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether process `pid` still exists (a zombie counts: it is not reaped).
fn exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "waited {DEADLINE:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn jobs_run_and_their_output_is_served_from_files() {
    let service = Service::start("basic", 10_000, &["tr", "a-z", "A-Z"]);
    let (id, pid) = service.post_job("hello, jobs\n");
    until("the job to end", || {
        service.request("GET", &format!("/jobs/{id}"), "").0 == 200
    });
    let (status, job_status, body) = service.request("GET", &format!("/jobs/{id}"), "");
    assert_eq!((status, job_status.as_deref()), (200, Some("exited 0")));
    assert_eq!(body, "HELLO, JOBS\n");
    let file = service.dir.join(format!("job-{id}.out"));
    assert_eq!(std::fs::read_to_string(file).unwrap(), "HELLO, JOBS\n");
    // Reaped: not a zombie of the service.
    until("the job's process to be reaped", || !exists(pid));
    assert_eq!(service.request("GET", "/jobs/999", "").0, 404);
    assert_eq!(service.request("GET", "/jobs/x", "").0, 400);
}

#[test]
fn sigterm_lets_running_jobs_finish_and_exits_zero() {
    // Each job prints its input, works a while, then prints "done".
    let script = "read x; echo \"start $x\"; sleep 1; echo \"done $x\"";
    let mut service = Service::start("term", 20_000, &["sh", "-c", script]);
    let jobs: Vec<(u64, i32)> = (0..3)
        .map(|i| service.post_job(&format!("{i}\n")))
        .collect();
    // Mid-job: each has printed its first line.
    for (id, _) in &jobs {
        until("the job to start", || {
            service
                .request("GET", &format!("/jobs/{id}"), "")
                .2
                .starts_with("start")
        });
    }
    service.signal(libc::SIGTERM);
    let (code, printed) = service.wait();
    assert_eq!(code, Some(0), "{printed}");
    assert!(printed.contains("SIGTERM"), "{printed}");
    assert!(printed.contains("0 killed"), "{printed}");
    for (i, (id, pid)) in jobs.iter().enumerate() {
        let output = std::fs::read_to_string(service.dir.join(format!("job-{id}.out"))).unwrap();
        assert_eq!(output, format!("start {i}\ndone {i}\n"));
        assert!(!exists(*pid), "job {id}'s process {pid} is still there");
    }
}

#[test]
fn jobs_past_the_grace_period_are_killed_and_reaped() {
    let mut service = Service::start("kill", 300, &["sh", "-c", "echo started; exec sleep 60"]);
    let (id, pid) = service.post_job("");
    until("the job to start", || {
        service.request("GET", &format!("/jobs/{id}"), "").2 == "started\n"
    });
    service.signal(libc::SIGTERM);
    let (code, printed) = service.wait();
    assert_eq!(code, Some(0), "{printed}");
    assert!(printed.contains("1 killed"), "{printed}");
    let output = std::fs::read_to_string(service.dir.join(format!("job-{id}.out"))).unwrap();
    assert_eq!(output, "started\n");
    assert!(
        !exists(pid),
        "the killed job's process {pid} is still there"
    );
}

#[test]
fn no_new_jobs_once_shutting_down() {
    // A long job keeps the service in its grace period, where new connections are refused.
    let mut service = Service::start("refuse", 20_000, &["sh", "-c", "sleep 2"]);
    service.post_job("");
    service.signal(libc::SIGTERM);
    until("the listener to close", || {
        TcpStream::connect(&service.addr).is_err()
    });
    let (code, printed) = service.wait();
    assert_eq!(code, Some(0), "{printed}");
}

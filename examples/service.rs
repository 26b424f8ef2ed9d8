//! A service, end to end: an HTTP API that runs a subprocess per job, writes each job's output
//! to a file, serves it back, and stops gracefully on SIGTERM (what every container
//! orchestrator sends) or Ctrl-C. Unix only (`magpie::process`, `magpie::signal::unix`).
//!
//! ```sh
//! cargo run --release --example service -- /tmp/jobs                    # on 127.0.0.1:3000, jobs run `tr a-z A-Z`
//! cargo run --release --example service -- /tmp/jobs --addr 127.0.0.1:0 --grace-ms 5000 -- sh -c 'sleep 2; rev'
//! ```
//!
//! Usage: `service DIR [--addr ADDR] [--grace-ms MS] [-- PROGRAM ARGS...]`. The first line it
//! prints is `listening on http://ADDR` (a script can read the port from it when ADDR's port
//! is 0).
//!
//! | route | answer |
//! |---|---|
//! | `POST /jobs` | starts `PROGRAM ARGS...` with the request body on its stdin, its stdout going to `DIR/job-<id>.out` as it comes; 202 with `{"id": N, "pid": P}`; 503 once shutting down |
//! | `GET /jobs/<id>` | the job's output file; 200 once the job ended, 202 while it runs (the output so far); header `x-job-status`: `running`, `exited <code>`, `killed` or `failed: <why>`; 404 for an unknown id |
//! | `GET /jobs` | every job as JSON: id, pid, status |
//!
//! On SIGTERM or Ctrl-C: the server stops accepting connections and finishes the requests in
//! flight; new jobs are refused; the running jobs get `--grace-ms` (default 10 s) to finish,
//! after which their processes are killed (a [`CancellationToken`] tells every job at once);
//! every job's file is complete up to where its process stopped, every child is reaped (no
//! zombie), and the service exits 0. `examples/tests/service.rs` drives it as a real process.

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    service::main()
}

#[cfg(not(unix))]
fn main() -> std::process::ExitCode {
    eprintln!("service: needs magpie::process and magpie::signal::unix (Unix only for now)");
    std::process::ExitCode::FAILURE
}

#[cfg(unix)]
mod service {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, Limited};
    use hyper::body::Incoming;
    use hyper::header::HeaderValue;
    use hyper::{Method, Request, Response, StatusCode};
    use magpie::io::AsyncWriteExt;
    use magpie::net::TcpListener;
    use magpie::process::Command;
    use magpie::signal::unix::{signal, SignalKind};
    use magpie::sync::{CancellationToken, Mutex};
    use magpie::task::JoinSet;
    use magpie::time;
    use magpie_examples::web_servers::{json, text, Server, ServerConfig};
    use serde_json::json;
    use std::collections::BTreeMap;
    use std::convert::Infallible;
    use std::path::PathBuf;
    use std::process::{ExitCode, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// The largest job input (request body) accepted.
    const MAX_INPUT: usize = 1 << 20;

    /// What the command line says.
    struct Options {
        dir: PathBuf,
        addr: String,
        grace: Duration,
        program: Vec<String>,
    }

    const USAGE: &str =
        "usage: service DIR [--addr ADDR] [--grace-ms MS] [-- PROGRAM ARGS...] (default: 127.0.0.1:3000, 10000 ms, tr a-z A-Z)";

    fn options() -> Result<Options, String> {
        let mut args = std::env::args().skip(1);
        let mut dir = None;
        let mut addr = "127.0.0.1:3000".to_owned();
        let mut grace = Duration::from_secs(10);
        let mut program = Vec::new();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => addr = args.next().ok_or("--addr needs a value")?,
                "--grace-ms" => {
                    let value = args.next().ok_or("--grace-ms needs a value")?;
                    let ms = value
                        .parse()
                        .map_err(|_| format!("--grace-ms: not a whole number: {value:?}"))?;
                    grace = Duration::from_millis(ms);
                }
                "--" => program.extend(args.by_ref()),
                "-h" | "--help" => return Err(String::new()),
                _ if arg.starts_with('-') => return Err(format!("unknown option {arg:?}")),
                _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        if program.is_empty() {
            program = ["tr", "a-z", "A-Z"].map(String::from).to_vec();
        }
        Ok(Options {
            dir: dir.ok_or("no DIR given")?,
            addr,
            grace,
            program,
        })
    }

    pub(super) fn main() -> ExitCode {
        let options = match options() {
            Ok(options) => options,
            Err(problem) => {
                if !problem.is_empty() {
                    eprintln!("service: {problem}");
                }
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        };
        magpie::run(async move {
            match run(options).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(problem) => {
                    eprintln!("service: {problem}");
                    ExitCode::FAILURE
                }
            }
        })
    }

    /// How a job is doing.
    #[derive(Clone, Debug)]
    enum Status {
        Running,
        Exited(Option<i32>),
        Killed,
        Failed(String),
    }

    impl Status {
        fn header(&self) -> String {
            match self {
                Status::Running => "running".to_owned(),
                Status::Exited(Some(code)) => format!("exited {code}"),
                Status::Exited(None) => "exited by a signal".to_owned(),
                Status::Killed => "killed".to_owned(),
                Status::Failed(why) => format!("failed: {why}"),
            }
        }
    }

    struct Job {
        pid: Option<u32>,
        status: Status,
    }

    /// What the handlers share.
    struct App {
        dir: PathBuf,
        program: Vec<String>,
        next_id: AtomicU64,
        jobs: Mutex<BTreeMap<u64, Job>>,
        /// The running jobs' tasks, joined at shutdown.
        running: Mutex<JoinSet<()>>,
        /// Cancelled when the grace period runs out: every job kills its process.
        kill: CancellationToken,
        /// Set at SIGTERM: new jobs are refused.
        stopping: AtomicBool,
    }

    impl App {
        fn output(&self, id: u64) -> PathBuf {
            self.dir.join(format!("job-{id}.out"))
        }
    }

    async fn run(options: Options) -> Result<(), String> {
        let dir = &options.dir;
        magpie::fs::create_dir_all(dir)
            .await
            .map_err(|e| e.to_string())?;
        // Listen for both before saying we listen: a script may signal at once.
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let listener = TcpListener::bind(options.addr.as_str())
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on http://{local}");
        println!(
            "jobs run `{}`, output in {}",
            options.program.join(" "),
            dir.display()
        );

        let app = Arc::new(App {
            dir: dir.clone(),
            program: options.program,
            next_id: AtomicU64::new(1),
            jobs: Mutex::new(BTreeMap::new()),
            running: Mutex::new(JoinSet::new()),
            kill: CancellationToken::new(),
            stopping: AtomicBool::new(false),
        });
        let shutdown = {
            let app = app.clone();
            async move {
                let which = magpie::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                app.stopping.store(true, Ordering::SeqCst);
                println!("{which}: no new connections or jobs; finishing what runs");
            }
        };
        let handler = {
            let app = app.clone();
            move |req: Request<Incoming>| route(app.clone(), req)
        };
        let stats = Server::new(ServerConfig::default())
            .serve_with(listener, shutdown, handler)
            .await
            .map_err(|e| format!("accepting failed: {e}"))?;

        // The jobs: the grace period, then the kill.
        let mut running = std::mem::take(&mut *app.running.lock().await);
        let jobs = running.len();
        let all_done = async { while running.join_next().await.is_some() {} };
        let killed = match time::timeout(options.grace, all_done).await {
            Ok(()) => 0,
            Err(_) => {
                let left = running.len();
                println!("grace period over: killing {left} job(s)");
                app.kill.cancel();
                while running.join_next().await.is_some() {}
                left
            }
        };
        println!(
            "stopped: {} request(s) served, {jobs} job(s) were running at the signal, {killed} killed",
            stats.requests
        );
        Ok(())
    }

    async fn route(
        app: Arc<App>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = req.uri().path().to_owned();
        let response = match (req.method().clone(), path.as_str()) {
            (Method::POST, "/jobs") => start_job(app, req).await,
            (Method::GET, "/jobs") => list_jobs(&app).await,
            (Method::GET, p) if p.starts_with("/jobs/") => match p["/jobs/".len()..].parse() {
                Ok(id) => job_output(&app, id).await,
                Err(_) => text(StatusCode::BAD_REQUEST, "a job id is a whole number\n"),
            },
            _ => text(
                StatusCode::NOT_FOUND,
                "routes: POST /jobs, GET /jobs, GET /jobs/<id>\n",
            ),
        };
        Ok(response)
    }

    async fn start_job(app: Arc<App>, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if app.stopping.load(Ordering::SeqCst) {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting down: no new jobs\n",
            );
        }
        let input = match Limited::new(req.into_body(), MAX_INPUT).collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => return text(StatusCode::BAD_REQUEST, format!("reading the body: {e}\n")),
        };
        let id = app.next_id.fetch_add(1, Ordering::Relaxed);
        let file = match magpie::fs::File::create(app.output(id)).await {
            Ok(file) => file,
            Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        };
        let (program, args) = app.program.split_first().expect("a program, by options()");
        let spawned = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        };
        let pid = child.id();
        app.jobs.lock().await.insert(
            id,
            Job {
                pid,
                status: Status::Running,
            },
        );
        // Registered under the lock the shutdown takes the set with: a job started before
        // `stopping` was seen is always joined.
        let mut running = app.running.lock().await;
        running.spawn(run_job(app.clone(), id, child, input, file));
        drop(running);
        json(StatusCode::ACCEPTED, &json!({ "id": id, "pid": pid }))
    }

    /// Feeds the job its input, copies its output to its file, and waits for it; killed
    /// when `app.kill` is cancelled.
    async fn run_job(
        app: Arc<App>,
        id: u64,
        mut child: magpie::process::Child,
        input: Bytes,
        mut file: magpie::fs::File,
    ) {
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let work = async {
            let feed = async {
                // A job that does not read its input closes the pipe: not an error here.
                let _ = stdin.write_all(&input).await;
                drop(stdin); // EOF
            };
            let copy = async {
                let copied = futures_lite::io::copy(&mut stdout, &mut file).await;
                let flushed = file.flush().await;
                let synced = file.sync_all().await;
                copied.and(flushed).and(synced)
            };
            let ((), copied) = futures_lite::future::zip(feed, copy).await;
            copied?;
            child.wait().await
        };
        let status = magpie::select! {
            ended = work => match ended {
                Ok(status) => Status::Exited(status.code()),
                Err(e) => Status::Failed(e.to_string()),
            },
            _ = app.kill.cancelled() => match child.kill().await {
                Ok(()) => Status::Killed,
                Err(e) => Status::Failed(format!("could not kill: {e}")),
            },
        };
        if let Some(job) = app.jobs.lock().await.get_mut(&id) {
            job.status = status;
        }
    }

    async fn list_jobs(app: &App) -> Response<Full<Bytes>> {
        let jobs = app.jobs.lock().await;
        let list: Vec<_> = jobs
            .iter()
            .map(|(id, job)| json!({ "id": id, "pid": job.pid, "status": job.status.header() }))
            .collect();
        json(StatusCode::OK, &json!(list))
    }

    async fn job_output(app: &App, id: u64) -> Response<Full<Bytes>> {
        let status = match app.jobs.lock().await.get(&id) {
            Some(job) => job.status.clone(),
            None => return text(StatusCode::NOT_FOUND, format!("no job {id}\n")),
        };
        let output = match magpie::fs::read(app.output(id)).await {
            Ok(output) => output,
            Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        };
        let code = match status {
            Status::Running => StatusCode::ACCEPTED,
            _ => StatusCode::OK,
        };
        let mut response = Response::new(Full::new(Bytes::from(output)));
        *response.status_mut() = code;
        if let Ok(value) = HeaderValue::from_str(&status.header()) {
            response.headers_mut().insert("x-job-status", value);
        }
        response
    }
}

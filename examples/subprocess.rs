//! Runs a subprocess and prints its stdout line by line as the lines arrive.
//!
//! ```sh
//! cargo run --example subprocess                 # a small shell loop, one line every 100 ms
//! cargo run --example subprocess -- ls -l /      # any program and its arguments
//! ```
//!
//! In asyncio terms: `asyncio.create_subprocess_exec(program, *args,
//! stdout=asyncio.subprocess.PIPE)`, then `async for line in proc.stdout`, then
//! `await proc.wait()`. Unix only: `magpie::process` is not on Windows yet.

#[cfg(unix)]
#[magpie::main]
async fn main() -> std::io::Result<std::process::ExitCode> {
    use magpie::io::{AsyncBufReadExt, BufReader};
    use magpie::process::Command;
    use magpie::stream::StreamExt;
    use magpie::time::Instant;
    use std::process::{ExitCode, Stdio};

    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() {
        argv = [
            "sh",
            "-c",
            "for i in 1 2 3; do echo line $i; sleep 0.1; done",
        ]
        .map(String::from)
        .to_vec();
    }
    let started = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next().await {
        println!("[{:>6.3}s] {}", started.elapsed().as_secs_f64(), line?);
    }
    let status = child.wait().await?;
    println!("{} exited: {status}", argv[0]);
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

#[cfg(not(unix))]
fn main() {
    eprintln!("magpie::process is Unix only for now");
}

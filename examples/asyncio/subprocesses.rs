//! Section 20, subprocesses (`asyncio.create_subprocess_exec`): a child's stdout read line by
//! line as it arrives, `communicate`, and a child killed after a timeout.
//!
//! `asyncio.create_subprocess_exec(program, *args, stdout=PIPE)` is
//! `Command::new(program).args(args).stdout(Stdio::piped()).spawn()`; `proc.stdout` is
//! `child.stdout` (read it through a `BufReader` for `readline`), `await proc.wait()` is
//! `child.wait().await` (an `ExitStatus`; `.code()` is `returncode`), `proc.communicate(input)`
//! is writing stdin then `child.wait_with_output().await`, and `proc.kill()` is
//! `child.kill().await`. No thread waits for the child: its exit comes through the reactor
//! (a pidfd on Linux) like a socket's readiness. Unix only for now (`magpie::process` is not
//! on Windows yet).

use crate::{header, say, secs};
use magpie::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use magpie::process::Command;
use magpie::stream::StreamExt;
use magpie::time::{timeout, Instant};
use std::process::Stdio;

/// The section.
pub async fn main() {
    header("20. Subprocesses: create_subprocess_exec, communicate, kill");
    if let Err(e) = subprocesses().await {
        say!("a subprocess failed: {e}");
    }
}

async fn subprocesses() -> std::io::Result<()> {
    // proc = await asyncio.create_subprocess_exec('sh', '-c', script, stdout=PIPE)
    let pause = secs(0.5).as_secs_f64();
    let script = format!("for i in 1 2 3; do echo line $i; sleep {pause}; done; exit 3");
    let start = Instant::now();
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()?;
    // async for line in proc.stdout: each line as soon as the child writes it
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    while let Some(line) = lines.next().await {
        let line = line?;
        let at = start.elapsed().as_secs_f64() / secs(1).as_secs_f64();
        say!("  {line:?} after {at:.1} s");
    }
    // returncode = await proc.wait()
    let status = child.wait().await?;
    say!("returncode: {:?}", status.code());

    // stdout, _ = await proc.communicate(b'hello\n')
    let mut child = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(b"hello\n").await?;
    drop(stdin); // end of input
    let output = child.wait_with_output().await?;
    say!("communicate: {:?}", String::from_utf8_lossy(&output.stdout));

    // try: await asyncio.wait_for(proc.wait(), 1) except TimeoutError: proc.kill()
    let mut child = Command::new("sleep").arg("60").spawn()?;
    if timeout(secs(1), child.wait()).await.is_err() {
        say!("still running after 1 s: kill it");
        child.kill().await?; // SIGKILL, then reaped: no zombie left behind
    }
    say!(
        "killed: {}",
        child.try_wait()?.is_some_and(|s| !s.success())
    );

    // A program that is not there: NotFound, naming it.
    if let Err(e) = Command::new("no-such-program").spawn() {
        say!("{e} (kind: {:?})", e.kind());
    }
    Ok(())
}

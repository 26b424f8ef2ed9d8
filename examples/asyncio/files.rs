//! Section 21, files: asyncio has no file I/O of its own (people use `asyncio.to_thread` or
//! aiofiles); `magpie::fs` runs `std::fs` on the blocking pool with tokio::fs's names, and
//! its errors name the operation and the path.
//!
//! `await asyncio.to_thread(path.write_text, s)` is `magpie::fs::write(path, s).await`;
//! `aiofiles.open(path)` is `magpie::fs::File::open(path).await` (futures-io `AsyncRead`,
//! `AsyncWrite`, `AsyncSeek`); `os.scandir` is `magpie::fs::read_dir(dir).await` and
//! `next_entry().await`. A write is not durable before `sync_all().await`.

use crate::{header, say};
use magpie::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use std::io::SeekFrom;

/// The section.
pub async fn main() {
    header("21. Files: write, read back, list a directory, errors that name the path");
    if let Err(e) = files().await {
        say!("a file operation failed: {e}");
    }
}

async fn files() -> std::io::Result<()> {
    let dir = std::env::temp_dir().join(format!("magpie-tour-{}", std::process::id()));
    magpie::fs::create_dir_all(&dir).await?;

    // await asyncio.to_thread(Path('notes.txt').write_text, ...)
    magpie::fs::write(dir.join("notes.txt"), "coroutines, tasks, gather\n").await?;
    let notes = magpie::fs::read_to_string(dir.join("notes.txt")).await?;
    say!("read back: {notes:?}");

    // async with aiofiles.open('log.txt', 'w+') as f: write, seek, read
    let mut log = magpie::fs::File::create(dir.join("log.txt")).await?;
    log.write_all(b"first line\nsecond line\n").await?;
    log.sync_all().await?; // durable now
    let mut log = magpie::fs::File::open(dir.join("log.txt")).await?;
    log.seek(SeekFrom::Start(6)).await?;
    let mut rest = String::new();
    log.read_to_string(&mut rest).await?;
    say!("from byte 6: {rest:?}");

    // for entry in os.scandir(dir)
    let mut names = Vec::new();
    let mut entries = magpie::fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    say!("in the directory: {names:?}");

    // Errors name the operation and the path, and keep the OS's kind.
    let missing = dir.join("missing.txt");
    if let Err(e) = magpie::fs::File::open(&missing).await {
        let shown = e.to_string().replace(&dir.display().to_string(), "<dir>");
        say!("{shown} (kind: {:?})", e.kind());
    }
    magpie::fs::remove_dir_all(&dir).await?;
    Ok(())
}

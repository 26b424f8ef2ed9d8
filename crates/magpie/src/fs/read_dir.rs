//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: a directory's entries, fetched in batches.

use super::blocking;
use super::error::with_path;
use futures_lite::Stream;
use magpie_core::JoinHandle;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Entries fetched per trip to the blocking pool.
const BATCH: usize = 32;

/// Opens the directory `path` for listing (`std::fs::read_dir`); the entries come from
/// [`ReadDir::next_entry`] or, as a [`Stream`](crate::stream::Stream), from `next()`.
///
/// The entries `.` and `..` are not listed; the order is the file system's.
///
/// ```
/// # magpie::run(async {
/// let mut names = Vec::new();
/// let mut entries = magpie::fs::read_dir(std::env::temp_dir()).await?;
/// while let Some(entry) = entries.next_entry().await? {
///     names.push(entry.file_name());
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// # Errors
///
/// ``failed to read directory `path`: ...`` (`NotFound`, `NotADirectory`...); later, an entry
/// that cannot be read is an error of the same form.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let owned = path.clone();
    let iter = blocking::run(move || std::fs::read_dir(&owned))
        .await
        .map_err(|e| with_path(READ_DIR, &path, e))?;
    Ok(ReadDir {
        path,
        state: State::Idle(Batch {
            entries: VecDeque::new(),
            iter: Some(Box::new(iter)),
        }),
    })
}

const READ_DIR: &str = "read directory";

/// The entries of a directory, from [`read_dir`].
///
/// Each trip to the blocking pool reads up to 32 entries (and, where the OS gives it with
/// the entry, their file type); `next_entry` hands them out one by one without waiting.
/// Dropping a `ReadDir` with a batch in flight lets that batch finish on the blocking pool.
pub struct ReadDir {
    path: Arc<Path>,
    state: State,
}

enum State {
    Idle(Batch),
    /// The batch (with the iterator) is on the blocking pool.
    Busy(JoinHandle<Batch>),
}

/// Fetched entries and the iterator that fetches more (`None` once it ended; boxed, as
/// std's iterator is hundreds of bytes on Windows).
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    iter: Option<Box<std::fs::ReadDir>>,
}

impl Batch {
    /// Reads up to [`BATCH`] entries (blocking).
    fn fill(&mut self) {
        let Some(iter) = &mut self.iter else { return };
        for _ in 0..BATCH {
            match iter.next() {
                Some(Ok(std)) => {
                    let file_type = std.file_type().ok();
                    self.entries.push_back(Ok(DirEntry {
                        std: Arc::new(std),
                        file_type,
                    }));
                }
                Some(Err(e)) => self.entries.push_back(Err(e)),
                None => {
                    self.iter = None;
                    return;
                }
            }
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` once every entry was listed.
    ///
    /// # Errors
    ///
    /// ``failed to read directory `path`: ...`` for an entry the OS could not read; listing
    /// may go on after it.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// [`next_entry`](ReadDir::next_entry), for hand-written futures: `Pending` while a
    /// batch is read, the task woken when it is there.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(batch) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(
                            entry
                                .map(Some)
                                .map_err(|e| with_path(READ_DIR, &self.path, e)),
                        );
                    }
                    if batch.iter.is_none() {
                        return Poll::Ready(Ok(None));
                    }
                    let mut batch = std::mem::replace(
                        batch,
                        Batch {
                            entries: VecDeque::new(),
                            iter: None,
                        },
                    );
                    match blocking::spawn(move || {
                        batch.fill();
                        batch
                    }) {
                        Ok(handle) => self.state = State::Busy(handle),
                        // The batch went with the closure: listing ends here.
                        Err(e) => return Poll::Ready(Err(with_path(READ_DIR, &self.path, e))),
                    }
                }
                State::Busy(handle) => {
                    let result = ready!(Pin::new(handle).poll(cx));
                    match result {
                        Ok(batch) => self.state = State::Idle(batch),
                        Err(e) => {
                            self.state = State::Idle(Batch {
                                entries: VecDeque::new(),
                                iter: None,
                            });
                            let e = blocking::join_error(e);
                            return Poll::Ready(Err(with_path(READ_DIR, &self.path, e)));
                        }
                    }
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_next_entry(cx)
            .map(|result| result.transpose())
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).finish()
    }
}

/// One entry of a directory, from [`ReadDir`].
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// The file type, when the batch could read it (most file systems give it with the entry).
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The entry's full path: the directory given to [`read_dir`] joined with the file name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's file name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symbolic link (`std::fs::DirEntry::metadata`),
    /// on the blocking pool.
    ///
    /// # Errors
    ///
    /// ``failed to read metadata of `path`: ...``.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        blocking::run(move || std.metadata())
            .await
            .map_err(|e| with_path("read metadata of", &self.path(), e))
    }

    /// The entry's file type, not following a symbolic link. Usually known from the
    /// directory listing already; otherwise read on the blocking pool.
    ///
    /// # Errors
    ///
    /// ``failed to read file type of `path`: ...``.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        blocking::run(move || std.file_type())
            .await
            .map_err(|e| with_path("read file type of", &self.path(), e))
    }

    /// The entry's inode number (Unix only; `std::os::unix::fs::DirEntryExt::ino`).
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}

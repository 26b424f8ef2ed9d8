//! [`File`]: an open file whose reads, writes and seeks run on the blocking pool.
//!
//! # The state machine
//!
//! A `File` owns one buffer ([`Buf`]) and is either **idle** (the buffer is here) or
//! **busy** (the buffer went to a blocking thread with one operation, and a `JoinHandle`
//! gives both back). Only `&mut File` (the I/O traits, `into_std`) or the lock of the
//! `&self` methods touches the state, so one operation at most is in flight.
//!
//! - **read**: idle with unread bytes in the buffer → copy them out, no trip. Idle and
//!   empty → the buffer goes to a blocking thread for one `read` of `min(dst.len(), 2 MiB)`
//!   bytes; once back, the bytes are copied out and what `dst` had no room for stays
//!   buffered (the *read-ahead*).
//! - **write**: waits for the operation in flight (returning its error if it was a failed
//!   write), copies up to 2 MiB of the caller's bytes into the buffer, and sends the buffer
//!   for one `write_all`; `poll_write` returns `Ready(n)` at once (write-behind). The
//!   write's error, if any, comes from the next write, flush or sync.
//!   When read-ahead is buffered, the blocking call first seeks back over it, so the bytes
//!   land where the caller's position is.
//! - **seek**: `SeekFrom::Current(n)` becomes `Current(n - read_ahead)` (the OS position is
//!   ahead of the caller's by the read-ahead), and the read-ahead is dropped.
//! - **flush** waits for the operation in flight and reports a failed write; it does not
//!   make the data durable (`sync_all`/`sync_data` do).
//!
//! Dropping a busy `File` detaches its operation: a write in flight finishes on the blocking
//! thread (which holds its own reference to the file and closes it after). A write queued
//! but not started when the runtime shuts down is dropped (the blocking pool cancels closures
//! that have not started): `flush`, or better `sync_all`, before shutting down.

use super::error::with_path;
use super::open_options::open_with;
use super::{blocking, OpenOptions};
use magpie_core::JoinHandle;
use magpie_sync::Mutex;
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The most bytes one blocking read or write moves.
const MAX_BUF: usize = 2 * 1024 * 1024;

/// An open file, for use from async code: tokio's `File`.
///
/// ```
/// use magpie::fs::File;
/// use magpie::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// # magpie::run(async {
/// let path = std::env::temp_dir().join(format!("magpie-file-doc-{}", std::process::id()));
/// let mut file = File::create(&path).await?;
/// file.write_all(b"hello, file").await?;
/// file.sync_all().await?; // on the disk now
///
/// let mut file = File::open(&path).await?;
/// file.seek(SeekFrom::Start(7)).await?;
/// let mut text = String::new();
/// file.read_to_string(&mut text).await?;
/// assert_eq!(text, "file");
/// # magpie::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// `File` implements futures-io's `AsyncRead`, `AsyncWrite` and `AsyncSeek` (and tokio's,
/// with the feature `tokio-io`). Each read or write is one trip to the blocking pool moving
/// at most **2 MiB**: a read into a large buffer or a large write is one blocking call, but
/// many small reads are many trips, so wrap the file in a `BufReader` for those.
///
/// **Writes are write-behind**: `write` returns once the bytes are copied into the file's
/// buffer, and the blocking thread writes them while the caller goes on. A failed write is
/// reported by the next `write`, `flush` or sync. `flush` waits for the write in flight;
/// neither it nor a completed write makes the data durable: call [`sync_all`](File::sync_all)
/// or [`sync_data`](File::sync_data) for that. Dropping a `File` with a write in flight lets
/// the write finish on the blocking pool (but not one the runtime's shutdown cancels before
/// it started: flush before shutting down).
///
/// Errors of a file opened by path name the operation and the path
/// (``failed to read `/tmp/x`: ...``); a file from [`File::from_std`] has no path to name and
/// returns the OS's errors as they are.
pub struct File {
    std: Arc<std::fs::File>,
    /// The path it was opened with, for error messages.
    path: Option<Arc<Path>>,
    /// The state machine. `&mut self` reaches it with `get_mut`; the `&self` methods lock it
    /// to wait for the operation in flight.
    inner: Mutex<Inner>,
}

/// A `File`'s state; see the module docs.
struct Inner {
    state: State,
    /// The error of a write that finished while something else waited for it; the next
    /// write, flush or sync returns it.
    write_error: Option<io::Error>,
    /// The position the last completed seek reached: what tokio's `poll_complete` answers
    /// when no seek is in flight.
    last_seek: u64,
}

enum State {
    /// The buffer is here; it may hold read-ahead.
    Idle(Buf),
    /// The buffer is on a blocking thread with one operation.
    Busy(JoinHandle<(Done, Buf)>),
}

/// The operation that came back from the blocking pool, with its result.
enum Done {
    /// A read filled the buffer (empty at the end of the file).
    Read(io::Result<()>),
    Write(io::Result<()>),
    /// `requested` is the caller's `SeekFrom`, before the read-ahead adjustment.
    Seek {
        requested: SeekFrom,
        result: io::Result<u64>,
    },
}

/// The buffer that goes back and forth: `data[pos..]` is read-ahead not yet handed out (or,
/// on a blocking thread, the bytes to write).
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    /// Read-ahead bytes not handed out yet.
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Copies read-ahead into `dst`; returns how many bytes.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Drops the read-ahead; returns how many bytes it held (the OS position is that far
    /// ahead of the caller's).
    fn discard(&mut self) -> usize {
        let unread = self.unread();
        self.data.clear();
        self.pos = 0;
        unread
    }
}

/// The read-ahead as a seek offset (at most [`MAX_BUF`], so it fits).
fn offset(read_ahead: usize) -> i64 {
    i64::try_from(read_ahead).expect("read-ahead is at most MAX_BUF bytes")
}

/// Moves the OS position back over `read_ahead` bytes (blocking; an `lseek`).
fn seek_back(std: &std::fs::File, read_ahead: usize) -> io::Result<()> {
    if read_ahead > 0 {
        let mut std = std;
        std.seek(SeekFrom::Current(-offset(read_ahead)))?;
    }
    Ok(())
}

impl Inner {
    fn new() -> Inner {
        Inner {
            state: State::Idle(Buf::default()),
            write_error: None,
            last_seek: 0,
        }
    }

    /// Sends the idle buffer to the blocking pool with `op`. The caller checked that the
    /// state is idle; without a runtime the state stays idle (its read-ahead is lost).
    fn start<F>(&mut self, op: F) -> io::Result<()>
    where
        F: FnOnce(Buf) -> (Done, Buf) + Send + 'static,
    {
        let buf = match &mut self.state {
            State::Idle(buf) => std::mem::take(buf),
            State::Busy(_) => unreachable!("start is only called when idle"),
        };
        let handle = blocking::spawn(move || op(buf))?;
        self.state = State::Busy(handle);
        Ok(())
    }

    /// Waits for the operation in flight, if any, and takes its result back.
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Done>>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let result = ready!(Pin::new(handle).poll(cx));
        match result {
            Ok((done, buf)) => {
                self.state = State::Idle(buf);
                Poll::Ready(Ok(Some(done)))
            }
            Err(e) => {
                self.state = State::Idle(Buf::default());
                Poll::Ready(Err(blocking::join_error(e)))
            }
        }
    }

    /// Takes in the result of an operation nobody waits for any more: a failed write is
    /// kept for the next write or flush, a seek's position for `poll_complete`.
    fn absorb(&mut self, done: Done) {
        match done {
            Done::Write(Err(e)) => self.write_error = Some(e),
            Done::Seek {
                result: Ok(pos), ..
            } => self.last_seek = pos,
            // A read's bytes stay in the buffer as read-ahead; a failed read or seek that
            // nobody waits for any more has nobody to tell.
            Done::Write(Ok(())) | Done::Read(_) | Done::Seek { .. } => {}
        }
    }

    /// Waits until no operation is in flight (a failed write is kept, not returned).
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(done) = ready!(self.poll_busy(cx))? {
            self.absorb(done);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_read(
        &mut self,
        std: &Arc<std::fs::File>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match ready!(self.poll_busy(cx))? {
                // The read this call started (or an earlier, abandoned one): hand it out.
                // An empty buffer here is the end of the file.
                Some(Done::Read(result)) => {
                    result?;
                    let State::Idle(buf) = &mut self.state else {
                        unreachable!("poll_busy returned: idle")
                    };
                    return Poll::Ready(Ok(buf.copy_to(dst)));
                }
                Some(done) => self.absorb(done),
                None => {
                    let State::Idle(buf) = &mut self.state else {
                        unreachable!("poll_busy returned: idle")
                    };
                    if buf.unread() > 0 || dst.is_empty() {
                        return Poll::Ready(Ok(buf.copy_to(dst)));
                    }
                    let want = dst.len().min(MAX_BUF);
                    let std = std.clone();
                    self.start(move |mut buf| {
                        // No `clear` first: `resize` then zeroes only what the buffer never
                        // held (a full read leaves it `want` long, so the next read zeroes
                        // nothing); only the `n` bytes the read writes are ever exposed.
                        buf.pos = 0;
                        buf.data.resize(want, 0);
                        let result = loop {
                            match (&*std).read(&mut buf.data) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                result => break result,
                            }
                        };
                        buf.data.truncate(*result.as_ref().unwrap_or(&0));
                        (Done::Read(result.map(drop)), buf)
                    })?;
                }
            }
        }
    }

    fn poll_write(
        &mut self,
        std: &Arc<std::fs::File>,
        cx: &mut Context<'_>,
        src: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.write_error.take() {
            return Poll::Ready(Err(e));
        }
        if let Some(done) = ready!(self.poll_busy(cx))? {
            match done {
                Done::Write(result) => result?,
                done => self.absorb(done),
            }
        }
        let State::Idle(buf) = &mut self.state else {
            unreachable!("poll_busy returned: idle")
        };
        let read_ahead = buf.discard();
        for slice in src {
            let room = MAX_BUF - buf.data.len();
            if room == 0 {
                break;
            }
            buf.data.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        let n = buf.data.len();
        if n == 0 {
            if read_ahead > 0 {
                // Nothing to write, but the read-ahead is gone: put the position back.
                let std = std.clone();
                self.start(move |buf| {
                    let result = seek_back(&std, read_ahead);
                    (Done::Write(result), buf)
                })?;
            }
            return Poll::Ready(Ok(0));
        }
        let std = std.clone();
        self.start(move |mut buf| {
            let result = seek_back(&std, read_ahead).and_then(|()| (&*std).write_all(&buf.data));
            buf.data.clear();
            (Done::Write(result), buf)
        })?;
        Poll::Ready(Ok(n))
    }

    /// Waits for the operation in flight; returns the error of a failed write.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(done) = ready!(self.poll_busy(cx))? {
            self.absorb(done);
        }
        match self.write_error.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Starts a seek to `requested`; the state must be idle.
    fn start_seek(&mut self, std: &Arc<std::fs::File>, requested: SeekFrom) -> io::Result<()> {
        let State::Idle(buf) = &mut self.state else {
            return Err(io::Error::other(
                "another operation on this file is in flight: wait for it with poll_complete \
                 before start_seek",
            ));
        };
        let read_ahead = buf.unread();
        let target = match requested {
            SeekFrom::Current(n) => {
                SeekFrom::Current(n.checked_sub(offset(read_ahead)).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "seek offset overflows (SeekFrom::Current near i64::MIN)",
                    )
                })?)
            }
            other => other,
        };
        buf.discard();
        let std = std.clone();
        self.start(move |buf| {
            let mut file = &*std;
            let result = file.seek(target);
            (Done::Seek { requested, result }, buf)
        })
    }

    /// tokio's `poll_complete`: waits for the seek in flight and returns where it went.
    #[cfg(feature = "tokio-io")]
    fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            match ready!(self.poll_busy(cx))? {
                Some(Done::Seek { result, .. }) => {
                    if let Ok(pos) = result {
                        self.last_seek = pos;
                    }
                    return Poll::Ready(result);
                }
                Some(done) => self.absorb(done),
                None => return Poll::Ready(Ok(self.last_seek)),
            }
        }
    }

    /// futures-io's `poll_seek`: waits for what is in flight, seeks, and returns where it went.
    fn poll_seek(
        &mut self,
        std: &Arc<std::fs::File>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        loop {
            match ready!(self.poll_busy(cx))? {
                // This seek, started by an earlier call that returned `Pending`.
                Some(Done::Seek { requested, result }) if requested == pos => {
                    if let Ok(pos) = result {
                        self.last_seek = pos;
                    }
                    return Poll::Ready(result);
                }
                Some(done) => self.absorb(done),
                None => self.start_seek(std, pos)?,
            }
        }
    }

    /// The read-ahead, dropped: how far the OS position is ahead of the caller's.
    fn discard_read_ahead(&mut self) -> usize {
        match &mut self.state {
            State::Idle(buf) => buf.discard(),
            State::Busy(_) => 0,
        }
    }
}

impl File {
    /// Opens `path` for reading.
    ///
    /// # Errors
    ///
    /// ``failed to open `path`: ...`` (`NotFound`, `PermissionDenied`...).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        open_with(
            std::fs::OpenOptions::new().read(true),
            "open",
            path.as_ref(),
        )
        .await
    }

    /// Opens `path` for writing, creating it or cutting it to length 0.
    ///
    /// # Errors
    ///
    /// ``failed to create `path`: ...``.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        open_with(&options, "create", path.as_ref()).await
    }

    /// Creates `path` for reading and writing, failing with `AlreadyExists` when it exists.
    ///
    /// # Errors
    ///
    /// ``failed to create `path`: ...``.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        open_with(&options, "create", path.as_ref()).await
    }

    /// An [`OpenOptions`] with every flag off, to open a file another way.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Its errors will not name a path (it has none to name).
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            path: None,
            inner: Mutex::new(Inner::new()),
        }
    }

    pub(crate) fn from_std_with_path(std: std::fs::File, path: &Path) -> File {
        File {
            path: Some(Arc::from(path)),
            ..File::from_std(std)
        }
    }

    /// `error`, naming `operation` and the path when the file has one.
    fn wrap(&self, operation: &'static str, error: io::Error) -> io::Error {
        match &self.path {
            Some(path) => with_path(operation, path, error),
            None => error,
        }
    }

    /// Waits for the operation in flight, returning a failed write's error.
    async fn flushed(&self) -> io::Result<magpie_sync::MutexGuard<'_, Inner>> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_flush(cx))
            .await
            .map_err(|e| self.wrap("write", e))?;
        Ok(inner)
    }

    /// Flushes, then makes the file's data and metadata durable (`fsync`), on the blocking
    /// pool.
    ///
    /// # Errors
    ///
    /// A failed earlier write (``failed to write `path`: ...``), or ``failed to sync `path`:
    /// ...``.
    pub async fn sync_all(&self) -> io::Result<()> {
        let _inner = self.flushed().await?;
        let std = self.std.clone();
        blocking::run(move || std.sync_all())
            .await
            .map_err(|e| self.wrap("sync", e))
    }

    /// Flushes, then makes the file's data durable (`fdatasync`: metadata such as the
    /// modification time may lag), on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`sync_all`](File::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        let _inner = self.flushed().await?;
        let std = self.std.clone();
        blocking::run(move || std.sync_data())
            .await
            .map_err(|e| self.wrap("sync", e))
    }

    /// Flushes, then cuts or extends the file to `size` bytes (extending with zeros). The
    /// position does not move; read-ahead is dropped.
    ///
    /// # Errors
    ///
    /// A failed earlier write, or ``failed to set length of `path`: ...``.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.flushed().await?;
        let read_ahead = inner.discard_read_ahead();
        let std = self.std.clone();
        blocking::run(move || {
            seek_back(&std, read_ahead)?;
            std.set_len(size)
        })
        .await
        .map_err(|e| self.wrap("set length of", e))
    }

    /// The file's metadata, once the operation in flight finished (so a size counts the
    /// bytes written before).
    ///
    /// # Errors
    ///
    /// ``failed to read metadata of `path`: ...``.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_idle(cx))
            .await
            .map_err(|e| self.wrap("read metadata of", e))?;
        let std = self.std.clone();
        blocking::run(move || std.metadata())
            .await
            .map_err(|e| self.wrap("read metadata of", e))
    }

    /// Sets the file's permissions.
    ///
    /// # Errors
    ///
    /// ``failed to set permissions of `path`: ...``.
    pub async fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        blocking::run(move || std.set_permissions(permissions))
            .await
            .map_err(|e| self.wrap("set permissions of", e))
    }

    /// A second `File` for the same open file (`dup`): it shares the OS position, not this
    /// file's buffer.
    ///
    /// # Errors
    ///
    /// ``failed to clone the handle of `path`: ...``.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.clone();
        let clone = blocking::run(move || std.try_clone())
            .await
            .map_err(|e| self.wrap("clone the handle of", e))?;
        Ok(File {
            path: self.path.clone(),
            ..File::from_std(clone)
        })
    }

    /// The std file, once the operation in flight finished, its position where this
    /// `File`'s was (read-ahead is given back with a seek; on a file that cannot seek, such
    /// as a FIFO, read-ahead is lost). A failed write's error is dropped: flush first to
    /// see it.
    pub async fn into_std(mut self) -> std::fs::File {
        let inner = self.inner.get_mut();
        // An error here is a failed operation nobody waits for; the file is idle after it.
        let _ = poll_fn(|cx| inner.poll_idle(cx)).await;
        let read_ahead = inner.discard_read_ahead();
        // An `lseek`: no wait for the disk.
        let _ = seek_back(&self.std, read_ahead);
        let mut std = self.std;
        loop {
            match Arc::try_unwrap(std) {
                Ok(file) => return file,
                // A blocking call whose caller went away (a `sync_all` future dropped
                // before it finished) still holds the file: a duplicate descriptor shares
                // its position. Should `dup` fail (no descriptor left), wait for the call.
                Err(shared) => match shared.try_clone() {
                    Ok(duplicate) => return duplicate,
                    Err(_) => {
                        std = shared;
                        magpie_core::yield_now().await;
                    }
                },
            }
        }
    }

    /// The std file at once, or the `File` back when an operation is in flight (or
    /// read-ahead cannot be given back by a seek, or a blocking call whose caller went
    /// away still holds the file).
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        let inner = self.inner.get_mut();
        let State::Idle(buf) = &mut inner.state else {
            return Err(self);
        };
        if buf.unread() > 0 {
            if seek_back(&self.std, buf.unread()).is_err() {
                return Err(self);
            }
            buf.discard();
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(std) => Err(File {
                std,
                path: self.path,
                inner: self.inner,
            }),
        }
    }

    /// tokio's `AsyncSeek::start_seek`.
    #[cfg(feature = "tokio-io")]
    pub(crate) fn start_seek(&mut self, pos: SeekFrom) -> io::Result<()> {
        let result = self.inner.get_mut().start_seek(&self.std, pos);
        result.map_err(|e| self.wrap("seek", e))
    }

    /// tokio's `AsyncSeek::poll_complete`.
    #[cfg(feature = "tokio-io")]
    pub(crate) fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let result = ready!(self.inner.get_mut().poll_complete(cx));
        Poll::Ready(result.map_err(|e| self.wrap("seek", e)))
    }

    pub(crate) fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let result = ready!(self.inner.get_mut().poll_read(&self.std, cx, dst));
        Poll::Ready(result.map_err(|e| self.wrap("read", e)))
    }

    pub(crate) fn poll_write_slices(
        &mut self,
        cx: &mut Context<'_>,
        src: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = ready!(self.inner.get_mut().poll_write(&self.std, cx, src));
        Poll::Ready(result.map_err(|e| self.wrap("write", e)))
    }

    pub(crate) fn poll_flush_writes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = ready!(self.inner.get_mut().poll_flush(cx));
        Poll::Ready(result.map_err(|e| self.wrap("write", e)))
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_bytes(cx, buf)
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_slices(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_slices(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_writes(cx)
    }

    /// A flush: the file stays open until dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_writes(cx)
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        let result = ready!(this.inner.get_mut().poll_seek(&this.std, cx, pos));
        Poll::Ready(result.map_err(|e| this.wrap("seek", e)))
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("std", &self.std)
            .finish()
    }
}

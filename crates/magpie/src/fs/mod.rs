//! Files and directories: tokio::fs's names, run on the runtime's blocking pool.
//!
//! ```
//! # magpie::run(async {
//! let dir = std::env::temp_dir().join(format!("magpie-fs-doc-{}", std::process::id()));
//! magpie::fs::create_dir_all(&dir).await?;
//! magpie::fs::write(dir.join("hello.txt"), "hello, world").await?;
//! assert_eq!(magpie::fs::read_to_string(dir.join("hello.txt")).await?, "hello, world");
//!
//! let mut entries = magpie::fs::read_dir(&dir).await?;
//! while let Some(entry) = entries.next_entry().await? {
//!     assert_eq!(entry.file_name(), "hello.txt");
//! }
//!
//! let err = magpie::fs::read(dir.join("missing")).await.unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
//! assert!(err.to_string().starts_with("failed to read `"));
//! magpie::fs::remove_dir_all(&dir).await?;
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! Operating systems offer no readiness for regular files (epoll refuses them, and a read of
//! a file "ready" to read still waits for the disk), so each operation here is a call to
//! `std::fs` on the blocking pool ([`task::spawn_blocking`](crate::task::spawn_blocking)).
//! One operation costs one trip to a blocking thread and back, so:
//!
//! - The whole-file functions ([`read`], [`write`](fn@write), [`read_to_string`], [`copy`]) are one
//!   trip each, whatever the size.
//! - [`File`] moves one buffer to the blocking thread per read or write: a read into a large
//!   buffer, or a large write, is one blocking call of up to 2 MiB ([`File`] says more). Many
//!   small reads are many trips: wrap the file in a `BufReader` for those.
//! - [`ReadDir`] fetches 32 entries per trip.
//!
//! **Errors name the operation and the path**:
//! ``failed to open `/tmp/x`: No such file or directory (os error 2)``, with the OS error's
//! [`io::ErrorKind`] kept; for `copy`, `rename`, `hard_link` and `symlink` both paths are
//! named. [`PathError`] (reached through `io::Error::get_ref`) gives the parts and the OS error
//! code back. Outside a magpie runtime every function returns an error (`ErrorKind::Other`)
//! that says a runtime is needed, rather than panicking.
//!
//! **Durability**: a completed write has reached the OS, not the disk; call
//! [`File::sync_all`] or [`File::sync_data`] for that.

mod blocking;
mod error;
mod file;
mod open_options;
mod read_dir;
mod read_whole;
#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use error::PathError;
pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use error::{with_path, with_paths};
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f(path)` on the blocking pool; an error names `operation` and `path`.
async fn on_path<R, F>(operation: &'static str, path: &Path, f: F) -> io::Result<R>
where
    F: FnOnce(&Path) -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    let owned = path.to_owned();
    blocking::run(move || f(&owned))
        .await
        .map_err(|e| with_path(operation, path, e))
}

/// Runs `f(first, second)` on the blocking pool; an error reads "failed to `operation`
/// `first` `joiner` `second`".
async fn on_paths<R, F>(
    operation: &'static str,
    first: &Path,
    joiner: &'static str,
    second: &Path,
    f: F,
) -> io::Result<R>
where
    F: FnOnce(&Path, &Path) -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    let (a, b) = (first.to_owned(), second.to_owned());
    blocking::run(move || f(&a, &b))
        .await
        .map_err(|e| with_paths(operation, first, joiner, second, e))
}

/// Reads the whole file at `path` (`std::fs::read`). A file of 8 MiB or more is read in up
/// to four parts at once (Unix: positioned reads on scoped threads, one per core), which
/// takes about 0.6 of the time on two cores (`fs/read_whole.rs`).
///
/// # Errors
///
/// ``failed to read `path`: ...`` with the OS error's kind (`NotFound`, ...).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path("read", path.as_ref(), read_whole::read).await
}

/// Reads the whole file at `path` as UTF-8 (`std::fs::read_to_string`), as [`read`] does.
///
/// # Errors
///
/// ``failed to read `path`: ...``; `ErrorKind::InvalidData` when it is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path("read", path.as_ref(), read_whole::read_to_string).await
}

/// Writes `contents` to the file at `path`, creating it or replacing what it held
/// (`std::fs::write`). The bytes are copied once, to move them to the blocking pool.
///
/// # Errors
///
/// ``failed to write `path`: ...``.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    on_path("write", path.as_ref(), move |p| std::fs::write(p, contents)).await
}

/// Copies the file `from` to `to` with its permissions, returning the bytes copied
/// (`std::fs::copy`: the kernel's copy where the OS has one).
///
/// # Errors
///
/// ``failed to copy `from` to `to`: ...``.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths("copy", from.as_ref(), "to", to.as_ref(), |a, b| {
        std::fs::copy(a, b)
    })
    .await
}

/// Renames `from` to `to`, replacing `to` if it exists (`std::fs::rename`).
///
/// # Errors
///
/// ``failed to rename `from` to `to`: ...``.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_paths("rename", from.as_ref(), "to", to.as_ref(), |a, b| {
        std::fs::rename(a, b)
    })
    .await
}

/// Removes the file at `path` (`std::fs::remove_file`).
///
/// # Errors
///
/// ``failed to remove file `path`: ...``.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove file", path.as_ref(), |p| std::fs::remove_file(p)).await
}

/// Removes the empty directory at `path` (`std::fs::remove_dir`).
///
/// # Errors
///
/// ``failed to remove directory `path`: ...``.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove directory", path.as_ref(), |p| {
        std::fs::remove_dir(p)
    })
    .await
}

/// Removes the directory at `path` and everything in it (`std::fs::remove_dir_all`), in one
/// blocking call.
///
/// # Errors
///
/// ``failed to remove directory tree `path`: ...``.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("remove directory tree", path.as_ref(), |p| {
        std::fs::remove_dir_all(p)
    })
    .await
}

/// Creates the directory `path`; its parent must exist (`std::fs::create_dir`).
///
/// # Errors
///
/// ``failed to create directory `path`: ...`` (`AlreadyExists` when it exists).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("create directory", path.as_ref(), |p| {
        std::fs::create_dir(p)
    })
    .await
}

/// Creates the directory `path` and every missing parent (`std::fs::create_dir_all`).
///
/// # Errors
///
/// ``failed to create directory `path`: ...``.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path("create directory", path.as_ref(), |p| {
        std::fs::create_dir_all(p)
    })
    .await
}

/// The metadata of `path`, following symbolic links (`std::fs::metadata`).
///
/// # Errors
///
/// ``failed to read metadata of `path`: ...``.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("read metadata of", path.as_ref(), |p| std::fs::metadata(p)).await
}

/// The metadata of `path` itself, not of what a symbolic link points to
/// (`std::fs::symlink_metadata`).
///
/// # Errors
///
/// ``failed to read metadata of `path`: ...``.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path("read metadata of", path.as_ref(), |p| {
        std::fs::symlink_metadata(p)
    })
    .await
}

/// The absolute form of `path`, with every symbolic link and `.`/`..` resolved
/// (`std::fs::canonicalize`).
///
/// # Errors
///
/// ``failed to canonicalize `path`: ...``.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("canonicalize", path.as_ref(), |p| std::fs::canonicalize(p)).await
}

/// Whether `path` exists: `Ok(false)` when it does not (a broken symbolic link included),
/// an error when that cannot be told, e.g. for lack of permission (`Path::try_exists`).
///
/// # Errors
///
/// ``failed to check existence of `path`: ...``.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_path("check existence of", path.as_ref(), |p| p.try_exists()).await
}

/// Creates `link` as a new name (a hard link) of the file `original` (`std::fs::hard_link`).
///
/// # Errors
///
/// ``failed to create hard link `link` to `original`: ...``.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "create hard link",
        link.as_ref(),
        "to",
        original.as_ref(),
        |link, original| std::fs::hard_link(original, link),
    )
    .await
}

/// Creates the symbolic link `link` pointing to `original` (Unix only; tokio's
/// `fs::symlink`).
///
/// # Errors
///
/// ``failed to create symlink `link` to `original`: ...``.
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    on_paths(
        "create symlink",
        link.as_ref(),
        "to",
        original.as_ref(),
        |link, original| std::os::unix::fs::symlink(original, link),
    )
    .await
}

/// What the symbolic link at `path` points to (`std::fs::read_link`).
///
/// # Errors
///
/// ``failed to read link `path`: ...`` (`InvalidInput` when `path` is no symbolic link).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path("read link", path.as_ref(), |p| std::fs::read_link(p)).await
}

/// Sets the permissions of `path` (`std::fs::set_permissions`).
///
/// # Errors
///
/// ``failed to set permissions of `path`: ...``.
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    on_path("set permissions of", path.as_ref(), move |p| {
        std::fs::set_permissions(p, permissions)
    })
    .await
}

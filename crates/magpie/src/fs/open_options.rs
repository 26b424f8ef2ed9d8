//! [`OpenOptions`]: std's builder for opening files, with an async `open`.

use super::error::with_path;
use super::{blocking, File};
use std::io;
use std::path::Path;

/// How to open a file: std's `OpenOptions` builder (read, write, append, truncate, create,
/// create_new), whose [`open`](OpenOptions::open) runs on the blocking pool and gives a
/// [`File`].
///
/// ```
/// use magpie::fs::OpenOptions;
/// use magpie::io::AsyncWriteExt;
///
/// # magpie::run(async {
/// let path = std::env::temp_dir().join(format!("magpie-open-options-{}", std::process::id()));
/// let mut file = OpenOptions::new().create(true).append(true).open(&path).await?;
/// file.write_all(b"one line\n").await?;
/// file.flush().await?;
/// # magpie::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off (`std::fs::OpenOptions::new`).
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Opens for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Opens for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file (implies write access).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Cuts an existing file to length 0 (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Creates the file when it does not exist (needs write or append access).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Creates the file, failing with `AlreadyExists` when it exists (atomically).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits a created file gets, before the umask (Unix only;
    /// `std::os::unix::fs::OpenOptionsExt::mode`).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags (Unix only; `std::os::unix::fs::OpenOptionsExt::custom_flags`).
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// ``failed to open `path`: ...`` with the OS error's kind (`NotFound`, `AlreadyExists`
    /// for `create_new`, `PermissionDenied`, `InvalidInput` for contradictory options).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        open_with(&self.0, "open", path.as_ref()).await
    }
}

/// Opens `path` with `options` on the blocking pool; an error names `operation` and `path`.
pub(crate) async fn open_with(
    options: &std::fs::OpenOptions,
    operation: &'static str,
    path: &Path,
) -> io::Result<File> {
    let (options, owned) = (options.clone(), path.to_owned());
    let std = blocking::run(move || options.open(&owned))
        .await
        .map_err(|e| with_path(operation, path, e))?;
    Ok(File::from_std_with_path(std, path))
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}

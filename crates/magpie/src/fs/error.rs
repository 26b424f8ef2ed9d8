//! [`PathError`]: an `io::Error` that names the operation and the path(s) it failed on.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What an error of [`magpie::fs`](crate::fs) carries inside its `io::Error`: the operation,
/// the path (two for `copy`, `rename` and `hard_link`) and the OS's error.
///
/// Every error of `magpie::fs` is an `io::Error` whose [`kind`](io::Error::kind) is the OS
/// error's kind (`NotFound`, `AlreadyExists`, `PermissionDenied`...) and whose message reads
/// ``failed to open `/tmp/x`: No such file or directory (os error 2)``. The OS error code is
/// not lost: reach this type with `get_ref` and ask [`PathError::io_error`] for it (it is
/// also the error's [`source`](Error::source)).
///
/// ```
/// use magpie::fs::PathError;
///
/// # magpie::run(async {
/// let err = magpie::fs::read("/no/such/file").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().starts_with("failed to read `/no/such/file`: "));
/// let inner = err.get_ref().and_then(|e| e.downcast_ref::<PathError>()).unwrap();
/// assert_eq!(inner.path(), std::path::Path::new("/no/such/file"));
/// # #[cfg(unix)]
/// assert_eq!(inner.io_error().raw_os_error(), Some(2)); // ENOENT
/// # });
/// ```
#[derive(Debug)]
pub struct PathError {
    operation: &'static str,
    path: PathBuf,
    /// The second path of a two-path operation, with the word that joins the two.
    second: Option<(&'static str, PathBuf)>,
    error: io::Error,
}

impl PathError {
    /// The operation that failed, as the message words it (`"open"`, `"read"`, `"copy"`...).
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// The path the operation worked on; for two-path operations the first one the message
    /// names: `copy`'s and `rename`'s `from`, `hard_link`'s and `symlink`'s `link`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The second path of `copy` and `rename` (`to`), `hard_link` and `symlink`
    /// (`original`).
    pub fn second_path(&self) -> Option<&Path> {
        self.second.as_ref().map(|(_, p)| p.as_path())
    }

    /// The error the OS (or std) returned, with its `raw_os_error`.
    pub fn io_error(&self) -> &io::Error {
        &self.error
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed to {} `{}`", self.operation, self.path.display())?;
        if let Some((joiner, second)) = &self.second {
            write!(f, " {joiner} `{}`", second.display())?;
        }
        write!(f, ": {}", self.error)
    }
}

impl Error for PathError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

/// `error`, wrapped so that its message names `operation` and `path`; its kind is kept.
pub(crate) fn with_path(operation: &'static str, path: &Path, error: io::Error) -> io::Error {
    wrap(PathError {
        operation,
        path: path.to_owned(),
        second: None,
        error,
    })
}

/// `error`, wrapped so that its message reads "failed to `operation` `first` `joiner`
/// `second`" (`"copy"`, `"to"`); its kind is kept.
pub(crate) fn with_paths(
    operation: &'static str,
    first: &Path,
    joiner: &'static str,
    second: &Path,
    error: io::Error,
) -> io::Error {
    wrap(PathError {
        operation,
        path: first.to_owned(),
        second: Some((joiner, second.to_owned())),
        error,
    })
}

fn wrap(error: PathError) -> io::Error {
    io::Error::new(error.error.kind(), error)
}

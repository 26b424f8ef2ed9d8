//! `magpie::fs`: files written, synced, read back and sought; reads, writes and seeks
//! interleaved (read-ahead included); directory listings; every function once; errors that
//! name the operation and the path and keep the kind; the traits of tokio with `tokio-io`.

mod common;

use common::{block_on_plain, run_on, wait_until};
use magpie::fs::{self, File, OpenOptions, PathError};
use magpie::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use magpie::stream::StreamExt;
use std::collections::HashSet;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh, empty directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("magpie-fs-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("failed to create the test directory");
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes that differ from their neighbours, so a read at a wrong offset shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The message must start with "failed to `operation` `path`" and the kind must be `kind`.
fn assert_names(err: &std::io::Error, kind: ErrorKind, operation: &str, path: &Path) {
    let expected = format!("failed to {operation} `{}`", path.display());
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().starts_with(&expected),
        "`{err}` does not start with `{expected}`"
    );
}

/// As [`assert_names`], for an operation on two paths: "failed to `operation` `first`
/// `joiner` `second`".
fn assert_names_both(
    err: &std::io::Error,
    kind: ErrorKind,
    operation: &str,
    (first, joiner, second): (&Path, &str, &Path),
) {
    let expected = format!(
        "failed to {operation} `{}` {joiner} `{}`: ",
        first.display(),
        second.display()
    );
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().starts_with(&expected),
        "`{err}` does not start with `{expected}`"
    );
}

#[test]
fn a_mebibyte_is_written_synced_read_back_and_sought() {
    let dir = TempDir::new("mebibyte");
    let path = dir.join("data");
    run_on("mebibyte", 2, async move {
        let data = pattern(1 << 20);
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&data).await.unwrap();
        file.sync_all().await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 1 << 20);
        drop(file);

        let mut file = File::open(&path).await.unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).await.unwrap();
        assert!(
            back == data,
            "the bytes read back differ from those written"
        );

        assert_eq!(file.seek(SeekFrom::Start(1000)).await.unwrap(), 1000);
        let mut buf = [0u8; 100];
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf[..], data[1000..1100]);

        assert_eq!(file.seek(SeekFrom::Current(-50)).await.unwrap(), 1050);
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf[..], data[1050..1150]);

        assert_eq!(file.seek(SeekFrom::End(-10)).await.unwrap(), (1 << 20) - 10);
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).await.unwrap();
        assert_eq!(tail[..], data[data.len() - 10..]);

        assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut again = vec![0u8; 1 << 20];
        file.read_exact(&mut again).await.unwrap();
        assert!(
            again == data,
            "the bytes read after seeking to the start differ"
        );
    });
}

#[test]
fn reads_writes_and_seeks_interleave() {
    let dir = TempDir::new("interleave");
    let path = dir.join("data");
    run_on("interleave", 2, async move {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        file.write_all(b"hello world").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut five = [0u8; 5];
        file.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b"hello");
        // The write lands at the position the read reached.
        file.write_all(b"_").await.unwrap();
        let mut rest = String::new();
        file.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "world");
        file.write_all(b"!").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 12);
        file.flush().await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"hello_world!");
    });
}

/// Starts a read into a 64-byte buffer and drops it after one poll, so the bytes come back
/// later as read-ahead. Should the read finish in that one poll, it is undone with a seek (the
/// checks after it hold either way).
async fn abandon_a_read(file: &mut File) {
    let mut big = [0u8; 64];
    if let Some(n) = futures_lite::future::poll_once(file.read(&mut big)).await {
        let n = n.unwrap() as i64;
        file.seek(SeekFrom::Current(-n)).await.unwrap();
    }
}

#[test]
fn seek_and_write_after_an_abandoned_read_account_for_the_read_ahead() {
    let dir = TempDir::new("read-ahead");
    let path = dir.join("data");
    run_on("read-ahead", 2, async move {
        fs::write(&path, b"0123456789").await.unwrap();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        // A read into a large buffer, abandoned after its first poll: its bytes come back as
        // read-ahead for the next read.
        abandon_a_read(&mut file).await;
        let mut three = [0u8; 3];
        file.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"012");
        // The OS position is at 10 when read-ahead is buffered; the caller's is at 3.
        assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 3);
        file.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"345");

        // Read-ahead again, then a write: it must land at 6, not after the read-ahead.
        abandon_a_read(&mut file).await;
        let mut one = [0u8; 1];
        file.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"6");
        file.write_all(b"X").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"0123456X89");

        // `SeekFrom::Current` backwards from a position with read-ahead.
        file.seek(SeekFrom::Start(0)).await.unwrap();
        abandon_a_read(&mut file).await;
        file.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"012");
        assert_eq!(file.seek(SeekFrom::Current(-2)).await.unwrap(), 1);
        file.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"123");

        // `into_std` gives the position back too.
        abandon_a_read(&mut file).await;
        file.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"4");
        let mut std = file.into_std().await;
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut std, &mut rest).unwrap();
        assert_eq!(rest, "56X89");
    });
}

#[test]
fn read_dir_lists_each_of_a_hundred_entries_once() {
    let dir = TempDir::new("read-dir");
    let root = dir.0.clone();
    run_on("read-dir", 2, async move {
        for i in 0..100 {
            fs::write(root.join(format!("file-{i:03}")), i.to_string())
                .await
                .unwrap();
        }
        fs::create_dir(root.join("sub")).await.unwrap();

        let mut seen = HashSet::new();
        let mut entries = fs::read_dir(&root).await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.path(), root.join(&name));
            let file_type = entry.file_type().await.unwrap();
            assert_eq!(file_type.is_dir(), name == "sub", "{name}");
            if name != "sub" {
                assert_eq!(
                    entry.metadata().await.unwrap().len(),
                    name[5..].trim_start_matches('0').len().max(1) as u64
                );
            }
            assert!(seen.insert(name.clone()), "{name} was listed twice");
        }
        assert_eq!(seen.len(), 101);
        // Once the end is reached it stays reached.
        assert!(entries.next_entry().await.unwrap().is_none());

        // The same listing as a stream.
        let names: Vec<_> = fs::read_dir(&root)
            .await
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect()
            .await;
        assert_eq!(names.iter().cloned().collect::<HashSet<_>>(), seen);
        assert_eq!(names.len(), 101);
    });
}

#[test]
fn every_function_works() {
    let dir = TempDir::new("functions");
    let root = dir.0.clone();
    run_on("functions", 2, async move {
        let a = root.join("a.txt");
        fs::write(&a, "alpha").await.unwrap();
        assert_eq!(fs::read(&a).await.unwrap(), b"alpha");
        assert_eq!(fs::read_to_string(&a).await.unwrap(), "alpha");

        let b = root.join("b.txt");
        let copied = fs::copy(&a, &b).await.unwrap();
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "alpha");
        // std's copy on Windows counts the bytes in CopyFileExW's progress callback, which
        // Wine (CI's Windows) never calls: it reports 0 there.
        if cfg!(windows) {
            assert!(copied == 5 || copied == 0, "{copied}");
        } else {
            assert_eq!(copied, 5);
        }
        let c = root.join("c.txt");
        fs::rename(&b, &c).await.unwrap();
        assert!(!fs::try_exists(&b).await.unwrap());
        assert!(fs::try_exists(&c).await.unwrap());

        let linked = root.join("linked.txt");
        fs::hard_link(&a, &linked).await.unwrap();
        assert_eq!(fs::read_to_string(&linked).await.unwrap(), "alpha");

        let meta = fs::metadata(&a).await.unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.len(), 5);
        assert!(fs::symlink_metadata(&a).await.unwrap().is_file());
        let canonical = fs::canonicalize(root.join(".").join("a.txt"))
            .await
            .unwrap();
        assert_eq!(canonical, std::fs::canonicalize(&a).unwrap());

        #[cfg(unix)]
        {
            let link = root.join("symlink");
            fs::symlink(&a, &link).await.unwrap();
            assert_eq!(fs::read_link(&link).await.unwrap(), a);
            assert!(fs::symlink_metadata(&link)
                .await
                .unwrap()
                .file_type()
                .is_symlink());
            assert!(fs::metadata(&link).await.unwrap().is_file());
        }
        let err = fs::read_link(&a).await.unwrap_err();
        assert!(
            err.to_string().starts_with("failed to read link `"),
            "{err}"
        );

        let mut permissions = meta.permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&a, permissions.clone()).await.unwrap();
        assert!(fs::metadata(&a).await.unwrap().permissions().readonly());
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        fs::set_permissions(&a, permissions).await.unwrap();

        let nested = root.join("x").join("y").join("z");
        fs::create_dir_all(&nested).await.unwrap();
        fs::create_dir(nested.join("w")).await.unwrap();
        fs::remove_dir(nested.join("w")).await.unwrap();
        fs::write(nested.join("f"), "f").await.unwrap();
        fs::remove_dir_all(root.join("x")).await.unwrap();
        assert!(!fs::try_exists(root.join("x")).await.unwrap());

        fs::remove_file(&c).await.unwrap();
        assert!(!fs::try_exists(&c).await.unwrap());
    });
}

#[test]
fn file_methods_work() {
    let dir = TempDir::new("file-methods");
    let path = dir.join("data");
    run_on("file-methods", 2, async move {
        let mut file = File::create_new(&path).await.unwrap();
        file.write_all(b"0123456789").await.unwrap();
        file.sync_data().await.unwrap();
        file.set_len(4).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 4);
        let mut permissions = file.metadata().await.unwrap().permissions();
        permissions.set_readonly(true);
        file.set_permissions(permissions.clone()).await.unwrap();
        assert!(fs::metadata(&path).await.unwrap().permissions().readonly());
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        file.set_permissions(permissions).await.unwrap();

        // A clone shares the OS position.
        let mut clone = file.try_clone().await.unwrap();
        clone.seek(SeekFrom::Start(1)).await.unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "123");

        // std and back.
        let std = file.try_into_std().expect("an idle file converts at once");
        let mut file = File::from_std(std);
        file.seek(SeekFrom::Start(0)).await.unwrap();
        file.write_all(b"ab").await.unwrap();
        // Right after a write-behind the file is busy: `try_into_std` gives it back.
        let file = match file.try_into_std() {
            Ok(std) => File::from(std),
            Err(file) => file,
        };
        let std = file.into_std().await;
        drop(std);
        assert_eq!(fs::read(&path).await.unwrap(), b"ab23");
        let mut file = File::options().append(true).open(&path).await.unwrap();
        file.write_all(b"!").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"ab23!");
    });
}

#[test]
fn into_std_after_a_dropped_sync_all_still_gives_the_file() {
    let dir = TempDir::new("into-std");
    let path = dir.join("data");
    run_on("into-std", 2, async move {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"kept").await.unwrap();
        // The sync starts on the blocking pool, then its future is dropped: the blocking
        // call may still hold the file when `into_std` asks for it.
        let _ = futures_lite::future::poll_once(file.sync_all()).await;
        let mut std = file.into_std().await;
        std::io::Write::write_all(&mut std, b" too").unwrap();
        drop(std);
        assert_eq!(fs::read(&path).await.unwrap(), b"kept too");
    });
}

#[test]
fn a_dropped_file_finishes_its_write() {
    let dir = TempDir::new("dropped");
    let path = dir.join("data");
    let check = path.clone();
    run_on("dropped", 2, async move {
        let mut file = File::create(&path).await.unwrap();
        // `write` hands the bytes to the blocking pool and returns at once.
        let n = file.write(&pattern(1 << 20)).await.unwrap();
        assert_eq!(n, 1 << 20);
        drop(file);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while fs::metadata(&path).await.unwrap().len() < 1 << 20 {
            assert!(
                std::time::Instant::now() < deadline,
                "the write never finished"
            );
            magpie::time::sleep(Duration::from_millis(5)).await;
        }
    });
    wait_until("the file is complete", Duration::from_secs(10), || {
        std::fs::read(&check)
            .map(|d| d == pattern(1 << 20))
            .unwrap_or(false)
    });
}

#[test]
fn a_failed_write_is_reported_by_flush_naming_the_path() {
    let dir = TempDir::new("failed-write");
    let path = dir.join("data");
    run_on("failed-write", 2, async move {
        fs::write(&path, "read only").await.unwrap();
        // Opened for reading only: the OS refuses the write on the blocking thread.
        let mut file = File::open(&path).await.unwrap();
        let err = match file.write(b"no").await {
            // Write-behind: the error comes with the flush.
            Ok(_) => file.flush().await.unwrap_err(),
            Err(e) => e,
        };
        assert!(
            err.to_string()
                .starts_with(&format!("failed to write `{}`: ", path.display())),
            "{err}"
        );
        // The error is reported once; the file goes on.
        file.flush().await.unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "read only");
    });
}

#[test]
fn errors_name_the_operation_and_the_path_and_keep_the_kind() {
    let dir = TempDir::new("errors");
    let root = dir.0.clone();
    run_on("errors", 2, async move {
        let missing = root.join("missing");
        let err = File::open(&missing).await.unwrap_err();
        assert_names(&err, ErrorKind::NotFound, "open", &missing);
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<PathError>())
            .expect("a PathError inside");
        assert_eq!(inner.operation(), "open");
        assert_eq!(inner.path(), missing);
        assert_eq!(inner.second_path(), None);
        assert_eq!(inner.io_error().kind(), ErrorKind::NotFound);
        #[cfg(unix)]
        assert_eq!(inner.io_error().raw_os_error(), Some(libc::ENOENT));
        let source = std::error::Error::source(inner).expect("the OS error is the source");
        assert!(source.downcast_ref::<std::io::Error>().is_some());

        assert_names(
            &fs::read(&missing).await.unwrap_err(),
            ErrorKind::NotFound,
            "read",
            &missing,
        );
        assert_names(
            &fs::read_to_string(&missing).await.unwrap_err(),
            ErrorKind::NotFound,
            "read",
            &missing,
        );
        assert_names(
            &fs::remove_file(&missing).await.unwrap_err(),
            ErrorKind::NotFound,
            "remove file",
            &missing,
        );
        assert_names(
            &fs::metadata(&missing).await.unwrap_err(),
            ErrorKind::NotFound,
            "read metadata of",
            &missing,
        );
        assert_names(
            &fs::read_dir(&missing).await.unwrap_err(),
            ErrorKind::NotFound,
            "read directory",
            &missing,
        );
        assert_names(
            &fs::write(root.join("no-dir").join("f"), "x")
                .await
                .unwrap_err(),
            ErrorKind::NotFound,
            "write",
            &root.join("no-dir").join("f"),
        );

        let exists = root.join("exists");
        fs::create_dir(&exists).await.unwrap();
        assert_names(
            &fs::create_dir(&exists).await.unwrap_err(),
            ErrorKind::AlreadyExists,
            "create directory",
            &exists,
        );
        let file = root.join("file");
        fs::write(&file, "x").await.unwrap();
        assert_names(
            &File::create_new(&file).await.unwrap_err(),
            ErrorKind::AlreadyExists,
            "create",
            &file,
        );
        assert_names(
            &OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
                .await
                .unwrap_err(),
            ErrorKind::AlreadyExists,
            "open",
            &file,
        );

        // Two paths: both named.
        let to = root.join("to");
        let err = fs::rename(&missing, &to).await.unwrap_err();
        assert_names_both(&err, ErrorKind::NotFound, "rename", (&missing, "to", &to));
        let err = fs::copy(&missing, &to).await.unwrap_err();
        assert_names_both(&err, ErrorKind::NotFound, "copy", (&missing, "to", &to));
        let err = fs::hard_link(&file, &exists).await.unwrap_err();
        assert_names_both(
            &err,
            ErrorKind::AlreadyExists,
            "create hard link",
            (&exists, "to", &file),
        );
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<PathError>())
            .unwrap();
        assert_eq!(inner.second_path(), Some(file.as_path()));
    });
}

#[test]
fn outside_a_runtime_the_functions_return_an_error_saying_so() {
    let path = std::env::temp_dir().join("magpie-fs-outside-a-runtime");
    let err = block_on_plain(fs::read(&path)).unwrap_err();
    assert_names(&err, ErrorKind::Other, "read", &path);
    assert!(err.to_string().contains("needs a magpie runtime"), "{err}");
    let err = block_on_plain(File::open(&path)).unwrap_err();
    assert!(err.to_string().contains("needs a magpie runtime"), "{err}");

    // A `File` made outside a runtime cannot run its reads there either.
    let std = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    let mut file = File::from_std(std);
    let mut buf = [0u8; 4];
    let err = block_on_plain(file.read(&mut buf)).unwrap_err();
    assert!(err.to_string().contains("needs a magpie runtime"), "{err}");
}

/// Async::new refuses a regular file on Linux (epoll does) with a message pointing at fs.
#[cfg(target_os = "linux")]
#[test]
fn async_new_on_a_regular_file_points_at_magpie_fs() {
    run_on("async-new-file", 1, async {
        let std = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        let err = magpie::io::Async::new(std).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(err.to_string().contains("use magpie::fs"), "{err}");
        assert!(err.to_string().contains("epoll"), "{err}");
    });
}

#[cfg(feature = "tokio-io")]
#[test]
fn tokio_traits_read_write_and_seek() {
    use std::future::poll_fn;
    use std::pin::Pin;
    use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

    let dir = TempDir::new("tokio-io");
    let path = dir.join("data");
    run_on("tokio-io", 2, async move {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        let mut written = 0;
        while written < 11 {
            written += poll_fn(|cx| Pin::new(&mut file).poll_write(cx, &b"hello tokio"[written..]))
                .await
                .unwrap();
        }
        poll_fn(|cx| Pin::new(&mut file).poll_flush(cx))
            .await
            .unwrap();

        // tokio's seek: wait for what is in flight, start, complete.
        poll_fn(|cx| Pin::new(&mut file).poll_complete(cx))
            .await
            .unwrap();
        Pin::new(&mut file).start_seek(SeekFrom::Start(6)).unwrap();
        let pos = poll_fn(|cx| Pin::new(&mut file).poll_complete(cx))
            .await
            .unwrap();
        assert_eq!(pos, 6);

        let mut memory = [0u8; 16];
        let mut buf = ReadBuf::new(&mut memory);
        while buf.filled().len() < 5 {
            let before = buf.filled().len();
            poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert!(buf.filled().len() > before, "end of file before 5 bytes");
        }
        assert_eq!(buf.filled(), b"tokio");
        poll_fn(|cx| Pin::new(&mut file).poll_shutdown(cx))
            .await
            .unwrap();
    });
}

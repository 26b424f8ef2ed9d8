//! The child's standard streams: the parent's ends of its pipes, non-blocking and registered
//! with the runtime's reactor.
//!
//! Each wraps the pipe descriptor as a `std::fs::File` (whose `&File` reads and writes with
//! plain `read(2)` / `write(2)`) inside an [`Async`], which retries on `WouldBlock` after
//! waiting for readiness. `O_NONBLOCK` is set on the parent's end only: the child's end is a
//! separate open file description, so the child still sees a blocking pipe.

use crate::io::Async;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            inner: Async<File>,
        }

        impl $name {
            #[doc = concat!(
                "Takes over a `", stringify!($std), "` (a child spawned with std): non-blocking ",
                "and registered with the current runtime's reactor.\n\n",
                "# Errors\n\nOutside a magpie runtime, or when the registration fails."
            )]
            pub fn from_std(std: $std) -> io::Result<$name> {
                let fd = OwnedFd::from(std);
                Ok($name {
                    inner: Async::new(File::from(fd))?,
                })
            }

            /// Deregisters the pipe and gives its descriptor back (still non-blocking).
            ///
            /// # Errors
            ///
            /// None at present; `io::Result` as tokio's signature.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                Ok(OwnedFd::from(self.inner.into_inner()?))
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.as_raw_fd()
            }
        }
    };
}

pipe_type!(
    /// The child's stdin, when piped ([`Child::stdin`](super::Child::stdin)): futures-io's
    /// `AsyncWrite` (and tokio's with the feature `tokio-io`). Drop it to close the pipe: the
    /// child then reads end of file (`close`/`shutdown` only flush, which is a no-op here).
    ChildStdin,
    std::process::ChildStdin
);
pipe_type!(
    /// The child's stdout, when piped ([`Child::stdout`](super::Child::stdout)): futures-io's
    /// `AsyncRead` (and tokio's with the feature `tokio-io`); reads end of file once the
    /// child (and every process it passed the pipe to) has closed it.
    ChildStdout,
    std::process::ChildStdout
);
pipe_type!(
    /// The child's stderr, when piped ([`Child::stderr`](super::Child::stderr)): as
    /// [`ChildStdout`].
    ChildStderr,
    std::process::ChildStderr
);

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

macro_rules! async_read {
    ($name:ident) => {
        impl futures_io::AsyncRead for $name {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [io::IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                crate::net::tokio_io::read_into(buf, |bytes| {
                    futures_io::AsyncRead::poll_read(self, cx, bytes)
                })
            }
        }
    };
}

async_read!(ChildStdout);
async_read!(ChildStderr);

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self, cx)
    }
}

#[cfg(all(test, feature = "tokio-io"))]
mod tests {
    use crate::process::Command;
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::process::Stdio;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    /// A round trip through `cat` written with tokio's trait methods only.
    #[test]
    fn cat_round_trip_through_tokio_traits() {
        crate::Runtime::new().unwrap().block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut data: &[u8] = b"through tokio's traits";
            while !data.is_empty() {
                let n = poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, data))
                    .await
                    .unwrap();
                data = &data[n..];
            }
            poll_fn(|cx| Pin::new(&mut stdin).poll_shutdown(cx))
                .await
                .unwrap();
            drop(stdin);
            let mut stdout = child.stdout.take().unwrap();
            let mut got = Vec::new();
            let mut chunk = [0u8; 5];
            loop {
                let mut buf = ReadBuf::new(&mut chunk);
                poll_fn(|cx| Pin::new(&mut stdout).poll_read(cx, &mut buf))
                    .await
                    .unwrap();
                if buf.filled().is_empty() {
                    break;
                }
                got.extend_from_slice(buf.filled());
            }
            assert_eq!(got, b"through tokio's traits");
            assert!(child.wait().await.unwrap().success());
        });
    }
}

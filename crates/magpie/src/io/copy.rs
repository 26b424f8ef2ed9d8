//! [`copy_bidirectional`]: both directions of a proxy in one future.
//!
//! Each direction is a [`Transfer`]: read into its own buffer, write all of it out, repeat;
//! at the reader's end of file, flush and close (shut down) the writer so the far side sees
//! the end too, then that direction is done. The future polls both directions each time it
//! is woken and finishes when both are done, or at the first error. The wake-up rules are
//! the I/O types' own: a direction returns `Pending` only from its reader or writer, which
//! then holds the waker.

use futures_io::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer of each direction: 8 KiB, as `futures_lite::io::copy` and tokio use.
const BUFFER: usize = 8 * 1024;

/// Copies `a`'s reads to `b` and `b`'s reads to `a` at the same time, until both have
/// reached end of file; returns the bytes copied `(a to b, b to a)`.
///
/// tokio's `copy_bidirectional` for futures-io streams (a proxy's heart: the client's
/// connection on one side, the upstream's on the other). When one side's reads end, the
/// other side's write half is closed (`poll_close`, a TCP shutdown of the write side), so a
/// half-close travels through; the other direction goes on until its own end. Data read is
/// written before more is read: at most 8 KiB per direction is in flight.
///
/// ```no_run
/// use magpie::net::{TcpListener, TcpStream};
///
/// # async fn proxy() -> std::io::Result<()> {
/// let listener = TcpListener::bind("127.0.0.1:8080").await?;
/// loop {
///     let (mut client, _) = listener.accept().await?;
///     magpie::spawn(async move {
///         let mut upstream = TcpStream::connect("127.0.0.1:9000").await?;
///         magpie::io::copy_bidirectional(&mut client, &mut upstream).await
///     });
/// }
/// # }
/// ```
///
/// # Errors
///
/// The first error of a read, write, flush or close on either side; the copy stops there
/// (the streams stay as they are: dropping them closes them). A writer that accepts zero
/// bytes is [`io::ErrorKind::WriteZero`].
///
/// # Cancellation
///
/// Not cancel-safe: dropping the future drops up to 8 KiB per direction that was read but
/// not yet written.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::new();
    let mut b_to_a = Transfer::new();
    poll_fn(|cx| {
        let forward = a_to_b.poll(cx, &mut *a, &mut *b)?;
        let backward = b_to_a.poll(cx, &mut *b, &mut *a)?;
        match (forward, backward) {
            (Poll::Ready(forward), Poll::Ready(backward)) => Poll::Ready(Ok((forward, backward))),
            _ => Poll::Pending,
        }
    })
    .await
}

/// One direction of a copy.
struct Transfer {
    buf: Box<[u8]>,
    /// `buf[written..filled]` was read and is still to be written.
    written: usize,
    filled: usize,
    /// The reader reached end of file.
    read_done: bool,
    /// Written since the last flush: flush before waiting on the reader.
    unflushed: bool,
    /// Flushed and closed after the end of file: nothing left to do.
    done: bool,
    copied: u64,
}

impl Transfer {
    fn new() -> Transfer {
        Transfer {
            buf: vec![0; BUFFER].into_boxed_slice(),
            written: 0,
            filled: 0,
            read_done: false,
            unflushed: false,
            done: false,
            copied: 0,
        }
    }

    /// Moves bytes from `reader` to `writer` until it must wait (`Pending`, with the waker
    /// given to whichever must wait) or it is done (the bytes copied).
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            if self.done {
                return Poll::Ready(Ok(self.copied));
            }
            if self.written == self.filled && !self.read_done {
                match Pin::new(&mut *reader).poll_read(cx, &mut self.buf) {
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        self.written = 0;
                        self.filled = n;
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Nothing to read for now: what was written must not wait in the
                        // writer's buffer for more.
                        if self.unflushed {
                            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                            self.unflushed = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            while self.written < self.filled {
                let n = match ready!(
                    Pin::new(&mut *writer).poll_write(cx, &self.buf[self.written..self.filled])
                ) {
                    Ok(0) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "copy_bidirectional: the writer accepted zero bytes",
                        )))
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                self.written += n;
                self.copied += n as u64;
                self.unflushed = true;
            }
            if self.read_done {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                ready!(Pin::new(&mut *writer).poll_close(cx))?;
                self.done = true;
            }
        }
    }
}

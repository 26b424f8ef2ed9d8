//! `HyperIo`: a futures-io stream seen through hyper's I/O traits, and back.

use futures_io::{AsyncRead, AsyncWrite};
use std::cell::RefCell;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project_lite::pin_project! {
    /// Adapts a futures-io stream (magpie's [`TcpStream`](crate::net::TcpStream) and
    /// [`UnixStream`](crate::net::UnixStream), a TLS stream, any `AsyncRead + AsyncWrite`)
    /// to hyper's `hyper::rt::Read` and `hyper::rt::Write`, so hyper can serve or drive a
    /// connection over it.
    ///
    /// It also implements futures-io's `AsyncRead`/`AsyncWrite` itself, so what hyper hands
    /// back after an upgrade (`hyper::upgrade::Upgraded` wraps the `HyperIo`) can be
    /// unwrapped with [`into_inner`](HyperIo::into_inner) and used as the stream it was.
    ///
    /// A futures-io read needs initialized memory, and hyper hands each read a fresh,
    /// uninitialized view of its buffer (8 KiB or more). Zeroing all of it on every read,
    /// including the one that ends in `WouldBlock`, was the hottest user-space cost of a
    /// keep-alive server (`benches/http_figures.rs`). So reads of up to 4 KiB go into a
    /// scratch buffer of the thread's, zeroed once when the thread first reads (a 4 KiB
    /// stack buffer, zeroed per read, where the thread's is in use or gone), and only the
    /// bytes read are copied into hyper's; a read that fills its window doubles it, and
    /// reads larger than 4 KiB (bodies, uploads) zero just that window of hyper's buffer and
    /// read into it directly; a read that fills under a quarter of the window halves it
    /// again. `poll_shutdown` is futures-io's `poll_close`.
    #[derive(Debug)]
    pub struct HyperIo<T> {
        #[pin]
        inner: T,
        // How many bytes the next read asks for (at most what hyper's buffer has room for).
        read_window: usize,
    }
}

/// Reads of up to this many bytes go through the scratch buffer; it is also the smallest window.
const STACK_READ: usize = 4096;

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo {
            inner,
            read_window: STACK_READ,
        }
    }

    /// The stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The stream, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let want = buf.remaining().min(*this.read_window);
        let n = if want <= STACK_READ {
            ready!(read_small(this.inner, cx, want, &mut buf))?
        } else {
            let n = ready!(this.inner.poll_read(cx, buf.initialize_unfilled_to(want)))?;
            // SAFETY: `initialize_unfilled_to` initialized the first `want` unfilled bytes,
            // and the read returned how many of them it filled, which is at most `want`.
            unsafe { buf.advance(n) };
            n
        };
        if n == want && want == *this.read_window {
            *this.read_window = want.saturating_mul(2);
        } else if n < *this.read_window / 4 {
            *this.read_window = (*this.read_window / 2).max(STACK_READ);
        }
        Poll::Ready(Ok(()))
    }
}

std::thread_local! {
    /// The thread's scratch buffer for reads of up to [`STACK_READ`] bytes: zeroed once (on
    /// the thread's first such read), then reused, so a small read costs no zeroing.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads up to `want` (at most [`STACK_READ`]) bytes from `inner` into scratch memory and
/// copies what was read into `buf`: the thread's scratch buffer, or a zeroed stack buffer
/// when that one is borrowed (a `HyperIo` reading through another) or already destroyed
/// (a read from a thread-local destructor).
fn read_small<T: AsyncRead>(
    inner: Pin<&mut T>,
    cx: &mut Context<'_>,
    want: usize,
    buf: &mut hyper::rt::ReadBufCursor<'_>,
) -> Poll<io::Result<usize>> {
    let mut inner = Some(inner);
    let mut read_into = |chunk: &mut [u8]| -> Poll<io::Result<usize>> {
        let inner = inner.take().expect("read_small reads once");
        let n = ready!(inner.poll_read(cx, &mut chunk[..want]))?;
        buf.put_slice(&chunk[..n]);
        Poll::Ready(Ok(n))
    };
    let scratch = SCRATCH.try_with(|scratch| {
        let mut scratch = scratch.try_borrow_mut().ok()?;
        if scratch.is_empty() {
            scratch.resize(STACK_READ, 0);
        }
        Some(read_into(&mut scratch))
    });
    match scratch {
        Ok(Some(read)) => read,
        _ => read_into(&mut [0u8; STACK_READ]),
    }
}

impl<T: AsyncWrite> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    /// futures-io has no way to ask; magpie's sockets write vectors with one `writev`, and
    /// the trait's default for other streams writes the first non-empty buffer, which hyper
    /// copes with either way.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

impl<T: AsyncRead> AsyncRead for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read_vectored(cx, bufs)
    }
}

impl<T: AsyncWrite> AsyncWrite for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::{Read, ReadBuf};
    use std::mem::MaybeUninit;
    use std::task::Waker;

    /// A stream of `data` that records how many bytes each read asked for.
    struct Recorded {
        data: Vec<u8>,
        at: usize,
        asked: Vec<usize>,
    }

    impl AsyncRead for Recorded {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.asked.push(buf.len());
            let n = buf.len().min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Poll::Ready(Ok(n))
        }
    }

    /// One hyper read through `io` into a fresh, uninitialized buffer of `room` bytes.
    fn read_once(io: &mut HyperIo<Recorded>, room: usize) -> Vec<u8> {
        let mut storage = vec![MaybeUninit::<u8>::uninit(); room];
        let mut buf = ReadBuf::uninit(&mut storage);
        let mut cx = Context::from_waker(Waker::noop());
        match Read::poll_read(Pin::new(&mut *io), &mut cx, buf.unfilled()) {
            Poll::Ready(Ok(())) => buf.filled().to_vec(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_grow_their_window_for_bulk_data_and_shrink_it_back() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut io = HyperIo::new(Recorded {
            data: data.clone(),
            at: 0,
            asked: Vec::new(),
        });
        let mut got = Vec::new();
        while got.len() < data.len() {
            got.extend(read_once(&mut io, 64 * 1024));
        }
        assert_eq!(got, data, "every byte arrives, in order");
        let asked = &io.get_ref().asked;
        // 4 KiB through the scratch buffer, then doubling while reads fill their window,
        // capped by the room hyper's buffer has.
        assert_eq!(&asked[..5], &[4096, 8192, 16384, 32768, 65536], "{asked:?}");
        assert!(asked[5..].iter().all(|&n| n == 65536), "{asked:?}");

        // End of stream: empty reads, each halving the window down to the scratch size.
        for _ in 0..6 {
            assert!(read_once(&mut io, 64 * 1024).is_empty());
        }
        assert_eq!(io.read_window, STACK_READ);
    }

    /// A futures-io stream that reads by making a hyper read through a `HyperIo` of its own:
    /// a small read inside a small read, as a hyper upgrade read through another adapter.
    struct Nested(HyperIo<Recorded>);

    impl AsyncRead for Nested {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let got = read_once(&mut self.0, buf.len());
            buf[..got.len()].copy_from_slice(&got);
            Poll::Ready(Ok(got.len()))
        }
    }

    #[test]
    fn a_small_read_inside_a_small_read_falls_back_to_the_stack() {
        // The outer read holds the thread's scratch buffer while the inner one runs: the
        // inner one must use a stack buffer instead of borrowing the scratch twice.
        let message = b"hello through two adapters".to_vec();
        let mut outer = HyperIo::new(Nested(HyperIo::new(Recorded {
            data: message.clone(),
            at: 0,
            asked: Vec::new(),
        })));
        let mut storage = vec![MaybeUninit::<u8>::uninit(); 8192];
        let mut buf = ReadBuf::uninit(&mut storage);
        let mut cx = Context::from_waker(Waker::noop());
        match Read::poll_read(Pin::new(&mut outer), &mut cx, buf.unfilled()) {
            Poll::Ready(Ok(())) => assert_eq!(buf.filled(), &message[..]),
            other => panic!("{other:?}"),
        }
        // And the scratch buffer is free again for the next read.
        assert!(SCRATCH.with(|scratch| scratch.try_borrow_mut().is_ok()));
    }

    #[test]
    fn a_small_message_is_read_whole_through_the_scratch_buffer() {
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        let mut io = HyperIo::new(Recorded {
            data: request.clone(),
            at: 0,
            asked: Vec::new(),
        });
        assert_eq!(read_once(&mut io, 8192), request);
        // Less room than the window: the read asks for what fits.
        assert!(read_once(&mut io, 100).is_empty());
        assert_eq!(io.get_ref().asked, [4096, 100]);
        assert_eq!(io.read_window, STACK_READ);
    }
}

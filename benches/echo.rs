//! The `tcp_echo` workload's pieces shared by `benches/io.rs` (on the multi-thread
//! runtimes) and `benches/one_thread.rs` (on the one-thread ones): its sizes, the message
//! each client sends, and the server and client loops for any futures-io stream (magpie's
//! and async-io's; tokio's own traits need their own copy of the two loops).

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Client connections in `tcp_echo`, each with its server-side task.
pub const CONNECTIONS: usize = 50;
/// Round trips per connection in `tcp_echo`.
pub const ROUND_TRIPS: usize = 2_000;
/// Bytes per message, each way.
pub const MESSAGE: usize = 64;
/// Where the listener binds: loopback, a port the OS picks.
pub const LOOPBACK: &str = "127.0.0.1:0";

/// The message client `id` sends: distinct per connection, so a mixed-up echo would show.
pub fn message(id: usize) -> [u8; MESSAGE] {
    let mut msg = [0u8; MESSAGE];
    for (i, b) in msg.iter_mut().enumerate() {
        *b = (id * 31 + i) as u8;
    }
    msg
}

/// The server side of one connection: echo what arrives until end of stream. For any
/// futures-io stream (magpie, smol).
pub async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buf = [0u8; MESSAGE];
    loop {
        let n = stream.read(&mut buf).await.expect("server read");
        if n == 0 {
            return;
        }
        stream.write_all(&buf[..n]).await.expect("server write");
    }
}

/// The client side of one connection: [`ROUND_TRIPS`] × {write 64 bytes, read the 64-byte
/// echo}. For any futures-io stream (magpie, smol).
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, id: usize) {
    let msg = message(id);
    let mut buf = [0u8; MESSAGE];
    for _ in 0..ROUND_TRIPS {
        stream.write_all(&msg).await.expect("client write");
        stream.read_exact(&mut buf).await.expect("client read");
        assert_eq!(buf, msg, "wrong echo");
    }
}

/// The same two loops with tokio's own I/O traits.
pub mod tokio_io {
    use super::{message, MESSAGE, ROUND_TRIPS};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// [`super::echo`] over a tokio `TcpStream`.
    pub async fn echo(mut stream: TcpStream) {
        let mut buf = [0u8; MESSAGE];
        loop {
            let n = stream.read(&mut buf).await.expect("server read");
            if n == 0 {
                return;
            }
            stream.write_all(&buf[..n]).await.expect("server write");
        }
    }

    /// [`super::client`] over a tokio `TcpStream`.
    pub async fn client(mut stream: TcpStream, id: usize) {
        let msg = message(id);
        let mut buf = [0u8; MESSAGE];
        for _ in 0..ROUND_TRIPS {
            stream.write_all(&msg).await.expect("client write");
            stream.read_exact(&mut buf).await.expect("client read");
            assert_eq!(buf, msg, "wrong echo");
        }
    }
}

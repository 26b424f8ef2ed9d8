//! Section 16, streams: a TCP exchange (`asyncio.start_server` / `asyncio.open_connection`).
//!
//! `asyncio.start_server(handle, host, port)` is `TcpListener::bind` and an accept loop
//! spawning a task per connection; `asyncio.open_connection(host, port)` is
//! `TcpStream::connect`. One `TcpStream` is both the `StreamReader` (through a `BufReader`
//! for `readline`) and the `StreamWriter`. `examples/echo.rs` is a fuller server and client.

use crate::{header, say};
use futures_lite::io::BufReader;
use futures_lite::StreamExt;
use magpie::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};

/// The section.
pub async fn main() {
    header("16. Streams: a TCP exchange (start_server / open_connection)");
    if let Err(e) = exchange().await {
        say!("the TCP exchange failed: {e}");
    }
}

/// `handle_upper(reader, writer)`: replies to each line in upper case until the client
/// closes.
async fn handle_upper(stream: TcpStream) -> std::io::Result<()> {
    let peer = stream.peer_addr()?;
    // A clone shares the socket: the BufReader reads from one, we write to the other.
    let mut lines = BufReader::new(stream.clone()).lines();
    let mut writer = stream;
    while let Some(line) = lines.next().await {
        let message = line?; // `await reader.readline()`, without the newline
        say!("  server: Received {message:?} from {peer}");
        let reply = message.to_uppercase();
        say!("  server: Send: {reply:?}");
        // `writer.write(data); await writer.drain()`
        writer.write_all(format!("{reply}\n").as_bytes()).await?;
    }
    say!("  server: EOF from the client; Close the connection");
    Ok(()) // dropping the stream closes the socket: the client reads EOF
}

/// The server and the client, in this one process.
async fn exchange() -> std::io::Result<()> {
    // server = await asyncio.start_server(handle_upper, '127.0.0.1', 0)
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    say!("Serving on {addr}");
    // `await server.serve_forever()`, as a task: a task per connection. (An accept error
    // ends this small server; examples/echo.rs logs it and goes on.)
    let server = magpie::spawn(async move {
        while let Ok((stream, _peer)) = listener.accept().await {
            magpie::spawn(async move {
                if let Err(e) = handle_upper(stream).await {
                    say!("  server: the connection failed: {e}");
                }
            });
        }
    });

    // reader, writer = await asyncio.open_connection('127.0.0.1', port)
    let stream = TcpStream::connect(addr).await?;
    let mut reader = BufReader::new(stream.clone());
    let mut writer = stream;
    for message in ["hello", "magpie", "streams"] {
        say!("client: Send: {message:?}");
        writer.write_all(format!("{message}\n").as_bytes()).await?;
        let mut reply = String::new();
        reader.read_line(&mut reply).await?; // `await reader.readline()`
        say!("client: Received: {:?}", reply.trim_end());
    }
    // writer.close(); await writer.wait_closed(): shut our side, then wait for the
    // server's EOF (`await reader.read()` returning b"").
    say!("client: Close the connection");
    writer.close().await?;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await?;
    say!("client: EOF from the server: closed on both sides");

    // server.close(): stop accepting (the listener is dropped with the cancelled task).
    server.abort();
    let _ = server.await;
    Ok(())
}

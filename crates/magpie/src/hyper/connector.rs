//! `HyperConnector`: hyper-util's legacy client connects over magpie's TCP.

use super::HyperIo;
use crate::net::TcpStream;
#[cfg(unix)]
use crate::net::UnixStream;
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The connector for `hyper_util::client::legacy::Client`: a `tower::Service<Uri>` that opens
/// a [`TcpStream`] to the URI's host and port and hands it to hyper as a [`HyperIo`].
///
/// - `http://` URIs only (the port defaults to 80). An `https://` URI, a missing host or
///   another scheme is an `InvalidInput` error naming the URI: TLS needs a TLS connector
///   wrapped around this one.
/// - `TCP_NODELAY` is on by default: requests are small writes that should leave at once.
/// - [`connect_timeout`](HyperConnector::connect_timeout) bounds each connect attempt; by
///   default the OS decides (often minutes for an address that never answers).
/// - Host names are resolved as [`TcpStream::connect`] resolves them: on the calling
///   worker (instant for IP literals and `localhost`; a DNS query can block it).
///
/// ```ignore
/// let client = Client::builder(HyperExecutor)
///     .timer(HyperTimer)
///     .pool_timer(HyperTimer)
///     .build::<_, Empty<Bytes>>(HyperConnector::new());
/// let response = client.get("http://127.0.0.1:8080/".parse()?).await?;
/// ```
#[derive(Clone, Debug)]
pub struct HyperConnector {
    nodelay: bool,
    connect_timeout: Option<Duration>,
}

impl Default for HyperConnector {
    fn default() -> HyperConnector {
        HyperConnector::new()
    }
}

impl HyperConnector {
    /// A connector with `TCP_NODELAY` on and no connect timeout of its own.
    pub fn new() -> HyperConnector {
        HyperConnector {
            nodelay: true,
            connect_timeout: None,
        }
    }

    /// Sets `TCP_NODELAY` on new connections (default `true`).
    pub fn nodelay(mut self, on: bool) -> HyperConnector {
        self.nodelay = on;
        self
    }

    /// Gives up on a connect attempt after `timeout`, with a `TimedOut` error.
    pub fn connect_timeout(mut self, timeout: Duration) -> HyperConnector {
        self.connect_timeout = Some(timeout);
        self
    }

    async fn connect(self, uri: Uri) -> io::Result<HyperIo<TcpStream>> {
        let (host, port) = host_and_port(&uri)?;
        let connecting = TcpStream::connect((host.as_str(), port));
        let stream = match self.connect_timeout {
            Some(limit) => crate::time::timeout(limit, connecting)
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connecting to {uri} took longer than {limit:?}"),
                    )
                })??,
            None => connecting.await?,
        };
        stream.set_nodelay(self.nodelay)?;
        Ok(HyperIo::new(stream))
    }
}

/// The host (without IPv6 brackets) and port an `http://` URI names.
fn host_and_port(uri: &Uri) -> io::Result<(String, u16)> {
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("magpie::hyper::HyperConnector cannot connect to `{uri}`: {why}"),
        )
    };
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(invalid(
                "https needs TLS; wrap this connector in a TLS connector",
            ))
        }
        Some(other) => return Err(invalid(&format!("unsupported scheme `{other}`"))),
        None => return Err(invalid("the URI has no scheme (expected http://)")),
    }
    let host = uri.host().ok_or_else(|| invalid("the URI has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

impl tower_service::Service<Uri> for HyperConnector {
    type Response = HyperIo<TcpStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<HyperIo<TcpStream>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

impl Connection for HyperIo<TcpStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// Unix only.
#[cfg(unix)]
impl Connection for HyperIo<UnixStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_host_and_port_or_the_problem() {
        let parse = |s: &str| host_and_port(&s.parse::<Uri>().unwrap());
        assert_eq!(
            parse("http://127.0.0.1:8080/x").unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(
            parse("http://localhost/").unwrap(),
            ("localhost".into(), 80)
        );
        assert_eq!(parse("http://[::1]:9/").unwrap(), ("::1".into(), 9));
        let https = parse("https://example.com/").unwrap_err();
        assert_eq!(https.kind(), io::ErrorKind::InvalidInput);
        assert!(https.to_string().contains("https needs TLS"), "{https}");
        assert!(parse("ftp://h/").unwrap_err().to_string().contains("`ftp`"));
        assert!(parse("/relative")
            .unwrap_err()
            .to_string()
            .contains("no scheme"));
    }

    #[test]
    fn a_refused_connect_is_an_error() {
        crate::Runtime::new().unwrap().block_on(async {
            // A port nothing listens on: bind, read the port, close.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let uri: Uri = format!("http://127.0.0.1:{port}/").parse().unwrap();
            let err = HyperConnector::new().connect(uri).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        });
    }
}

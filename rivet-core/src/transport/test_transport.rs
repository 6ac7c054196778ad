//! In-memory transports for tests: a [`Client`](crate::Client) whose HTTP requests and
//! WebSockets go to Rust code instead of the network (feature `test-transport`).
//!
//! **For tests only.** The feature is off by default and no default build contains any of
//! this. A test kit (such as `rivet-client-testing`'s `FakeServer::in_memory`) implements
//! [`Transport`], and the test plugs it in with
//! [`ClientConfigBuilder::test_transport`](crate::ClientConfigBuilder::test_transport). The
//! client then works exactly as over the network (the same protocol, connection driver,
//! reconnects and errors), with no sockets: in the browser (where a test cannot open a
//! server) as on native targets.
//!
//! What the client still does itself: the request deadline
//! ([`request_timeout`](crate::ClientConfig::request_timeout)) and the response size limits
//! apply to every request and socket a transport answers.
//!
//! ```
//! use std::sync::Arc;
//! use rivet_core::runtime::BoxFuture;
//! use rivet_core::test_transport::{Connect, Failure, Request, Response, Socket, Transport};
//!
//! /// Answers every request with `{"output": 42}` and refuses every WebSocket.
//! struct FortyTwo;
//!
//! impl Transport for FortyTwo {
//!     fn request(&self, _request: Request) -> BoxFuture<'static, Result<Response, Failure>> {
//!         Box::pin(async { Ok(Response::new(200, br#"{"output":42}"#.to_vec())) })
//!     }
//!     fn connect(&self, _connect: Connect) -> BoxFuture<'static, Result<Socket, Failure>> {
//!         Box::pin(async { Err(Failure::connect("no sockets here")) })
//!     }
//! }
//!
//! let client = rivet_core::Client::from_config(
//!     rivet_core::ClientConfig::builder()
//!         .endpoint("http://in-memory.invalid")
//!         .encoding(rivet_core::Encoding::Json)
//!         .metadata_lookup(false)
//!         .test_transport(Arc::new(FortyTwo))
//!         .build()?,
//! )?;
//! # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # runtime.block_on(async {
//! let answer: i64 = client.get_for_id("counter", "some-id").action("increment", ()).await?;
//! assert_eq!(answer, 42);
//! # Ok::<(), rivet_core::Error>(()) })?;
//! # Ok::<(), rivet_core::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use futures::{Sink, SinkExt, Stream, StreamExt};

use crate::runtime::{self, BoxFuture};
use crate::transport::{
    until_closed, HttpRequest, HttpResponse, ResponseLimit, WsIn, WsOut, WsSocket,
};
use crate::{Error, Result, TransportErrorKind};

/// What carries a client's HTTP requests and WebSockets in a test: implemented by a fake
/// server, plugged in with
/// [`ClientConfigBuilder::test_transport`](crate::ClientConfigBuilder::test_transport).
///
/// Both methods return boxed futures ([`BoxFuture`]: `Send` on native targets, not in the
/// browser), so the trait is object-safe. See the [module docs](self) for an example.
pub trait Transport: Send + Sync + 'static {
    /// Answers one HTTP request (fully buffered both ways).
    fn request(
        &self,
        request: Request,
    ) -> BoxFuture<'static, std::result::Result<Response, Failure>>;

    /// Opens one WebSocket: resolves once it is open (a real server's `101`), or fails as a
    /// refused connection would.
    fn connect(&self, connect: Connect)
        -> BoxFuture<'static, std::result::Result<Socket, Failure>>;
}

/// An HTTP request the client sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request {
    /// `GET`, `POST`, `PUT`, …
    pub method: String,
    /// The full URL, e.g. `http://in-memory.invalid/gateway/counter/action/increment?…`.
    pub url: String,
    /// The request's headers, as the client would send them.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

/// The answer to a [`Request`].
///
/// ```
/// let response = rivet_core::test_transport::Response::new(200, b"{}".to_vec())
///     .header("content-type", "application/json");
/// assert_eq!(response.status, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Response headers (names are compared case-insensitively).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status` and `body` and no headers.
    pub fn new(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A WebSocket the client opens.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connect {
    /// The full URL, e.g. `ws://in-memory.invalid/gateway/counter/connect?…`.
    pub url: String,
    /// The offered subprotocols (`rivet`, `rivet_encoding.json`, `rivet_conn_params.…`).
    pub protocols: Vec<String>,
}

/// A message the client sends on a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// A text message (the JSON encoding).
    Text(String),
    /// A binary message (CBOR and BARE).
    Binary(Vec<u8>),
    /// A liveness ping; answer it with [`ServerFrame::Pong`].
    Ping,
    /// The client closes the socket.
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

/// What the client receives on a WebSocket. The stream ends after `Closed` or `Failed` (and a
/// stream that ends without either is a `Failed` with code 1006).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// The answer to a [`ClientFrame::Ping`].
    Pong,
    /// The server closed the socket with a close frame.
    Closed {
        /// The close code (RivetKit closes with 1011 and `group.code` on errors).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The socket died without a close frame (a lost network: code 1006).
    Failed {
        /// The close code that describes it (1006 for an abrupt end).
        code: u16,
        /// What happened, for the logs.
        cause: String,
    },
}

/// The sending half of a [`Socket`]: `Send` on native targets, not in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub type SocketSink = std::pin::Pin<Box<dyn Sink<ClientFrame, Error = Failure> + Send>>;
/// The sending half of a [`Socket`]: `Send` on native targets, not in the browser.
#[cfg(target_arch = "wasm32")]
pub type SocketSink = std::pin::Pin<Box<dyn Sink<ClientFrame, Error = Failure>>>;
/// The receiving half of a [`Socket`]: `Send` on native targets, not in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub type SocketStream = std::pin::Pin<Box<dyn Stream<Item = ServerFrame> + Send>>;
/// The receiving half of a [`Socket`]: `Send` on native targets, not in the browser.
#[cfg(target_arch = "wasm32")]
pub type SocketStream = std::pin::Pin<Box<dyn Stream<Item = ServerFrame>>>;

/// An open WebSocket, as its two directions.
pub struct Socket {
    /// Where the client's messages go.
    pub sink: SocketSink,
    /// What the client receives.
    pub stream: SocketStream,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket").finish_non_exhaustive()
    }
}

/// A transport failure: the client reports it as [`Error::Transport`] with this kind and
/// message (and the operation it was doing), and retries it as it would a network failure.
///
/// ```
/// let refused = rivet_core::test_transport::Failure::connect("refused by the test");
/// assert_eq!(refused.kind, rivet_core::TransportErrorKind::Connect);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Why, for the error message.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A connection that could not be opened (refused, unreachable).
    pub fn connect(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Connect, message)
    }

    /// A connection that broke in transit.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Io, message)
    }

    fn into_error(self, operation: &str) -> Error {
        Error::Transport {
            operation: operation.to_owned(),
            kind: self.kind,
            message: self.message,
        }
    }
}

/// The client's HTTP side: the platform's, or the test transport of the config.
#[derive(Clone)]
pub(crate) enum HttpClient {
    Platform(super::PlatformHttpClient),
    Test(Arc<dyn Transport>),
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Platform(http) => http.fmt(f),
            Self::Test(_) => f.write_str("HttpClient::Test"),
        }
    }
}

impl HttpClient {
    pub(crate) fn new(config: &crate::ClientConfig) -> Self {
        match config.test_transport() {
            Some(transport) => Self::Test(transport.clone()),
            None => Self::Platform(super::PlatformHttpClient::new(config)),
        }
    }

    /// Sends `request`; through a test transport with the same deadline and size limit as
    /// over the network.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let transport = match self {
            Self::Platform(http) => return http.send(request).await,
            Self::Test(transport) => transport,
        };
        let HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
            limit,
            operation,
        } = request;
        let exchange = transport.request(Request {
            method: method.as_str().to_owned(),
            url,
            headers,
            body: body.unwrap_or_default(),
        });
        let response = match runtime::timeout(timeout, exchange).await {
            Some(result) => result.map_err(|failure| failure.into_error(&operation))?,
            None => {
                return Err(Error::Timeout {
                    operation,
                    after: timeout,
                })
            }
        };
        if limit.exceeded_by(response.body.len() as u64) {
            return Err(limit.error(&operation));
        }
        Ok(HttpResponse {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
            body: response.body,
        })
    }
}

/// Opens a WebSocket through the platform or the test transport.
pub(crate) async fn connect_websocket(
    http: &HttpClient,
    url: &str,
    protocols: &[String],
    timeout: std::time::Duration,
    limit: ResponseLimit,
    operation: &str,
) -> Result<WsSocket> {
    let transport = match http {
        HttpClient::Platform(http) => {
            return super::platform_connect_websocket(
                http, url, protocols, timeout, limit, operation,
            )
            .await
        }
        HttpClient::Test(transport) => transport,
    };
    let opening = transport.connect(Connect {
        url: url.to_owned(),
        protocols: protocols.to_vec(),
    });
    let socket = match runtime::timeout(timeout, opening).await {
        Some(result) => result.map_err(|failure| failure.into_error(operation))?,
        None => {
            return Err(Error::Timeout {
                operation: operation.to_owned(),
                after: timeout,
            })
        }
    };
    let op = operation.to_owned();
    let sink = socket
        .sink
        .sink_map_err(move |failure| failure.into_error(&op))
        .with(|out: WsOut| {
            futures::future::ready(Ok::<_, Error>(match out {
                WsOut::Text(text) => ClientFrame::Text(text),
                WsOut::Binary(bytes) => ClientFrame::Binary(bytes),
                WsOut::Ping => ClientFrame::Ping,
                WsOut::Close(code, reason) => ClientFrame::Close { code, reason },
            }))
        });
    let messages = socket.stream.map(move |frame| match frame {
        ServerFrame::Text(text) if limit.exceeded_by(text.len() as u64) => too_big(limit),
        ServerFrame::Binary(bytes) if limit.exceeded_by(bytes.len() as u64) => too_big(limit),
        ServerFrame::Text(text) => WsIn::Text(text),
        ServerFrame::Binary(bytes) => WsIn::Binary(bytes),
        ServerFrame::Pong => WsIn::Pong,
        ServerFrame::Closed { code, reason } => WsIn::Closed {
            code: Some(code),
            reason,
        },
        ServerFrame::Failed { code, cause } => WsIn::Failed { code, cause },
    });
    let stream = until_closed(
        messages,
        "the test transport's stream ended without a close",
    );
    Ok(WsSocket {
        sink: Box::pin(sink),
        stream: Box::pin(stream),
    })
}

/// An incoming message over the limit: the socket fails with 1009, as over the network.
fn too_big(limit: ResponseLimit) -> WsIn {
    WsIn::Failed {
        code: 1009,
        cause: format!(
            "a message larger than the limit of {} bytes ({})",
            limit.bytes, limit.setting
        ),
    }
}

#[cfg(test)]
#[cfg(not(target_arch = "wasm32"))]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transport::Method;

    /// Answers every request with `body` after `delay`; sockets get `frames`, then the stream
    /// ends.
    struct Canned {
        body: Vec<u8>,
        delay: Duration,
        frames: Vec<ServerFrame>,
    }

    impl Transport for Canned {
        fn request(
            &self,
            _: Request,
        ) -> BoxFuture<'static, std::result::Result<Response, Failure>> {
            let (body, delay) = (self.body.clone(), self.delay);
            Box::pin(async move {
                runtime::sleep(delay).await;
                Ok(Response::new(200, body).header("X-Rivet-Test", "1"))
            })
        }

        fn connect(&self, _: Connect) -> BoxFuture<'static, std::result::Result<Socket, Failure>> {
            let frames = self.frames.clone();
            Box::pin(async move {
                Ok(Socket {
                    sink: Box::pin(futures::sink::drain().sink_map_err(|e| match e {})),
                    stream: Box::pin(futures::stream::iter(frames)),
                })
            })
        }
    }

    fn client(transport: Canned, max_response_size: usize) -> (HttpClient, crate::ClientConfig) {
        let config = crate::ClientConfig::builder()
            .endpoint("http://in-memory.invalid")
            .max_response_size(max_response_size)
            .test_transport(Arc::new(transport))
            .build()
            .unwrap();
        (HttpClient::new(&config), config)
    }

    fn request(config: &crate::ClientConfig, timeout: Duration) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: "http://in-memory.invalid/metadata".into(),
            headers: Vec::new(),
            body: None,
            timeout,
            limit: ResponseLimit::protocol(config),
            operation: "test".into(),
        }
    }

    #[tokio::test]
    async fn the_request_deadline_and_size_limit_apply_to_a_test_transport() {
        let canned = |delay| Canned {
            body: vec![b'x'; 100],
            delay,
            frames: Vec::new(),
        };
        let (http, config) = client(canned(Duration::ZERO), 1000);
        let response = http
            .send(request(&config, Duration::from_secs(20)))
            .await
            .unwrap();
        assert_eq!(response.header("x-rivet-test"), Some("1"));
        let (slow, config) = client(canned(Duration::from_secs(30)), 1000);
        let late = slow.send(request(&config, Duration::from_millis(50))).await;
        assert!(matches!(late, Err(Error::Timeout { .. })), "{late:?}");
        let (small, config) = client(canned(Duration::ZERO), 10);
        let large = small.send(request(&config, Duration::from_secs(20))).await;
        assert!(matches!(large, Err(Error::TooLarge { .. })), "{large:?}");
    }

    #[tokio::test]
    async fn a_test_socket_ends_with_a_failure_and_oversized_messages_fail_it() {
        let (http, config) = client(
            Canned {
                body: Vec::new(),
                delay: Duration::ZERO,
                frames: vec![ServerFrame::Text("hi".into()), ServerFrame::Pong],
            },
            1000,
        );
        let limit = ResponseLimit::protocol(&config);
        let socket = connect_websocket(&http, "ws://x/", &[], Duration::from_secs(5), limit, "t")
            .await
            .unwrap();
        let seen: Vec<WsIn> = socket.stream.collect().await;
        assert_eq!(seen[..2], [WsIn::Text("hi".into()), WsIn::Pong]);
        assert!(
            matches!(seen[2], WsIn::Failed { code: 1006, .. }),
            "{seen:?}"
        );
        assert_eq!(seen.len(), 3);

        let (http, config) = client(
            Canned {
                body: Vec::new(),
                delay: Duration::ZERO,
                frames: vec![ServerFrame::Binary(vec![0; 50]), ServerFrame::Pong],
            },
            10,
        );
        let limit = ResponseLimit::protocol(&config);
        let socket = connect_websocket(&http, "ws://x/", &[], Duration::from_secs(5), limit, "t")
            .await
            .unwrap();
        let seen: Vec<WsIn> = socket.stream.collect().await;
        assert!(
            matches!(seen[..], [WsIn::Failed { code: 1009, .. }]),
            "{seen:?}"
        );
    }
}

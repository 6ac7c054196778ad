//! [`HostileGateway`]: an in-process server on loopback that speaks just enough of the RivetKit
//! gateway protocol to misbehave on purpose.
//!
//! The real server is what the client is tested against; this gateway is for the faults a real
//! server shows only now and then (a crashing actor, a draining server, a stuck peer, a huge
//! reply). Every accepted TCP connection is handed to a handler written by the test, which
//! decides what to do with it: answer an HTTP request with any status, headers and body (or
//! stall, or reset), accept a WebSocket and send `Init` and then close, reset, go silent, send
//! garbage or oversized frames.
//!
//! ```no_run
//! use rivet_test_support::hostile::{HostileGateway, Incoming};
//!
//! // Accepts every connection, sends `Init`, then closes like a crashing actor.
//! let gateway = HostileGateway::start(|incoming| async move {
//!     if let Incoming::WebSocket(upgrade) = incoming {
//!         let mut socket = upgrade.accept().await;
//!         socket.send_init().await;
//!         socket.close(1011, "guard.actor_wake_retries_exceeded#ray").await;
//!     }
//! });
//! println!("point the client at {}", gateway.endpoint());
//! ```
//!
//! The gateway encodes and decodes the protocol itself (JSON, CBOR and BARE, written from the
//! protocol notes, not with `rivet-core`'s codec), so a client bug cannot hide behind a shared
//! encoder.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use rivet_testing::wire::{ClientMessage as KitMessage, Frame};
use rivet_testing::ActorError;

use crate::background::{self, Background};

/// The largest request body the gateway buffers (larger bodies are left unread).
const MAX_BODY: usize = 16 * 1024 * 1024;

type Handler = Arc<dyn Fn(Incoming) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Default)]
struct Counters {
    accepted: AtomicUsize,
    websocket: AtomicUsize,
    http: AtomicUsize,
    accept_times: Mutex<Vec<Instant>>,
    /// Whether `GET /metadata` goes to the handler ([`HostileGateway::start_with_metadata`]);
    /// otherwise the gateway answers it `404` itself and counts it only in `metadata`.
    serve_metadata: bool,
    metadata: AtomicUsize,
}

/// A misbehaving gateway on `127.0.0.1:<free port>`, on its own thread and tokio runtime (so it
/// works from sync tests and from any `#[tokio::test]` flavour). Dropping it stops the runtime,
/// which closes every connection it holds, stalled ones included.
pub struct HostileGateway {
    counters: Arc<Counters>,
    /// Ends [`HostileSocket::stall`] and [`HttpExchange::stall`].
    release: watch::Sender<bool>,
    background: Background,
}

impl std::fmt::Debug for HostileGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileGateway")
            .field("addr", &self.background.addr())
            .field("accepted", &self.accepted())
            .finish()
    }
}

impl HostileGateway {
    /// Starts the gateway; `handler` gets every accepted connection.
    ///
    /// # Panics
    /// If it cannot bind a loopback port or start its runtime (a broken test machine).
    pub fn start<F, Fut>(handler: F) -> HostileGateway
    where
        F: Fn(Incoming) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |incoming| Box::pin(handler(incoming)));
        match Self::try_start(handler, false) {
            Ok(gateway) => gateway,
            Err(e) => panic!("HostileGateway::start failed: {e}"),
        }
    }

    /// Like [`start`](Self::start), but `GET /metadata` requests (the metadata lookup the
    /// client does before its first request) go to `handler` like any other request and
    /// count as accepted connections and HTTP requests.
    ///
    /// [`start`](Self::start) answers them `404` itself ("no metadata": the client keeps its
    /// endpoint), before the handler sees anything, and leaves them out of
    /// [`accepted`](Self::accepted), [`http_requests`](Self::http_requests) and
    /// [`accept_times`](Self::accept_times) (see [`metadata_requests`](Self::metadata_requests)),
    /// so fault tests see only the requests they are about.
    ///
    /// # Panics
    /// If it cannot bind a loopback port or start its runtime (a broken test machine).
    pub fn start_with_metadata<F, Fut>(handler: F) -> HostileGateway
    where
        F: Fn(Incoming) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |incoming| Box::pin(handler(incoming)));
        match Self::try_start(handler, true) {
            Ok(gateway) => gateway,
            Err(e) => panic!("HostileGateway::start_with_metadata failed: {e}"),
        }
    }

    /// `GET /metadata` requests the gateway answered `404` itself (see
    /// [`start_with_metadata`](Self::start_with_metadata)).
    pub fn metadata_requests(&self) -> usize {
        self.counters.metadata.load(Ordering::SeqCst)
    }

    fn try_start(handler: Handler, serve_metadata: bool) -> io::Result<HostileGateway> {
        let counters = Arc::new(Counters {
            serve_metadata,
            ..Counters::default()
        });
        let (release, release_rx) = watch::channel(false);
        let thread_counters = counters.clone();
        let background = Background::start("hostile-gateway", move |listener| {
            accept_loop(listener, thread_counters, handler, release_rx)
        })?;
        Ok(HostileGateway {
            counters,
            release,
            background,
        })
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give the client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.background.addr())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.background.addr()
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.counters.accepted.load(Ordering::SeqCst)
    }

    /// WebSocket upgrade requests seen so far.
    pub fn websocket_attempts(&self) -> usize {
        self.counters.websocket.load(Ordering::SeqCst)
    }

    /// Plain HTTP requests seen so far.
    pub fn http_requests(&self) -> usize {
        self.counters.http.load(Ordering::SeqCst)
    }

    /// When each connection was accepted, in order.
    pub fn accept_times(&self) -> Vec<Instant> {
        self.counters
            .accept_times
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Ends every [`HostileSocket::stall`] / [`HttpExchange::stall`]: their sockets are closed.
    pub fn release_stalled(&self) {
        let _ = self.release.send(true);
    }
}

impl Drop for HostileGateway {
    fn drop(&mut self) {
        // Then `background` stops the runtime.
        let _ = self.release.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    counters: Arc<Counters>,
    handler: Handler,
    release: watch::Receiver<bool>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        counters.accepted.fetch_add(1, Ordering::SeqCst);
        let accepted_at = Instant::now();
        counters
            .accept_times
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(accepted_at);
        let counters = counters.clone();
        let handler = handler.clone();
        let release = release.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match read_request(stream, &counters, release).await {
                Some(Incoming::Http(req))
                    if !counters.serve_metadata
                        && req.method() == "GET"
                        && (req.path() == "/metadata" || req.path().starts_with("/metadata?")) =>
                {
                    // The client's metadata lookup: not what the handler is about.
                    counters.accepted.fetch_sub(1, Ordering::SeqCst);
                    counters.http.fetch_sub(1, Ordering::SeqCst);
                    counters.metadata.fetch_add(1, Ordering::SeqCst);
                    counters
                        .accept_times
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .retain(|t| *t != accepted_at);
                    // CORS headers: browsers (tests/wasm) must be able to read the 404.
                    let headers = [
                        ("content-type", "text/plain"),
                        ("access-control-allow-origin", "*"),
                        ("access-control-expose-headers", "*"),
                    ];
                    req.respond(404, &headers, "no metadata").await;
                }
                Some(incoming) => handler(incoming).await,
                None => {}
            }
        });
    }
}

/// What a connection asked for.
#[derive(Debug)]
pub enum Incoming {
    /// A plain HTTP request (actions, queue sends, REST, raw fetch).
    Http(HttpExchange),
    /// A WebSocket upgrade (`/connect` or a raw WebSocket).
    WebSocket(WsUpgrade),
}

/// The parts of a request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target as sent: path and query.
    pub path: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(
    mut stream: TcpStream,
    counters: &Counters,
    release: watch::Receiver<bool>,
) -> Option<Incoming> {
    let mut buf = Vec::with_capacity(1024);
    let end = background::read_head(&mut stream, &mut buf).await.ok()??;
    let head = parse_head(&buf[..end])?;
    let mut rest = buf[end..].to_vec();
    let is_upgrade = head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        counters.websocket.fetch_add(1, Ordering::SeqCst);
        return Some(Incoming::WebSocket(WsUpgrade {
            head,
            stream,
            release,
        }));
    }
    counters.http.fetch_add(1, Ordering::SeqCst);
    let length = head
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if length <= MAX_BODY {
        while rest.len() < length {
            let mut chunk = vec![0u8; (length - rest.len()).min(64 * 1024)];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
            }
        }
    }
    Some(Incoming::Http(HttpExchange {
        head,
        body: rest,
        stream,
        release,
    }))
}

fn parse_head(bytes: &[u8]) -> Option<RequestHead> {
    let head = background::parse_head(bytes)?;
    Some(RequestHead {
        method: head.method,
        path: head.target,
        headers: head.headers,
    })
}

/// A plain HTTP request, read whole (bodies up to 16 MiB), waiting for an answer. Every answer
/// closes the TCP connection afterwards, so each request arrives on a fresh connection.
#[derive(Debug)]
pub struct HttpExchange {
    head: RequestHead,
    /// The request body.
    pub body: Vec<u8>,
    stream: TcpStream,
    release: watch::Receiver<bool>,
}

impl HttpExchange {
    /// The request head.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.head.method
    }

    /// Path and query as sent.
    pub fn path(&self) -> &str {
        &self.head.path
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// Answers with `status`, `headers` (a `content-length` is added) and `body`, then closes.
    pub async fn respond(
        mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) {
        let body = body.into();
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        let _ = self.stream.write_all(head.as_bytes()).await;
        let _ = self.stream.write_all(&body).await;
        let _ = self.stream.flush().await;
        let _ = self.stream.shutdown().await;
    }

    /// Answers with a RivetKit error body (JSON, as the gateway sends its own errors), e.g.
    /// `respond_error(503, "guard", "actor_ready_timeout", "…")`.
    pub async fn respond_error(self, status: u16, group: &str, code: &str, message: &str) {
        let body = json!({"group": group, "code": code, "message": message}).to_string();
        self.respond(
            status,
            &[
                ("content-type", "application/json"),
                ("x-rivet-error", "true"),
            ],
            body,
        )
        .await;
    }

    /// Answers an action call with `output` in the request's encoding (`x-rivet-encoding`).
    pub async fn respond_action_output(self, output: Value) {
        let encoding = WireEncoding::from_name(self.header("x-rivet-encoding").unwrap_or("json"));
        let body = encoding.http_action_response(&output);
        self.respond(200, &[("content-type", encoding.content_type())], body)
            .await;
    }

    /// Sends a status line and headers announcing `content_length` bytes, then streams
    /// `chunk` repeatedly until `total` bytes went out or the client stopped reading (no
    /// buffer of `total` bytes is ever allocated). Returns the bytes written.
    pub async fn respond_streaming(
        mut self,
        status: u16,
        headers: &[(&str, &str)],
        content_length: Option<u64>,
        total: u64,
        chunk: &[u8],
    ) -> u64 {
        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status));
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(length) = content_length {
            head.push_str(&format!("content-length: {length}\r\n"));
        }
        head.push_str("connection: close\r\n\r\n");
        if self.stream.write_all(head.as_bytes()).await.is_err() || chunk.is_empty() {
            return 0;
        }
        let mut written = 0u64;
        while written < total {
            let n = (total - written).min(chunk.len() as u64) as usize;
            if self.stream.write_all(&chunk[..n]).await.is_err() {
                break;
            }
            written += n as u64;
        }
        let _ = self.stream.shutdown().await;
        written
    }

    /// Never answers, never closes: the client's deadline has to end it. Returns when the
    /// gateway is dropped or [`HostileGateway::release_stalled`] is called.
    pub async fn stall(self) {
        let HttpExchange {
            stream,
            mut release,
            ..
        } = self;
        let _ = release.wait_for(|released| *released).await;
        drop(stream);
    }

    /// Resets the connection (TCP RST) without answering.
    pub fn reset(self) {
        reset(self.stream);
    }

    /// The raw connection, with the request already read, for any other misbehaviour.
    pub fn into_tcp(self) -> TcpStream {
        self.stream
    }
}

/// A WebSocket upgrade request, not answered yet.
#[derive(Debug)]
pub struct WsUpgrade {
    head: RequestHead,
    stream: TcpStream,
    release: watch::Receiver<bool>,
}

impl WsUpgrade {
    /// The request head.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// Path and query as sent.
    pub fn path(&self) -> &str {
        &self.head.path
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The offered subprotocols, in order.
    pub fn protocols(&self) -> Vec<String> {
        self.head
            .headers
            .iter()
            .filter(|(n, _)| n == "sec-websocket-protocol")
            .flat_map(|(_, v)| v.split(','))
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// The encoding the client asked for (`rivet_encoding.*`; JSON when absent, like the
    /// server).
    pub fn encoding(&self) -> WireEncoding {
        self.protocols()
            .iter()
            .find_map(|p| p.strip_prefix("rivet_encoding."))
            .map(WireEncoding::from_name)
            .unwrap_or(WireEncoding::Json)
    }

    /// Completes the handshake (101, subprotocol `rivet`, like the server).
    ///
    /// # Panics
    /// If the request has no `sec-websocket-key` (not a WebSocket client).
    pub async fn accept(self) -> HostileSocket {
        self.accept_with(WebSocketConfig::default()).await
    }

    /// [`accept`](Self::accept) with the gateway side's own frame and message limits.
    pub async fn accept_with(self, config: WebSocketConfig) -> HostileSocket {
        let encoding = self.encoding();
        let WsUpgrade {
            head,
            mut stream,
            release,
        } = self;
        let key = match head.header("sec-websocket-key") {
            Some(key) => key.to_owned(),
            None => panic!("upgrade without sec-websocket-key: {head:?}"),
        };
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
             sec-websocket-accept: {}\r\nsec-websocket-protocol: rivet\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let socket = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
        HostileSocket {
            socket,
            encoding,
            release,
            next_connection: 0,
        }
    }

    /// Refuses the upgrade with an HTTP status and body, then closes.
    pub async fn reject(mut self, status: u16, body: &str) {
        let answer = format!(
            "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            reason_phrase(status),
            body.len()
        );
        let _ = self.stream.write_all(answer.as_bytes()).await;
        let _ = self.stream.shutdown().await;
    }

    /// Resets the connection (TCP RST) before answering.
    pub fn reset(self) {
        reset(self.stream);
    }

    /// The raw connection, with the request already read.
    pub fn into_tcp(self) -> TcpStream {
        self.stream
    }
}

/// A message the client sent on a connection, decoded by the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `ActionRequest`.
    Action {
        /// The client-chosen id.
        id: u64,
        /// The action name.
        name: String,
        /// The arguments as an array, spread as the server spreads them (compat tags left
        /// as sent).
        args: Value,
    },
    /// `SubscriptionRequest`.
    Subscription {
        /// The event name.
        event: String,
        /// Subscribe (`true`) or unsubscribe.
        subscribe: bool,
    },
    /// A frame the gateway could not decode (kept for assertions), or a non-data frame.
    Other(Message),
}

/// An accepted client connection (after the 101).
#[derive(Debug)]
pub struct HostileSocket {
    socket: WebSocketStream<TcpStream>,
    /// The encoding the client asked for.
    pub encoding: WireEncoding,
    release: watch::Receiver<bool>,
    next_connection: u64,
}

impl HostileSocket {
    /// Sends `Init` with a made-up actor id and a fresh connection id.
    pub async fn send_init(&mut self) {
        self.next_connection += 1;
        let connection_id = format!(
            "hostile-conn-{}-{}",
            self.socket
                .get_ref()
                .peer_addr()
                .map(|a| a.port())
                .unwrap_or(0),
            self.next_connection
        );
        self.send_init_with("hostileactor0000000000000000", &connection_id)
            .await;
    }

    /// Sends `Init` with the given ids.
    pub async fn send_init_with(&mut self, actor_id: &str, connection_id: &str) {
        let frame = self.encoding.init(actor_id, connection_id);
        self.send_message(to_message(frame)).await;
    }

    /// Answers action `id` with `output`.
    pub async fn send_action_response(&mut self, id: u64, output: Value) {
        let frame = self.encoding.action_response(id, &output);
        self.send_message(to_message(frame)).await;
    }

    /// Sends event `name` with `args`.
    pub async fn send_event(&mut self, name: &str, args: Vec<Value>) {
        let frame = self.encoding.event(name, &args);
        self.send_message(to_message(frame)).await;
    }

    /// Sends an `Error` message: for action `action_id`, or connection-level when `None`.
    pub async fn send_error(
        &mut self,
        action_id: Option<u64>,
        group: &str,
        code: &str,
        message: &str,
    ) {
        let frame = self
            .encoding
            .error(action_id, &ActorError::new(group, code, message));
        self.send_message(to_message(frame)).await;
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.send_message(Message::text(text.into())).await;
    }

    /// Sends a binary frame as is.
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) {
        self.send_message(Message::binary(bytes.into())).await;
    }

    /// Sends any message (frames, fragments, pings) as is; errors are ignored (the client
    /// may be gone, which is what many tests are about).
    pub async fn send_message(&mut self, message: Message) {
        let _ = self.socket.send(message).await;
    }

    /// Writes raw bytes on the TCP stream, bypassing the WebSocket framing (malformed frames).
    pub async fn send_raw_bytes(&mut self, bytes: &[u8]) {
        let _ = self.socket.get_mut().write_all(bytes).await;
        let _ = self.socket.get_mut().flush().await;
    }

    /// The next message the client sent (pings are answered by the socket and skipped);
    /// `None` once the client closed or the connection failed.
    pub async fn next_message(&mut self) -> Option<ClientMessage> {
        loop {
            let message = match self.socket.next().await? {
                Ok(message) => message,
                Err(_) => return None,
            };
            return Some(match message {
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(_) => return None,
                Message::Text(ref text) => decode_client(text.as_bytes(), self.encoding)
                    .unwrap_or(ClientMessage::Other(message)),
                Message::Binary(ref bytes) => {
                    decode_client(bytes, self.encoding).unwrap_or(ClientMessage::Other(message))
                }
                other => ClientMessage::Other(other),
            });
        }
    }

    /// Answers every action with `output(name, args)` and ignores subscriptions, until the
    /// client goes away.
    pub async fn serve_actions(&mut self, output: impl Fn(&str, &Value) -> Value) {
        while let Some(message) = self.next_message().await {
            if let ClientMessage::Action { id, name, args } = message {
                let value = output(&name, &args);
                self.send_action_response(id, value).await;
            }
        }
    }

    /// Sends a close frame with `code` and `reason`, then waits briefly for the client's
    /// answer and drops the connection.
    pub async fn close(mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }

    /// Resets the TCP connection (RST, no close frame).
    pub fn reset(self) {
        // SO_LINGER 0: dropping the socket sends RST instead of FIN.
        let _ = self.socket.get_ref().set_zero_linger();
        drop(self.socket);
    }

    /// Never reads or writes again: the client's writes pile up in the TCP buffers until they
    /// are full, and its pings go unanswered. Returns (closing the socket) when the gateway is
    /// dropped or [`HostileGateway::release_stalled`] is called.
    pub async fn stall(self) {
        let HostileSocket {
            socket,
            mut release,
            ..
        } = self;
        let _ = release.wait_for(|released| *released).await;
        drop(socket);
    }

    /// The WebSocket itself.
    pub fn into_inner(self) -> WebSocketStream<TcpStream> {
        self.socket
    }
}

fn reset(stream: TcpStream) {
    // SO_LINGER 0: closing sends RST instead of FIN.
    let _ = stream.set_zero_linger();
    drop(stream);
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// The protocol's three encodings, as the gateway writes them: the test kit's encoder
/// (`rivet_testing::wire`), so the gateway and the fake server write the same bytes.
pub use rivet_testing::wire::Wire as WireEncoding;

/// A frame of the kit's encoder as a WebSocket message.
fn to_message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::text(text),
        Frame::Binary(bytes) => Message::binary(bytes),
    }
}

/// Decodes a client → server message; `None` if it is not one.
fn decode_client(bytes: &[u8], encoding: WireEncoding) -> Option<ClientMessage> {
    Some(match encoding.decode_client(bytes)? {
        KitMessage::Action { id, name, args } => ClientMessage::Action {
            id,
            name,
            args: Value::Array(args),
        },
        KitMessage::Subscription { event, subscribe } => {
            ClientMessage::Subscription { event, subscribe }
        }
    })
}

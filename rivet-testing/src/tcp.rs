//! The loopback I/O of a [`FakeServer`](crate::FakeServer) (native targets): HTTP/1.1 and
//! WebSocket on `127.0.0.1:<free port>`, on a thread and tokio runtime of its own. What each
//! request and message means is decided in `protocol.rs`.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::protocol::{self, gateway_error, Head, Out, Shared, MAX_BODY};
use crate::wire::Frame;
use crate::{ActorError, FakeServerError};

/// The largest request head read.
const MAX_HEAD: usize = 64 * 1024;

/// The listening socket and the thread that serves it. Dropping it stops the thread, which
/// closes every connection.
pub(crate) struct Listener {
    pub(crate) addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Listener {
    /// Serves `shared` on `127.0.0.1:<free port>`.
    pub(crate) fn start(shared: Arc<Shared>) -> Result<Self, FakeServerError> {
        let std_listener = StdListener::bind("127.0.0.1:0").map_err(FakeServerError::Bind)?;
        std_listener
            .set_nonblocking(true)
            .map_err(FakeServerError::Bind)?;
        let addr = std_listener.local_addr().map_err(FakeServerError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(FakeServerError::Runtime)?;
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<io::Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name(format!("rivet-fake-server-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            listener
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    tokio::select! {
                        () = accept_loop(listener, shared) => {}
                        _ = shutdown_rx => {}
                    }
                });
                // Dropping the runtime cancels every task and closes its sockets.
            })
            .map_err(FakeServerError::Runtime)?;
        ready_rx
            .recv()
            .map_err(|_| FakeServerError::Runtime(io::Error::other("the thread exited")))?
            .map_err(FakeServerError::Bind)?;
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, shared.clone()));
    }
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::with_capacity(2048);
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return;
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let Some(head) = parse_head(&buf[..end]) else {
        return;
    };
    let is_upgrade = head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        shared.websocket_attempts.fetch_add(1, Ordering::SeqCst);
        websocket(stream, head, shared).await;
        return;
    }
    shared.http_requests.fetch_add(1, Ordering::SeqCst);
    let mut body = buf[end..].to_vec();
    let length = head
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        let err = ActorError::new("message", "incoming_too_long", "the body is too large");
        let (status, content_type, body) = gateway_error(400, &err);
        respond(&mut stream, status, content_type, &body).await;
        return;
    }
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(64 * 1024)];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let (status, content_type, reply) = protocol::http(&shared, &head, &body);
    respond(&mut stream, status, content_type, &reply).await;
}

const CORS: &str = "access-control-allow-origin: *\r\naccess-control-expose-headers: *\r\n";

async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n{CORS}\
         access-control-allow-methods: GET, POST, PUT, OPTIONS\r\n\
         access-control-allow-headers: *\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

async fn websocket(mut stream: TcpStream, head: Head, shared: Arc<Shared>) {
    let Some(key) = head.header("sec-websocket-key") else {
        respond(&mut stream, 400, "text/plain", b"not a WebSocket request").await;
        return;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {}\r\nsec-websocket-protocol: rivet\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let admitted = match protocol::admit(&shared, &head) {
        Ok(admitted) => admitted,
        Err(outs) => {
            send_all(&mut ws, outs).await;
            return;
        }
    };
    if !admitted.delay.is_zero() {
        tokio::time::sleep(admitted.delay).await;
    }
    let (mut session, first) = match admitted.open() {
        Ok(opened) => opened,
        Err(outs) => {
            send_all(&mut ws, outs).await;
            return;
        }
    };
    for frame in first {
        if ws.send(message(frame)).await.is_err() {
            return;
        }
    }
    // Serves the connection until it closes or is dropped; dropping the session unregisters it.
    loop {
        let outs = tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => session.receive(text.as_bytes()),
                Some(Ok(Message::Binary(bytes))) => session.receive(&bytes),
                Some(Ok(Message::Close(_))) => {
                    let _ = ws.flush().await;
                    return;
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return,
            },
            command = session.commands.next() => match command {
                Some(command) => vec![session.command(command)],
                None => return,
            },
        };
        if !send_all(&mut ws, outs).await {
            return;
        }
    }
}

/// Sends `outs` in order; `false` once the connection is over (closed, dropped or broken).
async fn send_all(ws: &mut WebSocketStream<TcpStream>, outs: Vec<Out>) -> bool {
    for out in outs {
        match out {
            Out::Frame(frame) => {
                if ws.send(message(frame)).await.is_err() {
                    return false;
                }
            }
            Out::Close { code, reason } => {
                close_with(ws, code, &reason).await;
                return false;
            }
            // Dropping the socket without a close frame: a lost network.
            Out::Drop => return false,
        }
    }
    true
}

fn message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::text(text),
        Frame::Binary(bytes) => Message::binary(bytes),
    }
}

/// Closes with `code` and `reason`, then waits briefly for the client's answer.
async fn close_with(ws: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// The head of an HTTP/1.1 request as read from a socket.
fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?;
    let target = request_line.next()?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    Some(Head::new(method, target, headers))
}

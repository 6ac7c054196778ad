//! Browser transport: `fetch` and `WebSocket` through gloo-net.
//!
//! What a browser cannot do: set headers on a WebSocket (RivetKit needs none: encoding and
//! params travel as subprotocols) and send ping frames (the driver's ping is dropped here;
//! silence is detected by the action deadlines instead).

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Sink, Stream};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};

use crate::runtime;
use crate::transport::{HttpRequest, HttpResponse, WsIn, WsOut, WsSocket};
use crate::{Error, Result, TransportErrorKind};

/// The browser's `fetch`. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient;

impl HttpClient {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self)
    }

    /// Sends `request` with `fetch` (credentials omitted, so CORS `expose-headers: *` applies)
    /// and buffers the response; aborts it once the deadline passes.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
            operation,
        } = request;
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        let mut builder = gloo_net::http::RequestBuilder::new(&url)
            .method(method_of(method.as_str()))
            .credentials(web_sys::RequestCredentials::Omit)
            .abort_signal(signal.as_ref());
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        let request = match body {
            Some(body) => builder.body(js_sys::Uint8Array::from(body.as_slice())),
            None => builder.build(),
        }
        .map_err(|e| transport_error(&operation, TransportErrorKind::Other, &e))?;
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|e| transport_error(&operation, TransportErrorKind::Connect, &e))?;
            let status = response.status();
            let headers = response
                .headers()
                .entries()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            let body = response
                .binary()
                .await
                .map_err(|e| transport_error(&operation, TransportErrorKind::Io, &e))?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        match runtime::timeout(timeout, exchange).await {
            Some(result) => result,
            None => {
                if let Some(controller) = controller {
                    controller.abort();
                }
                Err(Error::Timeout {
                    operation,
                    after: timeout,
                })
            }
        }
    }
}

fn method_of(name: &str) -> gloo_net::http::Method {
    use gloo_net::http::Method;
    match name {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        "PATCH" => Method::PATCH,
        "HEAD" => Method::HEAD,
        "OPTIONS" => Method::OPTIONS,
        _ => Method::POST,
    }
}

fn transport_error(operation: &str, kind: TransportErrorKind, err: &gloo_net::Error) -> Error {
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message: err.to_string(),
    }
}

/// Opens a WebSocket offering `protocols`. The browser reports a refused connection as a close
/// with code 1006 before `open`, which arrives on the stream.
pub(crate) async fn connect_websocket(
    url: &str,
    protocols: &[String],
    _timeout: Duration,
    operation: &str,
) -> Result<WsSocket> {
    let socket = WebSocket::open_with_protocols(url, protocols).map_err(|e| Error::Transport {
        operation: operation.to_owned(),
        kind: TransportErrorKind::Handshake,
        message: e.to_string(),
    })?;
    let shared = Rc::new(RefCell::new(Shared {
        socket: Some(socket),
        closed: false,
    }));
    Ok(WsSocket {
        sink: Box::pin(WebSink {
            shared: shared.clone(),
            operation: operation.to_owned(),
        }),
        stream: Box::pin(WebStream { shared }),
    })
}

struct Shared {
    /// `None` once the client closed it with a code.
    socket: Option<WebSocket>,
    /// Whether `Closed` was yielded.
    closed: bool,
}

struct WebSink {
    shared: Rc<RefCell<Shared>>,
    operation: String,
}

struct WebStream {
    shared: Rc<RefCell<Shared>>,
}

impl WebSink {
    fn send_error(&self, err: WebSocketError) -> Error {
        Error::Transport {
            operation: self.operation.clone(),
            kind: TransportErrorKind::Io,
            message: err.to_string(),
        }
    }
}

impl Sink<WsOut> for WebSink {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        let mut shared = this.shared.borrow_mut();
        match shared.socket.as_mut() {
            Some(socket) => match Pin::new(socket).poll_ready(cx) {
                Poll::Ready(Err(e)) => {
                    drop(shared);
                    Poll::Ready(Err(this.send_error(e)))
                }
                other => other.map(|r| r.map_err(|_| unreachable_error())),
            },
            None => Poll::Ready(Ok(())),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: WsOut) -> Result<()> {
        let this = self.get_mut();
        let mut shared = this.shared.borrow_mut();
        let message = match item {
            WsOut::Text(text) => Message::Text(text),
            WsOut::Binary(bytes) => Message::Bytes(bytes),
            // Browsers cannot send ping frames.
            WsOut::Ping => return Ok(()),
            WsOut::Close(code, reason) => {
                if let Some(socket) = shared.socket.take() {
                    let _ = socket.close(Some(code), Some(&reason));
                }
                return Ok(());
            }
        };
        match shared.socket.as_mut() {
            Some(socket) => {
                let result = Pin::new(socket).start_send(message);
                drop(shared);
                result.map_err(|e| this.send_error(e))
            }
            None => Err(Error::Disconnected {
                code: None,
                reason: "the socket was closed by this client".into(),
            }),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        let mut shared = this.shared.borrow_mut();
        match shared.socket.as_mut() {
            Some(socket) => match Pin::new(socket).poll_flush(cx) {
                Poll::Ready(Err(e)) => {
                    drop(shared);
                    Poll::Ready(Err(this.send_error(e)))
                }
                other => other.map(|r| r.map_err(|_| unreachable_error())),
            },
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_flush(cx)
    }
}

/// Only reached on an `Ok` mapped through `map_err`; never constructed in practice.
fn unreachable_error() -> Error {
    Error::Disconnected {
        code: None,
        reason: String::new(),
    }
}

impl Stream for WebStream {
    type Item = WsIn;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WsIn>> {
        let mut shared = self.shared.borrow_mut();
        if shared.closed {
            return Poll::Ready(None);
        }
        let polled = match shared.socket.as_mut() {
            Some(socket) => Pin::new(socket).poll_next(cx),
            None => {
                shared.closed = true;
                return Poll::Ready(Some(WsIn::Closed {
                    code: Some(1000),
                    reason: "closed by this client".into(),
                }));
            }
        };
        let item = match polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(Message::Text(text)))) => WsIn::Text(text),
            Poll::Ready(Some(Ok(Message::Bytes(bytes)))) => WsIn::Binary(bytes),
            Poll::Ready(Some(Err(WebSocketError::ConnectionClose(event)))) => {
                let code = if event.code == 1006 {
                    None
                } else {
                    Some(event.code)
                };
                WsIn::Closed {
                    code,
                    reason: event.reason,
                }
            }
            // An `error` event is followed by a `close` event with the details.
            Poll::Ready(Some(Err(_))) => {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(None) => WsIn::Closed {
                code: None,
                reason: String::new(),
            },
        };
        if matches!(item, WsIn::Closed { .. }) {
            shared.closed = true;
        }
        Poll::Ready(Some(item))
    }
}

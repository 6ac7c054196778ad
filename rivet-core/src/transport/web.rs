//! Browser transport (wasm32): the page's `fetch` and `WebSocket`.
//!
//! Requests are plain CORS requests from the page's origin to the engine gateway. What the
//! browser allows, as measured in headless Chromium against RivetKit 2.3.19 from a page on
//! another port (`tests/wasm`):
//!
//! * **CORS.** Preflights are answered 204 with the requested headers echoed, so
//!   `x-rivet-encoding`, `x-rivet-conn-params`, `x-rivet-token`, `content-type:
//!   application/octet-stream` and any custom header of a raw request go through. Responses
//!   carry `access-control-expose-headers: *`, which exposes `x-rivet-actor`,
//!   `x-rivet-ray-id`, `x-rivet-error` and the actor's own headers **only because requests are
//!   sent with `credentials: "omit"`**: for credentialed requests (`"include"`, what the JS
//!   client uses) `*` is not a wildcard and those headers read as absent. Gateway errors
//!   (`actor.not_found`, `namespace.not_found`, `guard.actor_wake_retries_exceeded`, ...) carry
//!   the CORS headers too; the exception seen is `guard.query_invalid_params` (400), which the
//!   browser turns into a network error. The REST API (`/actors`) has its own CORS layer that
//!   allows the methods and headers the client uses.
//! * **Header values** must be Latin-1: the client sends params as ASCII JSON; a request with a
//!   value the browser refuses fails with [`Error::InvalidInput`] instead of throwing. Headers
//!   the browser controls (`host`, `connection`, `content-length`, `cookie`, ...) are silently
//!   replaced by the browser's own.
//! * **Redirects are never followed.** Requests carry the token and the connection params
//!   as headers, and a `fetch` that follows a redirect re-sends them; the browser does not
//!   say where a redirect goes before following it, so every request uses
//!   `redirect: "manual"`, and a redirect answer (an `opaqueredirect` response) fails with
//!   [`Error::Redirected`]. Point the endpoint at the final URL.
//! * **Failed fetches are opaque**: a refused connection, a DNS failure and a response without
//!   CORS headers are the same `TypeError`, reported as a retryable transport error.
//! * **No WebSocket headers.** RivetKit needs none: encoding and params travel as
//!   subprotocols (`rivet_encoding.*`, `rivet_conn_params.*`).
//! * **No WebSocket status on a failed handshake.** A refused socket and an upgrade answered
//!   with an HTTP error both look like `error` + `close 1006` before `open`; opening fails
//!   with a retryable [`Error::Transport`] (native clients see the status). The gateway's own
//!   refusals (rejected params, missing actor) come after `open` as a close code and reason,
//!   and are classified exactly as on native targets.
//! * **No ping frames, no pongs.** [`WsOut::Ping`] sends nothing here. The connection driver
//!   checks liveness with a protocol-level probe instead (see `connection::driver`): when the
//!   page becomes visible or the browser goes `online` again, and periodically if
//!   `ConnectOptions::ping` is set.
//! * **Close codes.** `WebSocket.close()` only takes 1000 and 3000–4999 with a reason of at
//!   most 123 bytes; other codes are sent as 1000 with the code at the start of the reason.
//!   An abnormal end is reported by the browser as 1006, with no detail (a reset, invalid
//!   UTF-8 and a framing error look the same); it surfaces as `code: Some(1006)` with a
//!   reason saying so, like an abrupt end on native targets.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::{Sink, Stream};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::runtime;
use crate::transport::{HttpRequest, HttpResponse, ResponseLimit, WsIn, WsOut, WsSocket};
use crate::{Error, Result, TransportErrorKind};

/// The browser's `fetch`. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient;

impl HttpClient {
    /// The browser verifies certificates against its own trust store: the config's root
    /// certificates are not used here.
    pub(crate) fn new(_config: &crate::ClientConfig) -> Self {
        Self
    }

    /// Sends `request` with `fetch` (CORS mode, credentials omitted so that
    /// `expose-headers: *` exposes the `x-rivet-*` headers) and buffers the response body up
    /// to `request.limit`: a larger `content-length` fails at once, and the body stream is
    /// read chunk by chunk and cancelled once it passes the limit ([`Error::TooLarge`]). The
    /// request is aborted when the deadline passes, the body is too large, or the returned
    /// future is dropped.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let HttpRequest {
            method,
            url,
            headers,
            body,
            timeout,
            limit,
            operation,
        } = request;
        let abort = AbortOnDrop(web_sys::AbortController::new().ok());
        let init = web_sys::RequestInit::new();
        init.set_method(method.as_str());
        init.set_mode(web_sys::RequestMode::Cors);
        init.set_credentials(web_sys::RequestCredentials::Omit);
        init.set_redirect(web_sys::RequestRedirect::Manual);
        let js_headers = web_sys::Headers::new()
            .map_err(|e| transport_error(&operation, TransportErrorKind::Other, &e))?;
        for (name, value) in &headers {
            js_headers.append(name, value).map_err(|e| {
                Error::invalid(
                    "header",
                    // Header values are often credentials: never quote them.
                    format!("{name}: ***"),
                    format!(
                        "the browser refused it ({}); header values must be Latin-1 without \
                         line breaks",
                        js_message(&e)
                    ),
                )
            })?;
        }
        init.set_headers(&js_headers);
        if let Some(body) = &body {
            init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
        }
        if let Some(controller) = &abort.0 {
            init.set_signal(Some(&controller.signal()));
        }
        let request = web_sys::Request::new_with_str_and_init(&url, &init)
            .map_err(|e| transport_error(&operation, TransportErrorKind::Other, &e))?;
        let exchange = async {
            let response = gloo_net::http::Request::from(request)
                .send()
                .await
                .map_err(|e| Error::Transport {
                    operation: operation.clone(),
                    kind: TransportErrorKind::Connect,
                    message: format!(
                        "fetch failed ({e}): the server is unreachable, or answered without \
                         CORS headers; browsers do not say which"
                    ),
                })?;
            if response.type_() == web_sys::ResponseType::Opaqueredirect {
                return Err(Error::Redirected {
                    operation: operation.clone(),
                    status: 0,
                    location: "another location".to_owned(),
                });
            }
            let status = response.status();
            let headers: Vec<(String, String)> = response
                .headers()
                .entries()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect();
            let announced = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.trim().parse::<u64>().ok());
            if announced.is_some_and(|len| limit.exceeded_by(len)) {
                return Err(limit.error(&operation));
            }
            let body = read_body(&response, limit, &operation).await?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        let result = match runtime::timeout(timeout, exchange).await {
            Some(result) => result,
            None => Err(Error::Timeout {
                operation,
                after: timeout,
            }),
        };
        // Finished either way: nothing left to abort on success; on timeout or a body that was
        // too large the drop aborts.
        if result.is_ok() {
            abort.disarm();
        }
        result
    }
}

/// Reads a response body chunk by chunk, cancelling the stream as soon as it passes `limit`
/// (the browser then stops downloading), so no more than `limit` bytes are ever copied.
async fn read_body(
    response: &gloo_net::http::Response,
    limit: ResponseLimit,
    operation: &str,
) -> Result<Vec<u8>> {
    let io_error = |e: &JsValue| transport_error(operation, TransportErrorKind::Io, e);
    // No body at all (204, HEAD).
    let Some(stream) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .map_err(|e| io_error(&e))?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|e| io_error(&e))?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Ok(body);
        }
        let bytes: js_sys::Uint8Array = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|e| io_error(&e))?
            .dyn_into()
            .map_err(|e| io_error(&e))?;
        let len = bytes.length() as usize;
        if limit.exceeded_by((body.len() + len) as u64) {
            // The promise only says when the cancellation is done; nothing to wait for.
            let _ = reader.cancel();
            return Err(limit.error(operation));
        }
        let start = body.len();
        body.resize(start + len, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

/// Aborts an in-flight `fetch` when dropped (deadline passed, or the caller gave up).
struct AbortOnDrop(Option<web_sys::AbortController>);

impl AbortOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

fn transport_error(operation: &str, kind: TransportErrorKind, err: &JsValue) -> Error {
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message: js_message(err),
    }
}

/// The message of a thrown JS value.
fn js_message(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

// ---------------------------------------------------------------------------------------------
// WebSocket
// ---------------------------------------------------------------------------------------------

/// `WebSocket.readyState` values.
const CONNECTING: u16 = 0;
const OPEN: u16 = 1;

/// The most bytes `WebSocket.close()` accepts as a reason.
const MAX_CLOSE_REASON: usize = 123;

/// Opens a WebSocket offering `protocols` and waits for it to open. Fails with a retryable
/// [`Error::Transport`] if it closes first (refused, or the upgrade was answered with an
/// error: the browser does not say which), with [`Error::Timeout`] after `timeout`.
///
/// A browser hands over each message whole, so a message larger than `limit` has already
/// been received when it is seen; it is dropped without being copied, the socket is closed,
/// and the stream ends with a 1009 (message too big) failure.
pub(crate) async fn connect_websocket(
    _http: &HttpClient,
    url: &str,
    protocols: &[String],
    timeout: Duration,
    limit: ResponseLimit,
    operation: &str,
) -> Result<WsSocket> {
    let offered: js_sys::Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
    let ws = web_sys::WebSocket::new_with_str_sequence(url, &offered)
        .map_err(|e| transport_error(operation, TransportErrorKind::Handshake, &e))?;
    let socket = Rc::new(Socket::new(ws, limit));
    let opening = Opening {
        state: socket.state.clone(),
    };
    match runtime::timeout(timeout, opening).await {
        Some(Ok(())) => Ok(WsSocket {
            sink: Box::pin(WebSink {
                socket: socket.clone(),
                operation: operation.to_owned(),
            }),
            stream: Box::pin(WebStream {
                socket,
                done: false,
            }),
        }),
        Some(Err((code, reason))) => Err(Error::Transport {
            operation: operation.to_owned(),
            kind: TransportErrorKind::Connect,
            message: format!(
                "the WebSocket closed before opening (code {code}{}): the server refused the \
                 connection or answered the upgrade with an error; browsers do not say which",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(", {reason}")
                }
            ),
        }),
        // Dropping `socket` closes it.
        None => Err(Error::Timeout {
            operation: operation.to_owned(),
            after: timeout,
        }),
    }
}

/// What the event handlers record, read by the stream and the opening future.
#[derive(Default)]
struct State {
    opened: bool,
    /// The `close` event, once it fired (browser code, reason).
    close: Option<(u16, String)>,
    incoming: VecDeque<WsIn>,
    /// The task reading the stream, or waiting for `open`.
    waker: Option<Waker>,
}

impl State {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// One browser WebSocket and its event handlers. Dropping it (when both the sink and the
/// stream are gone) removes the handlers and closes the socket with 1000.
struct Socket {
    ws: web_sys::WebSocket,
    state: Rc<RefCell<State>>,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

impl Socket {
    fn new(ws: web_sys::WebSocket, limit: ResponseLimit) -> Self {
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let state = Rc::new(RefCell::new(State::default()));
        let on_open = {
            let state = state.clone();
            Closure::<dyn FnMut()>::new(move || {
                let mut state = state.borrow_mut();
                state.opened = true;
                state.wake();
            })
        };
        let on_message = {
            let state = state.clone();
            let socket = ws.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let data = event.data();
                let (item, len) = if let Some(text) = data.as_string() {
                    let len = text.len();
                    (WsIn::Text(text), len)
                } else if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                    let len = buffer.byte_length() as usize;
                    if limit.exceeded_by(len as u64) {
                        (WsIn::Binary(Vec::new()), len)
                    } else {
                        (WsIn::Binary(js_sys::Uint8Array::new(buffer).to_vec()), len)
                    }
                } else {
                    tracing::debug!("ignoring a WebSocket message that is neither text nor bytes");
                    return;
                };
                let mut state = state.borrow_mut();
                if state.close.is_none() && limit.exceeded_by(len as u64) {
                    let cause = format!(
                        "message of {len} bytes is larger than the limit of {} bytes ({})",
                        limit.bytes, limit.setting
                    );
                    let (code, reason) = browser_close(1009, &cause);
                    let _ = socket.close_with_code_and_reason(code, &reason);
                    state.close = Some((1009, cause.clone()));
                    // As on native targets: a failure of this socket, not a close by the peer.
                    state.incoming.push_back(WsIn::Failed { code: 1009, cause });
                    state.wake();
                    return;
                }
                if state.close.is_none() {
                    state.incoming.push_back(item);
                    state.wake();
                }
            })
        };
        // An `error` event carries no information and is always followed by `close`.
        let on_close = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |event: web_sys::CloseEvent| {
                let mut state = state.borrow_mut();
                if state.close.is_some() {
                    return;
                }
                let (code, reason) = (event.code(), event.reason());
                state.close = Some((code, reason.clone()));
                state.incoming.push_back(if code == 1006 {
                    // The browser's word for "no close frame": an abrupt end, a protocol
                    // fault (invalid UTF-8, bad framing) or a reset; it gives no detail.
                    WsIn::Failed {
                        code,
                        cause: "the socket closed abnormally (no close frame; the browser gives no detail)"
                            .to_owned(),
                    }
                } else {
                    WsIn::Closed {
                        code: Some(code),
                        reason,
                    }
                });
                state.wake();
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Self {
            ws,
            state,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if matches!(self.ws.ready_state(), CONNECTING | OPEN) {
            let _ = self.ws.close_with_code_and_reason(1000, "");
        }
    }
}

/// Resolves when the socket opens, or fails with the close code and reason if it closes
/// first.
struct Opening {
    state: Rc<RefCell<State>>,
}

impl Future for Opening {
    type Output = std::result::Result<(), (u16, String)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.state.borrow_mut();
        if state.opened {
            Poll::Ready(Ok(()))
        } else if let Some(close) = &state.close {
            Poll::Ready(Err(close.clone()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

struct WebSink {
    socket: Rc<Socket>,
    operation: String,
}

impl Sink<WsOut> for WebSink {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Frames for a socket that is closing or closed are dropped (the stream reports the
    /// close); the browser buffers everything else without limit.
    fn start_send(self: Pin<&mut Self>, item: WsOut) -> Result<()> {
        let ws = &self.socket.ws;
        if ws.ready_state() != OPEN {
            return Ok(());
        }
        let sent = match item {
            WsOut::Text(text) => ws.send_with_str(&text),
            WsOut::Binary(bytes) => ws.send_with_u8_array(&bytes),
            // Browsers cannot send ping frames; the driver probes with a message instead.
            WsOut::Ping => Ok(()),
            WsOut::Close(code, reason) => {
                let (code, reason) = browser_close(code, &reason);
                ws.close_with_code_and_reason(code, &reason)
            }
        };
        sent.map_err(|e| transport_error(&self.operation, TransportErrorKind::Io, &e))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A close code and reason the browser accepts: codes other than 1000 and 3000–4999 are sent
/// as 1000 with the original code at the start of the reason; the reason is cut to 123 bytes
/// on a character boundary.
fn browser_close(code: u16, reason: &str) -> (u16, String) {
    let (code, reason) = if code == 1000 || (3000..=4999).contains(&code) {
        (code, reason.to_owned())
    } else {
        (1000, format!("{code} {reason}").trim_end().to_owned())
    };
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    (code, reason[..end].to_owned())
}

struct WebStream {
    socket: Rc<Socket>,
    done: bool,
}

impl Stream for WebStream {
    type Item = WsIn;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WsIn>> {
        if self.done {
            return Poll::Ready(None);
        }
        let item = {
            let mut state = self.socket.state.borrow_mut();
            match state.incoming.pop_front() {
                Some(item) => item,
                None => {
                    state.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        };
        if matches!(item, WsIn::Closed { .. } | WsIn::Failed { .. }) {
            self.done = true;
        }
        Poll::Ready(Some(item))
    }
}

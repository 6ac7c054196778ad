//! The platform seam: HTTP requests and WebSockets, as plain data in and out.
//!
//! `native` uses reqwest and tokio-tungstenite; `web` (wasm32) uses the browser's fetch and
//! WebSocket through gloo-net. The rest of the crate only sees the types in this module.
//! With the `test-transport` feature, a config may replace both by an in-memory
//! `test_transport::Transport`.

use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
mod native_ws;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::check_certificate;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::HttpClient as PlatformHttpClient;

#[cfg(target_arch = "wasm32")]
mod web;
/// The browser never sees the certificates (it uses its own trust store): only their shape
/// is checked, so that bad input fails the same way on every target.
#[cfg(target_arch = "wasm32")]
pub(crate) use crate::tls::check_der_sequence as check_certificate;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::HttpClient as PlatformHttpClient;

// Without the `test-transport` feature the platform's client is the client: nothing of the
// test seam is compiled in.
#[cfg(not(feature = "test-transport"))]
pub(crate) use platform_connect_websocket as connect_websocket;
#[cfg(not(feature = "test-transport"))]
pub(crate) use PlatformHttpClient as HttpClient;

// In-memory transports for tests (feature `test-transport`), public as
// `rivet_core::test_transport`.
#[cfg(feature = "test-transport")]
pub mod test_transport;
#[cfg(feature = "test-transport")]
pub(crate) use test_transport::{connect_websocket, HttpClient};

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Other(&'static str),
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Other(m) => m,
        }
    }
}

/// One HTTP request, fully buffered.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
    /// The largest response body to read; a larger one fails without being buffered.
    pub limit: ResponseLimit,
    /// Short description for errors, e.g. `action increment on counter`.
    pub operation: String,
}

/// The most bytes of a response body (or WebSocket message) to accept, and the setting that
/// raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseLimit {
    pub bytes: usize,
    pub setting: &'static str,
}

impl ResponseLimit {
    /// The limit for protocol messages: action, queue and REST responses, connection messages.
    pub(crate) fn protocol(config: &crate::ClientConfig) -> Self {
        Self {
            bytes: config.max_response_size(),
            setting: "ClientConfigBuilder::max_response_size",
        }
    }

    /// The limit for what an actor's raw handlers send.
    pub(crate) fn raw(config: &crate::ClientConfig) -> Self {
        Self {
            bytes: config.max_raw_response_size(),
            setting: "ClientConfigBuilder::max_raw_response_size",
        }
    }

    /// Whether a body of `len` bytes is over the limit.
    pub(crate) fn exceeded_by(self, len: u64) -> bool {
        len > self.bytes as u64
    }

    /// The error for a response to `operation` that passed the limit.
    pub(crate) fn error(self, operation: &str) -> crate::Error {
        crate::Error::TooLarge {
            what: format!("the response to {operation}"),
            limit: self.bytes,
            setting: self.setting,
        }
    }
}

/// One HTTP response, fully buffered. Header names are lower case.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A frame the client sends on a WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WsOut {
    Text(String),
    Binary(Vec<u8>),
    /// A liveness probe; answered by a [`WsIn::Pong`]. Browsers cannot send pings: there the
    /// transport drops it.
    Ping,
    Close(u16, String),
}

/// What the client receives on a WebSocket. The stream ends after `Closed`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WsIn {
    Text(String),
    Binary(Vec<u8>),
    /// Browsers never surface pongs.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Pong,
    /// The peer closed the socket with a close frame (1005 when the frame had no code).
    Closed {
        code: Option<u16>,
        reason: String,
    },
    /// The socket failed without the peer's close frame: a reset, an end of stream, or a
    /// protocol fault the client detected. `code` is the close code that describes it (1006
    /// abrupt end, 1002 protocol violation, 1007 invalid UTF-8 text, 1009 message too big),
    /// `cause` the underlying error. The stream ends after it.
    Failed {
        code: u16,
        cause: String,
    },
}

/// Ends a socket's incoming messages the way every transport must: a stream that stops
/// without a close becomes `Failed` with code 1006 and `cause`, and nothing follows the first
/// `Closed` or `Failed`.
#[cfg(any(not(target_arch = "wasm32"), feature = "test-transport"))]
pub(crate) fn until_closed(
    messages: impl futures::Stream<Item = WsIn>,
    cause: &'static str,
) -> impl futures::Stream<Item = WsIn> {
    use futures::StreamExt;
    messages
        .chain(futures::stream::once(futures::future::ready(
            WsIn::Failed {
                code: 1006,
                cause: cause.to_owned(),
            },
        )))
        .scan(false, |closed, item| {
            if *closed {
                return futures::future::ready(None);
            }
            *closed = matches!(item, WsIn::Closed { .. } | WsIn::Failed { .. });
            futures::future::ready(Some(item))
        })
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) type WsSink = std::pin::Pin<Box<dyn futures::Sink<WsOut, Error = crate::Error> + Send>>;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type WsStream = std::pin::Pin<Box<dyn futures::Stream<Item = WsIn> + Send>>;
#[cfg(target_arch = "wasm32")]
pub(crate) type WsSink = std::pin::Pin<Box<dyn futures::Sink<WsOut, Error = crate::Error>>>;
#[cfg(target_arch = "wasm32")]
pub(crate) type WsStream = std::pin::Pin<Box<dyn futures::Stream<Item = WsIn>>>;

/// An open WebSocket, split into its two directions.
pub(crate) struct WsSocket {
    pub sink: WsSink,
    pub stream: WsStream,
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native_ws::connect_websocket as platform_connect_websocket;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::connect_websocket as platform_connect_websocket;

//! Native WebSocket transport: the upgrade through reqwest, frames by tokio-tungstenite.
//!
//! The handshake is not left to tungstenite: it writes the whole request, URL and headers,
//! to its TRACE log (`tungstenite::handshake::client`, "Request: …"), and those carry the
//! token (`rvt-token=…`, `/gateway/{id}@token`) and the connection params
//! (`Sec-WebSocket-Protocol: rivet_conn_params.…`). Any app that routes `log` into `tracing`
//! would print them. Instead the upgrade is an ordinary reqwest request (which logs neither
//! URLs nor headers, and shares the HTTP client's TLS setup and redirect rule), and
//! tungstenite only takes over the upgraded stream for the frames.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Bytes read from the socket per call, and reserved per connection for its whole life
/// (tungstenite allocates its read buffer with the socket and never shrinks it). Protocol
/// messages are tens of bytes (an action response, an event); a larger frame grows the buffer
/// to its announced length first (bounded by the message size limit) and is then read in
/// chunks of this size. 1 KiB instead of 8 KiB: an idle connection's heap 14.1 → 7 KB
/// (`BENCHMARKS.md`, "Memory per idle connection").
const READ_BUFFER_BYTES: usize = 1024;

use crate::runtime;
use crate::transport::native::{refuse_redirect, transport_error, HttpClient};
use crate::transport::{until_closed, ResponseLimit, WsIn, WsOut, WsSocket};
use crate::{Error, Result, TransportErrorKind};

/// Opens a WebSocket offering `protocols` through `http`'s upgrade client (and so its TLS
/// setup); fails with [`Error::Timeout`] after `timeout`. Incoming messages and frames larger
/// than `limit` end the socket without being buffered.
pub(crate) async fn connect_websocket(
    http: &HttpClient,
    url: &str,
    protocols: &[String],
    timeout: Duration,
    limit: ResponseLimit,
    operation: &str,
) -> Result<WsSocket> {
    let http_url = if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    };
    let key = generate_key();
    let mut request = http
        .upgrade_client(&http_url, operation)?
        .get(http_url)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", key.as_str());
    if !protocols.is_empty() {
        request = request.header("sec-websocket-protocol", protocols.join(", "));
    }
    let upgrade = async {
        let response = request
            .send()
            .await
            .map_err(|e| failed_to_open(transport_error(operation, e)))?;
        refuse_redirect(operation, &response)?;
        let status = response.status().as_u16();
        if status != 101 {
            let body = response.bytes().await.unwrap_or_default();
            return Err(Error::Http {
                operation: operation.to_owned(),
                status,
                body: crate::http::snippet(&body),
            });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if header("sec-websocket-accept").as_deref()
            != Some(derive_accept_key(key.as_bytes()).as_str())
        {
            return Err(handshake_error(
                operation,
                "the server's Sec-WebSocket-Accept does not match the key sent",
            ));
        }
        match header("sec-websocket-protocol") {
            Some(chosen) if protocols.contains(&chosen) => {}
            Some(_) => {
                return Err(handshake_error(
                    operation,
                    "the server chose a subprotocol that was not offered",
                ))
            }
            None if protocols.is_empty() => {}
            None => {
                return Err(handshake_error(
                    operation,
                    "the server chose none of the offered subprotocols",
                ))
            }
        }
        response
            .upgrade()
            .await
            .map_err(|e| transport_error(operation, e))
    };
    let upgraded = match runtime::timeout(timeout, upgrade).await {
        Some(result) => result?,
        None => {
            return Err(Error::Timeout {
                operation: operation.to_owned(),
                after: timeout,
            })
        }
    };
    // tungstenite reserves its read buffer per socket up front (128 KiB by default), which
    // dominated the memory of an idle connection (benchmarks: ~166 KB each); see
    // READ_BUFFER_BYTES.
    // tungstenite's own defaults (16 MiB frames, 64 MiB messages) let a peer make it buffer
    // 64 MiB per socket; it checks each frame header and the running message size instead.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(Some(limit.bytes))
        .max_message_size(Some(limit.bytes));
    let socket = WebSocketStream::from_raw_socket(upgraded, Role::Client, Some(config)).await;
    let (sink, stream) = socket.split();
    let op = operation.to_owned();
    let sink = sink
        .sink_map_err(move |e| ws_error(&op, TransportErrorKind::Io, &e))
        .with(|out: WsOut| async move {
            Ok::<_, Error>(match out {
                WsOut::Text(text) => Message::text(text),
                WsOut::Binary(bytes) => Message::binary(bytes),
                WsOut::Ping => Message::Ping(Vec::new().into()),
                WsOut::Close(code, reason) => Message::Close(Some(CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                })),
            })
        });
    let messages = stream.filter_map(|item| async move {
        match item {
            Ok(Message::Text(text)) => Some(WsIn::Text(text.as_str().to_owned())),
            Ok(Message::Binary(bytes)) => Some(WsIn::Binary(bytes.to_vec())),
            Ok(Message::Pong(_)) => Some(WsIn::Pong),
            // tungstenite answers pings itself.
            Ok(Message::Ping(_)) | Ok(Message::Frame(_)) => None,
            Ok(Message::Close(frame)) => Some(match frame {
                Some(frame) => WsIn::Closed {
                    code: Some(u16::from(frame.code)),
                    reason: frame.reason.as_str().to_owned(),
                },
                None => WsIn::Closed {
                    code: Some(1005),
                    reason: String::new(),
                },
            }),
            Err(err) => Some(failure(&err)),
        }
    });
    let stream = until_closed(messages, "the connection ended without a close frame");
    Ok(WsSocket {
        sink: Box::pin(sink),
        stream: Box::pin(stream),
    })
}

/// A read error as the close code that describes it and its cause, so a protocol violation,
/// invalid text or an oversized message is not mistaken for a plain drop.
fn failure(err: &tokio_tungstenite::tungstenite::Error) -> WsIn {
    use tokio_tungstenite::tungstenite::{self, error::ProtocolError};
    let code = match err {
        tungstenite::Error::Utf8(_) => 1007,
        tungstenite::Error::Capacity(_) => 1009,
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => 1006,
        tungstenite::Error::Protocol(_) => 1002,
        _ => 1006,
    };
    WsIn::Failed {
        code,
        cause: err.to_string(),
    }
}

fn handshake_error(operation: &str, message: &str) -> Error {
    Error::Transport {
        operation: operation.to_owned(),
        kind: TransportErrorKind::Handshake,
        message: message.to_owned(),
    }
}

fn ws_error(
    operation: &str,
    kind: TransportErrorKind,
    err: &tokio_tungstenite::tungstenite::Error,
) -> Error {
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message: err.to_string(),
    }
}

/// A socket that broke before the server's 101 (reset while the upgrade request was being
/// sent, closed before an answer) never opened: to the caller that is a failed connect, as a
/// refused one is, whatever stage of the HTTP exchange it happened in. TLS failures keep
/// their own kind.
fn failed_to_open(err: Error) -> Error {
    match err {
        Error::Transport {
            operation,
            kind: TransportErrorKind::Io | TransportErrorKind::Other,
            message,
        } => Error::Transport {
            operation,
            kind: TransportErrorKind::Connect,
            message,
        },
        other => other,
    }
}

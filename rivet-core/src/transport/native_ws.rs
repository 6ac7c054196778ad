//! Native WebSocket transport: tokio-tungstenite.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

/// Bytes read from the socket per call (and reserved per connection).
const READ_BUFFER_BYTES: usize = 8 * 1024;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::runtime;
use crate::transport::{ResponseLimit, WsIn, WsOut, WsSocket};
use crate::{Error, Result, TransportErrorKind};

/// Opens a WebSocket offering `protocols`; fails with [`Error::Timeout`] after `timeout`.
/// Incoming messages and frames larger than `limit` end the socket without being buffered.
pub(crate) async fn connect_websocket(
    url: &str,
    protocols: &[String],
    timeout: Duration,
    limit: ResponseLimit,
    operation: &str,
) -> Result<WsSocket> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ws_error(operation, TransportErrorKind::Handshake, &e))?;
    if !protocols.is_empty() {
        let value = HeaderValue::from_str(&protocols.join(", ")).map_err(|e| {
            Error::invalid(
                "websocket protocols",
                protocols.join(", "),
                format!("not a valid header value: {e}"),
            )
        })?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    // tungstenite reserves its read buffer per socket up front (128 KiB by default), which
    // dominated the memory of an idle connection (benchmarks: ~166 KB each). Frames here are
    // small (the server accepts 64 KiB at most); an 8 KiB chunk reads them in a few calls.
    // tungstenite's own defaults (16 MiB frames, 64 MiB messages) let a peer make it buffer
    // 64 MiB per socket; it checks each frame header and the running message size instead.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_frame_size(Some(limit.bytes))
        .max_message_size(Some(limit.bytes));
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (socket, _response) = match runtime::timeout(timeout, connect).await {
        Some(Ok(ok)) => ok,
        Some(Err(e)) => return Err(classify(operation, &e)),
        None => {
            return Err(Error::Timeout {
                operation: operation.to_owned(),
                after: timeout,
            })
        }
    };
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
    let stream = stream
        .filter_map(|item| async move {
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
                Err(_) => Some(WsIn::Closed {
                    code: None,
                    reason: String::new(),
                }),
            }
        })
        .chain(futures::stream::once(async {
            WsIn::Closed {
                code: None,
                reason: String::new(),
            }
        }))
        // A socket that errors or ends without a close frame closed abruptly (1006); stop
        // right after the first `Closed` either way.
        .scan(false, |closed, item| {
            if *closed {
                return futures::future::ready(None);
            }
            *closed = matches!(item, WsIn::Closed { .. });
            futures::future::ready(Some(item))
        });
    Ok(WsSocket {
        sink: Box::pin(sink),
        stream: Box::pin(stream),
    })
}

fn classify(operation: &str, err: &tungstenite::Error) -> Error {
    match err {
        tungstenite::Error::Io(_) => ws_error(operation, TransportErrorKind::Connect, err),
        tungstenite::Error::Tls(_) => ws_error(operation, TransportErrorKind::Tls, err),
        tungstenite::Error::Http(response) => Error::Http {
            operation: operation.to_owned(),
            status: response.status().as_u16(),
            body: response
                .body()
                .as_ref()
                .map(|b| crate::http::snippet(b))
                .unwrap_or_default(),
        },
        _ => ws_error(operation, TransportErrorKind::Handshake, err),
    }
}

fn ws_error(operation: &str, kind: TransportErrorKind, err: &tungstenite::Error) -> Error {
    Error::Transport {
        operation: operation.to_owned(),
        kind,
        message: err.to_string(),
    }
}

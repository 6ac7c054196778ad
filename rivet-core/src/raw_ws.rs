//! Raw WebSockets to an actor's `onWebSocket` handler.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, Stream, StreamExt};

use crate::transport::{self, WsIn, WsOut, WsSink, WsStream};
use crate::{ActorHandle, Error, Result};

/// A message on a raw WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawMessage {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// The socket closed (the last item of the stream).
    Closed {
        /// The close code, or `None` for an abrupt end (a reset, no close frame).
        code: Option<u16>,
        /// The close reason; for a socket that failed, the cause (e.g. the protocol
        /// violation or I/O error).
        reason: String,
    },
}

/// A raw WebSocket to an actor's `onWebSocket(c, websocket)` handler. Frames pass through
/// unchanged in both directions. A `Stream` of [`RawMessage`]s; dropping it closes the socket.
///
/// ```no_run
/// # async fn demo(actor: rivet_core::ActorHandle) -> rivet_core::Result<()> {
/// use futures::StreamExt;
/// let mut socket = actor.web_socket("/chat?room=1", &[]).await?;
/// socket.send_text("hi").await?;
/// while let Some(message) = socket.next().await {
///     println!("{message:?}");
/// }
/// # Ok(()) }
/// ```
pub struct RawWebSocket {
    sink: WsSink,
    stream: WsStream,
}

impl std::fmt::Debug for RawWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawWebSocket")
    }
}

impl RawWebSocket {
    /// Sends a text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        self.sink.send(WsOut::Text(text.into())).await
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.sink.send(WsOut::Binary(bytes.into())).await
    }

    /// Closes the socket with `code` and `reason`.
    pub async fn close(mut self, code: u16, reason: &str) -> Result<()> {
        self.sink
            .send(WsOut::Close(code, reason.to_owned()))
            .await?;
        self.sink.close().await
    }
}

impl Stream for RawWebSocket {
    type Item = RawMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RawMessage>> {
        loop {
            return match self.stream.poll_next_unpin(cx) {
                Poll::Ready(Some(WsIn::Text(t))) => Poll::Ready(Some(RawMessage::Text(t))),
                Poll::Ready(Some(WsIn::Binary(b))) => Poll::Ready(Some(RawMessage::Binary(b))),
                Poll::Ready(Some(WsIn::Pong)) => continue,
                Poll::Ready(Some(WsIn::Closed { code, reason })) => {
                    Poll::Ready(Some(RawMessage::Closed { code, reason }))
                }
                // An abrupt end keeps `code: None`; the reason says what happened.
                Poll::Ready(Some(WsIn::Failed { code, cause })) => {
                    Poll::Ready(Some(RawMessage::Closed {
                        code: (code != 1006).then_some(code),
                        reason: cause,
                    }))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl ActorHandle {
    /// Opens a raw WebSocket to the actor's `onWebSocket` handler at `path` (relative to the
    /// handler, with an optional query). `protocols` are offered after the ones RivetKit
    /// needs; the server always selects `rivet`. The handle's params are sent, and its
    /// [`skip_ready_wait`](Self::with_skip_ready_wait) setting is honoured.
    ///
    /// A message (or frame) larger than
    /// [`ClientConfig::max_raw_response_size`](crate::ClientConfig::max_raw_response_size)
    /// (default 16 MiB) is not buffered: the socket is closed and the stream ends with
    /// [`RawMessage::Closed`].
    pub async fn web_socket(&self, path: &str, protocols: &[&str]) -> Result<RawWebSocket> {
        let (path, query) = crate::raw::split_path(path)?;
        let skip_ready_wait = self.skip_ready_wait();
        let target = self
            .raw_target(
                &format!("/websocket{path}"),
                query.as_deref(),
                skip_ready_wait,
            )
            .await?;
        let url = crate::gateway::to_websocket_url(&target.url);
        let mut offered = vec!["rivet".to_owned(), "rivet_encoding.bare".to_owned()];
        // The JS client's order: target, actor and token, then skip-ready-wait, then params.
        if let Some(actor_id) = &target.direct_id {
            offered.push("rivet_target.actor".to_owned());
            offered.push(format!("rivet_actor.{actor_id}"));
            if let Some(token) = self.client().config().token() {
                offered.push(format!("rivet_token.{}", token.expose()));
            }
        }
        if skip_ready_wait {
            offered.push("rivet_skip_ready_wait".to_owned());
        }
        if let Some(params) = self.params() {
            offered.push(format!(
                "rivet_conn_params.{}",
                percent_encoding::utf8_percent_encode(
                    &params.to_string(),
                    percent_encoding::NON_ALPHANUMERIC
                )
            ));
        }
        for protocol in protocols {
            if protocol.is_empty() || protocol.contains([',', ' ']) {
                return Err(Error::invalid(
                    "websocket protocol",
                    *protocol,
                    "must be a non-empty token without commas or spaces",
                ));
            }
            offered.push((*protocol).to_owned());
        }
        let timeout = self
            .client()
            .config()
            .request_timeout()
            .min(Duration::from_secs(30));
        let socket = transport::connect_websocket(
            self.client().http(),
            &url,
            &offered,
            timeout,
            transport::ResponseLimit::raw(self.client().config()),
            &format!("open websocket {path} on {}", self.describe()),
        )
        .await?;
        Ok(RawWebSocket {
            sink: socket.sink,
            stream: socket.stream,
        })
    }
}

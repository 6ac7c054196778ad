//! The connection's state machine: one task that owns the socket, the action queue and the
//! in-flight map, and decides when to reconnect.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::future::{self, FutureExt};
use futures::{SinkExt, StreamExt};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use super::close::{self, Next};
use super::events::{Event, SubscriptionChange};
use super::{Command, ConnParams, ConnStatus, ConnectOptions, ConnectionState, Shared};
use crate::handle::{ActorHandle, Target};
use crate::protocol::{self, ToClient, ToServer, WireFrame};
use crate::runtime::{self, BoxFuture};
use crate::tracker::ConnectionGuard;
use crate::transport::{self, WsIn, WsOut, WsSocket};
use crate::{Encoding, Error, Result, ServerError};

/// At most this many queued frames are fed before one flush, so a flood of calls cannot keep
/// the driver from reading.
const MAX_FRAMES_PER_WRITE: usize = 256;

/// An action waiting for the socket.
struct Queued {
    id: u64,
    name: String,
    args: Value,
    reply: oneshot::Sender<Result<Value>>,
}

/// What the driver does after a phase ends.
enum Phase {
    Connect,
    Backoff(Duration),
    Stopped(Error),
    Exit,
}

/// A socket that has received `Init`.
struct Opened {
    socket: WsSocket,
    actor_id: String,
    connection_id: String,
}

pub(crate) struct Driver {
    handle: ActorHandle,
    options: ConnectOptions,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    queue: VecDeque<Queued>,
    in_flight: HashMap<u64, oneshot::Sender<Result<Value>>>,
    /// Failed attempts since the last `Init`.
    failures: u32,
    /// Whether the last socket reached `Init` before it failed (its first retry is immediate).
    was_open: bool,
    rng: fastrand::Rng,
    shutdown_waiters: Vec<oneshot::Sender<()>>,
    /// Unregisters the task from the client; dropped before `dispose()` callers are woken.
    guard: Option<ConnectionGuard>,
}

impl Driver {
    pub(crate) fn new(
        handle: ActorHandle,
        options: ConnectOptions,
        shared: Arc<Shared>,
        commands: mpsc::UnboundedReceiver<Command>,
        guard: ConnectionGuard,
    ) -> Self {
        let seed = seed_from(&shared.description);
        Self {
            handle,
            options,
            shared,
            commands,
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            failures: 0,
            was_open: false,
            rng: fastrand::Rng::with_seed(seed),
            shutdown_waiters: Vec::new(),
            guard: Some(guard),
        }
    }

    pub(crate) async fn run(mut self) {
        let mut phase = Phase::Connect;
        loop {
            phase = match phase {
                Phase::Connect => self.connect().await,
                Phase::Backoff(delay) => self.back_off(delay).await,
                Phase::Stopped(err) => self.stopped(err).await,
                Phase::Exit => break,
            };
        }
        self.finish();
    }

    fn creates_actor(&self) -> bool {
        matches!(self.handle.target(), Target::GetOrCreate { .. })
    }

    fn set_state(&self, change: impl FnOnce(&mut ConnectionState)) {
        self.shared.state.update(change);
    }

    /// Opens a socket and waits for `Init`, queueing actions meanwhile.
    async fn connect(&mut self) -> Phase {
        let attempt = self.failures + 1;
        self.set_state(|s| {
            s.status = ConnStatus::Connecting;
            s.attempt = attempt;
            s.next_retry_in = None;
            s.terminal = false;
        });
        // On the heap and dropped before the socket runs: the handshake future is large
        // (TLS, HTTP upgrade), and kept inline it would stay part of every idle connection's
        // task for its whole life.
        let result = {
            let mut open = Box::pin(
                open_socket(
                    self.handle.clone(),
                    self.options.params.clone(),
                    self.options.open_timeout,
                    self.creates_actor(),
                )
                .fuse(),
            );
            loop {
                futures::select! {
                    result = open => break result,
                    command = self.commands.next() => {
                        // Already connecting: a reconnect request must not restart the handshake
                        // (many users asking at once would otherwise never let one finish).
                        if matches!(command, Some(Command::Reconnect)) {
                            continue;
                        }
                        if let Some(exit) = self.offline_command(command) {
                            return exit;
                        }
                    }
                }
            }
        };
        match result {
            Ok(opened) => self.connected(opened).await,
            Err(Next::Retry(err)) => self.retry(err),
            Err(Next::Stop(err)) => Phase::Stopped(err),
        }
    }

    /// Handles a command while there is no socket. Returns the next phase if the command
    /// ends the current one.
    fn offline_command(&mut self, command: Option<Command>) -> Option<Phase> {
        match command {
            Some(Command::Action {
                id,
                name,
                args,
                reply,
            }) => {
                if self.queue.len() >= self.options.max_queued_actions {
                    let _ = reply.send(Err(Error::QueueFull {
                        capacity: self.options.max_queued_actions,
                    }));
                } else {
                    self.queue.push_back(Queued {
                        id,
                        name,
                        args,
                        reply,
                    });
                }
                None
            }
            Some(Command::Cancel(id)) => {
                self.queue.retain(|q| q.id != id);
                None
            }
            // Sent from the registry after `Init`.
            Some(Command::Subscription(_)) => None,
            Some(Command::Reconnect) => Some(Phase::Connect),
            Some(Command::Shutdown { done }) => {
                self.shutdown_waiters.extend(done);
                Some(Phase::Exit)
            }
            None => Some(Phase::Exit),
        }
    }

    /// Runs a live socket until it closes or the connection is shut down.
    async fn connected(&mut self, opened: Opened) -> Phase {
        let Opened {
            socket,
            actor_id,
            connection_id,
        } = opened;
        let WsSocket { mut sink, stream } = socket;
        let mut stream = stream.fuse();
        self.failures = 0;
        self.was_open = true;
        self.set_state(|s| {
            s.status = ConnStatus::Connected;
            s.attempt = 0;
            s.last_error = None;
            s.next_retry_in = None;
            s.actor_id = Some(actor_id);
            s.connection_id = Some(connection_id);
        });
        let encoding = self.handle.client().config().encoding();

        // Subscriptions first, then the actions that waited: the JS client's order.
        let mut outgoing: Vec<WsOut> = Vec::new();
        for name in self.shared.registry.names() {
            if let Ok(frame) = encode(
                &ToServer::SubscriptionRequest {
                    event_name: name,
                    subscribe: true,
                },
                encoding,
            ) {
                outgoing.push(frame);
            }
        }
        for queued in std::mem::take(&mut self.queue) {
            if let Some(frame) = self.prepare_action(queued, encoding) {
                outgoing.push(frame);
            }
        }
        // One write for all of them.
        let mut send_failed = false;
        for frame in outgoing {
            if sink.feed(frame).await.is_err() {
                send_failed = true;
                break;
            }
        }
        send_failed = send_failed || sink.flush().await.is_err();

        let ping_interval = self.options.ping_interval;
        let ping_timeout = self.options.ping_timeout;
        let mut ping_timer = ping_sleep(ping_interval).fuse();
        let mut awaiting_pong_since: Option<runtime::Instant> = None;
        // In the browser: the page became visible or went online again (never on native).
        let mut wake = wake_signal().fuse();
        let mut connection_error = None;

        let next = loop {
            if send_failed {
                break Next::Retry(Error::Disconnected {
                    code: None,
                    reason: "the socket failed while sending".into(),
                });
            }
            futures::select! {
                incoming = stream.next() => {
                    let incoming = incoming.unwrap_or(WsIn::Closed { code: None, reason: String::new() });
                    // Any message answers the liveness check; the next one is due an interval later.
                    if awaiting_pong_since.take().is_some() {
                        ping_timer = ping_sleep(ping_interval).fuse();
                    }
                    match incoming {
                        WsIn::Text(text) => {
                            if let Err(err) = self.on_message(text.as_bytes(), encoding, &mut connection_error) {
                                let _ = sink.send(WsOut::Close(1002, "undecodable message".into())).await;
                                break Next::Retry(err);
                            }
                        }
                        WsIn::Binary(bytes) => {
                            if let Err(err) = self.on_message(&bytes, encoding, &mut connection_error) {
                                let _ = sink.send(WsOut::Close(1002, "undecodable message".into())).await;
                                break Next::Retry(err);
                            }
                        }
                        WsIn::Pong => {}
                        WsIn::Closed { code, reason } => {
                            break close::after_close(code, &reason, connection_error.take(), self.creates_actor());
                        }
                    }
                }
                command = self.commands.next() => {
                    // Commands that are already waiting (pipelined callers) go out in one
                    // write: frames are fed, then flushed once.
                    let mut command = command;
                    let mut fed = 0usize;
                    loop {
                        match command {
                            Some(Command::Action { id, name, args, reply }) => {
                                let queued = Queued { id, name, args, reply };
                                if let Some(frame) = self.prepare_action(queued, encoding) {
                                    fed += 1;
                                    send_failed = sink.feed(frame).await.is_err();
                                }
                            }
                            Some(Command::Cancel(id)) => {
                                self.in_flight.remove(&id);
                            }
                            Some(Command::Subscription(change)) => {
                                let message = match change {
                                    SubscriptionChange::Subscribe(event_name) => ToServer::SubscriptionRequest { event_name, subscribe: true },
                                    SubscriptionChange::Unsubscribe(event_name) => ToServer::SubscriptionRequest { event_name, subscribe: false },
                                };
                                if let Ok(frame) = encode(&message, encoding) {
                                    fed += 1;
                                    send_failed = sink.feed(frame).await.is_err();
                                }
                            }
                            Some(Command::Reconnect) => {}
                            Some(Command::Shutdown { done }) => {
                                self.shutdown_waiters.extend(done);
                                let close = sink.send(WsOut::Close(1000, "Disposed".into()));
                                let _ = runtime::timeout(Duration::from_secs(2), close).await;
                                return Phase::Exit;
                            }
                            None => return Phase::Exit,
                        }
                        if send_failed || fed >= MAX_FRAMES_PER_WRITE {
                            break;
                        }
                        match self.commands.try_recv() {
                            Ok(next) => command = Some(next),
                            // Empty, or closed (the next poll of the channel says so).
                            Err(_) => break,
                        }
                    }
                    if fed > 0 && !send_failed {
                        send_failed = sink.flush().await.is_err();
                    }
                }
                () = ping_timer => {
                    if let Some(since) = awaiting_pong_since {
                        let waited = runtime::Instant::now().duration_since(since);
                        if waited >= ping_timeout {
                            break Next::Retry(Error::Disconnected {
                                code: None,
                                reason: format!("no answer to a ping within {ping_timeout:?} (interval {ping_interval:?}); the peer is gone"),
                            });
                        }
                        // Browser timers may fire a little early: wait for the rest.
                        ping_timer = ping_sleep(Some(ping_timeout - waited)).fuse();
                    } else {
                        awaiting_pong_since = Some(runtime::Instant::now());
                        send_failed = sink.send(liveness_probe(encoding)).await.is_err();
                        ping_timer = ping_sleep(Some(ping_timeout)).fuse();
                    }
                }
                () = wake => {
                    // The page is back: a socket that went silent meanwhile must answer now.
                    wake = wake_signal().fuse();
                    if awaiting_pong_since.is_none() {
                        awaiting_pong_since = Some(runtime::Instant::now());
                        send_failed = sink.send(liveness_probe(encoding)).await.is_err();
                        ping_timer = ping_sleep(Some(ping_timeout)).fuse();
                    }
                }
            }
        };
        drop(sink);
        drop(stream);
        let lost = match &next {
            Next::Retry(err) | Next::Stop(err) => match err {
                Error::Disconnected { code, reason } => Error::Disconnected {
                    code: *code,
                    reason: reason.clone(),
                },
                other => Error::Disconnected {
                    code: None,
                    reason: other.to_string(),
                },
            },
        };
        for (_, reply) in self.in_flight.drain() {
            let _ = reply.send(Err(lost.clone()));
        }
        match next {
            Next::Retry(err) => self.retry(err),
            Next::Stop(err) => Phase::Stopped(err),
        }
    }

    /// Encodes an action for sending and records it in flight; answers it with an error when
    /// it is cancelled or cannot be sent.
    fn prepare_action(&mut self, queued: Queued, encoding: Encoding) -> Option<WsOut> {
        if queued.reply.is_canceled() {
            return None;
        }
        let message = ToServer::ActionRequest {
            id: queued.id,
            name: queued.name.clone(),
            args: queued.args,
        };
        let frame = match encode(&message, encoding) {
            Ok(frame) => frame,
            Err(err) => {
                let _ = queued.reply.send(Err(err));
                return None;
            }
        };
        let size = match &frame {
            WsOut::Text(t) => t.len(),
            WsOut::Binary(b) => b.len(),
            _ => 0,
        };
        if size > self.options.max_message_size {
            let _ = queued.reply.send(Err(Error::invalid(
                "action arguments",
                format!("{} bytes for action {}", size, queued.name),
                format!(
                    "the encoded message exceeds the server's limit of {} bytes \
                     (maxIncomingMessageSize); send less data per call",
                    self.options.max_message_size
                ),
            )));
            return None;
        }
        self.in_flight.insert(queued.id, queued.reply);
        Some(frame)
    }

    fn on_message(
        &mut self,
        bytes: &[u8],
        encoding: Encoding,
        connection_error: &mut Option<crate::protocol::ErrorBody>,
    ) -> Result<()> {
        match protocol::decode_to_client(bytes, encoding)? {
            ToClient::ActionResponse { id, output } => {
                if let Some(reply) = self.in_flight.remove(&id) {
                    let _ = reply.send(Ok(output));
                }
            }
            ToClient::Error(body) => match body.action_id {
                Some(id) => {
                    if let Some(reply) = self.in_flight.remove(&id) {
                        let _ = reply.send(Err(ServerError::from_body(body).into_error()));
                    }
                }
                None => *connection_error = Some(body),
            },
            ToClient::Event { name, args } => {
                self.shared.registry.dispatch(&Event { name, args });
            }
            ToClient::Init { .. } => {
                tracing::debug!(actor = %self.shared.description, "ignoring a second Init");
            }
        }
        Ok(())
    }

    /// Schedules the next attempt after a transient failure, or stops when the policy's
    /// attempts are used up.
    fn retry(&mut self, err: Error) -> Phase {
        self.failures += 1;
        let policy = &self.options.reconnect;
        if policy.max_attempts.is_some_and(|max| self.failures > max) {
            return Phase::Stopped(err);
        }
        let delay = if self.was_open && self.failures == 1 {
            Duration::ZERO
        } else {
            let failures = self.failures - u32::from(self.was_open);
            policy.delay(failures, self.rng.f64())
        };
        tracing::debug!(actor = %self.shared.description, error = %err, ?delay, "connection failed; retrying");
        self.set_state(|s| s.last_error = Some(err));
        Phase::Backoff(delay)
    }

    async fn back_off(&mut self, delay: Duration) -> Phase {
        self.set_state(|s| {
            s.status = ConnStatus::Disconnected;
            s.attempt = self.failures;
            s.next_retry_in = Some(delay);
        });
        if delay.is_zero() {
            return Phase::Connect;
        }
        let timer: BoxFuture<'static, ()> = Box::pin(runtime::sleep(delay));
        let mut timer = timer.fuse();
        // In the browser, retry at once when the page is visible or online again.
        let mut wake = wake_signal().fuse();
        loop {
            futures::select! {
                () = timer => return Phase::Connect,
                () = wake => return Phase::Connect,
                command = self.commands.next() => {
                    if let Some(next) = self.offline_command(command) {
                        return next;
                    }
                }
            }
        }
    }

    /// Terminal state: every call fails with `err` until `reconnect()` or shutdown.
    async fn stopped(&mut self, err: Error) -> Phase {
        tracing::debug!(actor = %self.shared.description, error = %err, "connection stopped");
        for queued in self.queue.drain(..) {
            let _ = queued.reply.send(Err(err.clone()));
        }
        self.was_open = false;
        self.set_state(|s| {
            s.status = ConnStatus::Idle;
            s.terminal = true;
            s.next_retry_in = None;
            s.last_error = Some(err.clone());
        });
        loop {
            match self.commands.next().await {
                Some(Command::Action { reply, .. }) => {
                    let _ = reply.send(Err(err.clone()));
                }
                Some(Command::Cancel(_)) | Some(Command::Subscription(_)) => {}
                Some(Command::Reconnect) => {
                    self.failures = 0;
                    return Phase::Connect;
                }
                Some(Command::Shutdown { done }) => {
                    self.shutdown_waiters.extend(done);
                    return Phase::Exit;
                }
                None => return Phase::Exit,
            }
        }
    }

    /// Rejects what is left, publishes the final state and wakes `dispose()` callers.
    fn finish(&mut self) {
        let disposed = Error::Disposed {
            what: format!("connection to {}", self.shared.description),
        };
        for queued in self.queue.drain(..) {
            let _ = queued.reply.send(Err(disposed.clone()));
        }
        for (_, reply) in self.in_flight.drain() {
            let _ = reply.send(Err(disposed.clone()));
        }
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Command::Action { reply, .. } => {
                    let _ = reply.send(Err(disposed.clone()));
                }
                Command::Shutdown { done } => self.shutdown_waiters.extend(done),
                _ => {}
            }
        }
        self.set_state(|s| {
            s.status = ConnStatus::Idle;
            s.terminal = true;
            s.next_retry_in = None;
            s.last_error = Some(disposed.clone());
        });
        drop(self.guard.take());
        for done in self.shutdown_waiters.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Opens the socket and waits for `Init`; every failure comes back already classified.
async fn open_socket(
    handle: ActorHandle,
    params: Option<ConnParams>,
    timeout: Duration,
    creates_actor: bool,
) -> std::result::Result<Opened, Next> {
    let params = match params {
        None => None,
        Some(ConnParams::Static(value)) => Some(value),
        // A failing params function is retried, like the JS client's get_params_failed.
        Some(ConnParams::Dynamic(f)) => Some(f().await.map_err(Next::Retry)?),
    };
    let encoding = handle.client().config().encoding();
    let url = handle
        .url("/connect", None)
        .await
        .map_err(|e| close::after_failed_open(e, creates_actor))?;
    if matches!(
        handle.target(),
        Target::Get { .. } | Target::GetOrCreate { .. }
    ) {
        // A REST-resolved id may have been replaced by the time the socket fails; look it up
        // again on the next attempt.
        handle.forget_resolved();
    }
    let url = crate::gateway::to_websocket_url(&url);
    let protocols = subprotocols(encoding, params.as_ref());
    let operation = format!("connect to {}", handle.describe());
    let deadline = runtime::Instant::now() + timeout;
    let mut socket = transport::connect_websocket(
        handle.client().http(),
        &url,
        &protocols,
        timeout,
        &operation,
    )
    .await
    .map_err(|e| close::after_failed_open(e, creates_actor))?;
    let mut connection_error = None;
    loop {
        let remaining = deadline.saturating_duration_since(runtime::Instant::now());
        let incoming = match runtime::timeout(remaining, socket.stream.next()).await {
            Some(incoming) => incoming.unwrap_or(WsIn::Closed {
                code: None,
                reason: String::new(),
            }),
            None => {
                return Err(Next::Retry(Error::Timeout {
                    operation: format!("{operation} (waiting for Init)"),
                    after: timeout,
                }))
            }
        };
        let bytes = match incoming {
            WsIn::Text(text) => text.into_bytes(),
            WsIn::Binary(bytes) => bytes,
            WsIn::Pong => continue,
            WsIn::Closed { code, reason } => {
                return Err(close::after_close(
                    code,
                    &reason,
                    connection_error,
                    creates_actor,
                ))
            }
        };
        match protocol::decode_to_client(&bytes, encoding) {
            Ok(ToClient::Init {
                actor_id,
                connection_id,
            }) => {
                return Ok(Opened {
                    socket,
                    actor_id,
                    connection_id,
                })
            }
            Ok(ToClient::Error(body)) if body.action_id.is_none() => {
                connection_error = Some(body);
            }
            Ok(other) => {
                tracing::debug!(?other, "message before Init ignored");
            }
            Err(err) => return Err(Next::Retry(err)),
        }
    }
}

/// `rivet`, the encoding, and the params percent-encoded down to `[A-Za-z0-9]` so the value
/// is a valid RFC 6455 token.
fn subprotocols(encoding: Encoding, params: Option<&Value>) -> Vec<String> {
    let mut protocols = vec![
        "rivet".to_owned(),
        format!("rivet_encoding.{}", encoding.as_str()),
    ];
    if let Some(params) = params {
        let json = params.to_string();
        protocols.push(format!(
            "rivet_conn_params.{}",
            utf8_percent_encode(&json, NON_ALPHANUMERIC)
        ));
    }
    protocols
}

fn encode(message: &ToServer, encoding: Encoding) -> Result<WsOut> {
    Ok(match protocol::encode_to_server(message, encoding)? {
        WireFrame::Text(text) => WsOut::Text(text),
        WireFrame::Binary(bytes) => WsOut::Binary(bytes),
    })
}

/// The id of liveness probes in the browser: far above any real action id, below 2^53 so that
/// it survives JSON numbers.
#[cfg(target_arch = "wasm32")]
const PROBE_ACTION_ID: u64 = 1 << 52;

/// A liveness check the server answers. Natively a ping frame (any pong or message counts).
/// Browsers cannot send pings, so there it is a request for an action no actor has: the
/// server answers `actor.action_not_found` for an id nobody waits for, and the connection
/// stays open.
fn liveness_probe(encoding: Encoding) -> WsOut {
    #[cfg(target_arch = "wasm32")]
    {
        let probe = ToServer::ActionRequest {
            id: PROBE_ACTION_ID,
            name: "__rivet_liveness_probe".to_owned(),
            args: Value::Array(Vec::new()),
        };
        encode(&probe, encoding).unwrap_or(WsOut::Ping)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = encoding;
        WsOut::Ping
    }
}

/// [`runtime::wake_signal`] as a future `select!` can poll.
fn wake_signal() -> BoxFuture<'static, ()> {
    Box::pin(runtime::wake_signal())
}

fn ping_sleep(interval: Option<Duration>) -> BoxFuture<'static, ()> {
    match interval {
        Some(interval) => Box::pin(runtime::sleep(interval)),
        None => Box::pin(future::pending()),
    }
}

/// A seed for the jitter that differs between connections and processes.
fn seed_from(text: &str) -> u64 {
    let mut seed = 0xcbf2_9ce4_8422_2325_u64;
    for byte in text.bytes() {
        seed = (seed ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ runtime::entropy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_percent_encoded_to_alphanumerics() {
        let params = serde_json::json!({"token": "secret", "user": "zoë (ü)"});
        let protocols = subprotocols(Encoding::Json, Some(&params));
        assert_eq!(protocols[0], "rivet");
        assert_eq!(protocols[1], "rivet_encoding.json");
        let encoded = protocols[2].strip_prefix("rivet_conn_params.").unwrap();
        assert!(encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '%'));
        let decoded = percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&decoded).unwrap(), params);
    }
}

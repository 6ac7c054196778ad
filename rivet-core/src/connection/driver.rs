//! The connection's state machine: one task that owns the socket, the action queue and the
//! in-flight map, and decides when to reconnect.
//!
//! Every write to the socket has a deadline and is raced with the command channel, so a peer
//! that stops reading can neither wedge the task nor delay `dispose()`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::future::{self, FutureExt};
use futures::{SinkExt, StreamExt};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use super::close::{self, Next};
use super::events::Event;
use super::{Command, ConnParams, ConnStatus, ConnectOptions, ConnectionState, Shared};
use crate::handle::{ActorHandle, Target};
use crate::protocol::{self, Payload, ToClientRaw, WireFrame};
use crate::runtime::{self, BoxFuture, DynFuture, MaybeSend};
use crate::tracker::ConnectionGuard;
use crate::transport::{self, WsIn, WsOut, WsSink, WsSocket};
use crate::{Encoding, Error, Result, ServerError};

/// At most this many queued frames are fed before one flush, so a flood of calls cannot keep
/// the driver from reading.
const MAX_FRAMES_PER_WRITE: usize = 256;

/// How long a close frame may take to go out before the socket is dropped without it.
const CLOSE_DEADLINE: Duration = Duration::from_secs(1);

/// An action waiting for the socket.
struct Queued {
    id: u64,
    name: String,
    args: Payload,
    reply: oneshot::Sender<Result<Payload>>,
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
    /// The encoded events that came before `Init`, in order: the server runs `onConnect`
    /// before it sends `Init`, so what `onConnect` sends to the new connection arrives first.
    early_events: Vec<Vec<u8>>,
}

/// How a write to the socket ended.
enum Wrote {
    Done,
    /// The socket failed or the write missed its deadline.
    Failed(Error),
    /// `dispose()` (or the last handle) asked to stop while the write was waiting.
    Shutdown,
}

/// What a live socket does after handling commands.
enum Live {
    Continue,
    Failed(Error),
    Exit,
}

pub(crate) struct Driver {
    handle: ActorHandle,
    options: ConnectOptions,
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Commands that arrived while a write was waiting; handled before the channel.
    backlog: VecDeque<Command>,
    queue: VecDeque<Queued>,
    in_flight: HashMap<u64, oneshot::Sender<Result<Payload>>>,
    /// The event names the server was asked to deliver on the current socket.
    subscribed: HashSet<String>,
    /// Consecutive failed attempts (and sockets that dropped before they proved healthy)
    /// since the last healthy connection.
    failures: u32,
    /// A connection-level error reported while the socket was open (not reported twice when
    /// the socket then closes with it).
    reported_while_open: Option<Error>,
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
            backlog: VecDeque::new(),
            queue: VecDeque::new(),
            in_flight: HashMap::new(),
            subscribed: HashSet::new(),
            failures: 0,
            reported_while_open: None,
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
        self.shared.update_state(change);
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
            Err(Next::Retry(err)) => self.retry(err, false),
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
                self.enqueue(Queued {
                    id,
                    name,
                    args,
                    reply,
                });
                None
            }
            Some(Command::Cancel(id)) => {
                self.queue.retain(|q| q.id != id);
                None
            }
            // Every socket starts from the registry's names.
            Some(Command::SyncSubscriptions) => None,
            Some(Command::Reconnect) => Some(Phase::Connect),
            Some(Command::Shutdown { done }) => {
                self.shutdown_waiters.extend(done);
                Some(Phase::Exit)
            }
            None => Some(Phase::Exit),
        }
    }

    fn enqueue(&mut self, queued: Queued) {
        if self.queue.len() >= self.options.max_queued_actions {
            let _ = queued.reply.send(Err(Error::QueueFull {
                capacity: self.options.max_queued_actions,
            }));
        } else {
            self.queue.push_back(queued);
        }
    }

    /// The next command: first those that arrived during a write, then the channel.
    fn next_buffered(&mut self) -> Option<Command> {
        self.backlog.pop_front()
    }

    /// Runs one write with the write deadline, watching the command channel meanwhile: a
    /// shutdown ends the wait at once, anything else waits in the backlog.
    async fn write(&mut self, op: impl Future<Output = Result<()>> + MaybeSend) -> Wrote {
        futures::pin_mut!(op);
        self.write_dyn(op).await
    }

    /// [`Driver::write`] behind a trait object: one copy of the deadline and command handling
    /// for every kind of write (feed, flush, send), not one each.
    async fn write_dyn(&mut self, op: Pin<&mut DynFuture<'_, Result<()>>>) -> Wrote {
        let sent = |result: Result<()>| match result {
            Ok(()) => Wrote::Done,
            Err(err) => Wrote::Failed(Error::Disconnected {
                code: Some(1006),
                reason: format!("the socket failed while sending: {err}"),
            }),
        };
        let deadline = self.options.write_deadline();
        let op = op.fuse();
        futures::pin_mut!(op);
        // Most writes finish at once (the frame fits the buffer): no timer for those.
        if let Some(result) = op.as_mut().now_or_never() {
            return sent(result);
        }
        // On the heap: the timer is only needed on this slow path, and kept inline it would
        // widen every idle connection's task.
        let mut timer: BoxFuture<'static, ()> = Box::pin(runtime::sleep(deadline));
        let mut timer = timer.as_mut().fuse();
        loop {
            futures::select! {
                result = op => return sent(result),
                () = timer => {
                    return Wrote::Failed(Error::Disconnected {
                        code: None,
                        reason: format!(
                            "a write did not finish within {deadline:?}: the server stopped \
                             reading (ConnectOptions::write_timeout)"
                        ),
                    });
                }
                command = self.commands.next() => match command {
                    Some(Command::Shutdown { done }) => {
                        self.shutdown_waiters.extend(done);
                        return Wrote::Shutdown;
                    }
                    None => return Wrote::Shutdown,
                    Some(other) => self.backlog.push_back(other),
                },
            }
        }
    }

    /// Sends a close frame if it goes out quickly; a stuck peer does not delay the caller.
    /// (The deadline's timer is boxed: it runs once per socket, and inline it would widen the
    /// task of every idle connection.)
    async fn close_socket(sink: &mut WsSink, code: u16, reason: &str) {
        let close = sink.send(WsOut::Close(code, reason.to_owned()));
        let _ = Box::pin(runtime::timeout(CLOSE_DEADLINE, close)).await;
    }

    /// The frames that bring the server's subscriptions in line with the registry, and the
    /// set it will hold after them.
    fn subscription_frames(&mut self, encoding: Encoding) -> Vec<WsOut> {
        let wanted = self.shared.registry.names();
        let mut frames = Vec::new();
        let mut added: Vec<&String> = wanted.difference(&self.subscribed).collect();
        let mut removed: Vec<&String> = self.subscribed.difference(&wanted).collect();
        added.sort_unstable();
        removed.sort_unstable();
        for (names, subscribe) in [(removed, false), (added, true)] {
            for name in names {
                if let Ok(frame) = protocol::encode_subscription_request(name, subscribe, encoding)
                {
                    frames.push(ws_out(frame));
                }
            }
        }
        self.subscribed = wanted;
        frames
    }

    /// Handles `command` and the ones already waiting after it on a live socket: frames are
    /// fed, then flushed once, so pipelined callers share one write.
    async fn live_commands(
        &mut self,
        first: Option<Command>,
        sink: &mut WsSink,
        encoding: Encoding,
    ) -> Live {
        let mut command = first;
        let mut fed = 0usize;
        loop {
            let mut frames = Vec::new();
            match command {
                Some(Command::Action {
                    id,
                    name,
                    args,
                    reply,
                }) => {
                    let queued = Queued {
                        id,
                        name,
                        args,
                        reply,
                    };
                    frames.extend(self.prepare_action(queued, encoding));
                }
                Some(Command::Cancel(id)) => {
                    self.in_flight.remove(&id);
                }
                Some(Command::SyncSubscriptions) => {
                    frames = self.subscription_frames(encoding);
                }
                Some(Command::Reconnect) => {}
                Some(Command::Shutdown { done }) => {
                    self.shutdown_waiters.extend(done);
                    Self::close_socket(sink, 1000, "Disposed").await;
                    return Live::Exit;
                }
                None => return Live::Exit,
            }
            for frame in frames {
                fed += 1;
                match self.write(sink.feed(frame)).await {
                    Wrote::Done => {}
                    Wrote::Failed(err) => return Live::Failed(err),
                    Wrote::Shutdown => return Live::Exit,
                }
            }
            if fed >= MAX_FRAMES_PER_WRITE {
                break;
            }
            command = match self.next_buffered() {
                Some(next) => Some(next),
                None => match self.commands.try_recv() {
                    Ok(next) => Some(next),
                    // Empty, or closed (the next poll of the channel says so).
                    Err(_) => break,
                },
            };
        }
        if fed > 0 {
            match self.write(sink.flush()).await {
                Wrote::Done => {}
                Wrote::Failed(err) => return Live::Failed(err),
                Wrote::Shutdown => return Live::Exit,
            }
        }
        Live::Continue
    }

    /// Runs a live socket until it closes or the connection is shut down.
    async fn connected(&mut self, opened: Opened) -> Phase {
        let Opened {
            socket,
            actor_id,
            connection_id,
            early_events,
        } = opened;
        let WsSocket { mut sink, stream } = socket;
        let mut stream = stream.fuse();
        let opened_at = runtime::Instant::now();
        // Set once the socket served an action or an event: it works, whatever happens next.
        let mut healthy = false;
        self.subscribed.clear();
        self.reported_while_open = None;
        self.set_state(|s| {
            s.status = ConnStatus::Connected;
            s.attempt = 0;
            s.last_error = None;
            s.next_retry_in = None;
            s.actor_id = Some(actor_id);
            s.connection_id = Some(connection_id);
        });
        self.shared.hooks.opened();
        let encoding = self.handle.client().config().encoding();
        // What `onConnect` sent, delivered once the connection is `Connected`, before
        // anything that follows `Init`.
        for bytes in early_events {
            if let Ok(ToClientRaw::Event { name, args }) =
                protocol::decode_to_client_raw(&bytes, encoding)
            {
                let event = Event::received(name, Payload::from_ref(args), &self.shared.actor);
                self.shared.registry.dispatch(&event);
            }
        }

        // Subscriptions first, then the actions that waited: the JS client's order; one
        // write for all of them.
        let mut outgoing = self.subscription_frames(encoding);
        for queued in std::mem::take(&mut self.queue) {
            outgoing.extend(self.prepare_action(queued, encoding));
        }
        let mut failed = None;
        // The writes, the command handling and the pings below are boxed when they run: a
        // task is as large as its largest await point, and inline these would make every
        // idle connection's task hundreds of bytes larger than its idle wait (issue 18:
        // 2.5 KB → 2.0 KB per connection).
        for frame in outgoing {
            match Box::pin(self.write(sink.feed(frame))).await {
                Wrote::Done => {}
                Wrote::Failed(err) => {
                    failed = Some(err);
                    break;
                }
                Wrote::Shutdown => return self.disposed_while_open(),
            }
        }
        if failed.is_none() {
            match Box::pin(self.write(sink.flush())).await {
                Wrote::Done => {}
                Wrote::Failed(err) => failed = Some(err),
                Wrote::Shutdown => return self.disposed_while_open(),
            }
        }

        let ping_interval = self.options.ping_interval;
        let ping_timeout = self.options.ping_timeout;
        let mut ping_timer = ping_sleep(ping_interval).fuse();
        let mut awaiting_pong_since: Option<runtime::Instant> = None;
        // In the browser: the page became visible or went online again (never on native).
        let mut wake = wake_signal().fuse();
        let mut connection_error = None;
        // The close frame's code and reason, for the errors of actions in flight.
        let mut closed_with: Option<(Option<u16>, String)> = None;

        let next = loop {
            if let Some(err) = failed.take() {
                break Next::Retry(err);
            }
            if let Some(command) = self.next_buffered() {
                match Box::pin(self.live_commands(Some(command), &mut sink, encoding)).await {
                    Live::Continue => continue,
                    Live::Failed(err) => break Next::Retry(err),
                    Live::Exit => return self.disposed_while_open(),
                }
            }
            futures::select! {
                incoming = stream.next() => {
                    let incoming = incoming.unwrap_or(WsIn::Failed {
                        code: 1006,
                        cause: "the connection ended without a close frame".to_owned(),
                    });
                    // Any message answers the liveness check; the next one is due an interval later.
                    if awaiting_pong_since.take().is_some() {
                        ping_timer = ping_sleep(ping_interval).fuse();
                    }
                    let bytes = match incoming {
                        WsIn::Text(text) => text.into_bytes(),
                        WsIn::Binary(bytes) => bytes,
                        WsIn::Pong => continue,
                        WsIn::Closed { code, reason } => {
                            let next = close::after_close(code, &reason, connection_error.take(), self.creates_actor());
                            closed_with = Some((code, reason));
                            break next;
                        }
                        WsIn::Failed { code, cause } => {
                            break Next::Retry(Error::Disconnected { code: Some(code), reason: cause });
                        }
                    };
                    match self.on_message(&bytes, encoding, &mut connection_error) {
                        Ok(served) => healthy |= served,
                        Err(err) => {
                            Self::close_socket(&mut sink, 1002, "undecodable message").await;
                            break Next::Retry(Error::Disconnected {
                                code: Some(1002),
                                reason: err.to_string(),
                            });
                        }
                    }
                }
                command = self.commands.next() => {
                    match Box::pin(self.live_commands(command, &mut sink, encoding)).await {
                        Live::Continue => {}
                        Live::Failed(err) => break Next::Retry(err),
                        Live::Exit => return self.disposed_while_open(),
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
                        match Box::pin(self.write(sink.send(liveness_probe(encoding)))).await {
                            Wrote::Done => {}
                            Wrote::Failed(err) => break Next::Retry(err),
                            Wrote::Shutdown => return self.disposed_while_open(),
                        }
                        ping_timer = ping_sleep(Some(ping_timeout)).fuse();
                    }
                }
                () = wake => {
                    // The page is back: a socket that went silent meanwhile must answer now.
                    wake = wake_signal().fuse();
                    if awaiting_pong_since.is_none() {
                        awaiting_pong_since = Some(runtime::Instant::now());
                        match Box::pin(self.write(sink.send(liveness_probe(encoding)))).await {
                            Wrote::Done => {}
                            Wrote::Failed(err) => break Next::Retry(err),
                            Wrote::Shutdown => return self.disposed_while_open(),
                        }
                        ping_timer = ping_sleep(Some(ping_timeout)).fuse();
                    }
                }
            }
        };
        drop(sink);
        drop(stream);
        self.subscribed.clear();
        let healthy = healthy
            || runtime::Instant::now().duration_since(opened_at)
                >= self.options.reconnect.healthy_after;
        let ended_by = match &next {
            Next::Retry(err) | Next::Stop(err) => err.clone(),
        };
        let lost = in_flight_error(&ended_by, closed_with);
        for (_, reply) in self.in_flight.drain() {
            let _ = reply.send(Err(lost.clone()));
        }
        self.shared.hooks.closed(&ended_by);
        // Commands that came in during a failed write: actions wait for the next socket.
        while let Some(command) = self.backlog.pop_front() {
            if matches!(command, Command::Reconnect) {
                continue;
            }
            if let Some(Phase::Exit) = self.offline_command(Some(command)) {
                return Phase::Exit;
            }
        }
        match next {
            Next::Retry(err) => self.retry(err, healthy),
            Next::Stop(err) => Phase::Stopped(err),
        }
    }

    /// The connection was shut down while its socket was open: tell `on_close`.
    fn disposed_while_open(&mut self) -> Phase {
        self.shared.hooks.closed(&Error::Disposed {
            what: format!("connection to {}", self.shared.description),
        });
        Phase::Exit
    }

    /// Encodes an action for sending and records it in flight; answers it with an error when
    /// it is cancelled or cannot be sent.
    fn prepare_action(&mut self, queued: Queued, encoding: Encoding) -> Option<WsOut> {
        if queued.reply.is_canceled() {
            return None;
        }
        let frame =
            match protocol::encode_action_request(queued.id, &queued.name, &queued.args, encoding)
                .map(ws_out)
            {
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
            let _ = queued.reply.send(Err(too_long(
                &queued.name,
                size,
                self.options.max_message_size,
            )));
            return None;
        }
        self.in_flight.insert(queued.id, queued.reply);
        Some(frame)
    }

    /// Handles one message; returns whether it shows the socket serving (an action answered,
    /// an event delivered).
    fn on_message(
        &mut self,
        bytes: &[u8],
        encoding: Encoding,
        connection_error: &mut Option<crate::protocol::ErrorBody>,
    ) -> Result<bool> {
        match protocol::decode_to_client_raw(bytes, encoding)? {
            ToClientRaw::ActionResponse { id, output } => {
                if let Some(reply) = self.in_flight.remove(&id) {
                    let _ = reply.send(Ok(Payload::from_ref(output)));
                }
                Ok(true)
            }
            ToClientRaw::Error(body) => match body.action_id {
                Some(id) => {
                    if let Some(reply) = self.in_flight.remove(&id) {
                        let _ = reply.send(Err(ServerError::from_body(body).into_error()));
                    }
                    Ok(true)
                }
                None => {
                    // Reported now, not only when the socket closes (the JS client's onError).
                    let err = match close::after_close(
                        None,
                        "",
                        Some(body.clone()),
                        self.creates_actor(),
                    ) {
                        Next::Retry(err) | Next::Stop(err) => err,
                    };
                    *connection_error = Some(body);
                    self.set_state(|s| s.last_error = Some(err.clone()));
                    self.shared.hooks.error(&err);
                    self.reported_while_open = Some(err);
                    Ok(false)
                }
            },
            ToClientRaw::Event { name, args } => {
                let event = Event::received(name, Payload::from_ref(args), &self.shared.actor);
                self.shared.registry.dispatch(&event);
                Ok(true)
            }
            ToClientRaw::Init { .. } => {
                tracing::debug!(actor = %self.shared.description, "ignoring a second Init");
                Ok(false)
            }
        }
    }

    /// Schedules the next attempt after a transient failure, or stops when the policy's
    /// attempts are used up. Failures only reset after a healthy socket (`after_healthy`);
    /// its first retry is spread over the policy's jitter window.
    fn retry(&mut self, err: Error, after_healthy: bool) -> Phase {
        if after_healthy {
            self.failures = 0;
        }
        self.failures += 1;
        let policy = &self.options.reconnect;
        if policy.max_attempts.is_some_and(|max| self.failures > max) {
            return Phase::Stopped(err);
        }
        let delay = if after_healthy {
            policy.first_retry_delay(self.rng.f64())
        } else {
            policy.delay(self.failures, self.rng.f64())
        };
        tracing::debug!(actor = %self.shared.description, error = %err, ?delay, "connection failed; retrying");
        self.set_state(|s| s.last_error = Some(err.clone()));
        self.report(&err);
        Phase::Backoff(delay)
    }

    /// Tells `on_error` callbacks, unless the socket closed with the server error it had
    /// already reported while open.
    fn report(&mut self, err: &Error) {
        let already = self.reported_while_open.take().is_some_and(|earlier| {
            let key = |e: &Error| e.server().map(|s| (s.group.clone(), s.code.clone()));
            key(&earlier).is_some() && key(&earlier) == key(err)
        });
        if !already {
            self.shared.hooks.error(err);
        }
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
        // pop_front, not drain(..): a `VecDeque` drain compiles its own drop glue per element
        // type (here and in `finish`, for queued actions and commands).
        while let Some(queued) = self.queue.pop_front() {
            let _ = queued.reply.send(Err(err.clone()));
        }
        self.set_state(|s| {
            s.status = ConnStatus::Idle;
            s.terminal = true;
            s.next_retry_in = None;
            s.last_error = Some(err.clone());
        });
        self.report(&err);
        loop {
            match self.commands.next().await {
                Some(Command::Action { reply, .. }) => {
                    let _ = reply.send(Err(err.clone()));
                }
                Some(Command::Cancel(_)) | Some(Command::SyncSubscriptions) => {}
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
        while let Some(queued) = self.queue.pop_front() {
            let _ = queued.reply.send(Err(disposed.clone()));
        }
        for (_, reply) in self.in_flight.drain() {
            let _ = reply.send(Err(disposed.clone()));
        }
        self.commands.close();
        let mut rest = Vec::with_capacity(self.backlog.len());
        while let Some(command) = self.backlog.pop_front() {
            rest.push(command);
        }
        while let Ok(command) = self.commands.try_recv() {
            rest.push(command);
        }
        for command in rest {
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

/// The error of an action that was in flight when its socket ended with `ended_by`: the
/// server's error when it refused a message (the code kept), otherwise
/// [`Error::Disconnected`] with the close code and the reason or cause.
fn in_flight_error(ended_by: &Error, closed_with: Option<(Option<u16>, String)>) -> Error {
    match ended_by {
        Error::Disconnected { .. } => ended_by.clone(),
        Error::Actor(e)
            if e.is("message", "incoming_too_long") || e.is("actor", "invalid_request") =>
        {
            ended_by.clone()
        }
        other => {
            let (code, reason) = closed_with.unwrap_or((None, String::new()));
            Error::Disconnected {
                code,
                reason: if reason.is_empty() {
                    other.to_string()
                } else {
                    reason
                },
            }
        }
    }
}

/// The error of an action too large for the server: the one the server gives over HTTP
/// (`message.incoming_too_long`), so both transports fail the same way.
fn too_long(action: &str, size: usize, limit: usize) -> Error {
    Error::Actor(Box::new(ServerError::new(
        "message",
        "incoming_too_long",
        format!(
            "the encoded message for action {action} is {size} bytes, over the limit of \
             {limit} bytes (the server's maxIncomingMessageSize, \
             ConnectOptions::max_message_size); send less data per call"
        ),
    )))
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
    let limit = transport::ResponseLimit::protocol(handle.client().config());
    let mut socket = transport::connect_websocket(
        handle.client().http(),
        &url,
        &protocols,
        timeout,
        limit,
        &operation,
    )
    .await
    .map_err(|e| close::after_failed_open(e, creates_actor))?;
    let mut connection_error = None;
    let mut early_events = Vec::new();
    let mut early_bytes = 0;
    loop {
        let remaining = deadline.saturating_duration_since(runtime::Instant::now());
        let incoming = match runtime::timeout(remaining, socket.stream.next()).await {
            Some(incoming) => incoming.unwrap_or(WsIn::Failed {
                code: 1006,
                cause: "the connection ended without a close frame".to_owned(),
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
            WsIn::Failed { code, cause } => {
                return Err(Next::Retry(Error::Disconnected {
                    code: Some(code),
                    reason: cause,
                }))
            }
        };
        // The raw decoder: nothing is revived here (and the tree decoder stays out of the
        // browser bundle).
        match protocol::decode_to_client_raw(&bytes, encoding) {
            Ok(ToClientRaw::Init {
                actor_id,
                connection_id,
            }) => {
                return Ok(Opened {
                    socket,
                    actor_id,
                    connection_id,
                    early_events,
                })
            }
            Ok(ToClientRaw::Error(body)) if body.action_id.is_none() => {
                connection_error = Some(body);
            }
            Ok(ToClientRaw::Event { .. }) => {
                // Kept for after `Init`, within one message's limit in all: a server that
                // floods before `Init` costs bounded memory.
                early_bytes += bytes.len();
                if early_bytes > limit.bytes {
                    return Err(Next::Retry(Error::TooLarge {
                        what: format!("the events sent before Init ({operation})"),
                        limit: limit.bytes,
                        setting: limit.setting,
                    }));
                }
                early_events.push(bytes);
            }
            Ok(other) => {
                // Named, not printed: printing would revive the payload.
                let kind = match other {
                    ToClientRaw::ActionResponse { .. } => "ActionResponse",
                    ToClientRaw::Event { .. } => "Event",
                    ToClientRaw::Error(_) => "Error",
                    ToClientRaw::Init { .. } => "Init",
                };
                tracing::debug!(kind, "message before Init ignored");
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

fn ws_out(frame: WireFrame) -> WsOut {
    match frame {
        WireFrame::Text(text) => WsOut::Text(text),
        WireFrame::Binary(bytes) => WsOut::Binary(bytes),
    }
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
        let args = Payload::empty_list(protocol::Format::of(encoding));
        protocol::encode_action_request(PROBE_ACTION_ID, "__rivet_liveness_probe", &args, encoding)
            .map_or(WsOut::Ping, ws_out)
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

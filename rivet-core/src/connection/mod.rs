//! Persistent connections: [`ActorConnection`] keeps one WebSocket to an actor open, calls
//! actions over it, delivers events, reconnects with backoff, and stops when its last handle
//! is dropped.
//!
//! One driver task owns the socket and the state machine; handles talk to it through a
//! channel. Nothing outlives the handles: dropping the last [`ActorConnection`] clone closes
//! the socket and ends the task.

mod backoff;
mod close;
mod driver;
mod events;
mod hooks;
mod status;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use backoff::ReconnectPolicy;
pub use events::{Event, EventStream, EventSubscription};
pub use hooks::CallbackGuard;
pub use status::{ConnStatus, ConnectionState};

use crate::handle::{decode_output, encode_args, ActorHandle};
use crate::observable::{Changes, Observable};
use crate::protocol::{Format, Payload};
use crate::runtime::{self, BoxFuture};
use crate::{Encoding, Error, Result};
use events::{Callback, Registry};
use hooks::{Hook, Hooks};

/// Produces connection parameters before every connection attempt (e.g. a fresh token).
#[cfg(not(target_arch = "wasm32"))]
pub type ParamsFn = Arc<dyn Fn() -> BoxFuture<'static, Result<Value>> + Send + Sync>;
/// Produces connection parameters before every connection attempt (e.g. a fresh token).
#[cfg(target_arch = "wasm32")]
pub type ParamsFn = Arc<dyn Fn() -> BoxFuture<'static, Result<Value>>>;

/// Where connection parameters come from. Its `Debug` shows `params#<hash>` instead of the
/// params (they usually carry auth tokens).
///
/// ```
/// let params = rivet_core::ConnParams::Static(serde_json::json!({"token": "s3cret"}));
/// assert!(!format!("{params:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub enum ConnParams {
    /// The same value on every attempt.
    Static(Value),
    /// Asked for again before every attempt.
    Dynamic(ParamsFn),
}

impl std::fmt::Debug for ConnParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnParams::Static(v) => write!(f, "Static({})", crate::identity::params_digest(v)),
            ConnParams::Dynamic(_) => f.write_str("Dynamic(..)"),
        }
    }
}

/// Settings of one connection.
///
/// ```
/// use std::time::Duration;
/// use rivet_core::{ConnectOptions, ReconnectPolicy};
///
/// let options = ConnectOptions::new()
///     .params(&serde_json::json!({"token": "secret"}))?
///     .action_timeout(Duration::from_secs(10))
///     .reconnect(ReconnectPolicy { max_attempts: Some(5), ..Default::default() });
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub(crate) params: Option<ConnParams>,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) action_timeout: Duration,
    pub(crate) max_queued_actions: usize,
    pub(crate) open_timeout: Duration,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) max_message_size: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            params: None,
            reconnect: ReconnectPolicy::default(),
            action_timeout: Duration::from_secs(60),
            max_queued_actions: 1024,
            open_timeout: Duration::from_secs(30),
            ping_interval: if cfg!(target_arch = "wasm32") {
                None
            } else {
                Some(Duration::from_secs(15))
            },
            ping_timeout: Duration::from_secs(10),
            write_timeout: None,
            max_message_size: 65_536,
        }
    }
}

impl ConnectOptions {
    /// The defaults: the handle's params, reconnect forever with backoff, 60 s action
    /// deadline, 1024 queued actions, pings every 15 s on native targets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Static connection parameters (overrides the handle's).
    pub fn params<P: Serialize + ?Sized>(mut self, params: &P) -> Result<Self> {
        let value =
            serde_json::to_value(params).map_err(|e| Error::encode("connection params", e))?;
        self.params = Some(ConnParams::Static(value));
        Ok(self)
    }

    /// Parameters produced by `f` before every attempt, e.g. to refresh a token. An error
    /// from `f` fails that attempt, which is retried with backoff.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn params_fn<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value>> + Send + 'static,
    {
        self.params = Some(ConnParams::Dynamic(Arc::new(move || Box::pin(f()))));
        self
    }

    /// Parameters produced by `f` before every attempt, e.g. to refresh a token. An error
    /// from `f` fails that attempt, which is retried with backoff.
    #[cfg(target_arch = "wasm32")]
    pub fn params_fn<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = Result<Value>> + 'static,
    {
        self.params = Some(ConnParams::Dynamic(Arc::new(move || Box::pin(f()))));
        self
    }

    /// Where parameters come from, as a [`ConnParams`].
    pub fn params_source(mut self, params: ConnParams) -> Self {
        self.params = Some(params);
        self
    }

    /// The reconnect policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// The default deadline of an action (from the call to its answer, queueing included).
    pub fn action_timeout(mut self, timeout: Duration) -> Self {
        self.action_timeout = timeout;
        self
    }

    /// How many actions may wait for the connection; more fail with [`Error::QueueFull`].
    pub fn max_queued_actions(mut self, max: usize) -> Self {
        self.max_queued_actions = max;
        self
    }

    /// The deadline for opening the socket and receiving `Init`.
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = timeout;
        self
    }

    /// How often to ping the server to detect a dead peer (`None` disables), and how long to
    /// wait for any answer before reconnecting.
    ///
    /// Browsers cannot send ping frames: there the check is a request for an action no actor
    /// has (the server answers `actor.action_not_found` and logs a warning), so it is off by
    /// default in the browser, and it runs anyway whenever the page becomes visible or the
    /// browser goes online again. A connection that is backing off retries at once then.
    pub fn ping(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// The deadline of every write to the socket (by default the ping timeout of
    /// [`ping`](Self::ping), 10 s). A peer that stops reading fills the socket's buffers and
    /// a write waits; past this deadline the socket is given up as stuck
    /// ([`Error::Disconnected`] with `code: None`) and the connection reconnects.
    /// `dispose()` never waits for a stuck write.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// The deadline of a write: [`write_timeout`](Self::write_timeout) or the ping timeout.
    pub(crate) fn write_deadline(&self) -> Duration {
        self.write_timeout.unwrap_or(self.ping_timeout)
    }

    /// The largest encoded message sent (the server's `maxIncomingMessageSize`, 64 KiB by
    /// default). A larger action fails locally with the error the server would give,
    /// [`Error::Actor`] with group `message` and code `incoming_too_long`, and the socket
    /// stays open. Raising it past the server's limit lets the server reject the message:
    /// it closes the socket with the same code, the actions in flight fail with that error,
    /// and the connection reconnects.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
}

/// A request from a handle to the driver.
pub(crate) enum Command {
    Action {
        id: u64,
        name: String,
        args: Payload,
        reply: oneshot::Sender<Result<Payload>>,
    },
    /// The caller gave up on action `id` (deadline).
    Cancel(u64),
    /// The set of event names somebody listens to changed: tell the server the difference.
    SyncSubscriptions,
    Reconnect,
    Shutdown {
        done: Option<oneshot::Sender<()>>,
    },
}

impl crate::tracker::Shutdown for mpsc::UnboundedSender<Command> {
    fn shutdown(&self, done: oneshot::Sender<()>) -> bool {
        self.unbounded_send(Command::Shutdown { done: Some(done) })
            .is_ok()
    }
}

/// What handles and the driver share.
pub(crate) struct Shared {
    pub(crate) state: Observable<ConnectionState>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) hooks: Arc<Hooks>,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    next_action_id: AtomicU64,
    pub(crate) description: String,
    /// The same, for events (which name their actor in decode errors).
    pub(crate) actor: Arc<str>,
    /// The encoding of every socket of this connection.
    encoding: Encoding,
    /// The actor's name, for typed connections to check what they wrap.
    pub(crate) actor_name: String,
}

impl Shared {
    /// Changes the state and calls the `on_status_change` callbacks when the phase changed.
    pub(crate) fn update_state(&self, change: impl FnOnce(&mut ConnectionState)) {
        let mut statuses = None;
        self.state.update(|s| {
            let before = s.status;
            change(s);
            statuses = Some((before, s.status));
        });
        if let Some((before, after)) = statuses {
            if before != after {
                self.hooks.status(after);
            }
        }
    }
}

/// Ends the driver when the last [`ActorConnection`] clone is dropped.
struct Lifetime {
    commands: mpsc::UnboundedSender<Command>,
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        let _ = self
            .commands
            .unbounded_send(Command::Shutdown { done: None });
    }
}

/// A persistent connection to one actor. Clones share the connection; dropping the last
/// clone closes the socket and stops reconnecting.
///
/// # Reconnection and faults
///
/// * **What is final.** Only two things stop a connection for good (status `Idle`,
///   [`ConnectionState::terminal`]): a close the client asked for ([`dispose`](Self::dispose),
///   dropping the last clone, `Client::dispose`) and a rejection that would repeat: the
///   actor refused the params (`user.*`, `auth.forbidden`, [`Error::Rejected`]), the actor
///   does not exist and nothing would create it ([`Error::NotFound`] on a `get` or by-id
///   handle), or the server does not speak the encoding. [`ReconnectPolicy::max_attempts`]
///   exhausted is final too. [`reconnect`](Self::reconnect) starts again after any of them
///   except `dispose`.
/// * **Everything else reconnects**, like the JS client after any close of a connected
///   socket: a server close 1000 (`c.conn.disconnect()`, a draining server, a destroyed
///   actor), 1001, 1011 `guard.*` / `actor.*`, a reset, an undecodable message, a peer that
///   stops answering pings or stops reading (every write has a deadline,
///   [`ConnectOptions::write_timeout`]).
/// * **Backoff** follows the [`ReconnectPolicy`]: failures only reset after a connection
///   proved healthy, so a server that accepts and drops at once is retried with a growing
///   delay, never in a storm; the first retry after a healthy connection is spread over a
///   random window.
/// * **Actions** waiting while disconnected are sent after the next `Init`; an action already
///   sent when the socket drops fails with [`Error::Disconnected`] (the close code and the
///   cause kept) and is never re-sent. When the server closed the socket because of a
///   message (`message.incoming_too_long`, `actor.invalid_request`), the actions in flight
///   fail with that server error instead.
/// * **Events** subscriptions are sent again after every reconnect; the server's set always
///   matches the registered listeners. What the actor's `onConnect` sends to the new
///   connection arrives before `Init`: it is delivered once the connection is `Connected`, to
///   the listeners registered by then, on every reconnect too. Register them in
///   [`ActorHandle::connect_with_setup`] to be sure they are in place before the first socket
///   opens.
/// * **Errors** are reported at once: in [`state`](Self::state)'s `last_error` and to
///   [`on_error`](Self::on_error) callbacks, including connection-level errors the server
///   sends while the socket stays open and event payloads a typed listener could not decode.
///
/// ```no_run
/// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
/// let counter = client.get_or_create("counter", "demo").connect()?;
/// let _listener = counter.on("newCount", |event| {
///     println!("count is now {:?}", event.arg::<i64>(0));
/// });
/// counter.ready().await?;
/// let n: i64 = counter.action("increment", (1,)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ActorConnection {
    shared: Arc<Shared>,
    action_timeout: Duration,
    _lifetime: Arc<Lifetime>,
}

impl std::fmt::Debug for ActorConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorConnection")
            .field("actor", &self.shared.description)
            .field("state", &self.shared.state.get())
            .finish()
    }
}

impl ActorConnection {
    /// Opens a connection for `handle`; `setup` runs on it before the socket starts opening
    /// in the background.
    pub(crate) fn open<T>(
        handle: ActorHandle,
        options: ConnectOptions,
        setup: impl FnOnce(&Self) -> T,
    ) -> Result<(Self, T)> {
        let (commands, rx) = mpsc::unbounded();
        let subscription_tx = commands.clone();
        let registry = Arc::new(Registry::new(move || {
            let _ = subscription_tx.unbounded_send(Command::SyncSubscriptions);
        }));
        let shared = Arc::new(Shared {
            state: Observable::new(ConnectionState::default()),
            registry,
            hooks: Arc::new(Hooks::default()),
            commands: commands.clone(),
            next_action_id: AtomicU64::new(0),
            description: handle.describe(),
            actor: Arc::from(handle.describe()),
            encoding: handle.client().config().encoding(),
            actor_name: handle.name().to_owned(),
        });
        let action_timeout = options.action_timeout;
        let tracker = handle.client().connections().register(commands.clone());
        let driver = driver::Driver::new(handle, options, shared.clone(), rx, tracker);
        let connection = Self {
            shared,
            action_timeout,
            _lifetime: Arc::new(Lifetime { commands }),
        };
        let prepared = setup(&connection);
        runtime::spawn(driver.run())?;
        Ok((connection, prepared))
    }

    /// Calls `action` over the connection and decodes its result; see
    /// [`ActorHandle::action`] for how `args` are spread. While disconnected the call waits in
    /// the queue; if the socket drops after it was sent it fails with
    /// [`Error::Disconnected`] (it is never re-sent); after the deadline it fails with
    /// [`Error::Timeout`].
    pub async fn action<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
    ) -> Result<R> {
        self.action_with_timeout(action, args, self.action_timeout)
            .await
    }

    /// [`action`](Self::action) with its own deadline.
    pub async fn action_with_timeout<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
        timeout: Duration,
    ) -> Result<R> {
        let args = encode_args(action, &args, self.shared.encoding)?;
        let output = self.call(action, args, timeout).await?;
        decode_output(output.as_ref(), action, &self.shared.description)
    }

    /// Calls an action with JSON arguments (an array) and returns the raw output.
    pub async fn action_value(
        &self,
        action: &str,
        args: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let args = Payload::encode(&args, Format::of(self.shared.encoding))
            .map_err(|e| Error::encode(format!("arguments of action {action}"), e))?;
        let output = self.call(action, args, timeout).await?;
        decode_output(output.as_ref(), action, &self.shared.description)
    }

    /// Sends an action with encoded arguments and waits for its encoded output.
    async fn call(&self, action: &str, args: Payload, timeout: Duration) -> Result<Payload> {
        if action.is_empty() {
            return Err(Error::invalid("action name", action, "must not be empty"));
        }
        let id = self.shared.next_action_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        self.shared
            .commands
            .unbounded_send(Command::Action {
                id,
                name: action.to_owned(),
                args,
                reply,
            })
            .map_err(|_| self.disposed())?;
        match runtime::timeout(timeout, answer).await {
            Some(Ok(result)) => result,
            Some(Err(_canceled)) => Err(self.disposed()),
            None => {
                let _ = self.shared.commands.unbounded_send(Command::Cancel(id));
                Err(Error::Timeout {
                    operation: format!("action {action} on {}", self.shared.description),
                    after: timeout,
                })
            }
        }
    }

    /// Calls `callback` for every `event` until the returned guard is dropped. The first
    /// listener of a name subscribes on the server; events sent to this connection alone
    /// (`c.conn.send`) arrive too. Callbacks run on the connection's task: keep them short.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on(
        &self,
        event: &str,
        callback: impl Fn(&Event) + Send + Sync + 'static,
    ) -> EventSubscription {
        self.listen(event, false, Arc::new(callback))
    }

    /// Calls `callback` for every `event` until the returned guard is dropped. The first
    /// listener of a name subscribes on the server; events sent to this connection alone
    /// (`c.conn.send`) arrive too. Callbacks run on the connection's task: keep them short.
    #[cfg(target_arch = "wasm32")]
    pub fn on(&self, event: &str, callback: impl Fn(&Event) + 'static) -> EventSubscription {
        self.listen(event, false, Arc::new(callback))
    }

    /// Like [`on`](Self::on), for the next occurrence only.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn once(
        &self,
        event: &str,
        callback: impl Fn(&Event) + Send + Sync + 'static,
    ) -> EventSubscription {
        self.listen(event, true, Arc::new(callback))
    }

    /// Like [`on`](Self::on), for the next occurrence only.
    #[cfg(target_arch = "wasm32")]
    pub fn once(&self, event: &str, callback: impl Fn(&Event) + 'static) -> EventSubscription {
        self.listen(event, true, Arc::new(callback))
    }

    fn listen(&self, event: &str, once: bool, callback: Callback) -> EventSubscription {
        let id = self.shared.registry.add(event, once, callback);
        EventSubscription::new(&self.shared.registry, event.to_owned(), id)
    }

    /// A stream of `event`'s occurrences; dropping it unsubscribes.
    ///
    /// ```no_run
    /// # async fn demo(conn: rivet_core::ActorConnection) {
    /// use futures::StreamExt;
    /// let mut counts = conn.events("newCount");
    /// while let Some(event) = counts.next().await {
    ///     println!("{:?}", event.args());
    /// }
    /// # }
    /// ```
    pub fn events(&self, event: &str) -> EventStream {
        EventStream::new(&self.shared.registry, event)
    }

    /// The state right now.
    pub fn state(&self) -> ConnectionState {
        self.shared.state.get()
    }

    /// Whether the connection is `Connected` right now.
    pub fn is_connected(&self) -> bool {
        self.status() == ConnStatus::Connected
    }

    /// The phase right now.
    pub fn status(&self) -> ConnStatus {
        self.shared.state.get().status
    }

    /// The current state followed by every change, in order, with bounded memory.
    ///
    /// A reader that keeps up sees every transition (`Connecting → Connected` in one tick
    /// included): the stream buffers the last
    /// [`BUFFERED_CHANGES`](crate::observable::BUFFERED_CHANGES) changes. A reader that falls
    /// further behind (or a stream kept but never polled, e.g. during a reconnect storm) loses
    /// the oldest of them, never the newest: it always ends at the current state, and
    /// [`Changes::lagged`] counts the states it skipped.
    ///
    /// ```no_run
    /// # async fn demo(conn: rivet_core::ActorConnection) {
    /// use futures::StreamExt;
    ///
    /// let mut states = conn.states();
    /// let mut skipped = 0;
    /// while let Some(state) = states.next().await {
    ///     if states.lagged() > skipped {
    ///         skipped = states.lagged();
    ///         println!("({skipped} states skipped so far)");
    ///     }
    ///     println!("{}", state.status);
    /// }
    /// # }
    /// ```
    pub fn states(&self) -> Changes<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// The observable state itself, for adapters that follow it (signals).
    pub fn observable_state(&self) -> Observable<ConnectionState> {
        self.shared.state.clone()
    }

    /// Resolves when the connection is `Connected`; fails with the error that made it stop
    /// when it ends in a terminal state (rejected params, missing actor, retries exhausted,
    /// disposed).
    pub async fn ready(&self) -> Result<()> {
        let state = self
            .shared
            .state
            .wait_for(|s| s.is_connected() || s.terminal)
            .await;
        if state.is_connected() {
            Ok(())
        } else {
            Err(state.last_error.unwrap_or_else(|| self.disposed()))
        }
    }

    /// The actor id from the last `Init`.
    pub fn actor_id(&self) -> Option<String> {
        self.shared.state.get().actor_id
    }

    /// The connection id from the last `Init` (new for every socket).
    pub fn connection_id(&self) -> Option<String> {
        self.shared.state.get().connection_id
    }

    /// Starts connecting again after a terminal error (or skips the wait of a scheduled retry).
    ///
    /// The state leaves its terminal phase at once, so a following [`ready`](Self::ready)
    /// waits for the new attempt. Does nothing after `dispose`.
    pub fn reconnect(&self) {
        self.shared.update_state(|s| {
            if s.terminal && !matches!(s.last_error, Some(Error::Disposed { .. })) {
                s.terminal = false;
                s.status = ConnStatus::Connecting;
            }
        });
        let _ = self.shared.commands.unbounded_send(Command::Reconnect);
    }

    /// Closes the socket (code 1000 `Disposed`), rejects everything pending with
    /// [`Error::Disposed`], stops reconnecting, and waits until the task has ended. Other
    /// clones of this connection see it closed too.
    pub async fn dispose(&self) {
        let (done, finished) = oneshot::channel();
        if self
            .shared
            .commands
            .unbounded_send(Command::Shutdown { done: Some(done) })
            .is_ok()
        {
            let _ = finished.await;
        }
    }

    /// Asks the task to close the socket and stop, without waiting for it (what dropping
    /// the last clone does; for owners that may not await, like the connection manager).
    pub(crate) fn close_in_background(&self) {
        let _ = self
            .shared
            .commands
            .unbounded_send(Command::Shutdown { done: None });
    }

    fn disposed(&self) -> Error {
        Error::Disposed {
            what: format!("connection to {}", self.shared.description),
        }
    }

    /// The name of the actor this connection talks to.
    pub fn actor_name(&self) -> &str {
        &self.shared.actor_name
    }

    /// Reports an error found outside the driver (a typed event payload that does not
    /// decode) the way the driver reports its own: to the log, the state's `last_error` and
    /// the `on_error` callbacks. The socket stays open.
    pub(crate) fn error_reporter(
        &self,
    ) -> impl Fn(&Error) + runtime::MaybeSend + runtime::MaybeSync + 'static {
        let shared = Arc::downgrade(&self.shared);
        move |error: &Error| {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            tracing::warn!(actor = %shared.description, %error, "event payload rejected");
            shared.update_state(|s| s.last_error = Some(error.clone()));
            shared.hooks.error(error);
        }
    }

    /// How many event listeners and lifecycle callbacks are registered (for leak checks).
    pub fn listener_count(&self) -> usize {
        self.shared.registry.len() + self.shared.hooks.len()
    }

    /// Calls `callback` every time the connection opens (the server's `Init` arrived), until
    /// the returned guard is dropped. Like the JS connection's `onOpen`.
    ///
    /// ```no_run
    /// # fn demo(conn: rivet_core::ActorConnection) {
    /// let _opened = conn.on_open(|| println!("connected"));
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_open(&self, callback: impl Fn() + Send + Sync + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Open(Arc::new(callback)))
    }

    /// Calls `callback` every time the connection opens (the server's `Init` arrived), until
    /// the returned guard is dropped. Like the JS connection's `onOpen`.
    #[cfg(target_arch = "wasm32")]
    pub fn on_open(&self, callback: impl Fn() + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Open(Arc::new(callback)))
    }

    /// Calls `callback` every time an open socket closes, with the reason: the peer's close
    /// ([`Error::Disconnected`] with its code), a server error, or [`Error::Disposed`] when
    /// the connection was disposed. Like the JS connection's `onClose`.
    ///
    /// ```no_run
    /// # fn demo(conn: rivet_core::ActorConnection) {
    /// let _closed = conn.on_close(|why| println!("socket closed: {why}"));
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_close(&self, callback: impl Fn(&Error) + Send + Sync + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Close(Arc::new(callback)))
    }

    /// Calls `callback` every time an open socket closes, with the reason: the peer's close
    /// ([`Error::Disconnected`] with its code), a server error, or [`Error::Disposed`] when
    /// the connection was disposed. Like the JS connection's `onClose`.
    #[cfg(target_arch = "wasm32")]
    pub fn on_close(&self, callback: impl Fn(&Error) + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Close(Arc::new(callback)))
    }

    /// Calls `callback` with every error the connection meets: a failed attempt, a dropped
    /// socket, the error that ends it for good, and a connection-level error the server
    /// sends while the socket stays open (reported at once, also in
    /// [`ConnectionState::last_error`]). Not called for `dispose`. Like the JS connection's
    /// `onError`.
    ///
    /// ```no_run
    /// # fn demo(conn: rivet_core::ActorConnection) {
    /// let _errors = conn.on_error(|err| eprintln!("connection error: {err}"));
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_error(&self, callback: impl Fn(&Error) + Send + Sync + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Error(Arc::new(callback)))
    }

    /// Calls `callback` with every error the connection meets: a failed attempt, a dropped
    /// socket, the error that ends it for good, and a connection-level error the server
    /// sends while the socket stays open (reported at once, also in
    /// [`ConnectionState::last_error`]). Not called for `dispose`. Like the JS connection's
    /// `onError`.
    #[cfg(target_arch = "wasm32")]
    pub fn on_error(&self, callback: impl Fn(&Error) + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Error(Arc::new(callback)))
    }

    /// Calls `callback` with the new phase every time [`status`](Self::status) changes. Like
    /// the JS connection's `onStatusChange`.
    ///
    /// ```no_run
    /// # fn demo(conn: rivet_core::ActorConnection) {
    /// let _status = conn.on_status_change(|status| println!("now {status}"));
    /// # }
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_status_change(
        &self,
        callback: impl Fn(ConnStatus) + Send + Sync + 'static,
    ) -> CallbackGuard {
        self.shared.hooks.add(Hook::Status(Arc::new(callback)))
    }

    /// Calls `callback` with the new phase every time [`status`](Self::status) changes. Like
    /// the JS connection's `onStatusChange`.
    #[cfg(target_arch = "wasm32")]
    pub fn on_status_change(&self, callback: impl Fn(ConnStatus) + 'static) -> CallbackGuard {
        self.shared.hooks.add(Hook::Status(Arc::new(callback)))
    }
}

impl ActorHandle {
    /// Opens a persistent connection with default options (and this handle's params).
    /// Needs a running tokio runtime on native targets.
    pub fn connect(&self) -> Result<ActorConnection> {
        self.connect_with(ConnectOptions::default())
    }

    /// Opens a persistent connection with `options`.
    pub fn connect_with(&self, options: ConnectOptions) -> Result<ActorConnection> {
        self.connect_with_setup(options, |_| ())
            .map(|(connection, ())| connection)
    }

    /// Opens a persistent connection with `options` after `setup` has run on it, and returns
    /// both. Listeners `setup` registers are in place before the socket starts opening, so
    /// they see every event, including what the actor's `onConnect` sends to the new
    /// connection. Listeners registered right after [`connect`](Self::connect) see those
    /// too unless the connection opens first: on a multi-thread runtime against a server in
    /// memory or on a busy machine it can.
    ///
    /// ```no_run
    /// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// use rivet_core::ConnectOptions;
    ///
    /// let (room, _welcome) = client
    ///     .get_or_create("chatRoom", "general")
    ///     .connect_with_setup(ConnectOptions::default(), |room| {
    ///         room.on("welcome", |event| println!("welcome: {:?}", event.args()))
    ///     })?;
    /// room.ready().await?;
    /// # Ok(()) }
    /// ```
    pub fn connect_with_setup<T>(
        &self,
        options: ConnectOptions,
        setup: impl FnOnce(&ActorConnection) -> T,
    ) -> Result<(ActorConnection, T)> {
        crate::addressing::validate_name(self.name())?;
        let mut options = options;
        if options.params.is_none() {
            options.params = self.params().cloned().map(ConnParams::Static);
        }
        ActorConnection::open(self.clone(), options, setup)
    }
}

//! [`FakeServer`]: the fake actors, served on loopback (`tcp.rs`) or in memory (`memory.rs`)
//! over the real client protocol (`protocol.rs`), and the controls tests use to drop, refuse,
//! delay and fail.

use std::fmt;
use std::io;
#[cfg(not(target_arch = "wasm32"))]
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rivet_core::typed::ActorKind;
use rivet_core::{ActorKey, Client, ClientConfigBuilder};
use serde_json::Value;

use crate::actor::{ActorSpec, Outgoing};
use crate::memory::{self, MemoryTransport};
use crate::protocol::{dispatch, lock, Command, Failure, Instance, Shared};
use crate::{ActorError, FakeActor};

/// Why a [`FakeServer`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeServerError {
    /// No loopback port could be bound (`127.0.0.1:0`); check that loopback networking works.
    #[error("the fake server could not bind 127.0.0.1:0: {0}")]
    Bind(io::Error),
    /// Its tokio runtime or its thread could not be started (out of threads or memory?).
    #[error("the fake server could not start its runtime thread: {0}")]
    Runtime(io::Error),
    /// Two actors were registered under the same name; give each a name of its own.
    #[error("two fake actors are named {0:?}")]
    DuplicateActor(String),
}

/// Builds a [`FakeServer`] from its actors.
///
/// ```
/// use rivet_testing::{FakeActor, FakeServer};
/// let server = FakeServer::builder()
///     .actor(FakeActor::new("echo").action("echo", |_, args| Ok(args.into())))
///     .start()
///     .unwrap();
/// ```
#[derive(Default)]
pub struct FakeServerBuilder {
    specs: Vec<ActorSpec>,
}

impl fmt::Debug for FakeServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.specs.iter().map(|s| &s.name).collect();
        f.debug_struct("FakeServerBuilder")
            .field("actors", &names)
            .finish()
    }
}

impl FakeServerBuilder {
    /// Serves `actor` under its name.
    pub fn actor<S: Send + 'static>(mut self, actor: FakeActor<S>) -> Self {
        self.specs.push(actor.into_spec());
        self
    }

    /// Starts the server on `127.0.0.1:<free port>`, on a thread and tokio runtime of its own
    /// (so it works from sync tests and any `#[tokio::test]` flavour). Dropping the returned
    /// [`FakeServer`] stops it and closes every connection. Native targets only; in the
    /// browser use [`in_memory`](Self::in_memory).
    ///
    /// # Errors
    /// [`FakeServerError`]: no loopback port, no thread, or two actors with one name.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start(self) -> Result<FakeServer, FakeServerError> {
        let shared = self.shared()?;
        let listener = crate::tcp::Listener::start(shared.clone())?;
        Ok(FakeServer {
            shared,
            listener: Some(listener),
        })
    }

    /// The server without any socket, for the browser (and native tests that want no
    /// loopback): its clients, from [`FakeServer::client`] or
    /// [`FakeServer::client_config`], reach it through an in-memory
    /// [`rivet_core::test_transport::Transport`]. The same actors, protocol, encodings and
    /// controls as `start` (native targets); nothing runs until a client sends something.
    /// Dropping the server drops its connections and fails every later request.
    ///
    /// ```
    /// use rivet_testing::{FakeActor, FakeServer};
    /// let server = FakeServer::builder()
    ///     .actor(FakeActor::with_state("counter", |_| 0i64).action("increment", |ctx, args| {
    ///         *ctx.state += args[0].as_i64().unwrap_or(1);
    ///         Ok((*ctx.state).into())
    ///     }))
    ///     .in_memory()
    ///     .unwrap();
    /// let client = server.client().unwrap();
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(async {
    /// let count: i64 = client
    ///     .get_or_create("counter", ["mine"])
    ///     .action("increment", (2,))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(count, 2);
    /// # });
    /// ```
    ///
    /// # Errors
    /// [`FakeServerError::DuplicateActor`]: two actors with one name.
    pub fn in_memory(self) -> Result<FakeServer, FakeServerError> {
        Ok(FakeServer {
            shared: self.shared()?,
            #[cfg(not(target_arch = "wasm32"))]
            listener: None,
        })
    }

    fn shared(self) -> Result<Arc<Shared>, FakeServerError> {
        Shared::new(self.specs)
            .map(Arc::new)
            .map_err(FakeServerError::DuplicateActor)
    }
}

/// A fake RivetKit server, on loopback (`FakeServerBuilder::start`) or in memory
/// ([`FakeServerBuilder::in_memory`], also in the browser): the real `rivet-core` client
/// (and so the Leptos and Dioxus hooks) talks to it unchanged, in JSON, CBOR and BARE.
///
/// ```
/// use rivet_core::Client;
/// use rivet_testing::{FakeActor, FakeServer};
///
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
/// }
///
/// let server = FakeServer::builder()
///     .actor(FakeActor::with_state(Counter, |_| 0i64).on_action(
///         Counter::INCREMENT,
///         |ctx, (amount,)| {
///             *ctx.state += amount;
///             Ok(*ctx.state)
///         },
///     ))
///     .start()
///     .unwrap();
/// let client = Client::new(&server.endpoint()).unwrap();
/// let counter = client.get_or_create(Counter, ["mine"]);
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// # runtime.block_on(async {
/// use rivet_core::typed::Handle;
/// assert_eq!(counter.increment(2).await.unwrap(), 2);
/// # });
/// assert_eq!(server.actions_called(Counter, ["mine"], "increment"), 1);
/// ```
pub struct FakeServer {
    shared: Arc<Shared>,
    /// `None` in memory.
    #[cfg(not(target_arch = "wasm32"))]
    listener: Option<crate::tcp::Listener>,
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    /// Stops the loopback server (closing every connection), or, in memory, drops every
    /// connection and fails later requests.
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        let instances: Vec<Arc<Instance>> = lock(&self.shared.registry)
            .by_id
            .values()
            .cloned()
            .collect();
        for instance in instances {
            for conn in lock(&instance.conns).iter() {
                let _ = conn.tx.unbounded_send(Command::Drop);
            }
        }
    }
}

impl FakeServer {
    /// A builder to register actors on.
    ///
    /// ```
    /// let server = rivet_testing::FakeServer::builder().start().unwrap();
    /// ```
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// The endpoint to give the client: `http://127.0.0.1:PORT` on loopback;
    /// `http://rivet-testing.invalid` in memory, which only a client with this server's
    /// transport reaches (build it with [`client`](Self::client) or
    /// [`client_config`](Self::client_config)).
    pub fn endpoint(&self) -> String {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(listener) = &self.listener {
            return format!("http://{}", listener.addr);
        }
        memory::ENDPOINT.to_owned()
    }

    /// The loopback address the server listens on, for tests that put a proxy or a raw socket
    /// in front of it; `None` in memory ([`FakeServerBuilder::in_memory`]), where nothing
    /// listens.
    ///
    /// ```
    /// let server = rivet_testing::FakeServer::builder().start().unwrap();
    /// assert!(server.addr().unwrap().ip().is_loopback());
    /// let in_memory = rivet_testing::FakeServer::builder().in_memory().unwrap();
    /// assert_eq!(in_memory.addr(), None);
    /// ```
    #[cfg(not(target_arch = "wasm32"))]
    pub fn addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().map(|listener| listener.addr)
    }

    /// Whether the server is in memory ([`FakeServerBuilder::in_memory`]) rather than on
    /// loopback.
    pub fn is_in_memory(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return self.listener.is_none();
        #[cfg(target_arch = "wasm32")]
        return true;
    }

    /// A client config for this server, to add settings to (encoding, timeouts, retries):
    /// its endpoint, and in memory its transport (`test-transport` feature of
    /// `rivet-client`, which this crate turns on).
    ///
    /// ```
    /// # let server = rivet_testing::FakeServer::builder().in_memory().unwrap();
    /// let config = server
    ///     .client_config()
    ///     .encoding(rivet_core::Encoding::Json)
    ///     .build()
    ///     .unwrap();
    /// let client = rivet_core::Client::from_config(config).unwrap();
    /// ```
    pub fn client_config(&self) -> ClientConfigBuilder {
        let builder = rivet_core::ClientConfig::builder().endpoint(self.endpoint());
        if self.is_in_memory() {
            builder.test_transport(self.transport())
        } else {
            builder
        }
    }

    /// A client for this server with default settings (see
    /// [`client_config`](Self::client_config)).
    ///
    /// # Errors
    /// What [`Client::from_config`] fails with (on native targets: no TLS trust store).
    pub fn client(&self) -> rivet_core::Result<Client> {
        Client::from_config(self.client_config().build()?)
    }

    /// The in-memory transport of this server's actors, for a config built by hand
    /// ([`ClientConfigBuilder::test_transport`]). Works for a loopback server too (its
    /// actors and controls are the same).
    pub fn transport(&self) -> Arc<dyn rivet_core::test_transport::Transport> {
        Arc::new(MemoryTransport {
            shared: self.shared.clone(),
        })
    }

    /// Drops every connection to the actor `actor` with `key` without a close frame, like a
    /// lost network: the client sees the socket die and reconnects. Returns how many were
    /// dropped.
    ///
    /// ```no_run
    /// # let server = rivet_testing::FakeServer::builder().start().unwrap();
    /// assert_eq!(server.drop_connections("chatRoom", ["lobby"]), 1);
    /// ```
    pub fn drop_connections(&self, actor: impl ActorKind, key: impl Into<ActorKey>) -> usize {
        let Some(instance) = self.instance(actor, key) else {
            return 0;
        };
        let conns = lock(&instance.conns);
        for conn in conns.iter() {
            let _ = conn.tx.unbounded_send(Command::Drop);
        }
        conns.len()
    }

    /// While `true`, new connections are accepted (`101`) and then closed with 1011
    /// `guard.actor_wake_retries_exceeded`, as the gateway does while an actor cannot start:
    /// the client keeps retrying with backoff. Stateless calls are not affected.
    pub fn refuse_connects(&self, refuse: bool) {
        lock(&self.shared.control).refuse = refuse;
    }

    /// Holds every new connection for `delay` before its `Init` (zero: no delay), to show a
    /// component's "connecting" view.
    pub fn delay_connects(&self, delay: Duration) {
        lock(&self.shared.control).delay = delay;
    }

    /// The next call of `action` on any actor named `actor` fails with `error` instead of
    /// running (stateless or over a connection). Several can be queued.
    ///
    /// ```no_run
    /// # let server = rivet_testing::FakeServer::builder().start().unwrap();
    /// use rivet_testing::ActorError;
    /// server.fail_next_action("counter", "increment", ActorError::user("limit", "too many"));
    /// ```
    pub fn fail_next_action(&self, actor: impl ActorKind, action: &str, error: ActorError) {
        lock(&self.shared.control).failures.push(Failure {
            actor: actor.actor_name().into_owned(),
            action: action.to_owned(),
            error,
        });
    }

    /// Broadcasts `event` with `args` from the actor `actor` with `key` to its subscribed
    /// connections; returns how many it reached (0 if the actor does not exist yet).
    pub fn emit(
        &self,
        actor: impl ActorKind,
        key: impl Into<ActorKey>,
        event: &str,
        args: Vec<Value>,
    ) -> usize {
        let Some(instance) = self.instance(actor, key) else {
            return 0;
        };
        dispatch(
            &instance,
            vec![Outgoing::Broadcast {
                event: event.to_owned(),
                args,
            }],
            None,
        )
    }

    /// Open connections (after their `Init`) to the actor `actor` with `key`.
    pub fn connections(&self, actor: impl ActorKind, key: impl Into<ActorKey>) -> usize {
        self.instance(actor, key)
            .map_or(0, |instance| lock(&instance.conns).len())
    }

    /// Open connections to `actor` with `key` subscribed to `event`.
    pub fn subscriptions(
        &self,
        actor: impl ActorKind,
        key: impl Into<ActorKey>,
        event: &str,
    ) -> usize {
        self.instance(actor, key).map_or(0, |instance| {
            lock(&instance.conns)
                .iter()
                .filter(|c| c.subscriptions.contains(event))
                .count()
        })
    }

    /// Calls of `action` that reached the actor `actor` with `key` (stateless or over a
    /// connection, failed ones included; calls refused by the params check are not counted).
    pub fn actions_called(
        &self,
        actor: impl ActorKind,
        key: impl Into<ActorKey>,
        action: &str,
    ) -> usize {
        self.instance(actor, key).map_or(0, |instance| {
            lock(&instance.calls).get(action).copied().unwrap_or(0)
        })
    }

    /// A copy of the state of the actor `actor` with `key`; `None` if it does not exist or
    /// its state is not an `S`.
    pub fn state<S: Clone + 'static>(
        &self,
        actor: impl ActorKind,
        key: impl Into<ActorKey>,
    ) -> Option<S> {
        let instance = self.instance(actor, key)?;
        let state = lock(&instance.state);
        state.downcast_ref::<S>().cloned()
    }

    /// The id of the actor `actor` with `key`, once it exists.
    pub fn actor_id(&self, actor: impl ActorKind, key: impl Into<ActorKey>) -> Option<String> {
        self.instance(actor, key).map(|i| i.id.clone())
    }

    /// WebSocket upgrade requests seen so far (connection attempts).
    pub fn websocket_attempts(&self) -> usize {
        self.shared.websocket_attempts.load(Ordering::SeqCst)
    }

    /// Plain HTTP requests seen so far (actions, REST lookups, metadata).
    pub fn http_requests(&self) -> usize {
        self.shared.http_requests.load(Ordering::SeqCst)
    }

    fn instance(&self, actor: impl ActorKind, key: impl Into<ActorKey>) -> Option<Arc<Instance>> {
        self.shared
            .instance(&actor.actor_name(), key.into().parts())
    }
}

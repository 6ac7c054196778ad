//! [`FakeServer`]: the fake actors served on loopback over the real client protocol, and the
//! controls tests use to drop, refuse, delay and fail.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use percent_encoding::percent_decode_str;
use rivet_core::typed::ActorKind;
use rivet_core::ActorKey;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::actor::{ActorSpec, Caller, Create, Outgoing};
use crate::wire::{self, ClientMessage, Wire};
use crate::{ActorError, FakeActor};

/// The largest request head read.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body read.
const MAX_BODY: usize = 16 * 1024 * 1024;

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
    /// [`FakeServer`] stops it and closes every connection.
    ///
    /// # Errors
    /// [`FakeServerError`]: no loopback port, no thread, or two actors with one name.
    pub fn start(self) -> Result<FakeServer, FakeServerError> {
        let mut specs = HashMap::new();
        for spec in self.specs {
            let name = spec.name.clone();
            if specs.insert(name.clone(), spec).is_some() {
                return Err(FakeServerError::DuplicateActor(name));
            }
        }
        let shared = Arc::new(Shared {
            specs,
            registry: Mutex::default(),
            control: Mutex::default(),
            next_conn: AtomicU64::new(1),
            websocket_attempts: AtomicUsize::new(0),
            http_requests: AtomicUsize::new(0),
        });
        let std_listener = StdListener::bind("127.0.0.1:0").map_err(FakeServerError::Bind)?;
        std_listener
            .set_nonblocking(true)
            .map_err(FakeServerError::Bind)?;
        let addr = std_listener.local_addr().map_err(FakeServerError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(FakeServerError::Runtime)?;
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<io::Result<()>>(1);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("rivet-fake-server-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            let _ = ready_tx.send(Ok(()));
                            listener
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    tokio::select! {
                        () = accept_loop(listener, thread_shared) => {}
                        _ = shutdown_rx => {}
                    }
                });
                // Dropping the runtime cancels every task and closes its sockets.
            })
            .map_err(FakeServerError::Runtime)?;
        ready_rx
            .recv()
            .map_err(|_| FakeServerError::Runtime(io::Error::other("the thread exited")))?
            .map_err(FakeServerError::Bind)?;
        Ok(FakeServer {
            shared,
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

/// A fake RivetKit server on loopback: the real `rivet-core` client (and so the Leptos and
/// Dioxus hooks) talks to it unchanged, in JSON, CBOR and BARE.
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
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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

    /// `http://127.0.0.1:PORT`, the endpoint to give the client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
            let _ = conn.tx.send(Command::Drop);
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
        let name = actor.actor_name().into_owned();
        let key = key.into().parts().to_vec();
        let registry = lock(&self.shared.registry);
        let id = registry.by_key.get(&(name, key))?;
        registry.by_id.get(id).cloned()
    }
}

struct Shared {
    specs: HashMap<String, ActorSpec>,
    registry: Mutex<Registry>,
    control: Mutex<Control>,
    next_conn: AtomicU64,
    websocket_attempts: AtomicUsize,
    http_requests: AtomicUsize,
}

#[derive(Default)]
struct Registry {
    by_id: HashMap<String, Arc<Instance>>,
    by_key: HashMap<(String, Vec<String>), String>,
    next_id: u64,
}

struct Instance {
    id: String,
    name: String,
    key: Vec<String>,
    state: Mutex<Box<dyn Any + Send>>,
    conns: Mutex<Vec<Conn>>,
    calls: Mutex<HashMap<String, usize>>,
}

struct Conn {
    id: String,
    subscriptions: HashSet<String>,
    tx: mpsc::UnboundedSender<Command>,
}

enum Command {
    Event { name: String, args: Vec<Value> },
    Close { reason: String },
    Drop,
}

#[derive(Default)]
struct Control {
    refuse: bool,
    delay: Duration,
    failures: Vec<Failure>,
}

struct Failure {
    actor: String,
    action: String,
    error: ActorError,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a request names its actor.
enum Target {
    Id(String),
    Query {
        name: String,
        key: Vec<String>,
        /// `Some(input)` for `getOrCreate`.
        create: Option<Option<Value>>,
    },
}

impl Shared {
    fn spec(&self, name: &str) -> Result<&ActorSpec, ActorError> {
        self.specs.get(name).ok_or_else(|| {
            let mut known: Vec<_> = self.specs.keys().cloned().collect();
            known.sort();
            ActorError::new(
                "rivet_testing",
                "unknown_actor",
                format!(
                    "the fake server has no actor named {name:?} (registered: {known:?}); \
                     add it with FakeServer::builder().actor(FakeActor::new({name:?}))"
                ),
            )
        })
    }

    /// The actor `name` with `key`, created from `input` when `create` and missing; the bool
    /// says whether it was created.
    fn get_or_create(
        &self,
        name: &str,
        key: &[String],
        create: Option<Option<Value>>,
    ) -> Result<(Arc<Instance>, bool), ActorError> {
        let spec = self.spec(name)?;
        let mut registry = lock(&self.registry);
        if let Some(id) = registry.by_key.get(&(name.to_owned(), key.to_vec())) {
            if let Some(instance) = registry.by_id.get(id) {
                return Ok((instance.clone(), false));
            }
        }
        let Some(input) = create else {
            return Err(not_found(name, key));
        };
        registry.next_id += 1;
        let id = format!("fakeactor{:016}", registry.next_id);
        let state = (spec.create)(&Create {
            key: key.to_vec(),
            input,
        });
        let instance = Arc::new(Instance {
            id: id.clone(),
            name: name.to_owned(),
            key: key.to_vec(),
            state: Mutex::new(state),
            conns: Mutex::default(),
            calls: Mutex::default(),
        });
        registry
            .by_key
            .insert((name.to_owned(), key.to_vec()), id.clone());
        registry.by_id.insert(id, instance.clone());
        Ok((instance, true))
    }

    fn resolve(&self, target: Target) -> Result<Arc<Instance>, ActorError> {
        match target {
            Target::Id(id) => lock(&self.registry).by_id.get(&id).cloned().ok_or_else(|| {
                ActorError::new("actor", "not_found", format!("no actor with id {id}"))
            }),
            Target::Query { name, key, create } => {
                self.get_or_create(&name, &key, create).map(|(i, _)| i)
            }
        }
    }

    fn check_params(&self, instance: &Instance, params: &Value) -> Result<(), ActorError> {
        match self.spec(&instance.name)?.on_connect.as_ref() {
            Some(check) => check(params),
            None => Ok(()),
        }
    }

    /// Runs `action`, then sends the events it made; `conn_id` is the calling connection.
    fn call(
        &self,
        instance: &Instance,
        action: &str,
        args: Vec<Value>,
        params: &Value,
        conn_id: Option<&str>,
    ) -> Result<Value, ActorError> {
        *lock(&instance.calls).entry(action.to_owned()).or_insert(0) += 1;
        {
            let mut control = lock(&self.control);
            let failure = control
                .failures
                .iter()
                .position(|f| f.actor == instance.name && f.action == action);
            if let Some(at) = failure {
                return Err(control.failures.remove(at).error);
            }
        }
        let spec = self.spec(&instance.name)?;
        let Some(handler) = spec.actions.get(action) else {
            return Err(ActorError::new(
                "actor",
                "action_not_found",
                format!("Action `{action}` not found"),
            ));
        };
        let caller = Caller {
            key: &instance.key,
            actor_id: &instance.id,
            params,
            conn_id,
        };
        let (result, outbox) = {
            let mut state = lock(&instance.state);
            handler(&mut **state, &caller, args)
        };
        dispatch(instance, outbox, conn_id);
        result
    }
}

/// Queues `outbox` on the connections it is for; returns how many deliveries were queued.
fn dispatch(instance: &Instance, outbox: Vec<Outgoing>, caller: Option<&str>) -> usize {
    if outbox.is_empty() {
        return 0;
    }
    let conns = lock(&instance.conns);
    let mut sent = 0;
    for outgoing in outbox {
        match outgoing {
            Outgoing::Broadcast { event, args } => {
                for conn in conns.iter().filter(|c| c.subscriptions.contains(&event)) {
                    let name = event.clone();
                    let args = args.clone();
                    if conn.tx.send(Command::Event { name, args }).is_ok() {
                        sent += 1;
                    }
                }
            }
            Outgoing::ToCaller { event, args } => {
                let Some(caller) = caller else { continue };
                for conn in conns.iter().filter(|c| c.id == caller) {
                    let name = event.clone();
                    if conn
                        .tx
                        .send(Command::Event {
                            name,
                            args: args.clone(),
                        })
                        .is_ok()
                    {
                        sent += 1;
                    }
                }
            }
            Outgoing::Disconnect { reason } => {
                let Some(caller) = caller else { continue };
                for conn in conns.iter().filter(|c| c.id == caller) {
                    let reason = reason.clone();
                    let _ = conn.tx.send(Command::Close { reason });
                }
            }
        }
    }
    sent
}

fn not_found(name: &str, key: &[String]) -> ActorError {
    ActorError::new(
        "actor",
        "not_found",
        format!("no actor {name} with key {key:?}"),
    )
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, shared.clone()));
    }
}

/// A parsed request head.
struct Head {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn parse_head(raw: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(Head {
        method,
        path: path.to_owned(),
        query,
        headers,
    })
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::with_capacity(2048);
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return;
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let Some(head) = parse_head(&buf[..end]) else {
        return;
    };
    let is_upgrade = head
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        shared.websocket_attempts.fetch_add(1, Ordering::SeqCst);
        websocket(stream, head, shared).await;
        return;
    }
    shared.http_requests.fetch_add(1, Ordering::SeqCst);
    let mut body = buf[end..].to_vec();
    let length = head
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        let err = ActorError::new("message", "incoming_too_long", "the body is too large");
        respond_gateway_error(&mut stream, 400, &err).await;
        return;
    }
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(64 * 1024)];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let (status, content_type, reply) = http(&shared, &head, &body);
    respond(&mut stream, status, content_type, &reply).await;
}

const CORS: &str = "access-control-allow-origin: *\r\naccess-control-expose-headers: *\r\n";

async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n{CORS}\
         access-control-allow-methods: GET, POST, PUT, OPTIONS\r\n\
         access-control-allow-headers: *\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
}

async fn respond_gateway_error(stream: &mut TcpStream, status: u16, error: &ActorError) {
    let (status, content_type, body) = gateway_error(status, error);
    respond(stream, status, content_type, &body).await;
}

type Reply = (u16, &'static str, Vec<u8>);

/// A gateway / engine error: always JSON, whatever the request's encoding.
fn gateway_error(status: u16, error: &ActorError) -> Reply {
    let body = Value::Object(wire::error_map(error))
        .to_string()
        .into_bytes();
    (status, "application/json", body)
}

fn actor_error(encoding: Wire, error: &ActorError) -> Reply {
    (
        error.status(),
        encoding.content_type(),
        encoding.http_error(error),
    )
}

fn json_reply(value: Value) -> Reply {
    (200, "application/json", value.to_string().into_bytes())
}

fn http(shared: &Shared, head: &Head, body: &[u8]) -> Reply {
    if head.method == "OPTIONS" {
        return (204, "text/plain", Vec::new());
    }
    match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/metadata") => {
            return json_reply(json!({"runtime": "rivet-testing", "version": "2.3.19"}))
        }
        ("GET", "/health") => return (200, "text/plain", b"ok".to_vec()),
        (method, "/actors") => return rest(shared, method, head, body),
        _ => {}
    }
    let Some((target, rest_path)) = gateway_target(head) else {
        let err = ActorError::new("guard", "no_route", format!("no route for {}", head.path));
        return gateway_error(404, &err);
    };
    let instance = match shared.resolve(target) {
        Ok(instance) => instance,
        Err(err) if err.code == "unknown_actor" => return gateway_error(400, &err),
        Err(err) => return gateway_error(404, &err),
    };
    let encoding = Wire::from_name(head.header("x-rivet-encoding").unwrap_or("json"));
    let Some(action) = rest_path.strip_prefix("/action/") else {
        let err = ActorError::new("actor", "not_found", format!("no route {rest_path}"))
            .with_metadata(json!({"id": rest_path, "resource": "route"}));
        return actor_error(encoding, &err);
    };
    if head.method != "POST" {
        let err = ActorError::new("actor", "method_not_allowed", "use POST for actions");
        return actor_error(encoding, &err);
    }
    let action = decode(action);
    let Some(args) = encoding.http_action_args(body) else {
        let err = ActorError::new("core", "internal_error", "the action body does not decode");
        return (400, encoding.content_type(), encoding.http_error(&err));
    };
    let params = match head.header("x-rivet-conn-params") {
        None => Value::Null,
        Some(text) => match serde_json::from_str(text) {
            Ok(params) => params,
            Err(e) => {
                let err = ActorError::new("core", "internal_error", format!("bad params: {e}"));
                return (400, encoding.content_type(), encoding.http_error(&err));
            }
        },
    };
    if let Err(err) = shared.check_params(&instance, &params) {
        return actor_error(encoding, &err);
    }
    match shared.call(&instance, &action, args, &params, None) {
        Ok(output) => (
            200,
            encoding.content_type(),
            encoding.http_action_response(&output),
        ),
        Err(err) => actor_error(encoding, &err),
    }
}

/// `/gateway/{target}{path}`: the actor it names and the rest of the path.
fn gateway_target(head: &Head) -> Option<(Target, String)> {
    let rest = head.path.strip_prefix("/gateway/")?;
    let (target, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let target = decode(target.split('@').next().unwrap_or(target));
    let target = match head.query("rvt-method") {
        None => Target::Id(target),
        Some(method) => {
            let key = match head.query("rvt-key") {
                None | Some("") => Vec::new(),
                Some(key) => key.split(',').map(str::to_owned).collect(),
            };
            let create = (method == "getOrCreate").then(|| {
                head.query("rvt-input")
                    .and_then(|input| {
                        base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .decode(input)
                            .ok()
                    })
                    .and_then(|cbor| ciborium::de::from_reader(cbor.as_slice()).ok())
            });
            Target::Query {
                name: target,
                key,
                create,
            }
        }
    };
    Some((target, path.to_owned()))
}

/// The REST actors API: `GET /actors?name=&key=`, `PUT /actors` (get or create),
/// `POST /actors` (create).
fn rest(shared: &Shared, method: &str, head: &Head, body: &[u8]) -> Reply {
    let actor_json = |instance: &Instance| {
        json!({
            "actor_id": instance.id,
            "name": instance.name,
            "key": ActorKey::new(instance.key.clone()).rest_form(),
            "namespace_id": "default",
            "create_ts": 0,
            "destroy_ts": null,
        })
    };
    match method {
        "GET" => {
            let name = head.query("name").unwrap_or_default();
            let key = parse_rest_key(head.query("key").unwrap_or("/"));
            match shared.get_or_create(name, &key, None) {
                Ok((instance, _)) => json_reply(
                    json!({"actors": [actor_json(&instance)], "pagination": {"cursor": null}}),
                ),
                Err(err) if err.code == "unknown_actor" => gateway_error(400, &err),
                Err(_) => json_reply(json!({"actors": [], "pagination": {"cursor": null}})),
            }
        }
        "PUT" | "POST" => {
            let Ok(request) = serde_json::from_slice::<Value>(body) else {
                let err = ActorError::new("api", "bad_request", "the body is not JSON");
                return gateway_error(400, &err);
            };
            let name = request["name"].as_str().unwrap_or_default();
            let key = parse_rest_key(request["key"].as_str().unwrap_or("/"));
            let input = request["input"]
                .as_str()
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                .and_then(|cbor| ciborium::de::from_reader(cbor.as_slice()).ok());
            if method == "POST" {
                if let Ok((existing, _)) = shared.get_or_create(name, &key, None) {
                    let err = ActorError::new("actor", "duplicate_key", "the key is taken")
                        .with_metadata(json!({
                            "existing_actor_id": existing.id,
                            "key": ActorKey::new(key.clone()).rest_form(),
                        }));
                    return gateway_error(400, &err);
                }
            }
            match shared.get_or_create(name, &key, Some(input)) {
                Ok((instance, created)) => {
                    json_reply(json!({"actor": actor_json(&instance), "created": created}))
                }
                Err(err) => gateway_error(400, &err),
            }
        }
        _ => {
            let err = ActorError::new("api", "method_not_allowed", "GET, PUT or POST");
            gateway_error(405, &err)
        }
    }
}

/// The REST form of a key: parts joined with `/`, `\` and `/` escaped with `\`, an empty
/// part written `\0`, the empty key `/`.
fn parse_rest_key(form: &str) -> Vec<String> {
    if form == "/" {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut chars = form.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some('0') => {}
                Some(other) => part.push(other),
                None => part.push('\\'),
            },
            '/' => parts.push(std::mem::take(&mut part)),
            other => part.push(other),
        }
    }
    parts.push(part);
    parts
}

async fn websocket(mut stream: TcpStream, head: Head, shared: Arc<Shared>) {
    let protocols: Vec<String> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "sec-websocket-protocol")
        .flat_map(|(_, v)| v.split(','))
        .map(|p| p.trim().to_owned())
        .collect();
    let encoding = protocols
        .iter()
        .find_map(|p| p.strip_prefix("rivet_encoding."))
        .map_or(Wire::Json, Wire::from_name);
    let params = protocols
        .iter()
        .find_map(|p| p.strip_prefix("rivet_conn_params."))
        .map(decode);
    let Some(key) = head.header("sec-websocket-key") else {
        respond(&mut stream, 400, "text/plain", b"not a WebSocket request").await;
        return;
    };
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-accept: {}\r\nsec-websocket-protocol: rivet\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;

    let (refuse, delay) = {
        let control = lock(&shared.control);
        (control.refuse, control.delay)
    };
    if refuse {
        close(ws, "guard.actor_wake_retries_exceeded#fake").await;
        return;
    }
    let Some((target, path)) = gateway_target(&head) else {
        close(ws, "guard.no_route#fake").await;
        return;
    };
    let instance = match shared.resolve(target) {
        Ok(instance) => instance,
        Err(err) => {
            close(ws, &format!("{}.{}#fake", err.group, err.code)).await;
            return;
        }
    };
    if path != "/connect" {
        // Raw WebSockets are not served.
        close(ws, "actor.not_found#fake").await;
        return;
    }
    let params = match params.as_deref().map(serde_json::from_str::<Value>) {
        None => Value::Null,
        Some(Ok(params)) => params,
        Some(Err(_)) => {
            close(ws, "guard.websocket_closed_before_open#fake").await;
            return;
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Err(err) = shared.check_params(&instance, &params) {
        let _ = ws.send(encoding.error(None, &err)).await;
        close(ws, &format!("{}.{}", err.group, err.code)).await;
        return;
    }
    let conn_id = format!(
        "fakeconn{:08}",
        shared.next_conn.fetch_add(1, Ordering::SeqCst)
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    lock(&instance.conns).push(Conn {
        id: conn_id.clone(),
        subscriptions: HashSet::new(),
        tx,
    });
    if ws.send(encoding.init(&instance.id, &conn_id)).await.is_ok() {
        serve_socket(
            &shared, &instance, &conn_id, &params, encoding, &mut ws, &mut rx,
        )
        .await;
    }
    lock(&instance.conns).retain(|c| c.id != conn_id);
}

/// Serves one connection after its `Init` until it closes or is dropped.
async fn serve_socket(
    shared: &Shared,
    instance: &Instance,
    conn_id: &str,
    params: &Value,
    encoding: Wire,
    ws: &mut WebSocketStream<TcpStream>,
    rx: &mut mpsc::UnboundedReceiver<Command>,
) {
    loop {
        let message = tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => encoding.decode_client(text.as_bytes()),
                Some(Ok(Message::Binary(bytes))) => encoding.decode_client(&bytes),
                Some(Ok(Message::Close(_))) => {
                    let _ = ws.flush().await;
                    return;
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return,
            },
            command = rx.recv() => {
                match command {
                    Some(Command::Event { name, args }) => {
                        if ws.send(encoding.event(&name, &args)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Some(Command::Close { reason }) => {
                        close_with(ws, 1000, &reason).await;
                        return;
                    }
                    // Dropping the socket without a close frame: a lost network.
                    Some(Command::Drop) | None => return,
                }
            }
        };
        match message {
            None => {
                let frame = CloseFrame {
                    code: CloseCode::from(1011),
                    reason: "actor.invalid_request".into(),
                };
                let _ = ws.send(Message::Close(Some(frame))).await;
                return;
            }
            Some(ClientMessage::Subscription { event, subscribe }) => {
                let mut conns = lock(&instance.conns);
                if let Some(conn) = conns.iter_mut().find(|c| c.id == conn_id) {
                    if subscribe {
                        conn.subscriptions.insert(event);
                    } else {
                        conn.subscriptions.remove(&event);
                    }
                }
            }
            Some(ClientMessage::Action { id, name, args }) => {
                let result = shared.call(instance, &name, args, params, Some(conn_id));
                // The events the action made go out before its response, as on the server.
                while let Ok(command) = rx.try_recv() {
                    match command {
                        Command::Event { name, args } => {
                            if ws.send(encoding.event(&name, &args)).await.is_err() {
                                return;
                            }
                        }
                        Command::Close { reason } => {
                            close_with(ws, 1000, &reason).await;
                            return;
                        }
                        Command::Drop => return,
                    }
                }
                let frame = match result {
                    Ok(output) => encoding.action_response(id, &output),
                    Err(err) => encoding.error(Some(id), &err),
                };
                if ws.send(frame).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Closes with 1011 and `reason`, then waits briefly for the client's answer.
async fn close(mut ws: WebSocketStream<TcpStream>, reason: &str) {
    close_with(&mut ws, 1011, reason).await;
}

/// Closes with `code` and `reason`, then waits briefly for the client's answer.
async fn close_with(ws: &mut WebSocketStream<TcpStream>, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_owned().into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_keys_parse_back() {
        for parts in [
            vec![],
            vec![""],
            vec!["a/b", "c\\d"],
            vec!["d,e"],
            vec!["x", "", "y"],
        ] {
            let key = ActorKey::new(parts.clone());
            assert_eq!(parse_rest_key(&key.rest_form()), parts, "{key}");
        }
    }
}

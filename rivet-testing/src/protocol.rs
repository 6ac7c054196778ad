//! The fake server's protocol logic, with no I/O: actors and their registry, the HTTP routes
//! (metadata, REST, gateway actions) as request in, reply out, and each WebSocket connection
//! as a state machine fed the client's messages and the controls' commands. The loopback
//! server (`server.rs`) and the in-memory transport (`memory.rs`) only move bytes.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use futures::channel::mpsc;
use percent_encoding::percent_decode_str;
use rivet_core::ActorKey;
use serde_json::{json, Value};

use crate::actor::{ActorSpec, Caller, Create, ErasedHook, Outgoing};
use crate::wire::{self, ClientMessage, Frame, Wire};
use crate::ActorError;

/// The largest request body read.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the controls and every connection of one fake server share.
pub(crate) struct Shared {
    pub(crate) specs: HashMap<String, ActorSpec>,
    pub(crate) registry: Mutex<Registry>,
    pub(crate) control: Mutex<Control>,
    pub(crate) next_conn: AtomicU64,
    pub(crate) websocket_attempts: AtomicUsize,
    pub(crate) http_requests: AtomicUsize,
    /// Set when the [`FakeServer`](crate::FakeServer) is dropped: the in-memory transport
    /// then refuses everything.
    pub(crate) stopped: AtomicBool,
}

#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) by_id: HashMap<String, Arc<Instance>>,
    pub(crate) by_key: HashMap<(String, Vec<String>), String>,
    pub(crate) next_id: u64,
}

pub(crate) struct Instance {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key: Vec<String>,
    pub(crate) state: Mutex<Box<dyn Any + Send>>,
    pub(crate) conns: Mutex<Vec<Conn>>,
    pub(crate) calls: Mutex<HashMap<String, usize>>,
}

pub(crate) struct Conn {
    pub(crate) id: String,
    pub(crate) subscriptions: HashSet<String>,
    pub(crate) tx: mpsc::UnboundedSender<Command>,
}

pub(crate) enum Command {
    Event { name: String, args: Vec<Value> },
    Close { reason: String },
    Drop,
}

#[derive(Default)]
pub(crate) struct Control {
    pub(crate) refuse: bool,
    pub(crate) delay: Duration,
    pub(crate) failures: Vec<Failure>,
}

pub(crate) struct Failure {
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) error: ActorError,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a request names its actor.
pub(crate) enum Target {
    Id(String),
    Query {
        name: String,
        key: Vec<String>,
        /// `Some(input)` for `getOrCreate`.
        create: Option<Option<Value>>,
    },
}

impl Shared {
    /// The shared state of a server with `specs`; fails on two actors with one name (the
    /// name is returned).
    pub(crate) fn new(specs: Vec<ActorSpec>) -> Result<Self, String> {
        let mut by_name = HashMap::new();
        for spec in specs {
            let name = spec.name.clone();
            if by_name.insert(name.clone(), spec).is_some() {
                return Err(name);
            }
        }
        Ok(Self {
            specs: by_name,
            registry: Mutex::default(),
            control: Mutex::default(),
            next_conn: AtomicU64::new(1),
            websocket_attempts: AtomicUsize::new(0),
            http_requests: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        })
    }

    /// The instance of the actor `name` with `key`, if it exists.
    pub(crate) fn instance(&self, name: &str, key: &[String]) -> Option<Arc<Instance>> {
        let registry = lock(&self.registry);
        let id = registry.by_key.get(&(name.to_owned(), key.to_vec()))?;
        registry.by_id.get(id).cloned()
    }

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

    /// Runs the connection hook `which` picks (if the actor has one) for the connection
    /// `conn_id` with `params`, then sends the events it made.
    fn run_hook(
        &self,
        instance: &Instance,
        which: fn(&ActorSpec) -> Option<&ErasedHook>,
        params: &Value,
        conn_id: &str,
    ) -> Result<(), ActorError> {
        let Some(hook) = self.spec(&instance.name).ok().and_then(which) else {
            return Ok(());
        };
        let caller = Caller {
            key: &instance.key,
            actor_id: &instance.id,
            params,
            conn_id: Some(conn_id),
        };
        let (result, outbox) = {
            let mut state = lock(&instance.state);
            hook(&mut **state, &caller)
        };
        dispatch(instance, outbox, Some(conn_id));
        result
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
pub(crate) fn dispatch(instance: &Instance, outbox: Vec<Outgoing>, caller: Option<&str>) -> usize {
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
                    if conn
                        .tx
                        .unbounded_send(Command::Event { name, args })
                        .is_ok()
                    {
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
                        .unbounded_send(Command::Event {
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
                    let _ = conn.tx.unbounded_send(Command::Close { reason });
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

/// A parsed request head.
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    /// A request for `target` (path and query, e.g. `/gateway/x/connect?rvt-method=get`).
    pub(crate) fn new(method: &str, target: &str, headers: Vec<(String, String)>) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(n), decode(v))
            })
            .collect();
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
        }
    }

    /// A request for a full URL (`http://host/path?query`): the origin is ignored.
    pub(crate) fn from_url(method: &str, url: &str, headers: Vec<(String, String)>) -> Self {
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let target = after_scheme
            .find(['/', '?'])
            .map_or("/", |at| &after_scheme[at..]);
        let target = if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_owned()
        };
        Self::new(method, &target, headers)
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
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

pub(crate) fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

pub(crate) type Reply = (u16, &'static str, Vec<u8>);

/// A gateway / engine error: always JSON, whatever the request's encoding.
pub(crate) fn gateway_error(status: u16, error: &ActorError) -> Reply {
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

pub(crate) fn http(shared: &Shared, head: &Head, body: &[u8]) -> Reply {
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
pub(crate) fn parse_rest_key(form: &str) -> Vec<String> {
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

/// What the server sends on a connection.
pub(crate) enum Out {
    /// A protocol message.
    Frame(Frame),
    /// A close frame; the connection is over.
    Close { code: u16, reason: String },
    /// The connection dies without a close frame (a lost network); it is over.
    Drop,
}

fn close_1011(reason: impl Into<String>) -> Vec<Out> {
    vec![Out::Close {
        code: 1011,
        reason: reason.into(),
    }]
}

/// A WebSocket to an actor's `/connect` that passed the checks made before its delay.
pub(crate) struct Admitted {
    shared: Arc<Shared>,
    instance: Arc<Instance>,
    params: Value,
    encoding: Wire,
    /// How long to hold it before the params check and `Init` ([`FakeServer::delay_connects`](crate::FakeServer::delay_connects)).
    pub(crate) delay: Duration,
}

/// A WebSocket opened (answered `101`) with `head`: admitted, or what to send before closing
/// it (refused connects, unknown actors and routes, unreadable params), as the gateway does.
pub(crate) fn admit(shared: &Arc<Shared>, head: &Head) -> Result<Admitted, Vec<Out>> {
    let protocols: Vec<&str> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "sec-websocket-protocol")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .collect();
    let encoding = protocols
        .iter()
        .find_map(|p| p.strip_prefix("rivet_encoding."))
        .map_or(Wire::Json, Wire::from_name);
    let params = protocols
        .iter()
        .find_map(|p| p.strip_prefix("rivet_conn_params."))
        .map(decode);
    let (refuse, delay) = {
        let control = lock(&shared.control);
        (control.refuse, control.delay)
    };
    if refuse {
        return Err(close_1011("guard.actor_wake_retries_exceeded#fake"));
    }
    let Some((target, path)) = gateway_target(head) else {
        return Err(close_1011("guard.no_route#fake"));
    };
    let instance = match shared.resolve(target) {
        Ok(instance) => instance,
        Err(err) => return Err(close_1011(format!("{}.{}#fake", err.group, err.code))),
    };
    if path != "/connect" {
        // Raw WebSockets are not served.
        return Err(close_1011("actor.not_found#fake"));
    }
    let params = match params.as_deref().map(serde_json::from_str::<Value>) {
        None => Value::Null,
        Some(Ok(params)) => params,
        Some(Err(_)) => return Err(close_1011("guard.websocket_closed_before_open#fake")),
    };
    Ok(Admitted {
        shared: shared.clone(),
        instance,
        params,
        encoding,
        delay,
    })
}

impl Admitted {
    /// After the delay: the actor's params check (an `Error` message and a close when it
    /// refuses), then the connection, registered, with the frames to send first: the events
    /// its `on_connected` sent to it, then its `Init` (the real server's order). A close or
    /// drop of the caller in `on_connected` ends the connection before its `Init` (and runs
    /// `on_disconnected`).
    pub(crate) fn open(self) -> Result<(Session, Vec<Frame>), Vec<Out>> {
        let Admitted {
            shared,
            instance,
            params,
            encoding,
            delay: _,
        } = self;
        if let Err(err) = shared.check_params(&instance, &params) {
            return Err(vec![
                Out::Frame(encoding.error(None, &err)),
                Out::Close {
                    code: 1011,
                    reason: format!("{}.{}", err.group, err.code),
                },
            ]);
        }
        let conn_id = format!(
            "fakeconn{:08}",
            shared.next_conn.fetch_add(1, Ordering::SeqCst)
        );
        let (tx, commands) = mpsc::unbounded();
        lock(&instance.conns).push(Conn {
            id: conn_id.clone(),
            subscriptions: HashSet::new(),
            tx,
        });
        // `onConnect`: before the `Init`. Its broadcasts miss this connection (it has no
        // subscriptions yet); its events to this connection go out before the `Init`.
        let connected = shared.run_hook(
            &instance,
            |spec| spec.on_connected.as_ref(),
            &params,
            &conn_id,
        );
        if let Err(err) = connected {
            lock(&instance.conns).retain(|c| c.id != conn_id);
            return Err(vec![
                Out::Frame(encoding.error(None, &err)),
                Out::Close {
                    code: 1011,
                    reason: format!("{}.{}", err.group, err.code),
                },
            ]);
        }
        let mut session = Session {
            shared,
            instance,
            conn_id,
            params,
            encoding,
            commands,
        };
        let mut first = Vec::new();
        while let Ok(command) = session.commands.try_recv() {
            match session.command(command) {
                Out::Frame(frame) => first.push(frame),
                end => {
                    // Dropping the session unregisters it and runs `on_disconnected`.
                    let mut outs: Vec<Out> = first.into_iter().map(Out::Frame).collect();
                    outs.push(end);
                    return Err(outs);
                }
            }
        }
        first.push(
            session
                .encoding
                .init(&session.instance.id, &session.conn_id),
        );
        Ok((session, first))
    }
}

/// One open connection after its `Init`. Dropping it unregisters it (it no longer counts in
/// [`FakeServer::connections`](crate::FakeServer::connections) or gets events), then runs the
/// actor's `on_disconnected`.
pub(crate) struct Session {
    shared: Arc<Shared>,
    instance: Arc<Instance>,
    conn_id: String,
    params: Value,
    encoding: Wire,
    /// Events, closes and drops for this connection, from the controls and from actions.
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
}

impl Drop for Session {
    fn drop(&mut self) {
        lock(&self.instance.conns).retain(|c| c.id != self.conn_id);
        // `onDisconnect`: its error has no one to go to.
        let _ = self.shared.run_hook(
            &self.instance,
            |spec| spec.on_disconnected.as_ref(),
            &self.params,
            &self.conn_id,
        );
    }
}

impl Session {
    /// What to send for a command from [`Self::commands`].
    pub(crate) fn command(&self, command: Command) -> Out {
        match command {
            Command::Event { name, args } => Out::Frame(self.encoding.event(&name, &args)),
            Command::Close { reason } => Out::Close { code: 1000, reason },
            Command::Drop => Out::Drop,
        }
    }

    /// Handles one message from the client (text or binary): what to send back, in order.
    /// The events an action made go out before its response, as on the server; a message
    /// that does not decode closes the connection with 1011 `actor.invalid_request`.
    pub(crate) fn receive(&mut self, message: &[u8]) -> Vec<Out> {
        match self.encoding.decode_client(message) {
            None => close_1011("actor.invalid_request"),
            Some(ClientMessage::Subscription { event, subscribe }) => {
                let mut conns = lock(&self.instance.conns);
                if let Some(conn) = conns.iter_mut().find(|c| c.id == self.conn_id) {
                    if subscribe {
                        conn.subscriptions.insert(event);
                    } else {
                        conn.subscriptions.remove(&event);
                    }
                }
                Vec::new()
            }
            Some(ClientMessage::Action { id, name, args }) => {
                let result = self.shared.call(
                    &self.instance,
                    &name,
                    args,
                    &self.params,
                    Some(&self.conn_id),
                );
                let mut outs = Vec::new();
                while let Ok(command) = self.commands.try_recv() {
                    let out = self.command(command);
                    let over = !matches!(out, Out::Frame(_));
                    outs.push(out);
                    if over {
                        return outs;
                    }
                }
                outs.push(Out::Frame(match result {
                    Ok(output) => self.encoding.action_response(id, &output),
                    Err(err) => self.encoding.error(Some(id), &err),
                }));
                outs
            }
        }
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

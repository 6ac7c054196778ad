//! Fake actors: a name, per-key state, actions written as Rust closures (untyped, or typed by
//! an `#[rivet_core::actor]` declaration), a params check, connection hooks and create input.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rivet_core::typed::{ActionDef, ActorKind, EventDef};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// An error an actor answers with: the same `{group, code, message, metadata}` the client
/// gets from RivetKit, e.g. for a `UserError` thrown by the actor's code.
///
/// ```
/// use rivet_testing::ActorError;
/// let err = ActorError::user("unauthorized", "bad token")
///     .with_metadata(serde_json::json!({"got": "nope"}));
/// assert_eq!((err.group.as_str(), err.code.as_str()), ("user", "unauthorized"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ActorError {
    /// `user` for the actor's own errors.
    pub group: String,
    /// The error code, e.g. `unauthorized`.
    pub code: String,
    /// The message shown to the client.
    pub message: String,
    /// Structured details passed through to the client.
    pub metadata: Option<Value>,
}

impl ActorError {
    /// An error with any group and code.
    ///
    /// ```
    /// let err = rivet_testing::ActorError::new("actor", "overloaded", "try later");
    /// assert_eq!(err.to_string(), "actor.overloaded: try later");
    /// ```
    pub fn new(
        group: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ActorError {
            group: group.into(),
            code: code.into(),
            message: message.into(),
            metadata: None,
        }
    }

    /// A `UserError` as RivetKit's `throw new UserError(message, { code })` sends it
    /// (group `user`).
    ///
    /// ```
    /// let err = rivet_testing::ActorError::user("boom_code", "boom happened");
    /// assert_eq!(err.group, "user");
    /// ```
    pub fn user(code: impl Into<String>, message: impl Into<String>) -> Self {
        ActorError::new("user", code, message)
    }

    /// What RivetKit sends when the actor's code throws a plain `Error`: the message is
    /// hidden (`rivetkit.internal_error`).
    ///
    /// ```
    /// assert_eq!(rivet_testing::ActorError::internal().code, "internal_error");
    /// ```
    pub fn internal() -> Self {
        ActorError::new("rivetkit", "internal_error", "Internal error")
    }

    /// Adds structured details (`metadata` on the client's error).
    ///
    /// ```
    /// let err = rivet_testing::ActorError::user("c", "m").with_metadata(serde_json::json!({"a": 1}));
    /// assert!(err.metadata.is_some());
    /// ```
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The HTTP status RivetKit answers this error with.
    pub(crate) fn status(&self) -> u16 {
        match (self.group.as_str(), self.code.as_str()) {
            ("actor", "action_not_found") | ("actor", "not_found") => 404,
            ("actor", "method_not_allowed") => 405,
            ("actor", "duplicate_key") => 400,
            _ => 500,
        }
    }

    fn bad_arguments(action: &str, reason: impl fmt::Display) -> Self {
        ActorError::new(
            "rivet_testing",
            "invalid_arguments",
            format!("the arguments of action {action} do not match its declaration: {reason}"),
        )
    }

    fn bad_output(action: &str, reason: impl fmt::Display) -> Self {
        ActorError::new(
            "rivet_testing",
            "invalid_output",
            format!("the output of action {action} cannot be serialized: {reason}"),
        )
    }
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.group, self.code, self.message)
    }
}

impl std::error::Error for ActorError {}

/// What a fake actor's state is created from: the key it was created with and the create
/// input (`get_or_create_with` / `create_with`), if any.
#[derive(Debug, Clone)]
pub struct Create {
    /// The actor's key.
    pub key: Vec<String>,
    /// The create input as the client sent it (JSON tree; `None` without one).
    pub input: Option<Value>,
}

impl Create {
    /// The input decoded as `T`; `None` without input or if it does not decode.
    ///
    /// ```
    /// let create = rivet_testing::Create { key: vec![], input: Some(serde_json::json!(3)) };
    /// assert_eq!(create.input_as::<u32>(), Some(3));
    /// ```
    pub fn input_as<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.input.clone()?).ok()
    }
}

/// An event an action or the test asked to send.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    /// To every connection subscribed to `event`.
    Broadcast { event: String, args: Vec<Value> },
    /// To the calling connection, subscribed or not (dropped for HTTP calls).
    ToCaller { event: String, args: Vec<Value> },
    /// Closes the calling connection with 1000 and `reason` (`c.conn.disconnect(reason)`).
    Disconnect { reason: String },
}

/// What an action sees: the actor's state, its key and id, the caller's params and
/// connection, and a way to send events.
///
/// ```
/// use rivet_testing::{FakeActor, Ctx};
/// let counter = FakeActor::with_state("counter", |_| 0i64).action("increment", |ctx: &mut Ctx<i64>, args| {
///     *ctx.state += args[0].as_i64().unwrap_or(0);
///     ctx.broadcast("newCount", vec![serde_json::json!(*ctx.state)]);
///     Ok(serde_json::json!(*ctx.state))
/// });
/// ```
pub struct Ctx<'a, S> {
    /// The state of this actor (one per key).
    pub state: &'a mut S,
    key: &'a [String],
    actor_id: &'a str,
    params: &'a Value,
    conn_id: Option<&'a str>,
    outbox: Vec<Outgoing>,
}

impl<S> fmt::Debug for Ctx<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("key", &self.key)
            .field("actor_id", &self.actor_id)
            .field("conn_id", &self.conn_id)
            .finish_non_exhaustive()
    }
}

impl<S> Ctx<'_, S> {
    /// The actor's key.
    pub fn key(&self) -> &[String] {
        self.key
    }

    /// The actor's id.
    pub fn actor_id(&self) -> &str {
        self.actor_id
    }

    /// The caller's connection params (`null` without any).
    pub fn params(&self) -> &Value {
        self.params
    }

    /// The caller's connection params decoded as `T`.
    pub fn params_as<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(self.params).ok()
    }

    /// The caller's connection id: `None` for a stateless (HTTP) call.
    pub fn conn_id(&self) -> Option<&str> {
        self.conn_id
    }

    /// Sends `event` with `args` to every connection subscribed to it (`c.broadcast`).
    pub fn broadcast(&mut self, event: &str, args: Vec<Value>) {
        self.outbox.push(Outgoing::Broadcast {
            event: event.to_owned(),
            args,
        });
    }

    /// Sends `event` with `args` to the calling connection only, subscribed or not
    /// (`c.conn.send`); nothing for a stateless call.
    pub fn send_to_caller(&mut self, event: &str, args: Vec<Value>) {
        self.outbox.push(Outgoing::ToCaller {
            event: event.to_owned(),
            args,
        });
    }

    /// Closes the calling connection with code 1000 and `reason` after this action, like
    /// RivetKit's `c.conn.disconnect(reason)`: the action's response is not sent and the client
    /// reconnects. Nothing for a stateless call.
    pub fn disconnect_caller(&mut self, reason: &str) {
        self.outbox.push(Outgoing::Disconnect {
            reason: reason.to_owned(),
        });
    }

    /// Broadcasts a declared event, e.g. `ctx.emit(Counter::NEW_COUNT, &7)`.
    ///
    /// # Errors
    /// If `payload` cannot be serialized (a `rivet_testing.invalid_output` error).
    pub fn emit<A, P: Serialize>(
        &mut self,
        event: EventDef<A, P>,
        payload: &P,
    ) -> Result<(), ActorError> {
        let args = event
            .encode(payload)
            .map_err(|e| ActorError::bad_output(event.name(), e))?;
        self.broadcast(event.name(), args);
        Ok(())
    }

    /// Sends a declared event to the calling connection only.
    ///
    /// # Errors
    /// If `payload` cannot be serialized.
    pub fn emit_to_caller<A, P: Serialize>(
        &mut self,
        event: EventDef<A, P>,
        payload: &P,
    ) -> Result<(), ActorError> {
        let args = event
            .encode(payload)
            .map_err(|e| ActorError::bad_output(event.name(), e))?;
        self.send_to_caller(event.name(), args);
        Ok(())
    }
}

/// Who is calling an action.
pub(crate) struct Caller<'a> {
    pub(crate) key: &'a [String],
    pub(crate) actor_id: &'a str,
    pub(crate) params: &'a Value,
    pub(crate) conn_id: Option<&'a str>,
}

pub(crate) type ErasedAction = Arc<
    dyn Fn(
            &mut (dyn Any + Send),
            &Caller<'_>,
            Vec<Value>,
        ) -> (Result<Value, ActorError>, Vec<Outgoing>)
        + Send
        + Sync,
>;
/// `on_connected` / `on_disconnected`: run with the actor's state and the connection.
pub(crate) type ErasedHook = Arc<
    dyn Fn(&mut (dyn Any + Send), &Caller<'_>) -> (Result<(), ActorError>, Vec<Outgoing>)
        + Send
        + Sync,
>;
pub(crate) type ErasedCreate = Arc<dyn Fn(&Create) -> Box<dyn Any + Send> + Send + Sync>;
pub(crate) type ConnectCheck = Arc<dyn Fn(&Value) -> Result<(), ActorError> + Send + Sync>;

/// The type-erased definition the server keeps.
#[derive(Clone)]
pub(crate) struct ActorSpec {
    pub(crate) name: String,
    pub(crate) create: ErasedCreate,
    pub(crate) on_connect: Option<ConnectCheck>,
    pub(crate) on_connected: Option<ErasedHook>,
    pub(crate) on_disconnected: Option<ErasedHook>,
    pub(crate) actions: HashMap<String, ErasedAction>,
}

/// Runs `f` with a [`Ctx`] over `state` (which must be an `S`) for `caller`; `what` names the
/// handler in the error if the state has another type.
fn with_ctx<S: 'static, R>(
    state: &mut (dyn Any + Send),
    caller: &Caller<'_>,
    what: &str,
    f: impl FnOnce(&mut Ctx<'_, S>) -> Result<R, ActorError>,
) -> (Result<R, ActorError>, Vec<Outgoing>) {
    let Some(state) = state.downcast_mut::<S>() else {
        let err = ActorError::new(
            "rivet_testing",
            "state_type",
            format!("the state of the actor behind {what} has another type"),
        );
        return (Err(err), Vec::new());
    };
    let mut ctx = Ctx {
        state,
        key: caller.key,
        actor_id: caller.actor_id,
        params: caller.params,
        conn_id: caller.conn_id,
        outbox: Vec::new(),
    };
    let result = f(&mut ctx);
    (result, ctx.outbox)
}

/// A fake actor definition: its name, how its state starts, its actions and its params
/// check. Register it with [`FakeServerBuilder::actor`](crate::FakeServerBuilder::actor).
///
/// Untyped, with closures over JSON values:
///
/// ```
/// use rivet_testing::{ActorError, FakeActor};
/// use serde_json::json;
/// let room = FakeActor::with_state("chatRoom", |_| Vec::<String>::new())
///     .on_connect(|params| match params["token"].as_str() {
///         Some("secret") => Ok(()),
///         _ => Err(ActorError::user("unauthorized", "bad token")),
///     })
///     .action("sendMessage", |ctx, args| {
///         let text = args[0].as_str().unwrap_or_default().to_owned();
///         ctx.state.push(text.clone());
///         ctx.broadcast("message", vec![json!(text)]);
///         Ok(json!(text))
///     });
/// ```
///
/// Typed, by a declaration:
///
/// ```
/// #[rivet_core::actor]
/// pub trait Counter {
///     fn increment(amount: i64) -> i64;
///     #[event]
///     fn new_count(count: i64);
/// }
///
/// let counter = rivet_testing::FakeActor::with_state(Counter, |_| 0i64)
///     .on_action(Counter::INCREMENT, |ctx, (amount,)| {
///         *ctx.state += amount;
///         let count = *ctx.state;
///         ctx.emit(Counter::NEW_COUNT, &count)?;
///         Ok(count)
///     });
/// ```
pub struct FakeActor<S> {
    spec: ActorSpec,
    state: std::marker::PhantomData<fn() -> S>,
}

impl<S> fmt::Debug for FakeActor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut actions: Vec<_> = self.spec.actions.keys().collect();
        actions.sort();
        f.debug_struct("FakeActor")
            .field("name", &self.spec.name)
            .field("actions", &actions)
            .finish_non_exhaustive()
    }
}

impl FakeActor<Value> {
    /// An actor named `actor` (a name, or a declared actor such as `Counter`) whose state is
    /// a JSON value starting as `null`.
    ///
    /// ```
    /// let echo = rivet_testing::FakeActor::new("echo").action("echo", |_, args| Ok(args.into()));
    /// ```
    pub fn new(actor: impl ActorKind) -> Self {
        FakeActor::with_state(actor, |_| Value::Null)
    }
}

impl<S: Send + 'static> FakeActor<S> {
    /// An actor named `actor` whose state (one per key) starts as `create(&Create)`: the key
    /// and the create input.
    ///
    /// ```
    /// let with_input = rivet_testing::FakeActor::with_state("withInput", |create| create.input.clone());
    /// ```
    pub fn with_state(
        actor: impl ActorKind,
        create: impl Fn(&Create) -> S + Send + Sync + 'static,
    ) -> Self {
        let create: ErasedCreate = Arc::new(move |c| Box::new(create(c)));
        FakeActor {
            spec: ActorSpec {
                name: actor.actor_name().into_owned(),
                create,
                on_connect: None,
                on_connected: None,
                on_disconnected: None,
                actions: HashMap::new(),
            },
            state: std::marker::PhantomData,
        }
    }

    /// Checks the params of every connection and every stateless call before it reaches an
    /// action, like RivetKit's `onBeforeConnect`: an error rejects it (a connection fails
    /// with `Error::Rejected`, a call with the error).
    ///
    /// ```
    /// use rivet_testing::{ActorError, FakeActor};
    /// let room = FakeActor::new("room").on_connect(|params| {
    ///     if params["token"] == "secret" { Ok(()) } else { Err(ActorError::user("unauthorized", "bad token")) }
    /// });
    /// ```
    pub fn on_connect(
        mut self,
        check: impl Fn(&Value) -> Result<(), ActorError> + Send + Sync + 'static,
    ) -> Self {
        self.spec.on_connect = Some(Arc::new(check));
        self
    }

    /// Runs `hook` once a connection is established, like RivetKit's `onConnect`: after the
    /// params check ([`Self::on_connect`]) and before the connection's `Init` is sent. It sees
    /// the actor's state, the connection's params and id ([`Ctx::conn_id`]) and sends events
    /// like an action: a broadcast reaches the *other* subscribed connections (the new one
    /// has not subscribed yet, so, as on a real server, it misses its own), an event sent to
    /// the caller goes out before its `Init`, as on a real server (the client delivers it once
    /// connected). A `disconnect_caller` closes the connection before its `Init`. An error
    /// rejects the connection as the
    /// params check does (an `Error` message, then a close; `Error::Rejected` for the client)
    /// and [`Self::on_disconnected`] does not run for it.
    ///
    /// ```
    /// use rivet_testing::FakeActor;
    /// use serde_json::json;
    /// let room = FakeActor::new("room").on_connected(|ctx| {
    ///     let user = ctx.params()["user"].clone();
    ///     ctx.broadcast("joined", vec![user]);
    ///     Ok(())
    /// });
    /// ```
    pub fn on_connected(
        mut self,
        hook: impl Fn(&mut Ctx<'_, S>) -> Result<(), ActorError> + Send + Sync + 'static,
    ) -> Self {
        let hook: ErasedHook =
            Arc::new(move |state, caller| with_ctx(state, caller, "on_connected", &hook));
        self.spec.on_connected = Some(hook);
        self
    }

    /// Runs `hook` once a connection that [`Self::on_connected`] admitted is gone, like
    /// RivetKit's `onDisconnect`: the client closed it or let go of it, the test dropped it
    /// ([`FakeServer::drop_connections`](crate::FakeServer::drop_connections)), an action
    /// disconnected it, or the server stopped (on loopback at once; in memory when the
    /// client notices). The connection no longer counts in
    /// [`FakeServer::connections`](crate::FakeServer::connections); its broadcasts reach the
    /// remaining subscribers; events to the caller go nowhere and an error is ignored.
    ///
    /// ```
    /// use rivet_testing::FakeActor;
    /// let room = FakeActor::new("room").on_disconnected(|ctx| {
    ///     let user = ctx.params()["user"].clone();
    ///     ctx.broadcast("left", vec![user]);
    ///     Ok(())
    /// });
    /// ```
    pub fn on_disconnected(
        mut self,
        hook: impl Fn(&mut Ctx<'_, S>) -> Result<(), ActorError> + Send + Sync + 'static,
    ) -> Self {
        let hook: ErasedHook =
            Arc::new(move |state, caller| with_ctx(state, caller, "on_disconnected", &hook));
        self.spec.on_disconnected = Some(hook);
        self
    }

    /// Adds an untyped action: `handler(ctx, args)` gets the positional arguments as JSON
    /// values and answers with a JSON value or an error.
    ///
    /// ```
    /// let a = rivet_testing::FakeActor::new("a").action("ping", |_, _| Ok("pong".into()));
    /// ```
    pub fn action(
        mut self,
        name: &str,
        handler: impl Fn(&mut Ctx<'_, S>, Vec<Value>) -> Result<Value, ActorError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        let action_name = name.to_owned();
        let erased: ErasedAction = Arc::new(move |state, caller, args| {
            with_ctx(state, caller, &action_name, |ctx| handler(ctx, args))
        });
        self.spec.actions.insert(name.to_owned(), erased);
        self
    }

    /// Adds a typed action from a declaration: `handler(ctx, args)` gets the arguments as
    /// the declaration's tuple and answers with its output type.
    ///
    /// ```
    /// #[rivet_core::actor]
    /// pub trait Counter { fn increment(amount: i64) -> i64; }
    /// let counter = rivet_testing::FakeActor::with_state(Counter, |_| 0i64)
    ///     .on_action(Counter::INCREMENT, |ctx, (amount,)| { *ctx.state += amount; Ok(*ctx.state) });
    /// ```
    pub fn on_action<A, Args, Out>(
        self,
        action: ActionDef<A, Args, Out>,
        handler: impl Fn(&mut Ctx<'_, S>, Args) -> Result<Out, ActorError> + Send + Sync + 'static,
    ) -> Self
    where
        Args: DeserializeOwned,
        Out: Serialize,
    {
        let name = action.name();
        self.action(name, move |ctx, args| {
            let args = decode_args::<Args>(args).map_err(|e| ActorError::bad_arguments(name, e))?;
            let out = handler(ctx, args)?;
            serde_json::to_value(out).map_err(|e| ActorError::bad_output(name, e))
        })
    }

    pub(crate) fn into_spec(self) -> ActorSpec {
        self.spec
    }
}

/// Positional arguments as a tuple; no arguments also decode as `()`.
fn decode_args<Args: DeserializeOwned>(args: Vec<Value>) -> Result<Args, serde_json::Error> {
    let empty = args.is_empty();
    match serde_json::from_value(Value::Array(args)) {
        Ok(args) => Ok(args),
        Err(_) if empty => serde_json::from_value(Value::Null),
        Err(e) => Err(e),
    }
}

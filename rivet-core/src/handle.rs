//! [`ActorHandle`]: a stateless reference to one actor. Actions over HTTP, queue sends, raw
//! fetch, resolution to an actor id — and the door to persistent connections.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::addressing::Address;
pub(crate) use crate::addressing::{RawTarget, Target};
use crate::gateway::encode_component;
use crate::key::ActorKey;
use crate::protocol::{self, Encoding, Format, Payload, PayloadRef};
use crate::raw::{RawRequest, RawResponse};
use crate::shared::ClientInner;
use crate::transport::{HttpRequest, HttpResponse, Method, ResponseLimit};
use crate::{http, runtime, Error, QueueSendResponse, Result, TransportErrorKind};

/// A stateless reference to one actor. Cheap to clone; holds no connection.
///
/// # Deadlines, retries and limits
///
/// Every call has one deadline ([`ActionOptions::timeout`], [`RawRequest::timeout`], or the
/// client's [`request_timeout`](crate::ClientConfig::request_timeout)) that bounds the whole
/// call: every attempt, the REST lookups on the way and the pauses between attempts. When it
/// passes the call fails with [`Error::Timeout`].
///
/// A call is repeated (within [`LifecycleRetries`](crate::LifecycleRetries)) only after
/// errors proving that the request never reached the actor, so an action never runs twice:
///
/// * a refused or failed connect (native targets; a browser's failed `fetch` does not say
///   whether the request went out, so there it is not repeated);
/// * `actor.not_found` from the gateway (for `get` / `get_or_create` handles, until the actor
///   exists), `actor.starting`, `actor.restarting`, `actor.not_configured`,
///   `actor.no_runner_config_configured`, `actor.overloaded`, and `actor.stopping` /
///   `actor.destroying` when the gateway (not the actor's own code) reports them;
/// * `guard.service_unavailable`, `guard.actor_ready_timeout`,
///   `guard.actor_wake_retries_exceeded` and the routing timeouts `pegboard.route_*_timeout`.
///
/// After `guard.actor_stopped_while_waiting`, the `guard.tunnel_*` errors,
/// `guard.gateway_response_start_timeout`, `guard.request_delivery_unconfirmed`, any other
/// `guard.*` error, `actor.stopped`, `actor.dropped_reply`, or a connection that broke after
/// the request was sent, the request may already have run: actions, queue sends and raw
/// requests other than `GET` / `HEAD` / `OPTIONS` fail with that error; those three methods
/// are repeated.
///
/// Response bodies are capped ([`ClientConfig::max_response_size`](crate::ClientConfig::max_response_size),
/// 1 MiB, for actions, queue sends and REST lookups;
/// [`max_raw_response_size`](crate::ClientConfig::max_raw_response_size), 16 MiB, for raw
/// fetch): a larger one fails with [`Error::TooLarge`] without being read past the limit.
///
/// ```no_run
/// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
/// let counter = client.get_or_create("counter", "demo");
/// let n: i64 = counter.action("increment", (5,)).await?;
/// let id = counter.resolve().await?;
/// println!("actor {id} counted to {n}");
/// # Ok(()) }
/// ```
///
/// Its `Debug` shows the actor and `params#<hash>` for the params, never the params.
#[derive(Clone)]
pub struct ActorHandle {
    inner: Arc<HandleInner>,
}

impl std::fmt::Debug for ActorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resolved = self.cached_id();
        f.debug_struct("ActorHandle")
            .field("name", &self.inner.address.name())
            .field("target", &self.inner.address.target())
            .field(
                "params",
                &self
                    .inner
                    .params
                    .as_ref()
                    .map(crate::identity::params_digest),
            )
            .field("resolved", &resolved)
            .finish()
    }
}

struct HandleInner {
    address: Address,
    params: Option<Value>,
    /// Raw requests and sockets skip the gateway's wait for the actor to be ready.
    skip_ready_wait: bool,
}

/// Per-call settings for [`ActorHandle::action_with`].
///
/// ```
/// use std::time::Duration;
/// let options = rivet_core::ActionOptions::new().timeout(Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionOptions {
    timeout: Option<Duration>,
}

impl ActionOptions {
    /// Defaults: the client's request timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// The deadline of the whole call: every attempt, the REST lookups on the way and the
    /// pauses between retries. When it passes the call fails with [`Error::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl ActorHandle {
    pub(crate) fn new(client: Arc<ClientInner>, name: String, target: Target) -> Self {
        Self {
            inner: Arc::new(HandleInner {
                address: Address::new(client, name, target),
                params: None,
                skip_ready_wait: false,
            }),
        }
    }

    /// The actor's registered name.
    pub fn name(&self) -> &str {
        self.inner.address.name()
    }

    /// The key this handle addresses, unless it addresses an id.
    pub fn key(&self) -> Option<&ActorKey> {
        match self.target() {
            Target::Get { key } | Target::GetOrCreate { key, .. } => Some(key),
            Target::Id { .. } => None,
        }
    }

    /// The connection parameters sent with every call, if any.
    pub fn params(&self) -> Option<&Value> {
        self.inner.params.as_ref()
    }

    /// A copy of this handle that sends `params` as connection parameters (they reach the
    /// actor's `onBeforeConnect(c, params)` and `c.conn.params`).
    ///
    /// ```
    /// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// let room = client
    ///     .get_or_create("chatRoom", "general")
    ///     .with_params(&serde_json::json!({"token": "secret", "user": "ada"}))?;
    /// assert!(room.params().is_some());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn with_params<P: Serialize + ?Sized>(&self, params: &P) -> Result<Self> {
        let params =
            serde_json::to_value(params).map_err(|e| Error::encode("connection params", e))?;
        Ok(Self {
            inner: Arc::new(HandleInner {
                address: self.inner.address.clone(),
                params: Some(params),
                skip_ready_wait: self.inner.skip_ready_wait,
            }),
        })
    }

    /// A copy of this handle whose raw requests ([`fetch`](Self::fetch)) and raw WebSockets
    /// ([`web_socket`](Self::web_socket)) skip the gateway's wait for the actor to be ready:
    /// the gateway hands them to the actor at once instead of waiting until it is ready. In
    /// the actor's sleep grace period they reach the instance that is stopping (its
    /// `onRequest` / `onWebSocket` answers, or the runner refuses with
    /// `actor_generation_mismatch`) instead of waiting for the next wake. The JS client's
    /// `skipReadyWait`. Actions, queues and connections are not affected. (On RivetKit 2.3.19
    /// an actor still running `onWake` is waited for either way.)
    /// [`RawRequest::skip_ready_wait`](crate::RawRequest::skip_ready_wait) sets it per request.
    ///
    /// On the wire (as the JS client 2.3.19): `rvt-skip-ready-wait=true` on query URLs, the
    /// header `x-rivet-skip-ready-wait: 1` on HTTP, the subprotocol `rivet_skip_ready_wait`
    /// on WebSockets; a handle that knows its actor id is routed by header
    /// (`x-rivet-target: actor`, `x-rivet-actor: <id>`; on WebSockets the subprotocols
    /// `rivet_target.actor`, `rivet_actor.<id>` and, with a token, `rivet_token.<token>`).
    ///
    /// ```
    /// # let client = rivet_core::Client::new("http://127.0.0.1:6420")?;
    /// let actor = client.get_or_create("counter", "a").with_skip_ready_wait(true);
    /// assert!(actor.skip_ready_wait());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn with_skip_ready_wait(&self, skip: bool) -> Self {
        Self {
            inner: Arc::new(HandleInner {
                address: self.inner.address.clone(),
                params: self.inner.params.clone(),
                skip_ready_wait: skip,
            }),
        }
    }

    /// Whether raw requests and sockets skip the ready wait; see
    /// [`with_skip_ready_wait`](Self::with_skip_ready_wait).
    pub fn skip_ready_wait(&self) -> bool {
        self.inner.skip_ready_wait
    }

    pub(crate) fn client(&self) -> &Arc<ClientInner> {
        self.inner.address.client()
    }

    pub(crate) fn target(&self) -> &Target {
        self.inner.address.target()
    }

    /// A short description for errors: `counter ["a"]` or `counter #id`.
    pub(crate) fn describe(&self) -> String {
        self.inner.address.describe()
    }

    /// The actor id: looked up (`get`), created if needed (`get_or_create`) or known.
    ///
    /// ```no_run
    /// # async fn demo(client: rivet_core::Client) -> rivet_core::Result<()> {
    /// let id = client.get_or_create("counter", "x").resolve().await?;
    /// let same = client.get_for_id("counter", &id);
    /// # Ok(()) }
    /// ```
    pub async fn resolve(&self) -> Result<String> {
        self.inner.address.resolve().await
    }

    /// Calls action `action` over HTTP and decodes its result.
    ///
    /// `args` is serialized with serde: a tuple or array is spread into positional arguments
    /// (`(1, "a")` calls `action(1, "a")`), `()` means none, and any other value is the single
    /// argument. To pass one array argument, wrap it: `(vec![1, 2],)`.
    ///
    /// ```no_run
    /// # async fn demo(counter: rivet_core::ActorHandle) -> rivet_core::Result<()> {
    /// let count: u64 = counter.action("increment", (1,)).await?;
    /// let total: u64 = counter.action("getCount", ()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn action<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
    ) -> Result<R> {
        self.action_with(action, args, ActionOptions::default())
            .await
    }

    /// [`action`](Self::action) with per-call options (deadline).
    pub async fn action_with<R: DeserializeOwned>(
        &self,
        action: &str,
        args: impl Serialize,
        options: ActionOptions,
    ) -> Result<R> {
        let args = encode_args(action, &args, self.encoding())?;
        let body = self.call(action, &args, options).await?;
        let output = protocol::decode_http_action_output(&body, self.encoding())?;
        decode_output(output, action, &self.describe())
    }

    /// Calls an action with already built JSON arguments (an array) and returns the raw
    /// output.
    pub async fn action_value(
        &self,
        action: &str,
        args: &Value,
        options: ActionOptions,
    ) -> Result<Value> {
        let args = Payload::encode(args, Format::of(self.encoding()))
            .map_err(|e| Error::encode(format!("arguments of action {action}"), e))?;
        let body = self.call(action, &args, options).await?;
        let output = protocol::decode_http_action_output(&body, self.encoding())?;
        decode_output(output, action, &self.describe())
    }

    /// Posts encoded arguments to action `action`; returns the response body.
    async fn call(&self, action: &str, args: &Payload, options: ActionOptions) -> Result<Vec<u8>> {
        if action.is_empty() {
            return Err(Error::invalid("action name", action, "must not be empty"));
        }
        let encoding = self.encoding();
        let body = protocol::encode_http_action(args, encoding)?;
        let path = format!("/action/{}", encode_component(action));
        let operation = format!("action {action} on {}", self.describe());
        let timeout = options
            .timeout
            .unwrap_or_else(|| self.client().config().request_timeout());
        let response = self
            .exchange(Call {
                method: Method::Post,
                path: &path,
                query: None,
                body: Some(body),
                headers: Vec::new(),
                timeout,
                limit: ResponseLimit::protocol(self.client().config()),
                idempotent: false,
                skip_ready_wait: false,
                operation: &operation,
            })
            .await?;
        Ok(response.body)
    }

    /// Sends `body` to the actor's queue `queue` without waiting for it to be processed.
    ///
    /// ```no_run
    /// # async fn demo(worker: rivet_core::ActorHandle) -> rivet_core::Result<()> {
    /// worker.send("jobs", &serde_json::json!({"n": 2})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send<B: Serialize + ?Sized>(&self, queue: &str, body: &B) -> Result<()> {
        self.send_request(queue, body, None).await.map(drop)
    }

    /// Sends `body` to queue `queue` and waits up to `wait` for the actor to complete it; the
    /// reply says whether it completed and carries the completion value.
    ///
    /// ```no_run
    /// # async fn demo(worker: rivet_core::ActorHandle) -> rivet_core::Result<()> {
    /// use std::time::Duration;
    /// let reply = worker.send_and_wait("jobs", &2, Duration::from_secs(3)).await?;
    /// if reply.is_completed() {
    ///     let done: serde_json::Value = reply.response_as()?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send_and_wait<B: Serialize + ?Sized>(
        &self,
        queue: &str,
        body: &B,
        wait: Duration,
    ) -> Result<QueueSendResponse> {
        self.send_request(queue, body, Some(wait)).await
    }

    async fn send_request<B: Serialize + ?Sized>(
        &self,
        queue: &str,
        body: &B,
        wait: Option<Duration>,
    ) -> Result<QueueSendResponse> {
        if queue.is_empty() {
            return Err(Error::invalid("queue name", queue, "must not be empty"));
        }
        let encoding = self.encoding();
        let body = Payload::encode(body, Format::of(encoding))
            .map_err(|e| Error::encode(format!("body for queue {queue}"), e))?;
        let timeout_ms = wait.map(|w| u64::try_from(w.as_millis()).unwrap_or(u64::MAX));
        let bytes = protocol::encode_http_queue(
            &body,
            Some(queue),
            Some(wait.is_some()),
            timeout_ms,
            encoding,
        )?;
        let path = format!("/queue/{}", encode_component(queue));
        let operation = format!("send to queue {queue} of {}", self.describe());
        let base = self.client().config().request_timeout();
        // The server holds the request open for up to `wait`; leave room for the round trip.
        let timeout = wait.map_or(base, |w| base.max(w + Duration::from_secs(5)));
        let response = self
            .exchange(Call {
                method: Method::Post,
                path: &path,
                query: None,
                body: Some(bytes),
                headers: Vec::new(),
                timeout,
                limit: ResponseLimit::protocol(self.client().config()),
                idempotent: false,
                skip_ready_wait: false,
                operation: &operation,
            })
            .await?;
        protocol::decode_http_queue_response(&response.body, encoding)
    }

    /// Sends a raw HTTP request to the actor's `onRequest` handler. `path` is relative to the
    /// handler (`"/items?page=2"`). Any status the handler returns is an `Ok` response; only
    /// gateway and transport failures are errors.
    ///
    /// ```no_run
    /// # async fn demo(actor: rivet_core::ActorHandle) -> rivet_core::Result<()> {
    /// use rivet_core::RawRequest;
    /// let response = actor.fetch("/items?page=2", RawRequest::get()).await?;
    /// println!("{} {}", response.status(), response.text());
    /// # Ok(()) }
    /// ```
    pub async fn fetch(&self, path: &str, request: RawRequest) -> Result<RawResponse> {
        let (path, query) = crate::raw::split_path(path)?;
        let full_path = format!("/request{path}");
        let operation = format!("{} {path} on {}", request.method(), self.describe());
        let config = self.client().config();
        let timeout = request
            .timeout_value()
            .unwrap_or_else(|| config.request_timeout());
        let skip_ready_wait = request
            .skip_ready_wait_value()
            .unwrap_or(self.inner.skip_ready_wait);
        let limit = match request.max_response_size_value() {
            Some(bytes) => ResponseLimit {
                bytes,
                setting: "RawRequest::max_response_size",
            },
            None => ResponseLimit::raw(config),
        };
        let (method, headers, body) = request.into_parts();
        let response = self
            .exchange_raw(Call {
                method: Method::Other(method),
                path: &full_path,
                query: query.as_deref(),
                body,
                headers,
                timeout,
                limit,
                idempotent: matches!(method, "GET" | "HEAD" | "OPTIONS"),
                skip_ready_wait,
                operation: &operation,
            })
            .await?;
        Ok(RawResponse::from_http(response))
    }

    fn encoding(&self) -> Encoding {
        self.client().config().encoding()
    }

    fn cached_id(&self) -> Option<String> {
        self.inner.address.cached_id()
    }

    /// Drops the id looked up through the REST API, so the next call looks it up again.
    pub(crate) fn forget_resolved(&self) {
        self.inner.address.forget_resolved();
    }

    /// The `http(s)://` URL of `path` inside the actor.
    pub(crate) async fn url(&self, path: &str, query: Option<&str>) -> Result<String> {
        self.inner.address.url(path, query).await
    }

    /// Where a raw request or socket to `path` goes; see [`Address::raw_target`].
    pub(crate) async fn raw_target(
        &self,
        path: &str,
        query: Option<&str>,
        skip_ready_wait: bool,
    ) -> Result<RawTarget> {
        self.inner
            .address
            .raw_target(path, query, skip_ready_wait)
            .await
    }

    /// One protocol request (action or queue): non-2xx answers become errors.
    async fn exchange(&self, call: Call<'_>) -> Result<HttpResponse> {
        let encoding = self.encoding();
        let mut call = call;
        call.headers
            .push(("x-rivet-encoding".into(), encoding.as_str().into()));
        call.headers
            .push(("content-type".into(), encoding.content_type().into()));
        self.with_retries(&call, || async {
            let response = self.send_once(&call).await?;
            if response.is_success() {
                Ok(response)
            } else {
                Err(http::error_from_response(
                    &response,
                    encoding,
                    call.operation,
                ))
            }
        })
        .await
    }

    /// One raw request: any status from the actor is a response; gateway errors (marked by
    /// `x-rivet-error`) are errors.
    async fn exchange_raw(&self, call: Call<'_>) -> Result<HttpResponse> {
        self.with_retries(&call, || async {
            let response = self.send_once(&call).await?;
            if response.header("x-rivet-error").is_some() && !response.is_success() {
                Err(http::error_from_response(
                    &response,
                    Encoding::Json,
                    call.operation,
                ))
            } else {
                Ok(response)
            }
        })
        .await
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<HttpResponse> {
        // First, so that a failed metadata lookup names this call.
        self.client()
            .ensure_metadata()
            .await
            .map_err(|err| crate::metadata::during(err, call.operation))?;
        let target = self
            .raw_target(call.path, call.query, call.skip_ready_wait)
            .await?;
        // After `raw_target`: the metadata lookup may have switched the config.
        let config = self.client().config();
        let url = target.url;
        let mut headers = config.headers().to_vec();
        headers.extend(call.headers.iter().cloned());
        if call.skip_ready_wait {
            headers.push(("x-rivet-skip-ready-wait".into(), "1".into()));
        }
        if let Some(actor_id) = target.direct_id {
            headers.push(("x-rivet-target".into(), "actor".into()));
            headers.push(("x-rivet-actor".into(), actor_id));
        }
        if let Some(params) = &self.inner.params {
            headers.push(("x-rivet-conn-params".into(), http::ascii_json(params)));
        }
        if let Some(token) = config.token() {
            headers.push(("x-rivet-token".into(), token.expose().to_owned()));
        }
        self.client()
            .http()
            .send(HttpRequest {
                method: call.method,
                url,
                headers,
                body: call.body.clone(),
                timeout: call.timeout,
                limit: call.limit,
                operation: call.operation.to_owned(),
            })
            .await
    }

    /// Repeats `attempt` while the actor is between lives, with the JS client's budgets, but
    /// only after failures that prove the request never reached the actor unless the call is
    /// idempotent (see [`retry_class`]). `call.timeout` bounds everything: every attempt, the
    /// REST lookups inside them and the pauses between them.
    async fn with_retries<F, Fut, T>(&self, call: &Call<'_>, attempt: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let retries = self.client().config().lifecycle_retries().clone();
        let stale_budget = match self.target() {
            Target::Get { .. } => retries.get_attempts,
            Target::GetOrCreate { .. } => retries.get_or_create_attempts,
            Target::Id { .. } => 1,
        };
        let repeat = async {
            let mut stale_attempts = 1;
            let mut lifecycle_attempts = 1;
            let mut lifecycle_delay = retries.lifecycle_initial_delay;
            loop {
                let err = match attempt().await {
                    Ok(value) => return Ok(value),
                    Err(err) => err,
                };
                let resolved_by_rest =
                    self.cached_id().is_some() && !matches!(self.target(), Target::Id { .. });
                let class = retry_class(&err, call.idempotent);
                if matches!(class, RetryClass::StaleActor) && resolved_by_rest {
                    // The id we looked up is gone (destroyed, or replaced): look it up again.
                    self.forget_resolved();
                }
                if matches!(class, RetryClass::StaleActor)
                    && stale_attempts < stale_budget.max(u32::from(resolved_by_rest) + 1)
                {
                    stale_attempts += 1;
                    runtime::sleep(retries.stale_delay).await;
                    continue;
                }
                if class.is_lifecycle(&err) && lifecycle_attempts < retries.lifecycle_attempts {
                    lifecycle_attempts += 1;
                    runtime::sleep(lifecycle_delay).await;
                    lifecycle_delay *= 2;
                    continue;
                }
                return Err(err);
            }
        };
        match runtime::timeout(call.timeout, repeat).await {
            Some(result) => result,
            None => Err(Error::Timeout {
                operation: call.operation.to_owned(),
                after: call.timeout,
            }),
        }
    }
}

/// One stateless request to the actor, as [`ActorHandle::with_retries`] repeats it.
struct Call<'a> {
    method: Method,
    /// Path inside the actor, e.g. `/action/increment`.
    path: &'a str,
    query: Option<&'a str>,
    body: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    /// The deadline of the whole call, retries included.
    timeout: Duration,
    limit: ResponseLimit,
    /// Whether repeating it is harmless even if the actor already ran it (`GET`, `HEAD` and
    /// `OPTIONS` raw requests; never actions or queue sends).
    idempotent: bool,
    /// Raw requests only: skip the gateway's ready wait (see
    /// [`ActorHandle::with_skip_ready_wait`]).
    skip_ready_wait: bool,
    operation: &'a str,
}

/// What a failed attempt says about repeating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RetryClass {
    /// The actor for this key does not exist yet, or is between lives: worth asking again with
    /// the handle's `get` / `get_or_create` budget.
    StaleActor,
    /// The gateway could not reach the actor, or the connection failed before anything was
    /// sent: worth repeating with the lifecycle budget.
    Lifecycle,
    /// Final: the error is the answer, or the request may already have run on the actor and
    /// the call is not idempotent.
    Final,
}

impl RetryClass {
    /// Whether a class gets the lifecycle budget: lifecycle errors, and actor-group errors
    /// once the stale budget is spent (as the JS client's `retryOnLifecycleBoundary` does).
    fn is_lifecycle(self, err: &Error) -> bool {
        match self {
            RetryClass::Lifecycle => true,
            RetryClass::StaleActor => matches!(err, Error::Unavailable(_)),
            RetryClass::Final => false,
        }
    }
}

/// Classifies a failed attempt. Non-idempotent calls (actions, queue sends, raw requests other
/// than `GET`/`HEAD`/`OPTIONS`) are repeated only after errors that prove the request never
/// reached the actor:
///
/// * a refused or failed connect (native targets; a browser's failed `fetch` does not say
///   whether the request was sent);
/// * `actor.not_found` from the gateway (no actor has the key yet);
/// * `guard.service_unavailable`, `guard.actor_ready_timeout`,
///   `guard.actor_wake_retries_exceeded`, and the gateway's routing timeouts
///   `pegboard.route_*_timeout`;
/// * `actor.starting`, `actor.restarting`, `actor.not_configured`,
///   `actor.no_runner_config_configured`, `actor.overloaded`, and `actor.stopping` /
///   `actor.destroying` when the gateway (not the actor's code) reported them.
///
/// Idempotent calls are also repeated after every other lifecycle error (e.g.
/// `guard.actor_stopped_while_waiting`, the `guard.tunnel_*` errors,
/// `guard.gateway_response_start_timeout`, `actor.stopped`, `actor.dropped_reply`) and after a
/// connection that broke in transit.
fn retry_class(err: &Error, idempotent: bool) -> RetryClass {
    if !idempotent && !never_reached_the_actor(err) {
        return RetryClass::Final;
    }
    if is_stale_actor(err) {
        RetryClass::StaleActor
    } else if is_lifecycle_boundary(err)
        || matches!(
            err,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        )
        || (idempotent
            && matches!(
                err,
                Error::Transport {
                    kind: TransportErrorKind::Io,
                    ..
                }
            ))
    {
        RetryClass::Lifecycle
    } else {
        RetryClass::Final
    }
}

/// Errors that prove the request was not delivered to the actor; see [`retry_class`].
fn never_reached_the_actor(err: &Error) -> bool {
    match err {
        Error::Transport {
            kind: TransportErrorKind::Connect,
            ..
        } => cfg!(not(target_arch = "wasm32")),
        Error::NotFound(e) => e.actor.is_none(),
        Error::Unavailable(e) => match e.group.as_str() {
            "guard" => matches!(
                e.code.as_str(),
                "service_unavailable" | "actor_ready_timeout" | "actor_wake_retries_exceeded"
            ),
            "actor" => match e.code.as_str() {
                "starting"
                | "restarting"
                | "not_configured"
                | "no_runner_config_configured"
                | "overloaded" => true,
                // From the actor's own code these can come from inside a running action.
                "stopping" | "destroying" => e.actor.is_none(),
                _ => false,
            },
            "pegboard" => e.code.starts_with("route_") && e.code.ends_with("_timeout"),
            _ => false,
        },
        _ => false,
    }
}

/// Errors that mean "the actor is not there yet, or no longer": worth asking again when the
/// handle is addressed by key. Only gateway errors count (they carry no actor): an actor's own
/// `not_found` for a missing route is final.
fn is_stale_actor(err: &Error) -> bool {
    match err {
        Error::NotFound(e) => e.actor.is_none(),
        Error::Unavailable(e) => e.group == "actor",
        _ => false,
    }
}

fn is_lifecycle_boundary(err: &Error) -> bool {
    match err {
        Error::Unavailable(e) => matches!(e.group.as_str(), "guard" | "actor" | "pegboard"),
        _ => false,
    }
}

/// Serializes user arguments straight into the wire form of `encoding`; see
/// [`ActorHandle::action`] for the spreading rules.
pub(crate) fn encode_args<A: Serialize + ?Sized>(
    action: &str,
    args: &A,
    encoding: Encoding,
) -> Result<Payload> {
    Payload::args(args, Format::of(encoding))
        .map_err(|e| Error::encode(format!("arguments of action {action}"), e))
}

/// Reads an action's output as `R`; a mismatch names the action, the actor and `R`.
pub(crate) fn decode_output<R: DeserializeOwned>(
    output: PayloadRef<'_>,
    action: &str,
    actor: &str,
) -> Result<R> {
    output.decode().map_err(|e| {
        Error::decode(
            format!("output of action {action} on {actor}"),
            format_args!("expected {}: {e}", std::any::type_name::<R>()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServerError;

    fn server(group: &str, code: &str) -> Error {
        ServerError::new(group, code, "x").into_error()
    }

    fn from_actor(group: &str, code: &str) -> Error {
        let mut err = ServerError::new(group, code, "x");
        err.actor = Some(crate::ActorSpecifier {
            actor_id: "a".into(),
            generation: 1,
            key: None,
        });
        err.into_error()
    }

    fn transport(kind: TransportErrorKind) -> Error {
        Error::Transport {
            operation: "op".into(),
            kind,
            message: String::new(),
        }
    }

    #[test]
    fn non_idempotent_calls_repeat_only_what_never_reached_the_actor() {
        let repeated = [
            server("guard", "actor_ready_timeout"),
            server("guard", "actor_wake_retries_exceeded"),
            server("guard", "service_unavailable"),
            server("pegboard", "route_resolve_query_timeout"),
            transport(TransportErrorKind::Connect),
        ];
        for err in repeated {
            assert_eq!(retry_class(&err, false), RetryClass::Lifecycle, "{err}");
        }
        for err in [
            server("actor", "not_found"),
            server("actor", "starting"),
            server("actor", "restarting"),
        ] {
            assert_eq!(retry_class(&err, false), RetryClass::StaleActor, "{err}");
        }
        let final_ = [
            server("guard", "actor_stopped_while_waiting"),
            server("guard", "tunnel_request_aborted"),
            server("guard", "tunnel_message_timeout"),
            server("guard", "tunnel_response_closed"),
            server("guard", "gateway_response_start_timeout"),
            server("guard", "request_delivery_unconfirmed"),
            server("guard", "some_future_code"),
            server("actor", "stopped"),
            server("actor", "dropped_reply"),
            from_actor("actor", "stopping"),
            from_actor("actor", "not_found"),
            transport(TransportErrorKind::Io),
            transport(TransportErrorKind::Other),
            server("user", "boom"),
        ];
        for err in final_ {
            assert_eq!(retry_class(&err, false), RetryClass::Final, "{err}");
        }
    }

    #[test]
    fn idempotent_calls_also_repeat_what_may_have_been_delivered() {
        for err in [
            server("guard", "actor_stopped_while_waiting"),
            server("guard", "tunnel_response_closed"),
            transport(TransportErrorKind::Io),
        ] {
            assert_eq!(retry_class(&err, true), RetryClass::Lifecycle, "{err}");
        }
        assert_eq!(
            retry_class(&server("actor", "stopped"), true),
            RetryClass::StaleActor
        );
        for err in [
            server("user", "boom"),
            from_actor("actor", "not_found"),
            server("guard", "query_invalid_params"),
            transport(TransportErrorKind::Tls),
        ] {
            assert_eq!(retry_class(&err, true), RetryClass::Final, "{err}");
        }
    }
}

//! Client configuration: endpoint (with `https://namespace:token@host` auth syntax),
//! namespace, token, pool, encoding, extra headers, deadlines and retry budgets.

use std::fmt;
use std::time::Duration;

use crate::{endpoint_url, Encoding, Error, Result};

/// The endpoint used when none is configured: a local RivetKit engine.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:6420";

/// The default of [`ClientConfig::max_response_size`]: 1 MiB, the largest message a RivetKit
/// server sends by default (its `maxOutgoingMessageSize`).
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 1024 * 1024;

/// The default of [`ClientConfig::max_raw_response_size`]: 16 MiB.
pub const DEFAULT_MAX_RAW_RESPONSE_SIZE: usize = 16 * 1024 * 1024;

/// A secret token. Its `Debug` and `Display` never show the value.
///
/// ```
/// let token = rivet_core::Token::new("s3cret");
/// assert_eq!(format!("{token:?}"), "Token(***)");
/// assert_eq!(token.expose(), "s3cret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How many times stateless calls are repeated while an actor is between lives, mirroring the
/// JS client (`docs/protocol.md` §7).
///
/// ```
/// let retries = rivet_core::LifecycleRetries::default();
/// assert_eq!(retries.get_attempts, 24);
/// let none = rivet_core::LifecycleRetries::none();
/// assert_eq!(none.lifecycle_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRetries {
    /// Attempts for `get` handles while the actor is not found / starting / stopping.
    pub get_attempts: u32,
    /// Attempts for `get_or_create` handles in the same situations.
    pub get_or_create_attempts: u32,
    /// Pause between those attempts.
    pub stale_delay: Duration,
    /// Attempts around every call while the gateway reports a lifecycle boundary
    /// (`guard.actor_wake_retries_exceeded`, `actor.restarting`, …).
    pub lifecycle_attempts: u32,
    /// First pause between lifecycle attempts; doubles each time.
    pub lifecycle_initial_delay: Duration,
}

impl Default for LifecycleRetries {
    fn default() -> Self {
        Self {
            get_attempts: 24,
            get_or_create_attempts: 60,
            stale_delay: Duration::from_millis(100),
            lifecycle_attempts: 5,
            lifecycle_initial_delay: Duration::from_millis(25),
        }
    }
}

impl LifecycleRetries {
    /// Never repeat a call: every error is returned at once.
    pub fn none() -> Self {
        Self {
            get_attempts: 1,
            get_or_create_attempts: 1,
            stale_delay: Duration::ZERO,
            lifecycle_attempts: 1,
            lifecycle_initial_delay: Duration::ZERO,
        }
    }
}

/// Everything a [`Client`](crate::Client) needs to reach a RivetKit engine.
///
/// ```
/// use rivet_core::{ClientConfig, Encoding};
///
/// let config = ClientConfig::builder()
///     .endpoint("https://my-ns:my-token@api.example.com")
///     .encoding(Encoding::Json)
///     .build()?;
/// assert_eq!(config.endpoint(), "https://api.example.com");
/// assert_eq!(config.namespace(), "my-ns");
/// assert_eq!(config.token().map(|t| t.expose()), Some("my-token"));
/// assert!(!format!("{config:?}").contains("my-token"));
/// # Ok::<(), rivet_core::Error>(())
/// ```
///
/// Its `Debug` shows no token and only the names of the extra [`headers`](Self::headers)
/// (they often carry credentials).
#[derive(Clone)]
pub struct ClientConfig {
    endpoint: String,
    namespace: String,
    token: Option<Token>,
    pool: String,
    encoding: Encoding,
    headers: Vec<(String, String)>,
    request_timeout: Duration,
    max_query_input_size: usize,
    lifecycle_retries: LifecycleRetries,
    root_certificates: Vec<Vec<u8>>,
    platform_root_certificates: bool,
    max_response_size: usize,
    max_raw_response_size: usize,
    metadata_lookup: bool,
    #[cfg(feature = "test-transport")]
    test_transport: Option<std::sync::Arc<dyn crate::test_transport::Transport>>,
}

impl ClientConfig {
    /// A config for `endpoint` with every other setting at its default.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::new("http://127.0.0.1:6420")?;
    /// assert_eq!(config.namespace(), "default");
    /// assert!(rivet_core::ClientConfig::new("not a url").is_err());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn new(endpoint: impl AsRef<str>) -> Result<Self> {
        Self::builder().endpoint(endpoint.as_ref()).build()
    }

    /// A config from the environment, as the JS client reads it: `RIVET_ENGINE` or
    /// `RIVET_ENDPOINT`, `RIVET_TOKEN`, `RIVET_NAMESPACE`, `RIVET_POOL` (or its older name
    /// `RIVET_RUNNER`); the defaults for
    /// whatever is unset. See [`ClientConfigBuilder::env`] for the precedence.
    pub fn from_env() -> Result<Self> {
        Self::builder().env().build()
    }

    /// Starts a builder with every setting unset.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder::default()
    }

    /// The endpoint, without auth, query or trailing slash, e.g. `http://127.0.0.1:6420`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The namespace (default `default`).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The token, if any.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// The runner pool actors are created in (default `default`).
    pub fn pool(&self) -> &str {
        &self.pool
    }

    /// The wire encoding (default [`Encoding::Bare`], or the first compiled-in one of `cbor`,
    /// `json` in a build without the `bare` feature).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Extra headers sent on every HTTP request.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The deadline of one HTTP request (default 60 s, the JS client's action timeout).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The largest create input (CBOR bytes) sent in a gateway URL; larger inputs are sent
    /// through the REST API instead (default 4096).
    pub fn max_query_input_size(&self) -> usize {
        self.max_query_input_size
    }

    /// Retry budgets for actors between lives.
    pub fn lifecycle_retries(&self) -> &LifecycleRetries {
        &self.lifecycle_retries
    }

    /// The root certificates (DER) trusted in addition to, or instead of, the platform's;
    /// see [`ClientConfigBuilder::add_root_certificate`].
    pub fn root_certificates(&self) -> &[Vec<u8>] {
        &self.root_certificates
    }

    /// Whether the platform's trust store is used (default `true`); see
    /// [`ClientConfigBuilder::platform_root_certificates`].
    pub fn platform_root_certificates(&self) -> bool {
        self.platform_root_certificates
    }

    /// The largest protocol message accepted from the server, in bytes: the body of an action,
    /// queue or REST response, and one message on an actor connection (default
    /// [`DEFAULT_MAX_RESPONSE_SIZE`], 1 MiB, matching the server's own outgoing limit). A
    /// larger one fails with [`Error::TooLarge`] as soon as the limit is passed, before the rest
    /// is read or anything is decoded.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::new("http://127.0.0.1:6420")?;
    /// assert_eq!(config.max_response_size(), 1024 * 1024);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn max_response_size(&self) -> usize {
        self.max_response_size
    }

    /// The largest body of a raw [`fetch`](crate::ActorHandle::fetch) response and the largest
    /// message on a raw [`web_socket`](crate::ActorHandle::web_socket), in bytes (default
    /// [`DEFAULT_MAX_RAW_RESPONSE_SIZE`], 16 MiB). Raw handlers are the actor's own code, so
    /// this limit is separate from [`max_response_size`](Self::max_response_size);
    /// [`RawRequest::max_response_size`](crate::RawRequest::max_response_size) overrides it
    /// per request.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::builder()
    ///     .max_raw_response_size(64 * 1024 * 1024)
    ///     .build()?;
    /// assert_eq!(config.max_raw_response_size(), 64 * 1024 * 1024);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn max_raw_response_size(&self) -> usize {
        self.max_raw_response_size
    }

    /// Whether the client asks the endpoint for `GET /metadata` before its first request
    /// (default: on, as the JS client does); see [`ClientConfigBuilder::metadata_lookup`].
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::new("http://127.0.0.1:6420")?;
    /// assert!(config.metadata_lookup());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn metadata_lookup(&self) -> bool {
        self.metadata_lookup
    }

    /// The in-memory transport requests and WebSockets go through instead of the network, if
    /// one was set with [`ClientConfigBuilder::test_transport`] (feature `test-transport`).
    #[cfg(feature = "test-transport")]
    pub fn test_transport(&self) -> Option<&std::sync::Arc<dyn crate::test_transport::Transport>> {
        self.test_transport.as_ref()
    }

    /// This config with the endpoint, and when given the namespace and token, the metadata
    /// reply pointed the client to. A namespace or token in `endpoint`'s user info wins.
    pub(crate) fn switched(
        &self,
        endpoint: &str,
        namespace: Option<&str>,
        token: Option<&str>,
    ) -> Result<ClientConfig> {
        let parsed = parse_endpoint(endpoint).map_err(|err| match err {
            Error::InvalidInput {
                field: _,
                value,
                reason,
            } => Error::InvalidInput {
                field: "clientEndpoint",
                value,
                reason: format!(
                    "{reason}; the endpoint's `GET /metadata` answered it: fix the server's \
                     client endpoint or turn the lookup off with metadata_lookup(false)"
                ),
            },
            err => err,
        })?;
        let mut config = self.clone();
        config.endpoint = parsed.endpoint;
        if let Some(namespace) = parsed.namespace.or(namespace.map(str::to_owned)) {
            if namespace.is_empty() {
                return Err(Error::invalid(
                    "clientNamespace",
                    namespace,
                    "must not be empty; the endpoint's `GET /metadata` answered it",
                ));
            }
            config.namespace = namespace;
        }
        if let Some(token) = parsed.token.or(token.map(Token::new)) {
            config.token = Some(token);
        }
        Ok(config)
    }
}

/// Builds a [`ClientConfig`], validating everything in [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// let config = rivet_core::ClientConfig::builder()
///     .endpoint("http://127.0.0.1:6420")
///     .namespace("staging")
///     .token("t0k3n")
///     .header("x-app", "demo")
///     .request_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(config.namespace(), "staging");
/// # Ok::<(), rivet_core::Error>(())
/// ```
///
/// Its `Debug` shows the endpoint with any token in it replaced by `***`, and only the names
/// of the extra headers.
#[derive(Clone, Default)]
pub struct ClientConfigBuilder {
    endpoint: Option<String>,
    namespace: Option<String>,
    token: Option<Token>,
    pool: Option<String>,
    encoding: Option<Encoding>,
    headers: Vec<(String, String)>,
    request_timeout: Option<Duration>,
    max_query_input_size: Option<usize>,
    lifecycle_retries: Option<LifecycleRetries>,
    root_certificates: Vec<Vec<u8>>,
    platform_root_certificates: Option<bool>,
    max_response_size: Option<usize>,
    max_raw_response_size: Option<usize>,
    metadata_lookup: Option<bool>,
    #[cfg(feature = "test-transport")]
    test_transport: Option<std::sync::Arc<dyn crate::test_transport::Transport>>,
    /// The environment variables the endpoint, namespace and token were read from, if they
    /// were, so errors can name them.
    from_env: EnvSources,
}

#[derive(Debug, Clone, Copy, Default)]
struct EnvSources {
    endpoint: Option<&'static str>,
    namespace: Option<&'static str>,
    token: Option<&'static str>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint)
            .field("namespace", &self.namespace)
            .field("token", &self.token)
            .field("pool", &self.pool)
            .field("encoding", &self.encoding)
            .field("headers", &HeaderNames(&self.headers))
            .field("request_timeout", &self.request_timeout)
            .field("max_query_input_size", &self.max_query_input_size)
            .field("lifecycle_retries", &self.lifecycle_retries)
            .field("root_certificates", &self.root_certificates.len())
            .field(
                "platform_root_certificates",
                &self.platform_root_certificates,
            )
            .field("max_response_size", &self.max_response_size)
            .field("max_raw_response_size", &self.max_raw_response_size)
            .field("metadata_lookup", &self.metadata_lookup)
            .finish()
    }
}

impl fmt::Debug for ClientConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("endpoint", &self.endpoint.as_deref().map(redact))
            .field("namespace", &self.namespace)
            .field("token", &self.token)
            .field("pool", &self.pool)
            .field("encoding", &self.encoding)
            .field("headers", &HeaderNames(&self.headers))
            .field("request_timeout", &self.request_timeout)
            .field("max_query_input_size", &self.max_query_input_size)
            .field("lifecycle_retries", &self.lifecycle_retries)
            .field("root_certificates", &self.root_certificates.len())
            .field(
                "platform_root_certificates",
                &self.platform_root_certificates,
            )
            .field("max_response_size", &self.max_response_size)
            .field("max_raw_response_size", &self.max_raw_response_size)
            .field("metadata_lookup", &self.metadata_lookup)
            .finish()
    }
}

/// Prints header names with `***` for every value.
struct HeaderNames<'a>(&'a [(String, String)]);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, _)| (name, "***")))
            .finish()
    }
}

impl ClientConfigBuilder {
    /// The engine endpoint. `https://namespace:token@host` and `https://namespace@host` set
    /// the namespace and token too.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self.from_env.endpoint = None;
        self
    }

    /// The namespace. Setting it here and in the endpoint URL is an error.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self.from_env.namespace = None;
        self
    }

    /// The token. Setting it here and in the endpoint URL is an error.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self.from_env.token = None;
        self
    }

    /// The runner pool for created actors.
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = Some(pool.into());
        self
    }

    /// The wire encoding. [`build`](Self::build) fails with [`Error::InvalidInput`] (field
    /// `"encoding"`) for one whose cargo feature is off (see [`Encoding::is_compiled`]).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// An extra header for every HTTP request (not WebSockets: browsers cannot set those).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The deadline of one HTTP request.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The largest create input sent in a gateway URL.
    pub fn max_query_input_size(mut self, bytes: usize) -> Self {
        self.max_query_input_size = Some(bytes);
        self
    }

    /// Retry budgets for actors between lives.
    pub fn lifecycle_retries(mut self, retries: LifecycleRetries) -> Self {
        self.lifecycle_retries = Some(retries);
        self
    }

    /// Trusts `certificate` as a root for `https`/`wss` endpoints, in addition to the
    /// platform's trust store: a corporate CA, or the CA of a self-signed staging engine.
    /// `certificate` is PEM text (`-----BEGIN CERTIFICATE-----`, several certificates in one
    /// bundle are fine) or the DER bytes of one certificate. Call it once per file.
    ///
    /// The same roots are used for HTTP requests and WebSockets (both go through one TLS
    /// setup). Bad input fails [`build`](Self::build) with [`Error::InvalidInput`] for
    /// `root_certificate`.
    ///
    /// In the browser (wasm32) this setting is ignored: the browser verifies certificates
    /// against its own trust store, so a private CA has to be installed there (OS or browser
    /// settings).
    ///
    /// ```no_run
    /// let pem = std::fs::read("staging-ca.pem").expect("CA file");
    /// let config = rivet_core::ClientConfig::builder()
    ///     .endpoint("https://my-ns:my-token@rivet.staging.internal")
    ///     .add_root_certificate(pem)
    ///     .build()?;
    /// assert_eq!(config.root_certificates().len(), 1);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn add_root_certificate(mut self, certificate: impl AsRef<[u8]>) -> Self {
        self.root_certificates.push(certificate.as_ref().to_vec());
        self
    }

    /// Whether the platform's trust store is used (default `true`): on native targets the
    /// operating system's certificates through `rustls-platform-verifier` (on Linux the
    /// system bundle, which `SSL_CERT_FILE` / `SSL_CERT_DIR` can replace). `false` trusts
    /// only the certificates given to [`add_root_certificate`](Self::add_root_certificate)
    /// (pinning a private CA); [`build`](Self::build) then requires at least one. Ignored in
    /// the browser.
    ///
    /// ```
    /// let err = rivet_core::ClientConfig::builder()
    ///     .platform_root_certificates(false)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, rivet_core::Error::InvalidInput { field: "root_certificate", .. }));
    /// ```
    pub fn platform_root_certificates(mut self, enabled: bool) -> Self {
        self.platform_root_certificates = Some(enabled);
        self
    }

    /// The largest protocol message accepted from the server; see
    /// [`ClientConfig::max_response_size`]. Raise it together with the server's
    /// `maxOutgoingMessageSize`.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::builder()
    ///     .max_response_size(4 * 1024 * 1024)
    ///     .build()?;
    /// assert_eq!(config.max_response_size(), 4 * 1024 * 1024);
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = Some(bytes);
        self
    }

    /// The largest raw response body or raw WebSocket message; see
    /// [`ClientConfig::max_raw_response_size`].
    pub fn max_raw_response_size(mut self, bytes: usize) -> Self {
        self.max_raw_response_size = Some(bytes);
        self
    }

    /// Whether to ask the endpoint for `GET {endpoint}/metadata` once, before the client's
    /// first request (default: `true`, as the JS client; its `disableMetadataLookup` is
    /// `metadata_lookup(false)`).
    ///
    /// Serverless deployments answer it with `clientEndpoint` (and `clientNamespace`,
    /// `clientToken`): the endpoint clients should really talk to. The client then sends every
    /// request there, with that namespace and token. A `404` or a reply that is not JSON means
    /// "no metadata" (older servers) and the configured endpoint is kept. The lookup happens
    /// once per [`Client`](crate::Client) (its clones share it; concurrent first calls wait
    /// for the same lookup), within the deadline of the call that triggered it, and is
    /// repeated with backoff after transport errors and `5xx` answers. Turn it off to save the
    /// round trip when you know the endpoint serves clients itself.
    ///
    /// ```
    /// let config = rivet_core::ClientConfig::builder()
    ///     .endpoint("https://rivet.example.com")
    ///     .metadata_lookup(false)
    ///     .build()?;
    /// assert!(!config.metadata_lookup());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn metadata_lookup(mut self, enabled: bool) -> Self {
        self.metadata_lookup = Some(enabled);
        self
    }

    /// Fills every setting still unset from the environment, as the JS client reads it. Does
    /// nothing in the browser.
    ///
    /// Precedence, highest first:
    /// 1. a setting given to the builder (before or after this call);
    /// 2. the endpoint: `RIVET_ENGINE`, then `RIVET_ENDPOINT`; the token: `RIVET_TOKEN`; the
    ///    namespace: `RIVET_NAMESPACE`; the pool: `RIVET_POOL`, then `RIVET_RUNNER` (its older
    ///    name);
    /// 3. the defaults (`http://localhost:6420`, namespace `default`, no token, pool
    ///    `default`).
    ///
    /// An empty variable counts as unset. A namespace or token in the endpoint's user info
    /// (`https://ns:token@host`), wherever the endpoint came from, is used as given; the same
    /// value also set by name (in code or by `RIVET_NAMESPACE` / `RIVET_TOKEN`) is an error,
    /// as in the JS client, and the error names the variable.
    ///
    /// ```
    /// // With RIVET_ENDPOINT=https://api.example.com set, this keeps the local endpoint:
    /// let config = rivet_core::ClientConfig::builder()
    ///     .endpoint("http://127.0.0.1:6420")
    ///     .env()
    ///     .build()?;
    /// assert_eq!(config.endpoint(), "http://127.0.0.1:6420");
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    pub fn env(mut self) -> Self {
        let read = |name: &'static str| -> Option<(String, &'static str)> {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (v, name))
        };
        if self.endpoint.is_none() {
            if let Some((endpoint, var)) = read("RIVET_ENGINE").or_else(|| read("RIVET_ENDPOINT")) {
                self.endpoint = Some(endpoint);
                self.from_env.endpoint = Some(var);
            }
        }
        if self.token.is_none() {
            if let Some((token, var)) = read("RIVET_TOKEN") {
                self.token = Some(Token::new(token));
                self.from_env.token = Some(var);
            }
        }
        if self.namespace.is_none() {
            if let Some((namespace, var)) = read("RIVET_NAMESPACE") {
                self.namespace = Some(namespace);
                self.from_env.namespace = Some(var);
            }
        }
        if self.pool.is_none() {
            // `RIVET_RUNNER` is the older name (seeds before 2.3.19); `RIVET_POOL` wins.
            self.pool = read("RIVET_POOL")
                .or_else(|| read("RIVET_RUNNER"))
                .map(|(pool, _)| pool);
        }
        self
    }

    /// **For tests only** (feature `test-transport`): every HTTP request and WebSocket of the
    /// client goes to `transport`, e.g. a fake server in memory, instead of the network. The
    /// endpoint is still parsed and used to build URLs (any `http://` URL does). See
    /// [`test_transport`](crate::test_transport).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use rivet_core::runtime::BoxFuture;
    /// # use rivet_core::test_transport::{Connect, Failure, Request, Response, Socket, Transport};
    /// # struct Offline;
    /// # impl Transport for Offline {
    /// #     fn request(&self, _: Request) -> BoxFuture<'static, Result<Response, Failure>> {
    /// #         Box::pin(async { Err(Failure::connect("offline")) })
    /// #     }
    /// #     fn connect(&self, _: Connect) -> BoxFuture<'static, Result<Socket, Failure>> {
    /// #         Box::pin(async { Err(Failure::connect("offline")) })
    /// #     }
    /// # }
    /// let config = rivet_core::ClientConfig::builder()
    ///     .endpoint("http://in-memory.invalid")
    ///     .test_transport(Arc::new(Offline))
    ///     .build()?;
    /// assert!(config.test_transport().is_some());
    /// # Ok::<(), rivet_core::Error>(())
    /// ```
    #[cfg(feature = "test-transport")]
    pub fn test_transport(
        mut self,
        transport: std::sync::Arc<dyn crate::test_transport::Transport>,
    ) -> Self {
        self.test_transport = Some(transport);
        self
    }

    /// Validates the settings and builds the config.
    pub fn build(self) -> Result<ClientConfig> {
        let raw = self.endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let parsed = parse_endpoint(&raw).map_err(|err| match (err, self.from_env.endpoint) {
            (
                Error::InvalidInput {
                    field,
                    value,
                    reason,
                },
                Some(var),
            ) => Error::InvalidInput {
                field,
                value,
                reason: format!("{reason} (read from {var})"),
            },
            (err, _) => err,
        })?;
        let elsewhere = |var: Option<&str>| match var {
            Some(var) => format!("in {var}"),
            None => "as a setting".to_owned(),
        };
        if parsed.namespace.is_some() && self.namespace.is_some() {
            return Err(Error::invalid(
                "namespace",
                self.namespace.unwrap_or_default(),
                format!(
                    "the namespace is given both in the endpoint URL and {}; give it once",
                    elsewhere(self.from_env.namespace)
                ),
            ));
        }
        if parsed.token.is_some() && self.token.is_some() {
            return Err(Error::invalid(
                "token",
                "***",
                format!(
                    "the token is given both in the endpoint URL and {}; give it once",
                    elsewhere(self.from_env.token)
                ),
            ));
        }
        let namespace = parsed
            .namespace
            .or(self.namespace)
            .unwrap_or_else(|| "default".to_owned());
        if namespace.is_empty() {
            return Err(Error::invalid("namespace", namespace, "must not be empty"));
        }
        let pool = self.pool.unwrap_or_else(|| "default".to_owned());
        if pool.is_empty() {
            return Err(Error::invalid("pool", pool, "must not be empty"));
        }
        for (name, value) in &self.headers {
            validate_header(name, value)?;
        }
        let request_timeout = self.request_timeout.unwrap_or(Duration::from_secs(60));
        if request_timeout.is_zero() {
            return Err(Error::invalid(
                "request_timeout",
                "0s",
                "must be longer than zero",
            ));
        }
        let mut root_certificates = Vec::new();
        for (index, raw) in self.root_certificates.iter().enumerate() {
            root_certificates.extend(crate::tls::parse_root_certificate(index, raw)?);
        }
        let platform_root_certificates = self.platform_root_certificates.unwrap_or(true);
        if !platform_root_certificates && root_certificates.is_empty() {
            return Err(Error::invalid(
                "root_certificate",
                "none",
                "the platform's trust store is off and no root certificate was added, so no \
                 server could be trusted; add one with add_root_certificate or leave \
                 platform_root_certificates on",
            ));
        }
        let max_response_size = self.max_response_size.unwrap_or(DEFAULT_MAX_RESPONSE_SIZE);
        let max_raw_response_size = self
            .max_raw_response_size
            .unwrap_or(DEFAULT_MAX_RAW_RESPONSE_SIZE);
        for (field, value) in [
            ("max_response_size", max_response_size),
            ("max_raw_response_size", max_raw_response_size),
        ] {
            if value == 0 {
                return Err(Error::invalid(field, "0", "must be at least one byte"));
            }
        }
        Ok(ClientConfig {
            endpoint: parsed.endpoint,
            namespace,
            token: parsed.token.or(self.token),
            pool,
            encoding: self.encoding.unwrap_or_default().require()?,
            headers: self.headers,
            request_timeout,
            max_query_input_size: self.max_query_input_size.unwrap_or(4096),
            lifecycle_retries: self.lifecycle_retries.unwrap_or_default(),
            root_certificates,
            platform_root_certificates,
            max_response_size,
            max_raw_response_size,
            metadata_lookup: self.metadata_lookup.unwrap_or(true),
            #[cfg(feature = "test-transport")]
            test_transport: self.test_transport,
        })
    }
}

struct ParsedEndpoint {
    endpoint: String,
    namespace: Option<String>,
    token: Option<Token>,
}

/// Applies the JS client's rules: a valid http(s) URL, no query, no fragment, no token
/// without a namespace.
fn parse_endpoint(raw: &str) -> Result<ParsedEndpoint> {
    let url = endpoint_url::parse(raw).map_err(|e| {
        // Some parsers quote the input (Firefox: "URL constructor: … is not a valid URL").
        let e = e.replace(raw, &redact(raw));
        Error::invalid(
            "endpoint",
            redact(raw),
            format!("not a valid URL ({e}); expected e.g. http://127.0.0.1:6420"),
        )
    })?;
    if !matches!(url.scheme.as_str(), "http" | "https") {
        return Err(Error::invalid(
            "endpoint",
            redact(raw),
            "the scheme must be http or https (WebSocket URLs are derived from it)",
        ));
    }
    if url.has_query {
        return Err(Error::invalid(
            "endpoint",
            redact(raw),
            "must not contain a query string",
        ));
    }
    if url.has_fragment {
        return Err(Error::invalid(
            "endpoint",
            redact(raw),
            "must not contain a fragment",
        ));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let namespace = Some(url.username.as_str())
        .filter(|u| !u.is_empty())
        .map(decode);
    let token = Some(url.password.as_str())
        .filter(|t| !t.is_empty())
        .map(decode);
    if token.is_some() && namespace.is_none() {
        return Err(Error::invalid(
            "endpoint",
            redact(raw),
            "has a token without a namespace; write https://namespace:token@host",
        ));
    }
    let endpoint = url.without_credentials.trim_end_matches('/').to_owned();
    Ok(ParsedEndpoint {
        endpoint,
        namespace,
        token: token.map(Token::new),
    })
}

/// Hides every credential in a URL-ish string, so errors and `Debug` never carry a token.
///
/// Works on the text as written, parseable or not, because the strings that need it most
/// are the ones the URL parser rejects (`ns:TOKEN@host`, `//ns:TOKEN@host`,
/// `http:ns:TOKEN@host:99999`). Everything before the last `@` after the scheme is user
/// info: its first `:`-separated part (the namespace) stays, the rest becomes `***`; without
/// a `:` all of it does. Values of query parameters whose name ends in `token`
/// (`rvt-token=…`) become `***` too.
pub(crate) fn redact(raw: &str) -> String {
    let authority_start = scheme_and_slashes_len(raw);
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..authority_start]);
    let rest = &raw[authority_start..];
    let rest = match rest.rfind('@') {
        Some(at) => {
            if let Some(colon) = rest[..at].find(':') {
                out.push_str(&rest[..colon + 1]);
            }
            out.push_str("***");
            &rest[at..]
        }
        None => rest,
    };
    out.push_str(&redact_token_params(rest));
    out
}

/// The length of a leading scheme (`http:`, `HTTPS:`, `foo:` when slashes follow) and the
/// `/` or `\` after it; 0 when there is none. `ns:` followed by no slash is not a scheme
/// here: in `ns:TOKEN@host` it is the namespace.
fn scheme_and_slashes_len(raw: &str) -> usize {
    let scheme_len = raw
        .find(':')
        .filter(|&colon| {
            let scheme = &raw[..colon];
            let well_formed = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            let special = ["http", "https", "ws", "wss"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme));
            let slash_follows = raw[colon + 1..].starts_with(['/', '\\']);
            well_formed && (special || slash_follows)
        })
        .map_or(0, |colon| colon + 1);
    let slashes = raw[scheme_len..]
        .chars()
        .take_while(|c| matches!(c, '/' | '\\'))
        .count();
    scheme_len + slashes
}

/// Replaces the value of every `…token=` query parameter with `***`.
fn redact_token_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let name_start = rest[..eq].rfind(['?', '&', ';']).map_or(0, |i| i + 1);
        let is_token = rest[name_start..eq].to_ascii_lowercase().ends_with("token");
        out.push_str(&rest[..eq + 1]);
        rest = &rest[eq + 1..];
        if is_token {
            let value_end = rest.find(['&', '#', ';']).unwrap_or(rest.len());
            out.push_str("***");
            rest = &rest[value_end..];
        }
    }
    out.push_str(rest);
    out
}

fn validate_header(name: &str, value: &str) -> Result<()> {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token_char) {
        return Err(Error::invalid(
            "header name",
            name,
            "must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
        ));
    }
    if value
        .chars()
        .any(|c| c == '\r' || c == '\n' || c == '\0' || !c.is_ascii())
    {
        return Err(Error::invalid(
            "header value",
            // Header values are often credentials: name the header, never quote the value.
            format!("{name}: ***"),
            "must be ASCII without line breaks (browsers only send Latin-1 header values)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_js_client() {
        let c = ClientConfig::builder().build().unwrap();
        assert_eq!(c.endpoint(), "http://localhost:6420");
        assert_eq!(c.namespace(), "default");
        assert_eq!(c.pool(), "default");
        if cfg!(feature = "bare") {
            assert_eq!(c.encoding(), Encoding::Bare);
        }
        assert!(c.encoding().is_compiled());
        assert!(c.token().is_none());
    }

    /// Meaningful in a build without some encoding, e.g.
    /// `cargo test -p rivet-core --lib --no-default-features --features json compiled_out`.
    #[test]
    fn an_encoding_compiled_out_is_an_invalid_input_naming_its_feature() {
        use crate::protocol::{encode_http_action_request, encode_to_server, ToServer};
        let msg = ToServer::SubscriptionRequest {
            event_name: "e".into(),
            subscribe: true,
        };
        for encoding in Encoding::ALL {
            let built = ClientConfig::builder().encoding(encoding).build();
            let encoded = encode_to_server(&msg, encoding);
            let http = encode_http_action_request(&serde_json::json!([1]), encoding);
            if encoding.is_compiled() {
                assert_eq!(built.unwrap().encoding(), encoding);
                assert!(encoded.is_ok() && http.is_ok());
                continue;
            }
            for err in [
                built.map(|_| ()).unwrap_err(),
                encoded.unwrap_err(),
                http.unwrap_err(),
            ] {
                let Error::InvalidInput {
                    field,
                    value,
                    reason,
                } = &err
                else {
                    panic!("expected InvalidInput, got {err:?}");
                };
                assert_eq!((*field, value.as_str()), ("encoding", encoding.as_str()));
                assert!(
                    reason.contains(&format!("feature `{}`", encoding.as_str())),
                    "{reason}"
                );
            }
        }
    }

    #[test]
    fn url_auth_sets_namespace_and_token_and_is_stripped() {
        let c = ClientConfig::new("https://ns%20x:tok%2Fen@api.example.com/base/").unwrap();
        assert_eq!(c.endpoint(), "https://api.example.com/base");
        assert_eq!(c.namespace(), "ns x");
        assert_eq!(c.token().unwrap().expose(), "tok/en");
        let c = ClientConfig::new("https://only-ns@api.example.com").unwrap();
        assert_eq!(c.namespace(), "only-ns");
        assert!(c.token().is_none());
    }

    #[test]
    fn rejects_what_the_js_client_rejects() {
        for bad in [
            "nope",
            "http://h/?",
            "http://h/?q=1",
            "http://h/#frag",
            "https://:tok@h",
            "ws://h",
        ] {
            let err = ClientConfig::new(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        field: "endpoint",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
        let err = ClientConfig::builder()
            .endpoint("https://ns@h")
            .namespace("other")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidInput {
                field: "namespace",
                ..
            }
        ));
        let err = ClientConfig::builder()
            .endpoint("https://ns:t@h")
            .token("x")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { field: "token", .. }));
    }

    #[test]
    fn tokens_never_appear_in_debug_or_errors() {
        let c = ClientConfig::new("https://ns:hunter2@h").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = ClientConfig::new("https://:hunter2@h").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = ClientConfig::new("https://ns:hunter2@h/?q").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("https://ns:***@h/?q"), "{err}");
        let err = ClientConfig::new("https://ns:hunter2@h@/ bad").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn response_size_limits_default_to_the_protocols_and_refuse_zero() {
        let c = ClientConfig::builder().build().unwrap();
        assert_eq!(c.max_response_size(), 1_048_576);
        assert_eq!(c.max_raw_response_size(), 16 * 1_048_576);
        let err = ClientConfig::builder()
            .max_response_size(0)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "max_response_size",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn endpoint_errors_hide_tokens_written_without_scheme_slashes() {
        for bad in [
            "ns:TOKEN-1@127.0.0.1:6420",
            "//ns:TOKEN-1@127.0.0.1:6420",
            "http:ns:TOKEN-1@127.0.0.1:99999",
            "http:/ns:TOKEN-1@127.0.0.1?x",
            "https:\\\\ns:TOKEN-1@h/#frag",
            "HTTP://ns:TOKEN-1@h?q",
            "ftp://ns:TOKEN-1@h",
            "ws://ns:TOKEN-1@h",
            "ns:TOKEN-1@h@other/ bad",
            "http://ns:TOK/EN-1@h?x",
            ":TOKEN-1@h",
            "TOKEN-1@h:99999",
            "http://h/?rvt-token=TOKEN-1",
            "http://h/?a=1&rvt-token=TOKEN-1#f",
            "http://h:99999/?RVT-TOKEN=TOKEN-1&b=2",
        ] {
            let err = ClientConfig::new(bad).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        field: "endpoint",
                        ..
                    }
                ),
                "{bad}: {text}"
            );
            assert!(!text.contains("TOKEN-1"), "{bad}: {text}");
            assert!(!text.contains("EN-1"), "{bad}: {text}");
            assert!(text.contains("***"), "{bad}: {text}");
        }
        let err = ClientConfig::new("http:ns:TOKEN-1@127.0.0.1:99999").unwrap_err();
        assert!(
            err.to_string().contains("http:ns:***@127.0.0.1:99999"),
            "{err}"
        );
        assert!(err.to_string().contains("expected e.g. http://"), "{err}");
    }

    #[test]
    fn redact_keeps_what_is_not_a_credential() {
        assert_eq!(redact("http://h:1/p?q=1"), "http://h:1/p?q=1");
        assert_eq!(redact("ns:t@h"), "ns:***@h");
        assert_eq!(redact("https://ns@h"), "https://***@h");
        assert_eq!(redact("x?access_token=a&b=c"), "x?access_token=***&b=c");
    }

    #[test]
    fn builder_and_config_debug_hide_tokens_and_header_values() {
        let builder = ClientConfig::builder()
            .endpoint("https://ns:TOKEN-2@h")
            .header("authorization", "Bearer TOKEN-3");
        let config = builder.clone().build().unwrap();
        for text in [
            format!("{builder:?}"),
            format!("{builder:#?}"),
            format!("{config:?}"),
            format!("{config:#?}"),
        ] {
            assert!(!text.contains("TOKEN-"), "{text}");
            assert!(text.contains("authorization"), "{text}");
        }
        let err = ClientConfig::builder()
            .header("authorization", "Bearer TOKEN-4\n")
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("TOKEN-4"), "{err}");
        assert!(err.to_string().contains("authorization"), "{err}");
    }

    #[test]
    fn bad_headers_are_rejected_with_the_header_named() {
        let err = ClientConfig::builder()
            .header("x-ok", "caf\u{e9}")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("x-ok"), "{err}");
        assert!(ClientConfig::builder()
            .header("bad name", "v")
            .build()
            .is_err());
    }
}

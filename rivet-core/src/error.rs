//! The one error type of the crate.
//!
//! Every fallible call returns [`Error`]. It is `Clone + Send + Sync` (hooks keep it in
//! signals), identical on every target, and never exposes reqwest, tungstenite or JS types.
//! Ask it questions ([`Error::is_retryable`], [`Error::server`], [`Error::code`]) instead of
//! parsing its message.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::ActorSpecifier;

/// Everything that can go wrong when talking to a RivetKit server.
///
/// ```
/// use rivet_core::Error;
///
/// fn explain(err: &Error) -> String {
///     match err {
///         Error::NotFound(e) => format!("no such actor: {}", e.message),
///         Error::Actor(e) if e.group == "user" => format!("the actor said no: {}", e.code),
///         other if other.is_retryable() => format!("try again later: {other}"),
///         other => other.to_string(),
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value or an argument is invalid. Nothing was sent.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidInput {
        /// Which setting or argument (e.g. `"endpoint"`, `"key"`).
        field: &'static str,
        /// The offending value, with secrets removed.
        value: String,
        /// What is wrong and what to do instead.
        reason: String,
    },

    /// The request never got an answer from the server: refused connection, DNS, TLS, reset.
    #[error("{operation}: {kind} error: {message}")]
    Transport {
        /// What was being done, e.g. `"POST /gateway/counter/action/increment"`.
        operation: String,
        /// The class of failure.
        kind: TransportErrorKind,
        /// Details from the underlying transport.
        message: String,
    },

    /// The server answered with an HTTP status but no RivetKit error body.
    #[error("{operation}: HTTP {status}: {body}")]
    Http {
        /// What was being done.
        operation: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, for diagnosis.
        body: String,
    },

    /// The server answered with a redirect that was not followed: one to another origin on
    /// native targets, any redirect in the browser (which hides where it goes). Requests carry
    /// the token and the connection params, which must never reach another origin: use the
    /// URL the redirect points at as the endpoint instead.
    ///
    /// ```
    /// let err = rivet_core::Error::Redirected {
    ///     operation: "action increment on counter".into(),
    ///     status: 307,
    ///     location: "https://elsewhere.example".into(),
    /// };
    /// assert!(err.to_string().contains("not followed"));
    /// assert!(!err.is_retryable());
    /// ```
    #[error(
        "{operation}: the server redirected (HTTP {status}) to {location}; the redirect was not \
         followed because requests carry credentials (token, connection params) that only go to \
         the endpoint's own origin: use the final URL as the endpoint"
    )]
    Redirected {
        /// What was being done.
        operation: String,
        /// The redirect's status (301, 302, 303, 307, 308); 0 in the browser, which hides it.
        status: u16,
        /// Where it pointed: only the origin (`https://host:port`), because the rest of the
        /// URL may echo the token; `another location` in the browser.
        location: String,
    },

    /// The actor (or the route inside it) does not exist: `actor.not_found`.
    #[error("actor not found: {0}")]
    NotFound(Box<ServerError>),

    /// The actor refused the connection: `onBeforeConnect` threw, `auth.forbidden`, or a
    /// subscription was refused. Retrying with the same parameters will fail again.
    #[error("connection rejected: {0}")]
    Rejected(Box<ServerError>),

    /// The actor is starting, stopping, sleeping or unreachable through the gateway
    /// (`guard.*`, `actor.stopped`, wake retries exceeded). Usually transient.
    #[error("actor unavailable: {0}")]
    Unavailable(Box<ServerError>),

    /// Any other structured error from the actor or the engine, e.g. an action that threw a
    /// `UserError` (`group == "user"`), an unknown action, or a message that was too large.
    #[error("{0}")]
    Actor(Box<ServerError>),

    /// An operation did not finish before its deadline.
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        operation: String,
        /// The deadline that passed.
        after: Duration,
    },

    /// The server sent bytes this client could not decode, or a value did not fit the
    /// requested Rust type.
    #[error("could not decode {what}: {reason}")]
    Decode {
        /// What was being decoded, e.g. `"action output of increment"`.
        what: String,
        /// Why it failed.
        reason: String,
    },

    /// A value could not be encoded for the wire.
    #[error("could not encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// Why it failed.
        reason: String,
    },

    /// The connection dropped while the operation was in flight. The action may or may not
    /// have run on the actor; it is never re-sent automatically.
    #[error("connection lost (close code {code:?}, reason {reason:?})")]
    Disconnected {
        /// The WebSocket close code: the peer's close frame's; for a socket that failed
        /// without one, the code that describes the failure (1006 reset or abrupt end, 1002
        /// protocol violation, 1007 invalid UTF-8 text, 1009 message too big); `None` when
        /// the client gave up on a peer that went silent or stopped reading.
        code: Option<u16>,
        /// The peer's close reason, or the cause of the failure (possibly empty only for a
        /// close frame without a reason).
        reason: String,
    },

    /// The connection or client was disposed (or its last handle dropped) before the operation
    /// finished.
    #[error("{what} was disposed")]
    Disposed {
        /// What was disposed, e.g. `"connection to counter/[\"a\"]"`.
        what: String,
    },

    /// The server sent more than the client accepts: a response body or WebSocket message
    /// larger than the configured limit. Reading stopped at the limit (nothing larger was
    /// buffered); the request may have run on the actor.
    ///
    /// ```
    /// let err = rivet_core::Error::TooLarge {
    ///     what: "response to action big on counter [\"a\"]".into(),
    ///     limit: 1_048_576,
    ///     setting: "ClientConfigBuilder::max_response_size",
    /// };
    /// assert!(err.to_string().contains("1048576 bytes"));
    /// assert!(!err.is_retryable());
    /// ```
    #[error("{what} is larger than the limit of {limit} bytes; raise {setting} if such sizes are expected")]
    TooLarge {
        /// What was being received.
        what: String,
        /// The limit in bytes.
        limit: usize,
        /// The setting that raises the limit.
        setting: &'static str,
    },

    /// Too many actions were queued while disconnected.
    #[error("action queue is full ({capacity} actions waiting for the connection); await earlier actions or raise ConnectionOptions::max_queued_actions")]
    QueueFull {
        /// The configured capacity.
        capacity: usize,
    },
}

/// The class of a [`Error::Transport`] failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not open a connection (refused, unreachable, DNS).
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// The WebSocket handshake failed (bad status, wrong subprotocol).
    Handshake,
    /// The connection broke while a request or response was in transit.
    Io,
    /// Something else reported by the platform.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Handshake => "handshake",
            Self::Io => "io",
            Self::Other => "transport",
        })
    }
}

/// A structured error sent by a RivetKit server: `{group, code, message, metadata?, actor?}`.
///
/// ```
/// use rivet_core::ServerError;
///
/// let e = ServerError::new("user", "boom_code", "boom happened");
/// assert!(e.is("user", "boom_code"));
/// assert_eq!(e.to_string(), "user.boom_code: boom happened");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ServerError {
    /// Error group, e.g. `"user"`, `"actor"`, `"guard"`.
    pub group: String,
    /// Error code within the group, e.g. `"not_found"`.
    pub code: String,
    /// Human readable message.
    pub message: String,
    /// Extra structured data (a `UserError`'s `metadata`).
    pub metadata: Option<Value>,
    /// The actor instance that produced the error, when it came from an actor.
    pub actor: Option<ActorSpecifier>,
    /// HTTP status of the response, for errors received over HTTP.
    pub status: Option<u16>,
    /// Gateway ray id, when the server gave one (WebSocket close reasons `group.code#ray`).
    pub ray_id: Option<String>,
}

impl ServerError {
    /// A server error with no metadata, actor, status or ray id.
    ///
    /// ```
    /// let e = rivet_core::ServerError::new("actor", "not_found", "gone");
    /// assert_eq!(e.code, "not_found");
    /// ```
    pub fn new(
        group: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            code: code.into(),
            message: message.into(),
            metadata: None,
            actor: None,
            status: None,
            ray_id: None,
        }
    }

    /// A server error from a decoded error message.
    pub(crate) fn from_body(body: crate::protocol::ErrorBody) -> Self {
        let mut err = Self::new(body.group, body.code, body.message);
        err.metadata = body.metadata;
        err.actor = body.actor;
        err
    }

    /// Whether this is the error `group.code`.
    ///
    /// ```
    /// let e = rivet_core::ServerError::new("actor", "not_found", "gone");
    /// assert!(e.is("actor", "not_found"));
    /// assert!(!e.is("user", "not_found"));
    /// ```
    pub fn is(&self, group: &str, code: &str) -> bool {
        self.group == group && self.code == code
    }

    /// Parses a WebSocket close reason of the form `group.code` or `group.code#rayId`.
    ///
    /// ```
    /// let e = rivet_core::ServerError::from_close_reason("actor.not_found#abc").unwrap();
    /// assert!(e.is("actor", "not_found"));
    /// assert_eq!(e.ray_id.as_deref(), Some("abc"));
    /// assert!(rivet_core::ServerError::from_close_reason("Disposed").is_none());
    /// ```
    pub fn from_close_reason(reason: &str) -> Option<Self> {
        let (main, ray) = match reason.split_once('#') {
            Some((main, ray)) => (main, Some(ray.to_owned())),
            None => (reason, None),
        };
        let (group, code) = main.split_once('.')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !valid(group) || !valid(code) {
            return None;
        }
        let mut err = Self::new(group, code, format!("connection closed: {main}"));
        err.ray_id = ray;
        Some(err)
    }

    /// Turns this server error into the [`Error`] variant its group and code belong to.
    ///
    /// ```
    /// use rivet_core::{Error, ServerError};
    /// let err = ServerError::new("actor", "not_found", "gone").into_error();
    /// assert!(matches!(err, Error::NotFound(_)));
    /// ```
    pub fn into_error(self) -> Error {
        if self.group == "actor" && self.code == "not_found" {
            // A missing route inside a live actor is reported as actor.not_found too, but it
            // carries `metadata.resource == "route"`; it is still "not found", just not an actor.
            return Error::NotFound(Box::new(self));
        }
        if self.is_lifecycle() {
            return Error::Unavailable(Box::new(self));
        }
        if self.is("auth", "forbidden") {
            return Error::Rejected(Box::new(self));
        }
        Error::Actor(Box::new(self))
    }

    /// Whether the error means the actor is between lives (starting, stopping, being woken,
    /// unreachable through the gateway): the request may succeed when repeated.
    pub(crate) fn is_lifecycle(&self) -> bool {
        match self.group.as_str() {
            "guard" => !self.code.starts_with("query_"),
            "actor" => matches!(
                self.code.as_str(),
                "stopped"
                    | "stopping"
                    | "starting"
                    | "restarting"
                    | "not_configured"
                    | "dropped_reply"
                    | "destroying"
                    | "no_runner_config_configured"
                    | "overloaded"
            ),
            "ws" => self.code == "going_away",
            // Routing phases (resolve, subscribe, fetch, wake, auth) that timed out before the
            // request was forwarded.
            "pegboard" => self.code.starts_with("route_") && self.code.ends_with("_timeout"),
            _ => false,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {}", self.group, self.code, self.message)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(actor) = &self.actor {
            write!(f, " [actor {}]", actor.actor_id)?;
        }
        Ok(())
    }
}

impl Error {
    /// Whether repeating the same operation later may succeed: transport failures, gateway and
    /// lifecycle errors, timeouts and dropped connections. Action errors, rejections, bad input
    /// and decode failures are not retryable.
    ///
    /// ```
    /// use rivet_core::{Error, ServerError};
    /// assert!(Error::Disconnected { code: Some(1006), reason: String::new() }.is_retryable());
    /// assert!(!ServerError::new("user", "boom", "no").into_error().is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => !matches!(kind, TransportErrorKind::Tls),
            Error::Http { status, .. } => *status >= 500 || *status == 429,
            Error::Unavailable(_) | Error::Timeout { .. } | Error::Disconnected { .. } => true,
            _ => false,
        }
    }

    /// The structured server error, if the server sent one.
    ///
    /// ```
    /// use rivet_core::{Error, ServerError};
    /// let err = ServerError::new("user", "boom", "no").into_error();
    /// assert_eq!(err.server().map(|e| e.code.as_str()), Some("boom"));
    /// ```
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            Error::NotFound(e) | Error::Rejected(e) | Error::Unavailable(e) | Error::Actor(e) => {
                Some(e)
            }
            _ => None,
        }
    }

    /// The server error's `group`, if any.
    pub fn group(&self) -> Option<&str> {
        self.server().map(|e| e.group.as_str())
    }

    /// The server error's `code`, if any.
    ///
    /// ```
    /// use rivet_core::{Error, ServerError};
    /// let err = ServerError::new("actor", "not_found", "gone").into_error();
    /// assert_eq!(err.code(), Some("not_found"));
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.server().map(|e| e.code.as_str())
    }

    /// The server error's `metadata`, if any.
    pub fn metadata(&self) -> Option<&Value> {
        self.server().and_then(|e| e.metadata.as_ref())
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Whether this is a failure to reach the server at all.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        )
    }

    pub(crate) fn invalid(
        field: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            field,
            value: value.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn decode(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Decode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn encode(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Encode {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// Shorthand for `Result<T, rivet_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

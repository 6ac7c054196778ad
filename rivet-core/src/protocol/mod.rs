//! The RivetKit client protocol v4: message types and their three encodings.
//!
//! Pure code: bytes in, values out, no I/O. Dynamic payloads (action arguments and outputs,
//! event arguments, error metadata, queue bodies) are [`serde_json::Value`]s in the *user*
//! data model: the `$BigInt` / `$Uint8Array` / … compatibility tags of the JS client are
//! removed when decoding and added when encoding, by [`compat`].

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

#[cfg(not(any(feature = "json", feature = "cbor", feature = "bare")))]
compile_error!(
    "rivet-core needs at least one wire encoding: enable one of its features `json`, `cbor`, `bare`"
);

pub mod bare;
mod cbor;
mod cbor_item;
pub mod codec;
pub mod compat;
mod content;
mod envelope;
mod json_item;
mod payload;
mod revive;
#[cfg(feature = "bare")]
mod schema;
// The JSON trees also read the gateway's JSON error bodies, so this module stays in every build.
#[cfg_attr(not(any(feature = "json", feature = "cbor")), allow(dead_code))]
mod tree;
mod wire;

pub(crate) use envelope::{
    decode_http_action_output, decode_to_client_raw, encode_action_request, encode_http_action,
    encode_http_queue, encode_subscription_request, ToClientRaw,
};
pub(crate) use payload::{Format, Payload, PayloadRef};

pub use codec::{
    cbor_decode, cbor_decode_compat, cbor_encode, cbor_encode_compat, decode_http_action_response,
    decode_http_error, decode_http_queue_response, decode_payload, decode_to_client,
    encode_http_action_request, encode_http_queue_request, encode_payload, encode_to_server,
    WireFrame,
};

/// The wire encoding used for action, queue and connection messages.
///
/// `Bare` is the default, as in the JS client: the smallest and fastest of the three.
///
/// Each encoding's codec is behind a cargo feature of the same name (`json`, `cbor`, `bare`;
/// all three are on by default). A build without some of them still knows every variant, but
/// a client configured with one that is compiled out fails to build with
/// [`Error::InvalidInput`](crate::Error::InvalidInput) (field `"encoding"`), and the
/// [`codec`] functions answer the same error for it. The default is then the first compiled-in
/// encoding of `bare`, `cbor`, `json`.
///
/// ```
/// use rivet_core::Encoding;
/// assert_eq!(Encoding::default(), Encoding::Bare);
/// assert_eq!("cbor".parse::<Encoding>().unwrap(), Encoding::Cbor);
/// assert_eq!(Encoding::Json.as_str(), "json");
/// assert!(Encoding::Json.is_compiled()); // with the default features
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8 JSON; WebSocket messages are text frames.
    Json,
    /// CBOR (RFC 8949) restricted to the JSON data model; binary frames.
    Cbor,
    /// BARE v4 with a u16 version prefix and CBOR payloads; binary frames.
    Bare,
}

impl Default for Encoding {
    /// `Bare` when compiled in (the JS client's default), else `Cbor`, else `Json`.
    fn default() -> Self {
        if cfg!(feature = "bare") {
            Encoding::Bare
        } else if cfg!(feature = "cbor") {
            Encoding::Cbor
        } else {
            Encoding::Json
        }
    }
}

impl Encoding {
    /// All encodings, for tests and benchmarks that cover each one.
    pub const ALL: [Encoding; 3] = [Encoding::Json, Encoding::Cbor, Encoding::Bare];

    /// The name used in the `x-rivet-encoding` header and the `rivet_encoding.*` subprotocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Cbor => "cbor",
            Encoding::Bare => "bare",
        }
    }

    /// The `content-type` the JS client sends for this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Cbor | Encoding::Bare => "application/octet-stream",
        }
    }

    /// Whether this build has the encoding's codec (its cargo feature of the same name).
    ///
    /// ```
    /// use rivet_core::Encoding;
    /// let usable: Vec<Encoding> = Encoding::ALL.into_iter().filter(|e| e.is_compiled()).collect();
    /// assert!(usable.contains(&Encoding::default()));
    /// ```
    pub const fn is_compiled(self) -> bool {
        match self {
            Encoding::Json => cfg!(feature = "json"),
            Encoding::Cbor => cfg!(feature = "cbor"),
            Encoding::Bare => cfg!(feature = "bare"),
        }
    }

    /// `Ok(self)` if [compiled in](Encoding::is_compiled), else the error a client gets for
    /// choosing it: [`Error::InvalidInput`](crate::Error::InvalidInput) with field
    /// `"encoding"`, naming the feature to enable.
    ///
    /// ```
    /// use rivet_core::Encoding;
    /// assert_eq!(Encoding::Bare.require().unwrap(), Encoding::Bare); // default features
    /// ```
    pub fn require(self) -> Result<Self, crate::Error> {
        if self.is_compiled() {
            Ok(self)
        } else {
            Err(self.not_compiled())
        }
    }

    /// The error for an encoding whose feature is off. Kept out of line: it formats.
    #[cold]
    pub(crate) fn not_compiled(self) -> crate::Error {
        let compiled: Vec<&str> = Encoding::ALL
            .into_iter()
            .filter(|e| e.is_compiled())
            .map(Encoding::as_str)
            .collect();
        crate::Error::invalid(
            "encoding",
            self.as_str(),
            format!(
                "this build of rivet-core has no `{name}` codec: enable its cargo feature \
                 `{name}` (rivet-core = {{ features = [\"{name}\"] }}) or choose one of the \
                 compiled-in encodings: {}",
                compiled.join(", "),
                name = self.as_str(),
            ),
        )
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Encoding {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Encoding::Json),
            "cbor" => Ok(Encoding::Cbor),
            "bare" => Ok(Encoding::Bare),
            other => Err(crate::Error::invalid(
                "encoding",
                other,
                "expected one of \"json\", \"cbor\", \"bare\" (lower case)",
            )),
        }
    }
}

/// Identifies one life of an actor: its id, its generation (incremented on every wake) and its
/// serialized key.
///
/// ```
/// let a = rivet_core::ActorSpecifier { actor_id: "abc".into(), generation: 1, key: None };
/// assert_eq!(a.generation, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActorSpecifier {
    /// The actor id.
    pub actor_id: String,
    /// How many times the actor has started or woken.
    pub generation: u64,
    /// The actor key in the engine's serialized form (`a/b\/c`), if known.
    pub key: Option<String>,
}

/// A structured error body: `{group, code, message, metadata?, actionId?, actor?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    /// Error group.
    pub group: String,
    /// Error code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Metadata, revived from compat tags.
    pub metadata: Option<Value>,
    /// The action this error answers (WebSocket only); `None` for connection-level errors.
    pub action_id: Option<u64>,
    /// The actor that raised it.
    pub actor: Option<ActorSpecifier>,
}

/// A message from the client to the server over a persistent connection.
#[derive(Debug, Clone, PartialEq)]
pub enum ToServer {
    /// Call an action. `args` is an array of positional arguments.
    ActionRequest {
        /// Client-chosen id, echoed in the response.
        id: u64,
        /// Action name.
        name: String,
        /// Positional arguments (a JSON array).
        args: Value,
    },
    /// Subscribe to or unsubscribe from a broadcast event.
    SubscriptionRequest {
        /// Event name.
        event_name: String,
        /// `true` to subscribe, `false` to unsubscribe.
        subscribe: bool,
    },
}

/// A message from the server to the client over a persistent connection.
#[derive(Debug, Clone, PartialEq)]
pub enum ToClient {
    /// Always the first message: the connection is established.
    Init {
        /// The actor id.
        actor_id: String,
        /// The connection id, new for every socket.
        connection_id: String,
    },
    /// An action failed (`action_id` set) or the connection failed (`action_id` unset).
    Error(ErrorBody),
    /// An action succeeded.
    ActionResponse {
        /// The id from the request.
        id: u64,
        /// The action's return value.
        output: Value,
    },
    /// A broadcast or per-connection event.
    Event {
        /// Event name.
        name: String,
        /// The event's arguments.
        args: Vec<Value>,
    },
}

/// The body of a queue send (`POST …/queue/{name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSendRequest {
    /// The message body.
    pub body: Value,
    /// Queue name (also in the URL).
    pub name: Option<String>,
    /// Wait for the actor to complete the message.
    pub wait: Option<bool>,
    /// How long to wait, in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// The answer to a queue send.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSendResponse {
    /// `"completed"` or `"timedOut"`.
    pub status: String,
    /// The value the actor passed to `message.complete(value)`, if it waited.
    pub response: Option<Value>,
}

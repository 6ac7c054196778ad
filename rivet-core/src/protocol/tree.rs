//! The json and cbor encodings: messages as JSON-model trees.
//!
//! Both encodings carry the same structure (`{"body":{"tag":…,"val":{…}}}`, `{"args":…}`, …);
//! only the serialization differs. Building and reading the trees lives here, reading them from
//! bytes in [`from_bytes`] (the codecs write messages directly, without trees).

#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

#[cfg(test)]
use super::cbor::cbor_encode;
#[cfg(any(feature = "cbor", feature = "bare"))]
use super::cbor::decode_document;
use super::compat::revive_value;
use super::{ActorSpecifier, Encoding, ErrorBody, QueueSendResponse, ToClient};
use crate::Error;

/// Serializes a tree: JSON text (as bytes) or CBOR (the codecs write messages directly; the
/// tests compare them with this).
#[cfg(test)]
pub(super) fn to_bytes(tree: &Value, encoding: Encoding, what: &str) -> Result<Vec<u8>, Error> {
    match encoding {
        Encoding::Json => serde_json::to_vec(tree).map_err(|e| Error::encode(what, e)),
        Encoding::Cbor | Encoding::Bare => cbor_encode(tree),
    }
}

/// Parses a tree from JSON text (as bytes) or CBOR.
pub(super) fn from_bytes(bytes: &[u8], encoding: Encoding, what: &str) -> Result<Value, Error> {
    match encoding {
        Encoding::Json => serde_json::from_slice(bytes)
            .map_err(|e| Error::decode(what, format_args!("invalid JSON: {e}"))),
        #[cfg(any(feature = "cbor", feature = "bare"))]
        Encoding::Cbor | Encoding::Bare => {
            decode_document(bytes).map_err(|e| Error::decode(what, e))
        }
        // Without a CBOR encoding the CBOR tree decoder stays out of the build.
        #[allow(unreachable_patterns)]
        other => Err(other.not_compiled()),
    }
}

/// A subscription request as a tree: what
/// [`envelope::encode_subscription_request`](super::envelope::encode_subscription_request)
/// writes directly (kept to test that it writes the same bytes).
#[cfg(test)]
pub(super) fn subscription_request(event_name: &str, subscribe: bool) -> Value {
    json!({"body": {
        "tag": "SubscriptionRequest",
        "val": {"eventName": event_name, "subscribe": subscribe},
    }})
}

/// The `val` of an `Init` or `Error` message (actions and events: [`envelope`](super::envelope)).
pub(super) fn to_client_val(tag: &str, val: Value, what: &'static str) -> Result<ToClient, Error> {
    let mut val = Fields::new(val, what, tag)?;
    match tag {
        "Init" => Ok(ToClient::Init {
            actor_id: val.string("actorId")?,
            connection_id: val.string("connectionId")?,
        }),
        "Error" => error_body(val, true).map(ToClient::Error),
        other => Err(Error::decode(
            what,
            format_args!("unknown message tag {other:?}"),
        )),
    }
}

pub(super) fn http_queue_response(
    tree: Value,
    what: &'static str,
) -> Result<QueueSendResponse, Error> {
    let mut root = Fields::new(tree, what, "response")?;
    Ok(QueueSendResponse {
        status: root.string("status")?,
        response: root.payload("response")?,
    })
}

pub(super) fn http_error(tree: Value, what: &'static str) -> Result<ErrorBody, Error> {
    error_body(Fields::new(tree, what, "error")?, false)
}

fn error_body(mut val: Fields, with_action_id: bool) -> Result<ErrorBody, Error> {
    let action_id = if with_action_id {
        match val.optional("actionId") {
            Some(id) => Some(val.parse_u64("actionId", &id)?),
            None => None,
        }
    } else {
        None
    };
    let actor = match val.optional("actor") {
        Some(actor) => {
            let mut actor = Fields::new(actor, val.what, "actor")?;
            Some(ActorSpecifier {
                actor_id: actor.string("actorId")?,
                generation: actor.u64("generation")?,
                key: actor.optional_string("key")?,
            })
        }
        None => None,
    };
    Ok(ErrorBody {
        group: val.string("group")?,
        code: val.string("code")?,
        message: val.string("message")?,
        metadata: val.payload("metadata")?.filter(|m| !m.is_null()),
        action_id,
        actor,
    })
}

/// Event arguments as a list: a missing or `null` value means none, any other non-array value
/// is a single argument (as the server itself reads `args`).
pub(super) fn into_args(args: Option<Value>) -> Vec<Value> {
    match args {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    }
}

/// The fields of one object in a tree, taken out one at a time, with errors naming the field.
pub(super) struct Fields {
    map: Map<String, Value>,
    what: &'static str,
    context: String,
}

impl Fields {
    pub(super) fn new(value: Value, what: &'static str, context: &str) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                what,
                context: context.to_owned(),
            }),
            other => Err(Error::decode(
                what,
                format_args!("{context} must be an object, got {}", kind(&other)),
            )),
        }
    }

    fn error(&self, field: &str, reason: impl std::fmt::Display) -> Error {
        Error::decode(
            self.what,
            format_args!("field {field:?} of {}: {reason}", self.context),
        )
    }

    /// The field, treating `null` like absence.
    fn optional(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field).filter(|v| !v.is_null())
    }

    fn required(&mut self, field: &str) -> Result<Value, Error> {
        self.optional(field)
            .ok_or_else(|| self.error(field, "missing"))
    }

    pub(super) fn string(&mut self, field: &str) -> Result<String, Error> {
        match self.required(field)? {
            Value::String(s) => Ok(s),
            other => Err(self.error(
                field,
                format_args!("expected a string, got {}", kind(&other)),
            )),
        }
    }

    fn optional_string(&mut self, field: &str) -> Result<Option<String>, Error> {
        match self.optional(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(
                field,
                format_args!("expected a string, got {}", kind(&other)),
            )),
        }
    }

    pub(super) fn u64(&mut self, field: &str) -> Result<u64, Error> {
        let value = self.required(field)?;
        self.parse_u64(field, &value)
    }

    /// A non-negative integer: a number, or `["$BigInt","n"]` as the server writes ids in JSON.
    fn parse_u64(&self, field: &str, value: &Value) -> Result<u64, Error> {
        let parsed = match value {
            Value::Number(n) => n.as_u64(),
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(tag), Value::String(digits)] if tag == "$BigInt" => {
                    digits.trim().parse().ok()
                }
                [Value::String(tag), Value::Number(n)] if tag == "$BigInt" => n.as_u64(),
                _ => None,
            },
            _ => None,
        };
        parsed.ok_or_else(|| {
            self.error(
                field,
                format_args!("expected an unsigned 64-bit integer, got {value}"),
            )
        })
    }

    /// A dynamic payload, revived from compat tags. `None` when absent (but not when `null`,
    /// which is a value).
    fn payload(&mut self, field: &str) -> Result<Option<Value>, Error> {
        match self.map.remove(field) {
            None => Ok(None),
            Some(v) => revive_value(v)
                .map(Some)
                .map_err(|reason| self.error(field, reason)),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

//! The server side of the RivetKit 2.3.19 client protocol in its three encodings: what the
//! fake server reads (action requests, subscriptions, HTTP action bodies) and writes (`Init`,
//! action responses, events, errors).
//!
//! Public so that tests can build their own misbehaving servers (a gateway that answers
//! late, drops sockets, or sends frames a real server never would) on the same encoder as
//! [`FakeServer`](crate::FakeServer). Written from the protocol notes, not with the client's
//! codec, so a codec bug in the client cannot hide behind a shared encoder.
//!
//! ```
//! use rivet_testing::wire::{ClientMessage, Frame, Wire};
//!
//! // What a client's `increment(5)` looks like in JSON, and the answer a server sends.
//! let request = br#"{"body":{"tag":"ActionRequest","val":{"id":1,"name":"increment","args":[5]}}}"#;
//! let Some(ClientMessage::Action { id, name, args }) = Wire::Json.decode_client(request) else {
//!     panic!("not an action");
//! };
//! assert_eq!((id, name.as_str(), args), (1, "increment", vec![serde_json::json!(5)]));
//! let answer = Wire::Json.action_response(id, &serde_json::json!(5));
//! assert!(matches!(answer, Frame::Text(text) if text.contains("ActionResponse")));
//! ```

use serde_json::{json, Map, Value};

use crate::ActorError;

/// One of the protocol's three encodings, as a server writes and reads them.
///
/// ```
/// use rivet_testing::wire::Wire;
/// assert_eq!(Wire::from_name("bare"), Wire::Bare);
/// assert_eq!(Wire::Cbor.content_type(), "application/octet-stream");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// JSON text frames and bodies (`$`-tagged values as sent).
    Json,
    /// CBOR binary frames and bodies.
    Cbor,
    /// BARE (protocol version 4) with CBOR payloads.
    Bare,
}

/// A message the server sends on a connection: a text frame in JSON, a binary one otherwise.
///
/// ```
/// use rivet_testing::wire::{Frame, Wire};
/// assert!(matches!(Wire::Bare.init("actor", "conn"), Frame::Binary(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// JSON.
    Text(String),
    /// CBOR and BARE.
    Binary(Vec<u8>),
}

/// The BARE protocol version written.
const BARE_VERSION: u16 = 4;

/// A message a client sent on a connection, decoded by [`Wire::decode_client`].
///
/// ```
/// use rivet_testing::wire::{ClientMessage, Wire};
/// let subscribe = br#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"newCount","subscribe":true}}}"#;
/// assert_eq!(
///     Wire::Json.decode_client(subscribe),
///     Some(ClientMessage::Subscription { event: "newCount".into(), subscribe: true })
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `ActionRequest`.
    Action {
        /// The id the client chose.
        id: u64,
        /// The action's name.
        name: String,
        /// The arguments, spread as the server spreads them (compat tags left as sent).
        args: Vec<Value>,
    },
    /// `SubscriptionRequest`.
    Subscription {
        /// The event's name.
        event: String,
        /// Subscribe (`true`) or unsubscribe.
        subscribe: bool,
    },
}

impl Wire {
    /// From `json` / `cbor` / `bare` (the `rivet_encoding.*` subprotocol or the
    /// `x-rivet-encoding` header); anything else is JSON, as on the server.
    pub fn from_name(name: &str) -> Self {
        match name {
            "cbor" => Wire::Cbor,
            "bare" => Wire::Bare,
            _ => Wire::Json,
        }
    }

    /// The `content-type` of a body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Wire::Json => "application/json",
            Wire::Cbor | Wire::Bare => "application/octet-stream",
        }
    }

    /// An `Init` message with the given actor and connection ids.
    pub fn init(self, actor_id: &str, connection_id: &str) -> Frame {
        match self {
            Wire::Bare => {
                let mut w = bare_writer();
                bare_uint(&mut w, 0);
                bare_str(&mut w, actor_id);
                bare_str(&mut w, connection_id);
                Frame::Binary(w)
            }
            _ => self.tree(json!({"body": {"tag": "Init", "val": {
                "actorId": actor_id, "connectionId": connection_id}}})),
        }
    }

    /// An `ActionResponse` to action `id` with `output`.
    pub fn action_response(self, id: u64, output: &Value) -> Frame {
        match self {
            Wire::Bare => {
                let mut w = bare_writer();
                bare_uint(&mut w, 2);
                bare_uint(&mut w, id);
                bare_data(&mut w, &cbor(output));
                Frame::Binary(w)
            }
            Wire::Json => self.tree(json!({"body": {"tag": "ActionResponse", "val": {
                "id": ["$BigInt", id.to_string()], "output": output}}})),
            Wire::Cbor => self.tree(json!({"body": {"tag": "ActionResponse", "val": {
                "id": id, "output": output}}})),
        }
    }

    /// An `Event` message `name` with `args`.
    pub fn event(self, name: &str, args: &[Value]) -> Frame {
        let args = Value::Array(args.to_vec());
        match self {
            Wire::Bare => {
                let mut w = bare_writer();
                bare_uint(&mut w, 3);
                bare_str(&mut w, name);
                bare_data(&mut w, &cbor(&args));
                Frame::Binary(w)
            }
            _ => self.tree(json!({"body": {"tag": "Event", "val": {"name": name, "args": args}}})),
        }
    }

    /// An `Error` message: for action `action_id`, or for the connection when `None`.
    pub fn error(self, action_id: Option<u64>, error: &ActorError) -> Frame {
        match self {
            Wire::Bare => {
                let mut w = bare_writer();
                bare_uint(&mut w, 1);
                bare_str(&mut w, &error.group);
                bare_str(&mut w, &error.code);
                bare_str(&mut w, &error.message);
                bare_optional_cbor(&mut w, error.metadata.as_ref());
                match action_id {
                    Some(id) => {
                        w.push(1);
                        bare_uint(&mut w, id);
                    }
                    None => w.push(0),
                }
                w.push(0); // no actor specifier
                Frame::Binary(w)
            }
            _ => {
                let id = match (self, action_id) {
                    (_, None) => Value::Null,
                    (Wire::Json, Some(id)) => json!(["$BigInt", id.to_string()]),
                    (_, Some(id)) => json!(id),
                };
                let mut val = error_map(error);
                val.insert("actionId".into(), id);
                self.tree(json!({"body": {"tag": "Error", "val": val}}))
            }
        }
    }

    /// The body of a successful HTTP action.
    pub fn http_action_response(self, output: &Value) -> Vec<u8> {
        match self {
            Wire::Json => json!({"output": output}).to_string().into_bytes(),
            Wire::Cbor => cbor(&json!({"output": output})),
            Wire::Bare => {
                let mut w = bare_writer();
                bare_data(&mut w, &cbor(output));
                w
            }
        }
    }

    /// The body of a failed HTTP action (an actor error, in the request's encoding).
    pub fn http_error(self, error: &ActorError) -> Vec<u8> {
        match self {
            Wire::Json => Value::Object(error_map(error)).to_string().into_bytes(),
            Wire::Cbor => cbor(&Value::Object(error_map(error))),
            Wire::Bare => {
                let mut w = bare_writer();
                bare_str(&mut w, &error.group);
                bare_str(&mut w, &error.code);
                bare_str(&mut w, &error.message);
                bare_optional_cbor(&mut w, error.metadata.as_ref());
                w.push(0); // no actor specifier
                w
            }
        }
    }

    /// The arguments of an HTTP action: an array is spread, null or missing is none, anything
    /// else is one argument (as on the server). `None` if the body is not a request.
    pub fn http_action_args(self, body: &[u8]) -> Option<Vec<Value>> {
        let args = match self {
            Wire::Json if body.is_empty() => Value::Null,
            Wire::Json => serde_json::from_slice::<Value>(body)
                .ok()?
                .get("args")
                .cloned()
                .unwrap_or(Value::Null),
            Wire::Cbor => ciborium::de::from_reader::<Value, _>(body)
                .ok()?
                .get("args")
                .cloned()
                .unwrap_or(Value::Null),
            Wire::Bare => {
                let mut r = BareReader { bytes: body, at: 0 };
                let _version = r.take(2)?;
                ciborium::de::from_reader(r.data()?).ok()?
            }
        };
        Some(spread(args))
    }

    /// Decodes a client → server message; `None` if it is not one.
    pub fn decode_client(self, bytes: &[u8]) -> Option<ClientMessage> {
        match self {
            Wire::Json => tree_message(serde_json::from_slice(bytes).ok()?),
            Wire::Cbor => tree_message(ciborium::de::from_reader(bytes).ok()?),
            Wire::Bare => {
                let mut r = BareReader { bytes, at: 0 };
                let _version = r.take(2)?;
                match r.uint()? {
                    0 => {
                        let id = r.uint()?;
                        let name = r.str()?;
                        let args = ciborium::de::from_reader(r.data()?).ok()?;
                        Some(ClientMessage::Action {
                            id,
                            name,
                            args: spread(args),
                        })
                    }
                    1 => {
                        let event = r.str()?;
                        let subscribe = r.take(1)?[0] != 0;
                        Some(ClientMessage::Subscription { event, subscribe })
                    }
                    _ => None,
                }
            }
        }
    }

    fn tree(self, value: Value) -> Frame {
        match self {
            Wire::Json => Frame::Text(value.to_string()),
            _ => Frame::Binary(cbor(&value)),
        }
    }
}

/// `{group, code, message, metadata?}`.
pub(crate) fn error_map(error: &ActorError) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("group".into(), Value::String(error.group.clone()));
    map.insert("code".into(), Value::String(error.code.clone()));
    map.insert("message".into(), Value::String(error.message.clone()));
    if let Some(metadata) = &error.metadata {
        map.insert("metadata".into(), metadata.clone());
    }
    map
}

fn spread(args: Value) -> Vec<Value> {
    match args {
        Value::Array(args) => args,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// CBOR of a JSON value (what the client's `$`-tagged trees become).
pub(crate) fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing a JSON value into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}

fn bare_writer() -> Vec<u8> {
    BARE_VERSION.to_le_bytes().to_vec()
}

fn bare_uint(w: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            w.push(byte);
            return;
        }
        w.push(byte | 0x80);
    }
}

fn bare_str(w: &mut Vec<u8>, s: &str) {
    bare_data(w, s.as_bytes());
}

fn bare_data(w: &mut Vec<u8>, bytes: &[u8]) {
    bare_uint(w, bytes.len() as u64);
    w.extend_from_slice(bytes);
}

fn bare_optional_cbor(w: &mut Vec<u8>, value: Option<&Value>) {
    match value {
        Some(value) => {
            w.push(1);
            bare_data(w, &cbor(value));
        }
        None => w.push(0),
    }
}

fn tree_message(value: Value) -> Option<ClientMessage> {
    let body = value.get("body")?;
    let val = body.get("val")?;
    match body.get("tag")?.as_str()? {
        "ActionRequest" => Some(ClientMessage::Action {
            id: tree_id(val.get("id")?)?,
            name: val.get("name")?.as_str()?.to_owned(),
            // A request without `args` closes the socket on the server.
            args: spread(val.get("args")?.clone()),
        }),
        "SubscriptionRequest" => Some(ClientMessage::Subscription {
            event: val.get("eventName")?.as_str()?.to_owned(),
            subscribe: val.get("subscribe")?.as_bool()?,
        }),
        _ => None,
    }
}

fn tree_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::Array(tagged) if tagged.len() == 2 => tagged[1].as_str()?.parse().ok(),
        _ => None,
    }
}

struct BareReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> BareReader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn uint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn data(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.uint()?).ok()?;
        self.take(len)
    }

    fn str(&mut self) -> Option<String> {
        std::str::from_utf8(self.data()?).ok().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_http_action_matches_the_protocol_notes() {
        // `increment(5)` is `04 00 02 81 05`, its answer `04 00 01 05`.
        let args = Wire::Bare.http_action_args(&[4, 0, 2, 0x81, 5]);
        assert_eq!(args, Some(vec![json!(5)]));
        assert_eq!(Wire::Bare.http_action_response(&json!(5)), [4, 0, 1, 5]);
    }

    #[test]
    fn json_requests_decode_with_plain_and_tagged_ids() {
        let plain =
            br#"{"body":{"tag":"ActionRequest","val":{"id":7,"name":"send","args":["hi"]}}}"#;
        assert_eq!(
            Wire::Json.decode_client(plain),
            Some(ClientMessage::Action {
                id: 7,
                name: "send".into(),
                args: vec![json!("hi")]
            })
        );
        let missing_args = br#"{"body":{"tag":"ActionRequest","val":{"id":7,"name":"send"}}}"#;
        assert_eq!(Wire::Json.decode_client(missing_args), None);
    }
}

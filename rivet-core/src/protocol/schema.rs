//! The bare encoding: the client protocol's BARE schema (v4 written, v1–v4 read).
//!
//! ```text
//! ActorSpecifier { actorId: str, generation: uint, key: optional<str> }
//! ToClient { body: union {
//!   0 Init           { actorId: str, connectionId: str }              # v1: + connectionToken: str
//!   1 Error          { group: str, code: str, message: str, metadata: optional<Cbor>,
//!                      actionId: optional<uint>, actor: optional<ActorSpecifier> }  # actor: v4+
//!   2 ActionResponse { id: uint, output: Cbor }
//!   3 Event          { name: str, args: Cbor } }}
//! ToServer { body: union {
//!   0 ActionRequest       { id: uint, name: str, args: Cbor }
//!   1 SubscriptionRequest { eventName: str, subscribe: bool } }}
//! HttpActionRequest     { args: Cbor }
//! HttpActionResponse    { output: Cbor }
//! HttpQueueSendRequest  { body: Cbor, name: optional<str>, wait: optional<bool>, timeout: optional<u64> }  # v3+
//! HttpQueueSendResponse { status: str, response: optional<Cbor> }                                           # v3+
//! HttpResponseError     { group: str, code: str, message: str, metadata: optional<Cbor>,
//!                         actor: optional<ActorSpecifier> }                                    # actor: v4+
//! ```
//!
//! `Cbor` is a `data` holding a CBOR document in the JS compat form (see
//! [`cbor_encode_compat`]); the actor reads it with cbor-x.

use serde_json::Value;

use super::bare::{Reader, Writer};
use super::cbor::decode_document;
use super::compat::revive_value;
use super::envelope::ToClientRaw;
use super::payload::{Format, PayloadRef};
use super::{ActorSpecifier, ErrorBody, QueueSendResponse};
use crate::Error;

/// The protocol version that introduced `actor` in errors.
const ACTOR_IN_ERRORS_SINCE: u16 = 4;
/// The protocol version that introduced the queue messages.
const QUEUE_SINCE: u16 = 3;

pub(super) fn encode_subscription_request(event_name: &str, subscribe: bool) -> Vec<u8> {
    let mut w = Writer::with_version();
    w.tag(1);
    w.str(event_name);
    w.bool(subscribe);
    w.finish()
}

/// `ToServer::ActionRequest` around arguments already encoded as CBOR.
pub(super) fn encode_action_request(id: u64, name: &str, args: &[u8]) -> Vec<u8> {
    let mut w = Writer::with_version();
    w.tag(0);
    w.uint(id);
    w.str(name);
    w.data(args);
    w.finish()
}

pub(super) fn decode_to_client_raw(bytes: &[u8]) -> Result<ToClientRaw<'_>, Error> {
    const WHAT: &str = "BARE ToClient message";
    let mut r = Reader::new(bytes, WHAT);
    let version = r.version()?;
    let msg = match r.tag()? {
        0 => {
            let actor_id = r.str()?.to_owned();
            let connection_id = r.str()?.to_owned();
            if version == 1 {
                // v1 also carried a connection token, which nothing uses any more.
                r.str()?;
            }
            ToClientRaw::Init {
                actor_id,
                connection_id,
            }
        }
        1 => {
            let group = r.str()?.to_owned();
            let code = r.str()?.to_owned();
            let message = r.str()?.to_owned();
            let metadata = r.optional(|r| r.data())?;
            let action_id = r.optional(|r| r.uint())?;
            let actor = read_actor(&mut r, version)?;
            ToClientRaw::Error(ErrorBody {
                group,
                code,
                message,
                metadata: metadata_value(metadata, WHAT)?,
                action_id,
                actor,
            })
        }
        2 => {
            let id = r.uint()?;
            let output = PayloadRef::new(r.data()?, Format::Cbor);
            ToClientRaw::ActionResponse { id, output }
        }
        3 => {
            let name = r.str()?.to_owned();
            let args = PayloadRef::new(r.data()?, Format::Cbor);
            ToClientRaw::Event { name, args }
        }
        tag => {
            return Err(Error::decode(
                WHAT,
                format_args!("unknown ToClient union tag {tag}"),
            ))
        }
    };
    r.finish()?;
    Ok(msg)
}

/// `HttpActionRequest` around arguments already encoded as CBOR.
pub(super) fn encode_http_action_payload(args: &[u8]) -> Vec<u8> {
    let mut w = Writer::with_version();
    w.data(args);
    w.finish()
}

pub(super) fn decode_http_action_output(bytes: &[u8]) -> Result<PayloadRef<'_>, Error> {
    const WHAT: &str = "BARE HttpActionResponse";
    let mut r = Reader::new(bytes, WHAT);
    r.version()?;
    let output = PayloadRef::new(r.data()?, Format::Cbor);
    r.finish()?;
    Ok(output)
}

/// `HttpQueueSendRequest` around a body already encoded as CBOR.
pub(super) fn encode_http_queue_payload(
    body: &[u8],
    name: Option<&str>,
    wait: Option<bool>,
    timeout_ms: Option<u64>,
) -> Vec<u8> {
    let mut w = Writer::with_version();
    w.data(body);
    w.optional(name, |w, name| w.str(name));
    w.optional(wait, |w, wait| w.bool(wait));
    w.optional(timeout_ms, |w, ms| w.u64(ms));
    w.finish()
}

pub(super) fn decode_http_queue_response(bytes: &[u8]) -> Result<QueueSendResponse, Error> {
    const WHAT: &str = "BARE HttpQueueSendResponse";
    let mut r = Reader::new(bytes, WHAT);
    let version = r.version()?;
    if version < QUEUE_SINCE {
        return Err(Error::decode(
            WHAT,
            format_args!(
                "queue messages exist since protocol version {QUEUE_SINCE}, got version {version}"
            ),
        ));
    }
    let status = r.str()?.to_owned();
    let response = match r.optional(|r| r.data())? {
        Some(bytes) => Some(payload(bytes, WHAT, "response")?),
        None => None,
    };
    r.finish()?;
    Ok(QueueSendResponse { status, response })
}

pub(super) fn decode_http_error(bytes: &[u8]) -> Result<ErrorBody, Error> {
    const WHAT: &str = "BARE HttpResponseError";
    let mut r = Reader::new(bytes, WHAT);
    let version = r.version()?;
    let group = r.str()?.to_owned();
    let code = r.str()?.to_owned();
    let message = r.str()?.to_owned();
    let metadata = r.optional(|r| r.data())?;
    let actor = read_actor(&mut r, version)?;
    r.finish()?;
    Ok(ErrorBody {
        group,
        code,
        message,
        metadata: metadata_value(metadata, WHAT)?,
        action_id: None,
        actor,
    })
}

fn read_actor(r: &mut Reader<'_>, version: u16) -> Result<Option<ActorSpecifier>, Error> {
    if version < ACTOR_IN_ERRORS_SINCE {
        return Ok(None);
    }
    r.optional(|r| {
        Ok(ActorSpecifier {
            actor_id: r.str()?.to_owned(),
            generation: r.uint()?,
            key: r.optional(|r| r.str())?.map(str::to_owned),
        })
    })
}

/// An embedded CBOR payload, revived. An empty `data` reads as `null`, as in the actor runtime.
fn payload(bytes: &[u8], what: &'static str, field: &str) -> Result<Value, Error> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    decode_document(bytes)
        .and_then(revive_value)
        .map_err(|reason| Error::decode(what, format_args!("field {field:?}: {reason}")))
}

fn metadata_value(bytes: Option<&[u8]>, what: &'static str) -> Result<Option<Value>, Error> {
    match bytes {
        None => Ok(None),
        Some(bytes) => Ok(Some(payload(bytes, what, "metadata")?).filter(|m| !m.is_null())),
    }
}

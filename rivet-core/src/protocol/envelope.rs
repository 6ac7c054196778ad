//! Messages whose dynamic payloads stay encoded: arguments are spliced into the envelope
//! already in wire form, outputs and event arguments are handed out as byte spans of the frame.
//!
//! The json and cbor encodings carry the same structure as [`tree`](super::tree) builds; bare
//! carries payloads as `data` fields (see [`schema`](super::schema)).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::cbor_item::{write_bool, write_map, write_text, write_uint};
use super::payload::{Format, Payload, PayloadRef};
#[cfg(feature = "bare")]
use super::schema;
use super::tree::{self, Fields};
use super::{Encoding, ErrorBody, WireFrame};
use crate::Error;

/// A message from the server, with the payloads of actions and events still encoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClientRaw<'a> {
    Init {
        actor_id: String,
        connection_id: String,
    },
    Error(ErrorBody),
    ActionResponse {
        id: u64,
        output: PayloadRef<'a>,
    },
    Event {
        name: String,
        args: PayloadRef<'a>,
    },
}

/// `payload` in the payload format of `encoding` (re-encoded only if it was written for another
/// encoding).
fn in_format(payload: &Payload, encoding: Encoding) -> Result<Cow<'_, Payload>, Error> {
    let format = Format::of(encoding);
    if payload.format() == format {
        return Ok(Cow::Borrowed(payload));
    }
    convert(payload, format).map(Cow::Owned)
}

/// `payload` re-encoded in `format`, through its value.
#[cfg(all(feature = "json", any(feature = "cbor", feature = "bare")))]
fn convert(payload: &Payload, format: Format) -> Result<Payload, Error> {
    let value = payload
        .as_ref()
        .to_value()
        .map_err(|e| Error::encode("payload", e))?;
    Payload::encode(&value, format).map_err(|e| Error::encode("payload", e))
}

/// With one payload format compiled in, every payload is in it: the other format is the one
/// missing (and the conversion through a value tree stays out of the build).
#[cfg(not(all(feature = "json", any(feature = "cbor", feature = "bare"))))]
fn convert(_payload: &Payload, format: Format) -> Result<Payload, Error> {
    Err(Error::encode("payload", format.not_compiled()))
}

/// An `ActionRequest` frame around already encoded arguments.
pub(crate) fn encode_action_request(
    id: u64,
    name: &str,
    args: &Payload,
    encoding: Encoding,
) -> Result<WireFrame, Error> {
    let args = in_format(args, encoding)?;
    let args = args.bytes();
    match encoding {
        Encoding::Json => {
            let mut out = Vec::with_capacity(64 + name.len() + args.len());
            out.extend_from_slice(br#"{"body":{"tag":"ActionRequest","val":{"args":"#);
            out.extend_from_slice(args);
            out.extend_from_slice(br#","id":"#);
            out.extend_from_slice(id.to_string().as_bytes());
            out.extend_from_slice(br#","name":"#);
            serde_json::to_writer(&mut out, name)
                .map_err(|e| Error::encode("JSON ToServer message", e))?;
            out.extend_from_slice(b"}}}");
            String::from_utf8(out)
                .map(WireFrame::Text)
                .map_err(|e| Error::encode("JSON ToServer message", e))
        }
        Encoding::Cbor => {
            let mut out = Vec::with_capacity(48 + name.len() + args.len());
            write_map(&mut out, 1);
            write_text(&mut out, "body");
            write_map(&mut out, 2);
            write_text(&mut out, "tag");
            write_text(&mut out, "ActionRequest");
            write_text(&mut out, "val");
            write_map(&mut out, 3);
            write_text(&mut out, "args");
            out.extend_from_slice(args);
            write_text(&mut out, "id");
            write_uint(&mut out, id);
            write_text(&mut out, "name");
            write_text(&mut out, name);
            Ok(WireFrame::Binary(out))
        }
        #[cfg(feature = "bare")]
        Encoding::Bare => Ok(WireFrame::Binary(schema::encode_action_request(
            id, name, args,
        ))),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => Err(encoding.not_compiled()),
    }
}

/// A `SubscriptionRequest` frame, written directly (no JSON tree).
pub(crate) fn encode_subscription_request(
    event_name: &str,
    subscribe: bool,
    encoding: Encoding,
) -> Result<WireFrame, Error> {
    match encoding {
        Encoding::Json => {
            let mut out = Vec::with_capacity(96 + event_name.len());
            out.extend_from_slice(br#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"#);
            serde_json::to_writer(&mut out, event_name)
                .map_err(|e| Error::encode("JSON ToServer message", e))?;
            out.extend_from_slice(if subscribe {
                br#","subscribe":true}}}"#
            } else {
                br#","subscribe":false}}}"#
            });
            String::from_utf8(out)
                .map(WireFrame::Text)
                .map_err(|e| Error::encode("JSON ToServer message", e))
        }
        Encoding::Cbor => {
            let mut out = Vec::with_capacity(64 + event_name.len());
            write_map(&mut out, 1);
            write_text(&mut out, "body");
            write_map(&mut out, 2);
            write_text(&mut out, "tag");
            write_text(&mut out, "SubscriptionRequest");
            write_text(&mut out, "val");
            write_map(&mut out, 2);
            write_text(&mut out, "eventName");
            write_text(&mut out, event_name);
            write_text(&mut out, "subscribe");
            write_bool(&mut out, subscribe);
            Ok(WireFrame::Binary(out))
        }
        #[cfg(feature = "bare")]
        Encoding::Bare => Ok(WireFrame::Binary(schema::encode_subscription_request(
            event_name, subscribe,
        ))),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => Err(encoding.not_compiled()),
    }
}

/// The body of a stateless action call around already encoded arguments.
pub(crate) fn encode_http_action(args: &Payload, encoding: Encoding) -> Result<Vec<u8>, Error> {
    let args = in_format(args, encoding)?;
    let args = args.bytes();
    Ok(match encoding {
        Encoding::Json => {
            let mut out = Vec::with_capacity(10 + args.len());
            out.extend_from_slice(br#"{"args":"#);
            out.extend_from_slice(args);
            out.push(b'}');
            out
        }
        Encoding::Cbor => {
            let mut out = Vec::with_capacity(8 + args.len());
            write_map(&mut out, 1);
            write_text(&mut out, "args");
            out.extend_from_slice(args);
            out
        }
        #[cfg(feature = "bare")]
        Encoding::Bare => schema::encode_http_action_payload(args),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => return Err(encoding.not_compiled()),
    })
}

/// The body of a queue send around an already encoded body. Absent options are left out.
pub(crate) fn encode_http_queue(
    body: &Payload,
    name: Option<&str>,
    wait: Option<bool>,
    timeout_ms: Option<u64>,
    encoding: Encoding,
) -> Result<Vec<u8>, Error> {
    let body = in_format(body, encoding)?;
    let body = body.bytes();
    Ok(match encoding {
        Encoding::Json => {
            let mut out = Vec::with_capacity(48 + body.len());
            out.extend_from_slice(br#"{"body":"#);
            out.extend_from_slice(body);
            if let Some(name) = name {
                out.extend_from_slice(br#","name":"#);
                serde_json::to_writer(&mut out, name)
                    .map_err(|e| Error::encode("HttpQueueSendRequest", e))?;
            }
            if let Some(ms) = timeout_ms {
                out.extend_from_slice(br#","timeout":"#);
                out.extend_from_slice(ms.to_string().as_bytes());
            }
            if let Some(wait) = wait {
                out.extend_from_slice(br#","wait":"#);
                out.extend_from_slice(if wait { b"true" } else { b"false" });
            }
            out.push(b'}');
            out
        }
        Encoding::Cbor => {
            let mut out = Vec::with_capacity(32 + body.len());
            let entries = 1
                + u64::from(name.is_some())
                + u64::from(timeout_ms.is_some())
                + u64::from(wait.is_some());
            write_map(&mut out, entries);
            write_text(&mut out, "body");
            out.extend_from_slice(body);
            if let Some(name) = name {
                write_text(&mut out, "name");
                write_text(&mut out, name);
            }
            if let Some(ms) = timeout_ms {
                write_text(&mut out, "timeout");
                write_uint(&mut out, ms);
            }
            if let Some(wait) = wait {
                write_text(&mut out, "wait");
                write_bool(&mut out, wait);
            }
            out
        }
        #[cfg(feature = "bare")]
        Encoding::Bare => schema::encode_http_queue_payload(body, name, wait, timeout_ms),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => return Err(encoding.not_compiled()),
    })
}

/// Decodes a message from the server, leaving action outputs and event arguments encoded.
pub(crate) fn decode_to_client_raw(
    bytes: &[u8],
    encoding: Encoding,
) -> Result<ToClientRaw<'_>, Error> {
    let what = match encoding {
        Encoding::Json => "JSON ToClient message",
        Encoding::Cbor => "CBOR ToClient message",
        #[cfg(feature = "bare")]
        Encoding::Bare => return schema::decode_to_client_raw(bytes),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => return Err(encoding.not_compiled()),
    };
    let format = Format::of(encoding);
    let (_, body) = object(bytes, format, what, "message", "body")?;
    let body = body.ok_or_else(|| missing(what, "body", "message"))?;
    let (mut fields, val) = object(body, format, what, "body", "val")?;
    let tag = fields.string("tag")?;
    let val = val.ok_or_else(|| missing(what, "val", "body"))?;
    match tag.as_str() {
        "ActionResponse" => {
            let (mut val, output) = object(val, format, what, &tag, "output")?;
            Ok(ToClientRaw::ActionResponse {
                id: val.u64("id")?,
                output: PayloadRef::new(output.unwrap_or_default(), format),
            })
        }
        "Event" => {
            let (mut val, args) = object(val, format, what, &tag, "args")?;
            Ok(ToClientRaw::Event {
                name: val.string("name")?,
                args: PayloadRef::new(args.unwrap_or_default(), format),
            })
        }
        _ => {
            let val = tree::from_bytes(val, encoding, what)?;
            match tree::to_client_val(&tag, val, what)? {
                super::ToClient::Init {
                    actor_id,
                    connection_id,
                } => Ok(ToClientRaw::Init {
                    actor_id,
                    connection_id,
                }),
                super::ToClient::Error(body) => Ok(ToClientRaw::Error(body)),
                other => Err(Error::decode(
                    what,
                    format_args!("internal: unexpected message {other:?}"),
                )),
            }
        }
    }
}

/// The encoded output in the body of a successful stateless action call.
pub(crate) fn decode_http_action_output(
    body: &[u8],
    encoding: Encoding,
) -> Result<PayloadRef<'_>, Error> {
    const WHAT: &str = "HttpActionResponse";
    match encoding {
        Encoding::Json | Encoding::Cbor => {
            let format = Format::of(encoding);
            let (_, output) = object(body, format, WHAT, "response", "output")?;
            Ok(PayloadRef::new(output.unwrap_or_default(), format))
        }
        #[cfg(feature = "bare")]
        Encoding::Bare => schema::decode_http_action_output(body),
        #[cfg(not(feature = "bare"))]
        Encoding::Bare => Err(encoding.not_compiled()),
    }
}

fn missing(what: &'static str, field: &str, context: &str) -> Error {
    Error::decode(what, format_args!("field {field:?} of {context}: missing"))
}

/// The fields of the object `bytes` except `raw_field`, decoded; and `raw_field`'s bytes,
/// unless absent or `null`.
fn object<'a>(
    bytes: &'a [u8],
    format: Format,
    what: &'static str,
    context: &str,
    raw_field: &str,
) -> Result<(Fields, Option<&'a [u8]>), Error> {
    let entries = match format {
        Format::Json => {
            super::json_item::object_entries(bytes).map_err(|e| Error::decode(what, e))?
        }
        #[cfg(any(feature = "cbor", feature = "bare"))]
        Format::Cbor => super::cbor_item::map_entries(bytes).map_err(|e| Error::decode(what, e))?,
        #[cfg(not(any(feature = "cbor", feature = "bare")))]
        Format::Cbor => return Err(Encoding::Cbor.not_compiled()),
    };
    let Some(entries) = entries else {
        // Not an object: let the tree code name what it is.
        let encoding = match format {
            Format::Json => Encoding::Json,
            Format::Cbor => Encoding::Cbor,
        };
        let value = tree::from_bytes(bytes, encoding, what)?;
        return Fields::new(value, what, context).map(|fields| (fields, None));
    };
    let mut map = Map::new();
    let mut raw = None;
    for (key, span) in entries {
        if key == raw_field {
            raw = Some(span).filter(|span| !is_null(span, format));
            continue;
        }
        let value = match format {
            Format::Json => serde_json::from_slice(span)
                .map_err(|e| Error::decode(what, format_args!("invalid JSON: {e}")))?,
            #[cfg(any(feature = "cbor", feature = "bare"))]
            Format::Cbor => {
                super::cbor::decode_document(span).map_err(|e| Error::decode(what, e))?
            }
            #[cfg(not(any(feature = "cbor", feature = "bare")))]
            Format::Cbor => return Err(Encoding::Cbor.not_compiled()),
        };
        map.insert(key.into_owned(), value);
    }
    Fields::new(Value::Object(map), what, context).map(|fields| (fields, raw))
}

fn is_null(span: &[u8], format: Format) -> bool {
    match format {
        Format::Json => span == b"null",
        Format::Cbor => matches!(span, [0xf6] | [0xf7]),
    }
}

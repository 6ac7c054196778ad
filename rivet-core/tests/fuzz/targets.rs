//! The fuzz targets: one function per decoder, each taking arbitrary bytes and checking that
//! the decoder answers with a value or a typed error (`Error::Decode` / `Error::InvalidInput`)
//! and that what it returns keeps its documented invariants.
//!
//! Shared by the stable harness (`tests/fuzz.rs`, run in CI with a fixed seed) and the
//! libFuzzer targets (`fuzz/`, run long with `cargo +nightly fuzz`). A target returns
//! `Err(description)` for a broken invariant; a panic is a finding too.

use rivet_core::protocol::{self, compat, Encoding};
use rivet_core::{ActorKey, ClientConfig, Error, ServerError};

/// `Ok(true)`: the decoder accepted the input; `Ok(false)`: it refused it with a typed error;
/// `Err(description)`: a broken invariant.
pub type Verdict = Result<bool, String>;

/// A fuzz target: checks one input.
pub type Target = fn(&[u8]) -> Verdict;

/// Every target, by name, as the harnesses list them.
pub const TARGETS: &[(&str, Target)] = &[
    ("to_client_json", to_client_json),
    ("to_client_cbor", to_client_cbor),
    ("to_client_bare", to_client_bare),
    ("http_json", http_json),
    ("http_cbor", http_cbor),
    ("http_bare", http_bare),
    ("compat", compat_tags),
    ("payload_json", payload_json),
    ("payload_cbor", payload_cbor),
    ("close_reason", close_reason),
    ("endpoint", endpoint),
    ("key", key),
];

/// The token in the endpoint seeds; no error message may ever show it.
pub const SEED_TOKEN: &str = "s3cr3tT0KEN";

/// Decoders may fail only with these two kinds.
fn typed<T>(what: &str, result: Result<T, Error>) -> Result<Option<T>, String> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Decode { .. } | Error::InvalidInput { .. }) => Ok(None),
        Err(other) => Err(format!("{what}: untyped failure {other:?}")),
    }
}

fn to_client(bytes: &[u8], encoding: Encoding) -> Verdict {
    Ok(typed(
        "decode_to_client",
        protocol::decode_to_client(bytes, encoding),
    )?
    .is_some())
}

/// `decode_to_client` on JSON text frames.
pub fn to_client_json(bytes: &[u8]) -> Verdict {
    to_client(bytes, Encoding::Json)
}

/// `decode_to_client` on CBOR binary frames.
pub fn to_client_cbor(bytes: &[u8]) -> Verdict {
    to_client(bytes, Encoding::Cbor)
}

/// `decode_to_client` on BARE binary frames.
pub fn to_client_bare(bytes: &[u8]) -> Verdict {
    to_client(bytes, Encoding::Bare)
}

fn http(bytes: &[u8], encoding: Encoding) -> Verdict {
    let action = typed(
        "decode_http_action_response",
        protocol::decode_http_action_response(bytes, encoding),
    )?;
    let queue = typed(
        "decode_http_queue_response",
        protocol::decode_http_queue_response(bytes, encoding),
    )?;
    let error = typed(
        "decode_http_error",
        protocol::decode_http_error(bytes, encoding),
    )?;
    Ok(action.is_some() || queue.is_some() || error.is_some())
}

/// The three HTTP body decoders on JSON bodies.
pub fn http_json(bytes: &[u8]) -> Verdict {
    http(bytes, Encoding::Json)
}

/// The three HTTP body decoders on CBOR bodies.
pub fn http_cbor(bytes: &[u8]) -> Verdict {
    http(bytes, Encoding::Cbor)
}

/// The three HTTP body decoders on BARE bodies.
pub fn http_bare(bytes: &[u8]) -> Verdict {
    http(bytes, Encoding::Bare)
}

/// Compat tags: the input is a JSON document (else raw CBOR) of wire values; `revive` must
/// answer with a value or a typed error, and a revived value must survive `to_wire` and a
/// second `revive` unchanged in every encoding (the escaping is reversible).
pub fn compat_tags(bytes: &[u8]) -> Verdict {
    let cbor = typed("cbor_decode_compat", protocol::cbor_decode_compat(bytes))?;
    let Ok(wire) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(cbor.is_some());
    };
    let Some(user) = typed("revive", compat::revive(wire))? else {
        return Ok(false);
    };
    for encoding in Encoding::ALL {
        let again = compat::to_wire(&user, encoding);
        let revived = typed("revive(to_wire)", compat::revive(again.clone()))?
            .ok_or_else(|| format!("revive rejects to_wire's own output {again}"))?;
        if revived != user {
            return Err(format!(
                "{encoding}: revive(to_wire(v)) != v\n  v     = {user}\n  wire  = {again}\n  back  = {revived}"
            ));
        }
    }
    Ok(true)
}

/// Shapes a typed payload read may be asked for.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
enum Shape {
    Unit,
    Pair(i64, String),
    Named {
        n: Option<u128>,
        b: rivet_core::Bytes,
    },
}

/// `decode_payload` (a payload read straight into the caller's type, compat tags revived on the
/// fly) on JSON text or CBOR: it answers with a value or a typed error for every target type,
/// and into a `serde_json::Value` it gives what `revive` gives the decoded tree.
fn payload(bytes: &[u8], encoding: Encoding) -> Verdict {
    use rivet_core::Bytes;
    use std::collections::BTreeMap;
    type Tuple = (Bytes, u128, i128, Option<i64>, Vec<String>, f64);
    let value = typed(
        "decode_payload::<Value>",
        protocol::decode_payload::<serde_json::Value>(bytes, encoding),
    )?;
    typed("Tuple", protocol::decode_payload::<Tuple>(bytes, encoding))?;
    typed(
        "Vec<Shape>",
        protocol::decode_payload::<Vec<Shape>>(bytes, encoding),
    )?;
    typed("Bytes", protocol::decode_payload::<Bytes>(bytes, encoding))?;
    typed(
        "map",
        protocol::decode_payload::<BTreeMap<String, Option<u64>>>(bytes, encoding),
    )?;
    typed(
        "Option<Shape>",
        protocol::decode_payload::<Option<Shape>>(bytes, encoding),
    )?;
    // The tree path: the document decoded whole, then revived.
    let tree = match encoding {
        Encoding::Json => serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|tree| compat::revive(tree).ok()),
        Encoding::Cbor | Encoding::Bare => protocol::cbor_decode_compat(bytes).ok(),
    };
    if let (Some(value), Some(tree)) = (&value, &tree) {
        if value != tree {
            return Err(format!(
                "{encoding}: decode_payload::<Value> != revive(tree)\n  direct = {value}\n  tree   = {tree}"
            ));
        }
    }
    Ok(value.is_some())
}

/// [`payload`] on JSON text.
pub fn payload_json(bytes: &[u8]) -> Verdict {
    payload(bytes, Encoding::Json)
}

/// [`payload`] on CBOR documents.
pub fn payload_cbor(bytes: &[u8]) -> Verdict {
    payload(bytes, Encoding::Cbor)
}

/// `ServerError::from_close_reason`: a parsed reason has a valid group and code that the
/// reason starts with, and the ray id is what follows the first `#`.
pub fn close_reason(bytes: &[u8]) -> Verdict {
    let reason = String::from_utf8_lossy(bytes);
    let Some(err) = ServerError::from_close_reason(&reason) else {
        return Ok(false);
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !valid(&err.group) || !valid(&err.code) {
        return Err(format!(
            "invalid group/code parsed from {reason:?}: {err:?}"
        ));
    }
    if !reason.starts_with(&format!("{}.{}", err.group, err.code)) {
        return Err(format!("{reason:?} parsed as {}.{}", err.group, err.code));
    }
    let ray = reason.split_once('#').map(|(_, ray)| ray.to_owned());
    if err.ray_id != ray {
        return Err(format!("{reason:?}: ray id {:?}", err.ray_id));
    }
    Ok(true)
}

/// `ClientConfig::new`: a valid http(s) endpoint without credentials, or `InvalidInput`;
/// never the token in an error message or in the config's `Debug` output.
pub fn endpoint(bytes: &[u8]) -> Verdict {
    let raw = String::from_utf8_lossy(bytes);
    // Only a token that a URL parser reads as the password is a credential; elsewhere (a
    // path, a port) it is just text the user wrote, so it is checked only when it is there
    // once.
    let token_in_credentials = raw.matches(SEED_TOKEN).count() == 1
        && url::Url::parse(&raw)
            .is_ok_and(|url| url.password().is_some_and(|p| p.contains(SEED_TOKEN)));
    match ClientConfig::new(raw.as_ref()) {
        Ok(config) => {
            let endpoint = config.endpoint();
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(format!("{raw:?} gave endpoint {endpoint:?}"));
            }
            if endpoint.ends_with('/') {
                return Err(format!(
                    "{raw:?} gave endpoint {endpoint:?} with a trailing /"
                ));
            }
            if token_in_credentials && format!("{config:?}").contains(SEED_TOKEN) {
                return Err(format!("{raw:?}: the config's Debug shows the token"));
            }
            if token_in_credentials && endpoint.contains(SEED_TOKEN) {
                return Err(format!(
                    "{raw:?}: the endpoint keeps the token: {endpoint:?}"
                ));
            }
            Ok(true)
        }
        Err(err @ Error::InvalidInput { .. }) => {
            if token_in_credentials
                && (err.to_string().contains(SEED_TOKEN) || format!("{err:?}").contains(SEED_TOKEN))
            {
                return Err(format!("{raw:?}: the error shows the token: {err}"));
            }
            Ok(false)
        }
        Err(other) => Err(format!("{raw:?}: untyped failure {other:?}")),
    }
}

/// Keys: the input's NUL-separated parts form a key; its query form splits back into the
/// parts (or is refused exactly when the gateway would split it wrongly), its REST form
/// unescapes back into the parts, and its `Display` is the JSON array of the parts.
pub fn key(bytes: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(bytes);
    let parts: Vec<String> = if text.is_empty() {
        Vec::new()
    } else {
        text.split('\0').map(str::to_owned).collect()
    };
    let key = ActorKey::new(parts.clone());

    // The gateway splits on `,`, and reads `[""]` as the empty key.
    let ambiguous = parts.iter().any(|p| p.contains(',')) || parts == [""];
    let splittable = !ambiguous;
    match key.query_form() {
        Some(query) if splittable => {
            let back: Vec<String> = if query.is_empty() {
                Vec::new()
            } else {
                query.split(',').map(str::to_owned).collect()
            };
            if back != parts {
                return Err(format!(
                    "query form {query:?} splits into {back:?}, not {parts:?}"
                ));
            }
        }
        None if !splittable => {}
        other => return Err(format!("{parts:?}: query form {other:?}")),
    }

    let rest = key.rest_form();
    let back = unescape_rest(&rest).ok_or_else(|| format!("REST form {rest:?} is malformed"))?;
    if back != parts {
        return Err(format!(
            "REST form {rest:?} unescapes to {back:?}, not {parts:?}"
        ));
    }

    let shown: Vec<String> = serde_json::from_str(&key.to_string())
        .map_err(|e| format!("Display of {parts:?} is not a JSON array: {e}"))?;
    if shown != parts {
        return Err(format!("Display shows {shown:?}, not {parts:?}"));
    }
    Ok(key.query_form().is_some())
}

/// The engine's reading of a REST key: `/` separates parts, `\` escapes the next character,
/// a part that is exactly `\0` is empty, and `/` alone is the empty key.
fn unescape_rest(rest: &str) -> Option<Vec<String>> {
    if rest == "/" {
        return Some(Vec::new());
    }
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut raw_part = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next()?;
                raw_part.push('\\');
                raw_part.push(escaped);
                part.push(escaped);
            }
            '/' => {
                parts.push(finish_part(&raw_part, &part));
                part.clear();
                raw_part.clear();
            }
            c => {
                raw_part.push(c);
                part.push(c);
            }
        }
    }
    parts.push(finish_part(&raw_part, &part));
    Some(parts)
}

fn finish_part(raw: &str, unescaped: &str) -> String {
    if raw == "\\0" {
        String::new()
    } else {
        unescaped.to_owned()
    }
}

//! Shared HTTP plumbing for stateless calls: common headers, error decoding, ASCII-safe JSON.

use serde_json::Value;

use crate::protocol::{self, Encoding};
use crate::transport::HttpResponse;
use crate::{Error, ServerError};

/// Turns a non-2xx response into an [`Error`]. Gateway errors are always JSON whatever was
/// requested, so the decoder is chosen by `content-type`, falling back to the requested
/// encoding for actor-level errors.
pub(crate) fn error_from_response(
    response: &HttpResponse,
    requested: Encoding,
    operation: &str,
) -> Error {
    let content_type = response.header("content-type").unwrap_or("");
    let encoding = if content_type.starts_with("application/json") {
        Encoding::Json
    } else if content_type.starts_with("application/octet-stream") {
        requested
    } else {
        // No or unknown content type: the gateway's own errors are JSON.
        Encoding::Json
    };
    match protocol::decode_http_error(&response.body, encoding) {
        Ok(body) => {
            let mut err = ServerError::from_body(body);
            err.status = Some(response.status);
            err.ray_id = response.header("x-rivet-ray-id").map(str::to_owned);
            err.into_error()
        }
        Err(_) => Error::Http {
            operation: operation.to_owned(),
            status: response.status,
            body: snippet(&response.body),
        },
    }
}

/// The start of a body as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]).into_owned();
    if body.len() > MAX {
        format!("{text}…")
    } else {
        text
    }
}

/// JSON with every non-ASCII character written as `\uXXXX`: browsers only send Latin-1 header
/// values, and the server silently ignores a header with raw UTF-8.
pub(crate) fn ascii_json(value: &Value) -> String {
    let raw = value.to_string();
    if raw.is_ascii() {
        return raw;
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for ch in raw.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_json_escapes_non_ascii_and_stays_valid_json() {
        let v = serde_json::json!({"user": "zoë 日本 🎉"});
        let s = ascii_json(&v);
        assert!(s.is_ascii(), "{s}");
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }
}

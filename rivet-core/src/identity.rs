//! The canonical form of "which connection": equal forms share one socket.
//!
//! Object keys are sorted at every depth and keys are compared as lists of parts, so
//! `{a, b}` and `{b, a}` params, or the key `"a"` and `["a"]`, are one identity (the React
//! hooks hash `JSON.stringify` output and open two sockets for each of those pairs).

use std::fmt;

use serde_json::Value;

/// The canonical identity of a shared connection. Two
/// [`ActorOptions`](crate::manager::ActorOptions) with equal identities share one connection.
///
/// Connection params are where apps put auth tokens, so the identity never shows them: its
/// `Display`, `Debug` and [`as_str`](Self::as_str) replace them with `params#` and a stable
/// 64-bit hash of their canonical JSON. Equality still compares the params themselves.
///
/// ```
/// use rivet_core::manager::ActorOptions;
/// use serde_json::json;
///
/// let a = ActorOptions::new("chatRoom", "general").params(&json!({"user": "ada", "token": "t0k"}))?;
/// let b = ActorOptions::new("chatRoom", ["general"]).params(&json!({"token": "t0k", "user": "ada"}))?;
/// assert_eq!(a.identity(), b.identity());
/// assert!(a.identity().to_string().contains("params#"));
/// assert!(!format!("{:?}", a.identity()).contains("t0k"));
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorIdentity {
    /// The full canonical JSON, params included: what equality compares. Never printed.
    canonical: String,
    /// The canonical JSON with the params replaced by their hash.
    shown: String,
}

impl ActorIdentity {
    /// `canonical` is the whole identity; `shown` is the same with the params hashed.
    pub(crate) fn new(canonical: String, shown: String) -> Self {
        Self { canonical, shown }
    }

    /// The canonical text with the params replaced by `params#<hash>` (stable across runs
    /// and platforms; handy as a log field, free of secrets).
    pub fn as_str(&self) -> &str {
        &self.shown
    }
}

impl fmt::Display for ActorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for ActorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ActorIdentity").field(&self.shown).finish()
    }
}

/// `params#` and the FNV-1a 64-bit hash of the canonical JSON of `value`, in hex: tells
/// params apart in logs without showing them. FNV is fixed by its definition, unlike std's
/// `DefaultHasher`, so the text is the same in every run and on every platform.
///
pub(crate) fn params_digest(value: &Value) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = canonical_json(value)
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("params#{hash:016x}")
}

/// Writes `value` as JSON with object keys sorted at every depth, whatever map type
/// `serde_json` was built with (another crate in the build may turn on `preserve_order`).
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            // The keys alone: a `[&String]` sort is compiled in anyway (the connection sorts
            // its subscription names), a sort of (key, value) pairs would be one more.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                let Some(item) = map.get(key) else { continue };
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_depth() {
        let a = json!({"b": {"y": 1, "x": [{"q": 1, "p": 2}]}, "a": null});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":null,"b":{"x":[{"p":2,"q":1}],"y":1}}"#
        );
    }

    #[test]
    fn keeps_array_order_and_escapes_strings() {
        assert_eq!(
            canonical_json(&json!(["b", "a\"", 1.5])),
            r#"["b","a\"",1.5]"#
        );
    }

    #[test]
    fn params_digest_is_stable_and_tells_params_apart() {
        let a = params_digest(&json!({"token": "SECRET-1", "user": "ada"}));
        assert_eq!(
            a,
            params_digest(&json!({"user": "ada", "token": "SECRET-1"}))
        );
        assert_ne!(
            a,
            params_digest(&json!({"token": "SECRET-2", "user": "ada"}))
        );
        assert!(a.starts_with("params#") && a.len() == 7 + 16, "{a}");
        assert!(!a.contains("SECRET"));
        // FNV-1a 64 of `null`: pinned so the text never changes between releases.
        assert_eq!(params_digest(&Value::Null), "params#5b9bc4ba528108e4");
    }

    #[test]
    fn escapes_object_keys() {
        assert_eq!(canonical_json(&json!({"a\"b": 1})), r#"{"a\"b":1}"#);
    }
}

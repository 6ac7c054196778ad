//! The canonical form of "which connection": equal forms share one socket.
//!
//! Object keys are sorted at every depth and keys are compared as lists of parts, so
//! `{a, b}` and `{b, a}` params, or the key `"a"` and `["a"]`, are one identity (the React
//! hooks hash `JSON.stringify` output and open two sockets for each of those pairs).

use std::fmt;

use serde_json::Value;

/// The canonical identity of a shared connection. Two [`ActorOptions`](super::ActorOptions)
/// with equal identities share one connection.
///
/// ```
/// use rivet_core::manager::ActorOptions;
/// use serde_json::json;
///
/// let a = ActorOptions::new("chatRoom", "general").params(&json!({"user": "ada", "token": "t"}))?;
/// let b = ActorOptions::new("chatRoom", ["general"]).params(&json!({"token": "t", "user": "ada"}))?;
/// assert_eq!(a.identity(), b.identity());
/// # Ok::<(), rivet_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorIdentity(String);

impl ActorIdentity {
    pub(crate) fn from_canonical(canonical: String) -> Self {
        Self(canonical)
    }

    /// The canonical text (stable across runs and platforms; handy as a map key or log field).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
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
    fn escapes_object_keys() {
        assert_eq!(canonical_json(&json!({"a\"b": 1})), r#"{"a\"b":1}"#);
    }
}

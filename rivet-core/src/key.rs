//! Actor keys and their two wire forms.
//!
//! A key is a list of strings. The query gateway joins the parts with `,` and no escaping, so
//! a part containing `,` (and the key `[""]`) cannot travel that way; such keys are resolved
//! through the engine's REST API, whose `/`-joined form escapes everything, and the actor is
//! then addressed by id. [`ActorKey::query_form`] says which applies.

use std::fmt;

/// The key of an actor: zero or more string parts.
///
/// Build one from a string (one part), an array, a slice or a `Vec`:
///
/// ```
/// use rivet_core::ActorKey;
///
/// assert_eq!(ActorKey::from("room"), ActorKey::from(["room"]));
/// assert_eq!(ActorKey::from(vec!["org".to_string(), "room".into()]).parts(), ["org", "room"]);
/// assert!(ActorKey::empty().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ActorKey(Vec<String>);

impl ActorKey {
    /// The empty key `[]`.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// A key from its parts.
    ///
    /// ```
    /// let key = rivet_core::ActorKey::new(["tenant", "42"]);
    /// assert_eq!(key.parts().len(), 2);
    /// ```
    pub fn new<I, S>(parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(parts.into_iter().map(Into::into).collect())
    }

    /// The parts of the key.
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// Whether this is the empty key `[]`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the query gateway's `rvt-key` parameter, or `None` when the gateway would
    /// deliver this key to a different actor (a part contains `,`, or the key is `[""]`).
    /// `Some("")` means: send no `rvt-key` at all (the empty key).
    ///
    /// ```
    /// use rivet_core::ActorKey;
    /// assert_eq!(ActorKey::new(["a", "b/c"]).query_form().as_deref(), Some("a,b/c"));
    /// assert_eq!(ActorKey::empty().query_form().as_deref(), Some(""));
    /// assert_eq!(ActorKey::new(["d,e"]).query_form(), None);
    /// assert_eq!(ActorKey::new([""]).query_form(), None);
    /// ```
    pub fn query_form(&self) -> Option<String> {
        if self.0.len() == 1 && self.0[0].is_empty() {
            return None;
        }
        if self.0.iter().any(|part| part.contains(',')) {
            return None;
        }
        Some(self.0.join(","))
    }

    /// The engine REST API form: parts joined with `/`, `\` and `/` escaped with `\`, an empty
    /// part written `\0`, the empty key written `/`.
    ///
    /// ```
    /// use rivet_core::ActorKey;
    /// assert_eq!(ActorKey::new(["a", "b/c", "d", "e", ""]).rest_form(), r"a/b\/c/d/e/\0");
    /// assert_eq!(ActorKey::new([r"a\b"]).rest_form(), r"a\\b");
    /// assert_eq!(ActorKey::empty().rest_form(), "/");
    /// ```
    pub fn rest_form(&self) -> String {
        if self.0.is_empty() {
            return "/".to_owned();
        }
        let mut out = String::new();
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            if part.is_empty() {
                out.push_str("\\0");
                continue;
            }
            for ch in part.chars() {
                if ch == '\\' || ch == '/' {
                    out.push('\\');
                }
                out.push(ch);
            }
        }
        out
    }
}

impl fmt::Display for ActorKey {
    /// Displays the key as a JSON array, e.g. `["org","room"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(&self.0) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

impl From<&str> for ActorKey {
    fn from(part: &str) -> Self {
        Self(vec![part.to_owned()])
    }
}

impl From<String> for ActorKey {
    fn from(part: String) -> Self {
        Self(vec![part])
    }
}

impl From<&String> for ActorKey {
    fn from(part: &String) -> Self {
        Self(vec![part.clone()])
    }
}

impl From<Vec<String>> for ActorKey {
    fn from(parts: Vec<String>) -> Self {
        Self(parts)
    }
}

impl From<Vec<&str>> for ActorKey {
    fn from(parts: Vec<&str>) -> Self {
        Self::new(parts)
    }
}

impl From<&[&str]> for ActorKey {
    fn from(parts: &[&str]) -> Self {
        Self::new(parts.iter().copied())
    }
}

impl From<&[String]> for ActorKey {
    fn from(parts: &[String]) -> Self {
        Self(parts.to_vec())
    }
}

impl<const N: usize> From<[&str; N]> for ActorKey {
    fn from(parts: [&str; N]) -> Self {
        Self::new(parts)
    }
}

impl<const N: usize> From<[String; N]> for ActorKey {
    fn from(parts: [String; N]) -> Self {
        Self::new(parts)
    }
}

impl From<()> for ActorKey {
    fn from(_: ()) -> Self {
        Self::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_and_single_part_list_are_the_same_key() {
        assert_eq!(ActorKey::from("a"), ActorKey::from(vec!["a"]));
        assert_eq!(ActorKey::from("a").to_string(), r#"["a"]"#);
    }

    #[test]
    fn query_form_refuses_keys_the_gateway_would_split() {
        assert_eq!(ActorKey::new(["a", "b/c", "d,e", ""]).query_form(), None);
        assert_eq!(ActorKey::new(["a\\,b"]).query_form(), None);
        assert_eq!(ActorKey::new(["x", ""]).query_form().as_deref(), Some("x,"));
        assert_eq!(ActorKey::new(["", ""]).query_form().as_deref(), Some(","));
    }

    #[test]
    fn rest_form_escapes_like_the_engine() {
        assert_eq!(ActorKey::new(["solo"]).rest_form(), "solo");
        assert_eq!(ActorKey::new([""]).rest_form(), "\\0");
        assert_eq!(ActorKey::new(["a/b", "c\\d"]).rest_form(), "a\\/b/c\\\\d");
        assert_eq!(ActorKey::new(["d,e"]).rest_form(), "d,e");
    }
}

//! JSON at the level of items: the elements of an array and the entries of an object as byte
//! spans of the document (the JSON counterpart of [`cbor_item`](super::cbor_item)).
//!
//! serde_json checks the document first (with `IgnoredAny`); the scan then only finds where
//! items begin and end. This replaces serde_json's `RawValue`, whose cargo feature (`raw_value`)
//! compiles a second copy of serde_json's parser into every build, for `&str` input, used by
//! nothing else (issue 14: about 4 KB gz of a counter app's browser bundle).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

/// The elements of the JSON array `bytes` as spans. `None` when `bytes` is not valid JSON or
/// not an array.
pub(crate) fn array_items(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    serde_json::from_slice::<IgnoredAny>(bytes).ok()?;
    let mut scan = Scan { bytes, pos: 0 };
    scan.open(b'[')?;
    let mut items = Vec::new();
    while let Some(item) = scan.next_in(b']') {
        items.push(item);
    }
    Some(items)
}

/// An object's entries: (key, value span), in document order.
pub(crate) type Entries<'a> = Vec<(Cow<'a, str>, &'a [u8])>;

/// The entries of the JSON object `bytes` as (key, value span). `Ok(None)` when `bytes` is
/// valid JSON but not an object; `Err` names what is wrong with invalid JSON.
pub(crate) fn object_entries(bytes: &[u8]) -> Result<Option<Entries<'_>>, String> {
    if let Err(invalid) = serde_json::from_slice::<IgnoredAny>(bytes) {
        // The message reading the document as an object gives ("invalid type: sequence,
        // expected an object" for a broken array), as before the scan.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let e = de
            .deserialize_map(AnObject)
            .and_then(|()| de.end())
            .err()
            .unwrap_or(invalid);
        return Err(format!("invalid JSON: {e}"));
    }
    let mut scan = Scan { bytes, pos: 0 };
    if scan.open(b'{').is_none() {
        return Ok(None);
    }
    let mut entries = Vec::new();
    while let Some(key) = scan.next_in(b'}') {
        scan.skip_whitespace();
        scan.pos += 1; // the `:`
        scan.skip_whitespace();
        let value = scan.value();
        entries.push((key_text(key)?, value));
    }
    Ok(Some(entries))
}

/// Reads an object, ignoring its contents: for the error message.
struct AnObject;

impl<'de> Visitor<'de> for AnObject {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A key's text: borrowed unless it has escapes.
fn key_text(quoted: &[u8]) -> Result<Cow<'_, str>, String> {
    let inner = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    if !inner.contains(&b'\\') {
        if let Ok(text) = std::str::from_utf8(inner) {
            return Ok(Cow::Borrowed(text));
        }
    }
    serde_json::from_slice::<String>(quoted)
        .map(Cow::Owned)
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// A position in a document serde_json has accepted.
struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Steps into the array or object that starts the document; `None` if it starts with
    /// something else.
    fn open(&mut self, bracket: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek() == Some(bracket)).then(|| self.pos += 1)
    }

    /// The next element of the array or object being read (for an object, the key), or `None`
    /// at its `close` bracket.
    fn next_in(&mut self, close: u8) -> Option<&'a [u8]> {
        self.skip_whitespace();
        if self.peek() == Some(b',') {
            self.pos += 1;
            self.skip_whitespace();
        }
        match self.peek() {
            None => None,
            Some(b) if b == close => None,
            Some(_) => Some(self.value()),
        }
    }

    /// Skips one value and returns its span.
    fn value(&mut self) -> &'a [u8] {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'[' | b'{') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string();
                            continue;
                        }
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            // A number, `true`, `false` or `null`.
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
            }
        }
        &self.bytes[start..self.pos]
    }

    /// Skips a string, from its opening quote to after its closing one.
    fn string(&mut self) {
        self.pos += 1;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_split_into_their_elements() {
        let doc = br#" [ 1 , "a,]\"b" ,[2,[3]], {"k":"}"} ,null,-1.5e3,true ] "#;
        let items = array_items(doc).unwrap();
        let items: Vec<&str> = items
            .iter()
            .map(|s| std::str::from_utf8(s).unwrap())
            .collect();
        assert_eq!(
            items,
            [
                "1",
                r#""a,]\"b""#,
                "[2,[3]]",
                r#"{"k":"}"}"#,
                "null",
                "-1.5e3",
                "true"
            ]
        );
        assert_eq!(array_items(b"[]").unwrap(), Vec::<&[u8]>::new());
        assert_eq!(array_items(b"{}"), None);
        assert_eq!(array_items(b"[1,"), None);
        assert_eq!(array_items(b"[1] x"), None);
    }

    #[test]
    fn objects_split_into_keys_and_value_spans() {
        let doc =
            br#"{ "body" : {"tag":"Init","val":{"x":[1,"]"]}} , "k\u00e9y\"":"v", "n":null }"#;
        let entries = object_entries(doc).unwrap().unwrap();
        let entries: Vec<(String, &str)> = entries
            .into_iter()
            .map(|(k, v)| (k.into_owned(), std::str::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(
            entries,
            [
                ("body".to_owned(), r#"{"tag":"Init","val":{"x":[1,"]"]}}"#),
                ("kéy\"".to_owned(), r#""v""#),
                ("n".to_owned(), "null"),
            ]
        );
        assert_eq!(object_entries(b" {} ").unwrap().unwrap().len(), 0);
        assert_eq!(object_entries(b"[1]").unwrap(), None);
        assert_eq!(object_entries(b"\"s\"").unwrap(), None);
        let err = object_entries(b"{\"a\":").unwrap_err();
        assert!(err.starts_with("invalid JSON: EOF while parsing"), "{err}");
    }

    /// The spans are the ones serde_json's `RawValue` gave (the implementation this replaced),
    /// over random documents.
    #[test]
    fn spans_match_a_full_parse() {
        let mut rng = fastrand::Rng::with_seed(14);
        for _ in 0..2_000 {
            let value = random_value(&mut rng, 3);
            let items: Vec<serde_json::Value> = match &value {
                serde_json::Value::Array(items) => items.clone(),
                _ => vec![value.clone()],
            };
            let doc = serde_json::to_vec(&serde_json::Value::Array(items.clone())).unwrap();
            let spans = array_items(&doc).unwrap();
            assert_eq!(spans.len(), items.len());
            for (span, item) in spans.iter().zip(&items) {
                assert_eq!(
                    &serde_json::from_slice::<serde_json::Value>(span).unwrap(),
                    item
                );
            }
            let object: serde_json::Map<String, serde_json::Value> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("k{i}\"\\é"), v.clone()))
                .collect();
            let doc = serde_json::to_vec_pretty(&object).unwrap();
            let entries = object_entries(&doc).unwrap().unwrap();
            assert_eq!(entries.len(), object.len());
            for (key, span) in entries {
                let parsed: serde_json::Value = serde_json::from_slice(span).unwrap();
                assert_eq!(object.get(key.as_ref()), Some(&parsed));
            }
        }
    }

    fn random_value(rng: &mut fastrand::Rng, depth: u32) -> serde_json::Value {
        use serde_json::{json, Value};
        match rng.u8(0..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(rng.bool()),
            2 => json!(rng.i64(..)),
            3 => json!(rng.f64() * 1e6 - 5e5),
            4 => {
                let chars = ['a', '"', '\\', ',', ']', '}', '\n', 'é', '\u{1}', ' '];
                let text: String = (0..rng.usize(0..8))
                    .map(|_| chars[rng.usize(0..chars.len())])
                    .collect();
                Value::String(text)
            }
            5 => Value::Array(
                (0..rng.usize(0..4))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.usize(0..4))
                    .map(|i| (format!("k{i}"), random_value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }
}

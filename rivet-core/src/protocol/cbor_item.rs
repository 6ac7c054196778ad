//! CBOR at the level of items: where one item ends, the entries of a map as byte spans, and
//! item heads for writing envelopes around already encoded payloads.
//!
//! Reading allocates nothing and never trusts a declared length beyond the bytes at hand;
//! nesting is bounded by [`MAX_DEPTH`].

#[cfg(any(feature = "cbor", feature = "bare", test))]
use std::borrow::Cow;

/// Deeper items are refused (the decoders use the same bound).
pub(crate) const MAX_DEPTH: usize = 128;

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;
const INDEFINITE: u8 = 31;
const BREAK: u8 = 0xff;

/// One item head: its major type and its argument (`None` for indefinite lengths).
struct Head {
    major: u8,
    arg: Option<u64>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| format!("truncated CBOR: the input ended after {} bytes", self.at))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let left = self.bytes.len() - self.at;
        match usize::try_from(n) {
            Ok(n) if n <= left => {
                let out = &self.bytes[self.at..self.at + n];
                self.at += n;
                Ok(out)
            }
            _ => Err(format!(
                "truncated CBOR: an item of {n} bytes at byte {} with {left} bytes left",
                self.at
            )),
        }
    }

    fn head(&mut self) -> Result<Head, String> {
        let start = self.at;
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => {
                let width = 1u64 << (info - 24);
                let raw = self.take(width)?;
                Some(raw.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
            }
            INDEFINITE if matches!(major, MAJOR_BYTES..=MAJOR_MAP) => None,
            INDEFINITE if major == MAJOR_SIMPLE => {
                return Err(format!("invalid CBOR at byte {start}: unexpected break"))
            }
            _ => return Err(format!("invalid CBOR at byte {start}")),
        };
        Ok(Head { major, arg })
    }

    /// Skips one complete item.
    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("CBOR nested too deeply".to_owned());
        }
        let head = self.head()?;
        match (head.major, head.arg) {
            (MAJOR_BYTES | MAJOR_TEXT, Some(len)) => self.take(len).map(drop),
            (MAJOR_BYTES | MAJOR_TEXT, None) => {
                // Chunks of the same major type, each definite, until a break.
                while !self.at_break()? {
                    let chunk = self.head()?;
                    match (chunk.major == head.major, chunk.arg) {
                        (true, Some(len)) => self.take(len)?,
                        _ => return Err(format!("invalid CBOR string chunk at byte {}", self.at)),
                    };
                }
                Ok(())
            }
            (MAJOR_ARRAY | MAJOR_MAP, Some(len)) => {
                let per_entry = if head.major == MAJOR_MAP { 2 } else { 1 };
                // Every item takes at least one byte: a count beyond the input fails there.
                for _ in 0..len.saturating_mul(per_entry) {
                    self.skip(depth + 1)?;
                }
                Ok(())
            }
            (MAJOR_ARRAY | MAJOR_MAP, None) => {
                while !self.at_break()? {
                    self.skip(depth + 1)?;
                    if head.major == MAJOR_MAP {
                        self.skip(depth + 1)?;
                    }
                }
                Ok(())
            }
            (MAJOR_TAG, _) => self.skip(depth + 1),
            _ => Ok(()),
        }
    }

    /// Consumes a break byte if one is next.
    fn at_break(&mut self) -> Result<bool, String> {
        match self.bytes.get(self.at) {
            Some(&BREAK) => {
                self.at += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(format!(
                "truncated CBOR: the input ended after {} bytes",
                self.at
            )),
        }
    }

    /// Skips one item and returns its bytes.
    fn item(&mut self) -> Result<&'a [u8], String> {
        let start = self.at;
        self.skip(0)?;
        Ok(&self.bytes[start..self.at])
    }
}

/// Checks that `bytes` is exactly one well-formed CBOR item (structure only).
pub(crate) fn check_item(bytes: &[u8]) -> Result<(), String> {
    let mut cursor = Cursor { bytes, at: 0 };
    cursor.skip(0)?;
    finish(&cursor)
}

fn finish(cursor: &Cursor<'_>) -> Result<(), String> {
    let left = cursor.bytes.len() - cursor.at;
    if left == 0 {
        Ok(())
    } else {
        Err(format!(
            "{left} trailing bytes after the CBOR document (it ended at byte {})",
            cursor.at
        ))
    }
}

/// The entries of the CBOR map `bytes`, as (key, value bytes). `None` when `bytes` is not a
/// map. Keys that are not text are written out as JSON object keys would be.
#[allow(clippy::type_complexity)]
#[cfg(any(feature = "cbor", feature = "bare", test))]
pub(crate) fn map_entries(bytes: &[u8]) -> Result<Option<Vec<(Cow<'_, str>, &[u8])>>, String> {
    let mut cursor = Cursor { bytes, at: 0 };
    let mut head = cursor.head()?;
    while head.major == MAJOR_TAG {
        head = cursor.head()?;
    }
    if head.major != MAJOR_MAP {
        check_item(bytes)?;
        return Ok(None);
    }
    let mut entries = Vec::new();
    let mut remaining = head.arg;
    loop {
        match &mut remaining {
            Some(0) => break,
            Some(n) => *n -= 1,
            None => {
                if cursor.at_break()? {
                    break;
                }
            }
        }
        let key = cursor.item()?;
        let value = cursor.item()?;
        entries.push((key_text(key)?, value));
    }
    finish(&cursor)?;
    Ok(Some(entries))
}

/// The elements of the CBOR array `bytes`, as byte spans. `None` when `bytes` is not an
/// array.
pub(crate) fn array_items(bytes: &[u8]) -> Result<Option<Vec<&[u8]>>, String> {
    let mut cursor = Cursor { bytes, at: 0 };
    let mut head = cursor.head()?;
    while head.major == MAJOR_TAG {
        head = cursor.head()?;
    }
    if head.major != MAJOR_ARRAY {
        check_item(bytes)?;
        return Ok(None);
    }
    let mut items = Vec::new();
    let mut remaining = head.arg;
    loop {
        match &mut remaining {
            Some(0) => break,
            Some(n) => *n -= 1,
            None => {
                if cursor.at_break()? {
                    break;
                }
            }
        }
        items.push(cursor.item()?);
    }
    finish(&cursor)?;
    Ok(Some(items))
}

/// Whether the item `bytes` is a text string starting with `$` (a compat tag or an escape).
pub(crate) fn text_starts_with_dollar(bytes: &[u8]) -> bool {
    let mut cursor = Cursor { bytes, at: 0 };
    match cursor.head() {
        Ok(Head {
            major: MAJOR_TEXT,
            arg: Some(len),
        }) => len > 0 && cursor.take(1).is_ok_and(|b| b == b"$"),
        // Indefinite text: its first chunk's first byte.
        Ok(Head {
            major: MAJOR_TEXT,
            arg: None,
        }) => true,
        _ => false,
    }
}

/// A map key: definite text borrowed, anything else decoded and written out.
#[cfg(any(feature = "cbor", feature = "bare", test))]
fn key_text(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    let mut cursor = Cursor { bytes, at: 0 };
    let head = cursor.head()?;
    if let (MAJOR_TEXT, Some(len)) = (head.major, head.arg) {
        let text = cursor.take(len)?;
        return std::str::from_utf8(text)
            .map(Cow::Borrowed)
            .map_err(|e| format!("a CBOR map key is not UTF-8: {e}"));
    }
    let value = super::cbor::decode_document(bytes)?;
    Ok(Cow::Owned(match value {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            return Err("a CBOR map key is an array or a map; keys must be text, numbers, booleans, null or bytes".to_owned())
        }
        other => other.to_string(),
    }))
}

/// Writes an item head with the smallest argument width.
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let major = major << 5;
    match arg {
        0..=23 => out.push(major | arg as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// Writes a text string.
pub(crate) fn write_text(out: &mut Vec<u8>, text: &str) {
    write_head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Writes a map head of `len` entries.
pub(crate) fn write_map(out: &mut Vec<u8>, len: u64) {
    write_head(out, MAJOR_MAP, len);
}

/// Writes an unsigned integer.
pub(crate) fn write_uint(out: &mut Vec<u8>, n: u64) {
    write_head(out, MAJOR_UNSIGNED, n);
}

/// Writes a boolean.
pub(crate) fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.push(if b { 0xf5 } else { 0xf4 });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spans_of_map_entries_decode_on_their_own() {
        let doc = json!({"id": 7, "output": [1, "two", {"three": [3.5, null]}], "x": "y"});
        let bytes = crate::protocol::cbor_encode(&doc).unwrap();
        let entries = map_entries(&bytes).unwrap().unwrap();
        assert_eq!(entries.len(), 3);
        for (key, span) in entries {
            assert_eq!(
                crate::protocol::cbor_decode(span).unwrap(),
                doc[key.as_ref()]
            );
        }
        assert!(map_entries(&[0x81, 0x01]).unwrap().is_none());
    }

    #[test]
    fn indefinite_lengths_tags_and_odd_keys_are_read() {
        // {_ "a": [_ 1, 2], 1: h'01'} with a tag on the value.
        let bytes = [
            0xbf, 0x61, b'a', 0xc6, 0x9f, 0x01, 0x02, 0xff, 0x01, 0x41, 0x01, 0xff,
        ];
        let entries = map_entries(&bytes).unwrap().unwrap();
        assert_eq!(entries[0].0, "a");
        assert_eq!(entries[0].1, &bytes[3..8]);
        assert_eq!(entries[1].0, "1");
    }

    #[test]
    fn truncation_depth_and_trailing_bytes_are_errors() {
        assert!(check_item(&[0x82, 0x01]).is_err());
        assert!(check_item(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(check_item(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(check_item(&[0x01, 0x02]).is_err());
        assert!(check_item(&[0x1c]).is_err());
        assert!(check_item(&vec![0x81; 1000]).is_err());
        assert!(check_item(&[0x7f, 0x41, 0x00, 0xff]).is_err());
        check_item(&[0x7f, 0x61, b'a', 0xff]).unwrap();
    }

    #[test]
    fn heads_use_the_smallest_width() {
        for (n, expected) in [
            (5u64, vec![0x05]),
            (24, vec![0x18, 24]),
            (256, vec![0x19, 1, 0]),
            (1 << 16, vec![0x1a, 0, 1, 0, 0]),
            (1 << 32, vec![0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            write_uint(&mut out, n);
            assert_eq!(out, expected, "{n}");
        }
    }
}

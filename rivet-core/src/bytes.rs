//! [`Bytes`]: a byte buffer that travels as a JS `Uint8Array`.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// A byte buffer that reaches the actor as a `Uint8Array` and comes back as bytes.
///
/// A plain `Vec<u8>` serializes as an array of numbers; `Bytes` serializes with
/// `serialize_bytes`, which every encoding of the client sends as
/// `["$Uint8Array","<base64>"]` (the JS client's form, revived by the server into a
/// `Uint8Array`). Any type that serializes through `serialize_bytes` (such as
/// `serde_bytes::ByteBuf`) travels the same way. It deserializes from bytes, from a string's
/// UTF-8 bytes, or from a sequence of numbers (`Uint8Array` and `ArrayBuffer` values from the
/// actor arrive as bytes).
///
/// ```
/// use rivet_core::Bytes;
///
/// let b = Bytes::from(vec![1u8, 2, 3]);
/// assert_eq!(&b[..], &[1, 2, 3]);
/// assert_eq!(b.len(), 3);
/// let back: Bytes = serde_json::from_value(serde_json::json!([1, 2, 3])).unwrap();
/// assert_eq!(back, b);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// An empty buffer.
    ///
    /// ```
    /// assert!(rivet_core::Bytes::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The bytes, owned.
    ///
    /// ```
    /// let v: Vec<u8> = rivet_core::Bytes::from(&b"hi"[..]).into_vec();
    /// assert_eq!(v, b"hi");
    /// ```
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({:?})", self.0)
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Bytes {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes or a sequence of byte values")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        Ok(Bytes(v.as_bytes().to_vec()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Bytes, E> {
        Ok(Bytes(v.into_bytes()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        // Bounded: the hint comes from the peer.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64 * 1024));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Bytes(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_bytes_strings_and_number_sequences() {
        let b: Bytes = serde_json::from_str("[0,255]").unwrap();
        assert_eq!(b.0, vec![0, 255]);
        let s: Bytes = serde_json::from_str("\"hi\"").unwrap();
        assert_eq!(s.0, b"hi");
        assert!(serde_json::from_str::<Bytes>("[256]").is_err());
        let mut cbor = Vec::new();
        ciborium::into_writer(&Bytes::from([9u8, 8]), &mut cbor).unwrap();
        assert_eq!(cbor, [0x42, 9, 8]);
        let back: Bytes = ciborium::from_reader(&cbor[..]).unwrap();
        assert_eq!(back, Bytes::from([9u8, 8]));
    }
}

//! [`Content`]: one wire item held in memory, exactly as it was read, to be read again.
//!
//! Reviving a sequence needs to look at its first elements before it knows whether the
//! sequence is a compat tag (`["$BigInt","n"]`) or a plain array; those elements are kept as
//! `Content` and replayed to the caller's type through [`Revive`](super::revive::Revive).
//! Nothing is lost: wide integers, byte strings and floats stay what they were.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// One item of a JSON or CBOR document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Content {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F64(f64),
    Str(String),
    Bytes(Vec<u8>),
    Seq(Vec<Content>),
    Map(Vec<(Content, Content)>),
}

/// Reads one item into a [`Content`].
pub(crate) struct ContentSeed;

impl<'de> DeserializeSeed<'de> for ContentSeed {
    type Value = Content;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Content, D::Error> {
        deserializer.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Content, E> {
        Ok(Content::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Content, E> {
        Ok(Content::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Content, E> {
        Ok(Content::U64(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Content, E> {
        Ok(Content::I128(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Content, E> {
        Ok(Content::U128(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Content, E> {
        Ok(Content::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Content, E> {
        Ok(Content::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Content, E> {
        Ok(Content::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Content, E> {
        Ok(Content::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Content, E> {
        Ok(Content::Bytes(v))
    }
    fn visit_none<E>(self) -> Result<Content, E> {
        Ok(Content::Null)
    }
    fn visit_unit<E>(self) -> Result<Content, E> {
        Ok(Content::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Content, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Content, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ContentSeed)? {
            items.push(item);
        }
        Ok(Content::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Content, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(ContentSeed)? {
            entries.push((key, map.next_value_seed(ContentSeed)?));
        }
        Ok(Content::Map(entries))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Content, A::Error> {
        tagged(data)
    }
}

/// A CBOR tag, as ciborium presents it (an enum whose variant is the tag number): bignums
/// (tags 2 and 3 on a byte string) become integers, any other tag is dropped.
pub(crate) fn tagged<'de, A: EnumAccess<'de>>(data: A) -> Result<Content, A::Error> {
    let (tag, variant): (TagNumber, _) = data.variant()?;
    let content = variant.newtype_variant_seed(ContentSeed)?;
    match (tag.0, content) {
        (Some(tag @ (TAG_POSITIVE_BIGNUM | TAG_NEGATIVE_BIGNUM)), Content::Bytes(bytes)) => {
            bignum(tag == TAG_NEGATIVE_BIGNUM, &bytes).map_err(de::Error::custom)
        }
        (_, content) => Ok(content),
    }
}

/// CBOR bignum tags (RFC 8949 §3.4.3).
const TAG_POSITIVE_BIGNUM: u64 = 2;
const TAG_NEGATIVE_BIGNUM: u64 = 3;

/// A bignum's value, as `cbor_decode` reads it: up to 128 bits.
fn bignum(negative: bool, bytes: &[u8]) -> Result<Content, String> {
    let significant = bytes
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |start| &bytes[start..]);
    if significant.len() > 16 {
        return Err(format!(
            "CBOR bignum of {} bytes is larger than 128 bits",
            significant.len()
        ));
    }
    let magnitude = significant
        .iter()
        .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
    if !negative {
        return Ok(Content::U128(magnitude));
    }
    // A negative bignum encodes -1 - magnitude.
    i128::try_from(magnitude)
        .map(|m| Content::I128(-1 - m))
        .map_err(|_| format!("CBOR bignum -1-{magnitude} is below the 128-bit range"))
}

/// The variant of ciborium's tag enum: the tag number.
struct TagNumber(Option<u64>);

impl<'de> de::Deserialize<'de> for TagNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CBOR tag number")
            }
            fn visit_u64<E>(self, v: u64) -> Result<TagNumber, E> {
                Ok(TagNumber(Some(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A [`Content`] read again, with the error type of the document it came from.
pub(crate) struct ContentDe<E> {
    content: Content,
    error: PhantomData<E>,
}

impl<E> ContentDe<E> {
    pub(crate) fn new(content: Content) -> Self {
        Self {
            content,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> IntoDeserializer<'de, E> for ContentDe<E> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, E: de::Error> Deserializer<'de> for ContentDe<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.content {
            Content::Null => visitor.visit_unit(),
            Content::Bool(v) => visitor.visit_bool(v),
            Content::U64(v) => visitor.visit_u64(v),
            Content::I64(v) => visitor.visit_i64(v),
            Content::U128(v) => visitor.visit_u128(v),
            Content::I128(v) => visitor.visit_i128(v),
            Content::F64(v) => visitor.visit_f64(v),
            Content::Str(v) => visitor.visit_string(v),
            Content::Bytes(v) => visitor.visit_byte_buf(v),
            Content::Seq(items) => visitor.visit_seq(ContentSeq::new(items)),
            Content::Map(entries) => visitor.visit_map(ContentMap {
                entries: entries.into_iter(),
                value: None,
                error: PhantomData,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.content {
            Content::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// The elements of a [`Content::Seq`].
pub(crate) struct ContentSeq<E> {
    items: std::vec::IntoIter<Content>,
    error: PhantomData<E>,
}

impl<E> ContentSeq<E> {
    pub(crate) fn new(items: Vec<Content>) -> Self {
        Self {
            items: items.into_iter(),
            error: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn next(&mut self) -> Option<Content> {
        self.items.next()
    }
}

impl<'de, E: de::Error> SeqAccess<'de> for ContentSeq<E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        match self.items.next() {
            Some(item) => seed.deserialize(ContentDe::new(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct ContentMap<E> {
    entries: std::vec::IntoIter<(Content, Content)>,
    value: Option<Content>,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> MapAccess<'de> for ContentMap<E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, E> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(ContentDe::new(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, E> {
        let value = self.value.take().unwrap_or(Content::Null);
        seed.deserialize(ContentDe::new(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

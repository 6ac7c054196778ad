//! Reading wire values straight into the caller's types, reviving the compat tags on the fly.
//!
//! [`Revive`] wraps serde_json's or ciborium's deserializer (or a replayed
//! [`Content`](super::content::Content)) and applies the rules of
//! [`compat::revive`](super::compat::revive) while the caller's type reads the document:
//!
//! * `["$BigInt","n"]` becomes an integer of any type it fits (`u64`, `i64`, `u128`, `i128`, …;
//!   a value that does not fit is an error naming it); read as a `serde_json::Value`, an
//!   integer beyond 64 bits becomes its decimal string, as `revive` makes it;
//! * `["$Uint8Array",b64]` and `["$ArrayBuffer",b64]` become bytes when the type asks for
//!   bytes ([`Bytes`](crate::Bytes), `serde_bytes`), a sequence of numbers otherwise;
//! * `["$Undefined",_]` becomes unit (`None` for an `Option`), `["$Set",[…]]` a sequence,
//!   `["$$x",v]` the pair `["$x",v]`;
//! * an integral float of magnitude at most 2^53 becomes an integer; CBOR byte strings become
//!   sequences of numbers unless bytes are asked for; CBOR tags are dropped.
//!
//! The document is always read with `deserialize_any` (both formats describe themselves), and
//! the value is handed to the caller's visitor in the form its type asked for.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, StrDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::compat::{ARRAY_BUFFER, BIGINT, MAX_EXACT_JS_INTEGER, SET, UINT8_ARRAY, UNDEFINED};
use super::content::{Content, ContentDe, ContentSeed, ContentSeq};

/// What the caller's type asked for: it decides how a revived value is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    /// `deserialize_any`: a `serde_json::Value` and other self-describing types.
    Any,
    Option,
    Enum,
    Bytes,
    /// Any other specific type.
    Other,
}

/// A deserializer that revives compat tags while the caller's type reads `inner`.
pub(crate) struct Revive<D> {
    inner: D,
}

impl<D> Revive<D> {
    pub(crate) fn new(inner: D) -> Self {
        Self { inner }
    }
}

impl<'de, D: Deserializer<'de>> Revive<D> {
    fn read<V: Visitor<'de>>(self, hint: Hint, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(Adapt { visitor, hint })
    }
}

macro_rules! with_hint {
    ($hint:expr => $($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.read($hint, visitor)
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Revive<D> {
    type Error = D::Error;

    with_hint!(Hint::Any => deserialize_any);
    with_hint!(Hint::Option => deserialize_option);
    with_hint!(Hint::Bytes => deserialize_bytes deserialize_byte_buf);
    with_hint!(Hint::Other =>
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier);

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.read(Hint::Other, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.read(Hint::Other, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.read(Hint::Other, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.read(Hint::Other, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.read(Hint::Enum, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        // Values travel in their human-readable form whatever the encoding.
        true
    }
}

/// Hands a revived `Content` to a visitor: scalars as themselves, wire-form sequences and maps
/// revived on the way.
fn replay<'de, V: Visitor<'de>, E: de::Error>(
    content: Content,
    hint: Hint,
    visitor: V,
) -> Result<V::Value, E> {
    Revive::new(ContentDe::<E>::new(content)).read(hint, visitor)
}

/// The caller's visitor, behind the revival rules.
struct Adapt<V> {
    visitor: V,
    hint: Hint,
}

impl<V> Adapt<V> {
    /// A scalar for an `Option`: `Some(scalar)`.
    fn some<'de, E: de::Error>(self, content: Content) -> Result<V::Value, E>
    where
        V: Visitor<'de>,
    {
        self.visitor
            .visit_some(Revive::new(ContentDe::<E>::new(content)))
    }
}

macro_rules! scalar {
    ($($method:ident($ty:ty) => $variant:ident),*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            match self.hint {
                Hint::Option => self.some(Content::$variant(v)),
                _ => self.visitor.$method(v),
            }
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Adapt<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    scalar!(visit_bool(bool) => Bool, visit_u64(u64) => U64, visit_i64(i64) => I64);

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        match u64::try_from(v) {
            Ok(n) => self.visit_u64(n),
            Err(_) => self.wide(Content::U128(v)),
        }
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        if let Ok(n) = u64::try_from(v) {
            self.visit_u64(n)
        } else if let Ok(n) = i64::try_from(v) {
            self.visit_i64(n)
        } else {
            self.wide(Content::I128(v))
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        if v.fract() == 0.0 && v.abs() <= MAX_EXACT_JS_INTEGER as f64 {
            // Exact: the value is integral and within ±2^53 (the actor sent a JS number).
            return if v < 0.0 {
                self.visit_i64(v as i64)
            } else {
                self.visit_u64(v as u64)
            };
        }
        match self.hint {
            Hint::Option => self.some(Content::F64(v)),
            // A `Value` holds no NaN or infinity.
            Hint::Any if !v.is_finite() => self.visitor.visit_unit(),
            _ => self.visitor.visit_f64(v),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        match self.hint {
            Hint::Option => self.some(Content::Str(v.to_owned())),
            Hint::Enum => self.visitor.visit_enum(StrDeserializer::<E>::new(v)),
            _ => self.visitor.visit_str(v),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        match self.hint {
            Hint::Option => self.some(Content::Str(v.to_owned())),
            Hint::Enum => self.visitor.visit_enum(StrDeserializer::<E>::new(v)),
            _ => self.visitor.visit_borrowed_str(v),
        }
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        match self.hint {
            Hint::Option => self.some(Content::Str(v)),
            Hint::Enum => self.visitor.visit_enum(StringDeserializer::<E>::new(v)),
            _ => self.visitor.visit_string(v),
        }
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        match self.hint {
            Hint::Bytes => self.visitor.visit_bytes(v),
            _ => self.visit_byte_buf(v.to_vec()),
        }
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.bytes(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.nothing()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.nothing()
    }

    // The three below are read ahead and replayed rather than handed `self`: an `Adapt`
    // passed into another deserializer would nest without end at compile time.

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let content = ContentSeed.deserialize(d)?;
        replay(content, self.hint, self.visitor)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let content = ContentSeed.deserialize(d)?;
        replay(content, self.hint, self.visitor)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // ciborium presents a CBOR tag as an enum: a bignum's value, or the tagged item.
        let content = super::content::tagged(data)?;
        replay(content, self.hint, self.visitor)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let map = ReviveMap { inner: map };
        match self.hint {
            // The entries revive already: not wrapped again.
            Hint::Option => self.visitor.visit_some(MapAccessDeserializer::new(map)),
            Hint::Enum => self.visitor.visit_enum(MapAccessDeserializer::new(map)),
            _ => self.visitor.visit_map(map),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V::Value, A::Error> {
        let first = match seq.next_element_seed(ContentSeed)? {
            None => return self.plain(Chain::new(Vec::new(), None::<A>)),
            Some(Content::Str(tag)) if tag.starts_with('$') => tag,
            Some(first) => return self.plain(Chain::new(vec![first], Some(seq))),
        };
        let Some(second) = seq.next_element_seed(ContentSeed)? else {
            return self.plain(Chain::new(vec![Content::Str(first)], None::<A>));
        };
        match seq.next_element_seed(ContentSeed)? {
            None => self.tagged(first, second),
            Some(third) => self.plain(Chain::new(
                vec![Content::Str(first), second, third],
                Some(seq),
            )),
        }
    }
}

impl<'de, V: Visitor<'de>> Adapt<V> {
    /// `null`, `undefined` and unit.
    fn nothing<E: de::Error>(self) -> Result<V::Value, E> {
        match self.hint {
            Hint::Option => self.visitor.visit_none(),
            _ => self.visitor.visit_unit(),
        }
    }

    /// An integer beyond 64 bits: its digits for a `Value`, as `revive` keeps them.
    fn wide<E: de::Error>(self, n: Content) -> Result<V::Value, E> {
        match (self.hint, n) {
            (Hint::Any, Content::U128(n)) => self.visitor.visit_string(n.to_string()),
            (Hint::Any, Content::I128(n)) => self.visitor.visit_string(n.to_string()),
            (Hint::Option, n) => self.some(n),
            (_, Content::U128(n)) => self.visitor.visit_u128(n),
            (_, Content::I128(n)) => self.visitor.visit_i128(n),
            (_, other) => replay(other, self.hint, self.visitor),
        }
    }

    fn bytes<E: de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        match self.hint {
            Hint::Bytes => self.visitor.visit_byte_buf(v),
            Hint::Option => self
                .visitor
                .visit_some(Revive::new(ContentDe::<E>::new(Content::Bytes(v)))),
            _ => self.visitor.visit_seq(ByteSeq::<E> {
                bytes: v.into_iter(),
                error: std::marker::PhantomData,
            }),
        }
    }

    /// A sequence that is not a tag: its elements revived one by one.
    fn plain<'a, A: SeqAccess<'de>>(self, chain: Chain<A>) -> Result<V::Value, A::Error> {
        match self.hint {
            Hint::Option => self.visitor.visit_some(PlainSeq(chain)),
            _ => self.visitor.visit_seq(chain),
        }
    }

    fn tagged<E: de::Error>(self, tag: String, payload: Content) -> Result<V::Value, E> {
        match classify(tag, payload, self.hint).map_err(E::custom)? {
            Tagged::Replay(n) => replay(n, self.hint, self.visitor),
            Tagged::U64(n) => self.visit_u64(n),
            Tagged::I64(n) => self.visit_i64(n),
            Tagged::Wide(n) => self.wide(n),
            Tagged::Digits(digits) => self.visitor.visit_string(digits),
            Tagged::Bytes(bytes) => self.bytes(bytes),
            Tagged::Nothing => self.nothing(),
            Tagged::Plain(items) => self.plain(Chain::<NoSeq<E>>::new(items, None)),
        }
    }
}

/// What a compat tag and its payload stand for: worked out here, without the caller's visitor
/// and error types, so the checks and their messages are in the binary once instead of once per
/// payload type.
enum Tagged {
    /// A bigint sent as a plain integer: handed over as it is.
    Replay(Content),
    U64(u64),
    I64(i64),
    /// A bigint of 65 to 128 bits (`Content::U128` / `Content::I128`).
    Wide(Content),
    /// A bigint beyond 128 bits, for a `Value` (which keeps the exact digits).
    Digits(String),
    Bytes(Vec<u8>),
    /// `undefined`.
    Nothing,
    /// A `Set`, or an escaped `$$` string that starts a plain sequence.
    Plain(Vec<Content>),
}

/// Reads a compat tag's payload; the error is the message for `de::Error::custom`.
fn classify(tag: String, payload: Content, hint: Hint) -> Result<Tagged, String> {
    match tag.as_str() {
        BIGINT => bigint(payload, hint),
        UINT8_ARRAY | ARRAY_BUFFER => match payload {
            Content::Str(b64) => crate::b64::decode(b64.as_bytes(), crate::b64::Padding::Optional)
                .map(Tagged::Bytes)
                .map_err(|e| format!("{tag} payload is not valid base64: {e}")),
            other => Err(format!(
                "{tag} payload must be a base64 string, got {}",
                kind(&other)
            )),
        },
        UNDEFINED => Ok(Tagged::Nothing),
        SET => match payload {
            Content::Seq(items) => Ok(Tagged::Plain(items)),
            other => Err(format!(
                "{SET} payload must be an array, got {}",
                kind(&other)
            )),
        },
        escaped if escaped.starts_with("$$") => Ok(Tagged::Plain(vec![
            Content::Str(escaped[1..].to_owned()),
            payload,
        ])),
        unknown => Err(format!(
            "unknown compat tag {unknown:?} (corrupted data or a newer server?)"
        )),
    }
}

fn bigint(payload: Content, hint: Hint) -> Result<Tagged, String> {
    let digits = match payload {
        Content::Str(s) => s,
        n @ (Content::U64(_) | Content::I64(_)) => return Ok(Tagged::Replay(n)),
        other => {
            return Err(format!(
                "{BIGINT} payload must be a decimal string, got {}",
                kind(&other)
            ))
        }
    };
    let digits = digits.trim();
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{BIGINT} payload {digits:?} is not a decimal integer"
        ));
    }
    if let Ok(n) = digits.parse::<u64>() {
        return Ok(Tagged::U64(n));
    }
    if let Ok(n) = digits.parse::<i64>() {
        return Ok(Tagged::I64(n));
    }
    if let Ok(n) = digits.parse::<u128>() {
        return Ok(Tagged::Wide(Content::U128(n)));
    }
    if let Ok(n) = digits.parse::<i128>() {
        return Ok(Tagged::Wide(Content::I128(n)));
    }
    match hint {
        // Beyond 128 bits: a `Value` keeps the exact digits, as `revive` does.
        Hint::Any => Ok(Tagged::Digits(digits.to_owned())),
        _ => Err(format!("the bigint {digits} does not fit in 128 bits")),
    }
}

fn kind(content: &Content) -> &'static str {
    match content {
        Content::Null => "null",
        Content::Bool(_) => "a boolean",
        Content::U64(_) | Content::I64(_) | Content::U128(_) | Content::I128(_) => "an integer",
        Content::F64(_) => "a float",
        Content::Str(_) => "a string",
        Content::Bytes(_) => "bytes",
        Content::Seq(_) => "an array",
        Content::Map(_) => "a map",
    }
}

/// The caller's seed, reading through [`Revive`].
struct ReviveSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ReviveSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Revive::new(d))
    }
}

/// A sequence whose first elements were read ahead: they are replayed, then the rest is read.
struct Chain<A> {
    ahead: ContentSeq<()>,
    rest: Option<A>,
}

impl<A> Chain<A> {
    fn new(ahead: Vec<Content>, rest: Option<A>) -> Self {
        Self {
            ahead: ContentSeq::new(ahead),
            rest,
        }
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Chain<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        if let Some(item) = self.ahead.next() {
            return seed
                .deserialize(Revive::new(ContentDe::<A::Error>::new(item)))
                .map(Some);
        }
        match &mut self.rest {
            Some(rest) => rest.next_element_seed(ReviveSeed(seed)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        let rest = match &self.rest {
            Some(rest) => rest.size_hint()?,
            None => 0,
        };
        Some(self.ahead.len() + rest)
    }
}

/// No further elements (a sequence read ahead entirely), with the error type `E`.
struct NoSeq<E>(std::marker::PhantomData<E>);

impl<'de, E: de::Error> SeqAccess<'de> for NoSeq<E> {
    type Error = E;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        _seed: T,
    ) -> Result<Option<T::Value>, E> {
        Ok(None)
    }
}

/// A sequence that is not a tag, handed to an `Option`'s inner type without being looked at
/// again (its first element may be a `$` string).
struct PlainSeq<A>(Chain<A>);

impl<'de, A: SeqAccess<'de>> Deserializer<'de> for PlainSeq<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_seq(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// Bytes handed to a type that did not ask for bytes: a sequence of numbers.
struct ByteSeq<E> {
    bytes: std::vec::IntoIter<u8>,
    error: std::marker::PhantomData<E>,
}

impl<'de, E: de::Error> SeqAccess<'de> for ByteSeq<E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        match self.bytes.next() {
            Some(b) => seed
                .deserialize(de::value::U8Deserializer::<E>::new(b))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len())
    }
}

/// Map entries: values revived, keys read as the caller's type asks (numbers and booleans
/// read as strings where a string is asked, as JSON object keys).
struct ReviveMap<A> {
    inner: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for ReviveMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(KeySeed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(ReviveSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct KeySeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Key(d))
    }
}

/// A map key: read as asked, except that a type asking for a string (or anything) gets
/// numbers, booleans and `null` written out.
struct Key<D>(D);

macro_rules! key_as_text {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.deserialize_any(KeyText(visitor))
        })*
    };
}

macro_rules! key_as_asked {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(visitor)
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Key<D> {
    type Error = D::Error;

    key_as_text!(deserialize_any deserialize_str deserialize_string deserialize_identifier);
    key_as_asked!(
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes
        deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_ignored_any);

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, visitor)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, visitor)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }
}

struct KeyText<V>(V);

macro_rules! key_written_out {
    ($($method:ident($ty:ty)),*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.0.visit_string(v.to_string())
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyText<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    key_written_out!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128)
    );

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.0.visit_string(n.to_string()),
            None => self.0.visit_str("null"),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_borrowed_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_str("null")
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_str("null")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0
            .visit_string(serde_json::Value::from(v.to_vec()).to_string())
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        // A tagged key (CBOR): the tag dropped, the key read as text.
        let (_tag, variant): (IgnoredAny, _) = data.variant()?;
        match variant.newtype_variant_seed(ContentSeed)? {
            Content::Str(s) => self.0.visit_string(s),
            other => self.0.visit_string(format!("{other:?}")),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<V::Value, A::Error> {
        Err(A::Error::custom(
            "a map key is an array; keys must be text, numbers, booleans, null or bytes",
        ))
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<V::Value, A::Error> {
        Err(A::Error::custom(
            "a map key is a map; keys must be text, numbers, booleans, null or bytes",
        ))
    }
}

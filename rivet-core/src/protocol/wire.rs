//! Serializing user values straight into the wire form, with the compat rules applied on the
//! fly.
//!
//! [`Wire`] wraps any `Serialize` value; serialized with serde_json's or ciborium's serializer
//! it writes exactly what [`compat::to_wire`](super::compat::to_wire) would make of the value's
//! `serde_json::Value` tree, without building the tree:
//!
//! * integers that fit a 32-bit CBOR header stay integers, up to 2^53 they become floats,
//!   beyond (`i64`, `u64`, `i128`, `u128`) they become `["$BigInt","n"]`;
//! * a two-element sequence whose first element is a string starting with `$` gets one more
//!   `$`;
//! * bytes (anything calling `serialize_bytes`, such as [`Bytes`](crate::Bytes)) become
//!   `["$Uint8Array","<base64>"]`;
//! * map keys become strings, non-finite floats `null`, and every type serializes in its
//!   human-readable form (as it does into a `Value`).

use serde::ser::{self, Error as _, Serialize, Serializer};
use serde_json::Value;

use super::compat::{BIGINT, MAX_EXACT_JS_INTEGER, UINT8_ARRAY};

/// A value to serialize in its wire form.
pub(crate) struct Wire<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Wire<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(WireSerializer {
            inner: serializer,
            escape: false,
        })
    }
}

/// An element of a sequence or a field value; `escape` marks the first element of a pair.
struct Elem<'a, T: ?Sized> {
    value: &'a T,
    escape: bool,
}

impl<T: Serialize + ?Sized> Serialize for Elem<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(WireSerializer {
            inner: serializer,
            escape: self.escape,
        })
    }
}

fn elem<T: ?Sized>(value: &T) -> Elem<'_, T> {
    Elem {
        value,
        escape: false,
    }
}

/// `escape`: this value is the first element of a two-element sequence, so a string starting
/// with `$` gets one more `$`.
struct WireSerializer<S> {
    inner: S,
    escape: bool,
}

impl<S: Serializer> WireSerializer<S> {
    fn integer(self, n: i128) -> Result<S::Ok, S::Error> {
        // cbor-x reads integer headers up to 32 bits as numbers, 64-bit ones as bigints.
        if (-(1i128 << 32)..=i128::from(u32::MAX)).contains(&n) {
            // In range of i64 by the check above.
            self.inner.serialize_i64(n as i64)
        } else if n.unsigned_abs() <= u128::from(MAX_EXACT_JS_INTEGER) {
            // Exact: |n| <= 2^53 fits a double's mantissa.
            self.inner.serialize_f64(n as f64)
        } else {
            bigint(self.inner, &n.to_string())
        }
    }
}

fn bigint<S: Serializer>(serializer: S, digits: &str) -> Result<S::Ok, S::Error> {
    use ser::SerializeTuple as _;
    let mut pair = serializer.serialize_tuple(2)?;
    pair.serialize_element(BIGINT)?;
    pair.serialize_element(digits)?;
    pair.end()
}

impl<S: Serializer> Serializer for WireSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = SeqOut<S>;
    type SerializeTuple = Direct<S::SerializeTuple>;
    type SerializeTupleStruct = Direct<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Direct<S::SerializeTupleVariant>;
    type SerializeMap = MapOut<S>;
    type SerializeStruct = Direct<S::SerializeStruct>;
    type SerializeStructVariant = Direct<S::SerializeStructVariant>;

    fn is_human_readable(&self) -> bool {
        // As into a `Value`: one wire form whatever the encoding.
        true
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.integer(i128::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.integer(i128::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        match i128::try_from(v) {
            Ok(n) => self.integer(n),
            Err(_) => bigint(self.inner, &v.to_string()),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            self.inner.serialize_f64(v)
        } else {
            // JSON has no NaN or infinity; a `Value` holds them as `null`.
            self.inner.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        if self.escape && v.starts_with('$') {
            self.inner.serialize_str(&format!("${v}"))
        } else {
            self.inner.serialize_str(v)
        }
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        use ser::SerializeTuple as _;
        let mut pair = self.inner.serialize_tuple(2)?;
        pair.serialize_element(UINT8_ARRAY)?;
        pair.serialize_element(&crate::b64::encode(v))?;
        pair.end()
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner
            .serialize_newtype_variant(name, index, variant, &elem(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqOut<S>, S::Error> {
        Ok(match len {
            Some(len) => SeqOut::Direct(Direct::new(self.inner.serialize_seq(Some(len))?, len)),
            // The escape needs the length: collect the elements first.
            None => SeqOut::Buffer(self.inner, Vec::new()),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Ok(Direct::new(self.inner.serialize_tuple(len)?, len))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Ok(Direct::new(
            self.inner.serialize_tuple_struct(name, len)?,
            len,
        ))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Direct::new(inner, len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapOut<S>, S::Error> {
        Ok(match len {
            Some(len) => MapOut::Direct(self.inner.serialize_map(Some(len))?),
            // Definite lengths only on the wire: collect the entries first.
            None => MapOut::Buffer(self.inner, serde_json::Map::new(), None),
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(Direct::new(self.inner.serialize_struct(name, len)?, len))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Direct::new(inner, len))
    }
}

/// A compound written as it goes; `escape_first` while the first element of a pair is due.
pub(crate) struct Direct<C> {
    inner: C,
    escape_first: bool,
}

impl<C> Direct<C> {
    fn new(inner: C, len: usize) -> Self {
        Self {
            inner,
            escape_first: len == 2,
        }
    }

    fn next<'a, T: ?Sized>(&mut self, value: &'a T) -> Elem<'a, T> {
        let escape = std::mem::replace(&mut self.escape_first, false);
        Elem { value, escape }
    }
}

macro_rules! direct_elements {
    ($trait:ident, $method:ident) => {
        impl<C: ser::$trait> ser::$trait for Direct<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let value = self.next(value);
                self.inner.$method(&value)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

direct_elements!(SerializeTuple, serialize_element);
direct_elements!(SerializeTupleStruct, serialize_field);
direct_elements!(SerializeTupleVariant, serialize_field);

macro_rules! direct_fields {
    ($trait:ident) => {
        impl<C: ser::$trait> ser::$trait for Direct<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                self.inner.serialize_field(key, &elem(value))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

direct_fields!(SerializeStruct);
direct_fields!(SerializeStructVariant);

/// A sequence: written as it goes when its length is known, collected otherwise.
pub(crate) enum SeqOut<S: Serializer> {
    Direct(Direct<S::SerializeSeq>),
    Buffer(S, Vec<Value>),
}

impl<S: Serializer> ser::SerializeSeq for SeqOut<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        match self {
            SeqOut::Direct(direct) => {
                let value = direct.next(value);
                direct.inner.serialize_element(&value)
            }
            SeqOut::Buffer(_, items) => {
                items.push(serde_json::to_value(Wire(value)).map_err(S::Error::custom)?);
                Ok(())
            }
        }
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        match self {
            SeqOut::Direct(direct) => direct.inner.end(),
            SeqOut::Buffer(serializer, mut items) => {
                // The elements are in wire form already; only the escape is left to apply.
                if let [Value::String(first), _] = items.as_mut_slice() {
                    if first.starts_with('$') {
                        first.insert(0, '$');
                    }
                }
                items.serialize(serializer)
            }
        }
    }
}

/// A map: written as it goes when its length is known, collected otherwise. Keys are written
/// as strings, as in a JSON object.
pub(crate) enum MapOut<S: Serializer> {
    Direct(S::SerializeMap),
    Buffer(S, serde_json::Map<String, Value>, Option<String>),
}

/// A map key as the string a JSON object would hold.
fn key_string<T: Serialize + ?Sized, E: ser::Error>(key: &T) -> Result<String, E> {
    match serde_json::to_value(key).map_err(E::custom)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(E::custom(format_args!(
            "a map key must be a string, a number or a boolean, got {other}"
        ))),
    }
}

impl<S: Serializer> ser::SerializeMap for MapOut<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        match self {
            MapOut::Direct(map) => map.serialize_key(&key_string::<_, S::Error>(key)?),
            MapOut::Buffer(_, _, pending) => {
                *pending = Some(key_string::<_, S::Error>(key)?);
                Ok(())
            }
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        match self {
            MapOut::Direct(map) => map.serialize_value(&elem(value)),
            MapOut::Buffer(_, entries, pending) => {
                let key = pending
                    .take()
                    .ok_or_else(|| S::Error::custom("a map value without its key"))?;
                let value = serde_json::to_value(Wire(value)).map_err(S::Error::custom)?;
                entries.insert(key, value);
                Ok(())
            }
        }
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        match self {
            MapOut::Direct(map) => map.end(),
            MapOut::Buffer(serializer, entries, _) => entries.serialize(serializer),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::compat::to_wire;
    use crate::Encoding;
    use serde_json::json;
    use std::collections::{BTreeMap, HashMap};

    fn json_text<T: Serialize + ?Sized>(value: &T) -> Value {
        serde_json::from_slice(&serde_json::to_vec(&Wire(value)).unwrap()).unwrap()
    }

    fn cbor<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(&Wire(value), &mut out).unwrap();
        out
    }

    #[test]
    fn values_serialize_exactly_as_to_wire_builds_them() {
        for value in [
            json!([7, -7, 1.5, ["$x", 1], "$", ["$"]]),
            json!([
                u32::MAX,
                -(1i64 << 32),
                1u64 << 32,
                -(1i64 << 32) - 1,
                1u64 << 53
            ]),
            json!([u64::MAX, i64::MIN, 9007199254740993u64]),
            json!({"k": ["$Uint8Array", "AQID"], "l": [["$a", 1], "b"], "m": {"n": ["$$y", null]}}),
            json!([["$x", 1], 5_000_000_000u64, u64::MAX, {"k": -7}]),
            json!([u64::MAX, "$"]),
            json!(null),
            json!("$lone"),
        ] {
            let expected = to_wire(&value, Encoding::Bare);
            assert_eq!(json_text(&value), expected, "json {value}");
            let old = crate::protocol::cbor_encode(&expected).unwrap();
            assert_eq!(cbor(&value), old, "cbor {value}");
        }
    }

    #[test]
    fn typed_values_match_their_value_tree() {
        #[derive(serde::Serialize)]
        struct S {
            a: u64,
            b: Option<i64>,
            c: (String, i32),
            d: Vec<&'static str>,
            e: E,
            f: E,
            g: char,
        }
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            Pair(i64, i64),
        }
        let s = S {
            a: u64::MAX,
            b: None,
            c: ("$id".into(), 3),
            d: vec!["$a", "b"],
            e: E::Unit,
            f: E::Pair(1 << 40, 2),
            g: '$',
        };
        let tree = to_wire(&serde_json::to_value(&s).unwrap(), Encoding::Bare);
        assert_eq!(json_text(&s), tree);
        assert_eq!(cbor(&s), crate::protocol::cbor_encode(&tree).unwrap());
        // A tuple's first `char` is a string too.
        assert_eq!(json_text(&('$', 1)), json!(["$$", 1]));
    }

    #[test]
    fn wide_integers_and_bytes_get_their_tags() {
        assert_eq!(
            json_text(&(i128::MAX, u128::MAX, -(1i128 << 70))),
            json!([
                ["$BigInt", i128::MAX.to_string()],
                ["$BigInt", u128::MAX.to_string()],
                ["$BigInt", (-(1i128 << 70)).to_string()]
            ])
        );
        assert_eq!(json_text(&(7i128, 7u128)), json!([7, 7]));
        assert_eq!(
            json_text(&crate::Bytes::from(vec![1u8, 2, 3])),
            json!(["$Uint8Array", "AQID"])
        );
        assert_eq!(
            json_text(&(f64::NAN, f32::INFINITY, 1.5f32)),
            json!([null, null, 1.5])
        );
    }

    #[test]
    fn unknown_lengths_are_collected_and_escaped() {
        struct Unsized<'a>(&'a [Value]);
        impl Serialize for Unsized<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().filter(|_| true))
            }
        }
        let items = [json!("$x"), json!(u64::MAX)];
        let expected = json!(["$$x", ["$BigInt", u64::MAX.to_string()]]);
        assert_eq!(json_text(&Unsized(&items)), expected);
        assert_eq!(
            cbor(&Unsized(&items)),
            crate::protocol::cbor_encode(&expected).unwrap()
        );
    }

    #[test]
    fn map_keys_become_strings() {
        let map: HashMap<u32, &str> = [(1, "$a")].into();
        assert_eq!(json_text(&map), json!({"1": "$a"}));
        assert_eq!(
            cbor(&map),
            crate::protocol::cbor_encode(&json!({"1": "$a"})).unwrap()
        );
        let nested: BTreeMap<&str, (String, u64)> = [("k", ("$t".into(), u64::MAX))].into();
        assert_eq!(
            json_text(&nested),
            json!({"k": ["$$t", ["$BigInt", u64::MAX.to_string()]]})
        );
        let bad: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(serde_json::to_vec(&Wire(&bad)).is_err());
    }
}

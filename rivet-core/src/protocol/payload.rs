//! Dynamic payloads (action arguments and outputs, event arguments, queue bodies) kept in
//! their encoded form: JSON text or one CBOR document, compat tags included.
//!
//! Typed values are written straight into that form ([`Payload::encode`], through
//! [`Wire`](super::wire::Wire)) and read straight out of it ([`PayloadRef::decode`], through
//! [`Revive`](super::revive::Revive)), without a `serde_json::Value` tree in between.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::ser::{self, Impossible};
#[cfg(any(feature = "cbor", feature = "bare"))]
use serde::{Deserialize, Deserializer};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::revive::Revive;
use super::wire::Wire;
use super::Encoding;

/// How a payload is encoded: JSON text (the json encoding) or CBOR (cbor, and bare's `data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    Json,
    Cbor,
}

impl Format {
    pub(crate) fn of(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Json => Format::Json,
            Encoding::Cbor | Encoding::Bare => Format::Cbor,
        }
    }

    /// Why a payload of this format cannot be written or read: its encodings' cargo features
    /// are off (`json` for JSON; `cbor` or `bare` for CBOR). Clients never get here (they
    /// refuse an encoding that is compiled out); the arms that would call the codec are left
    /// out of such builds, so a browser bundle carries one payload codec per type, not two.
    #[cold]
    #[cfg_attr(
        all(feature = "json", any(feature = "cbor", feature = "bare")),
        allow(dead_code)
    )]
    pub(crate) fn not_compiled(self) -> String {
        match self {
            Format::Json => "this build of rivet-core has no JSON payload codec (feature `json`)",
            Format::Cbor => {
                "this build of rivet-core has no CBOR payload codec (features `cbor`, `bare`)"
            }
        }
        .to_owned()
    }

    /// The encoded `null` (an absent payload).
    pub(crate) fn null(self) -> &'static [u8] {
        match self {
            Format::Json => b"null",
            Format::Cbor => &[0xf6],
        }
    }
}

/// An encoded payload, owned.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Payload {
    format: Format,
    bytes: Vec<u8>,
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// An encoded payload, borrowed from a frame.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PayloadRef<'a> {
    format: Format,
    bytes: &'a [u8],
}

impl fmt::Debug for PayloadRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_value() {
            Ok(v) => write!(f, "{v}"),
            Err(_) => write!(f, "<{} undecodable bytes>", self.bytes.len()),
        }
    }
}

impl Payload {
    /// Writes `value` in its wire form.
    pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, format: Format) -> Result<Self, String> {
        let mut bytes = Vec::new();
        match format {
            #[cfg(feature = "json")]
            Format::Json => {
                serde_json::to_writer(&mut bytes, &Wire(value)).map_err(|e| e.to_string())?
            }
            #[cfg(any(feature = "cbor", feature = "bare"))]
            Format::Cbor => {
                ciborium::into_writer(&Wire(value), &mut bytes).map_err(|e| match e {
                    ciborium::ser::Error::Io(e) => e.to_string(),
                    ciborium::ser::Error::Value(msg) => msg,
                })?
            }
            #[allow(unreachable_patterns)]
            other => return Err(other.not_compiled()),
        }
        Ok(Self { format, bytes })
    }

    /// Writes action arguments: a tuple or sequence is the list of positional arguments, unit
    /// (or `None`) means none, any other value is the single argument.
    pub(crate) fn args<T: Serialize + ?Sized>(args: &T, format: Format) -> Result<Self, String> {
        match args.serialize(ShapeProbe) {
            Ok(()) | Err(Shape::Seq) => Self::encode(args, format),
            Err(Shape::Nothing) => Self::encode(&[(); 0], format),
            Err(Shape::Single) => Self::encode(&(args,), format),
            Err(Shape::Failed(msg)) => Err(msg),
        }
    }

    /// An empty argument list (`[]`), without going through a serializer.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn empty_list(format: Format) -> Self {
        let bytes = match format {
            Format::Json => b"[]".to_vec(),
            Format::Cbor => vec![0x80],
        };
        Self { format, bytes }
    }

    /// A payload copied out of a frame.
    pub(crate) fn from_ref(payload: PayloadRef<'_>) -> Self {
        Self {
            format: payload.format,
            bytes: payload.bytes.to_vec(),
        }
    }

    pub(crate) fn as_ref(&self) -> PayloadRef<'_> {
        PayloadRef {
            format: self.format,
            bytes: &self.bytes,
        }
    }

    pub(crate) fn format(&self) -> Format {
        self.format
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<'a> PayloadRef<'a> {
    /// Payload bytes of `format`; empty bytes read as `null` (an empty BARE `data`).
    pub(crate) fn new(bytes: &'a [u8], format: Format) -> Self {
        let bytes = if bytes.is_empty() {
            format.null()
        } else {
            bytes
        };
        Self { format, bytes }
    }

    /// Reads the payload as `T`, reviving compat tags on the way.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, String> {
        self.read()
    }

    /// The payload as a user value: what [`compat::revive`](super::compat::revive) makes of
    /// the decoded tree.
    pub(crate) fn to_value(self) -> Result<Value, String> {
        self.decode()
    }

    /// Positional argument `index` of an argument list as `T` (`null` when there are fewer
    /// arguments). `None` when the payload is not a plain list (a single value, or a list the
    /// server escaped or tagged): read those through [`to_value`](Self::to_value).
    pub(crate) fn arg<T: DeserializeOwned>(&self, index: usize) -> Option<Result<T, String>> {
        let items = match self.format {
            Format::Json => super::json_item::array_items(self.bytes)?,
            Format::Cbor => super::cbor_item::array_items(self.bytes).ok()??,
        };
        if let [first, _] = items.as_slice() {
            let tagged = match self.format {
                Format::Json => first.starts_with(b"\"$"),
                Format::Cbor => super::cbor_item::text_starts_with_dollar(first),
            };
            if tagged {
                return None;
            }
        }
        let item = items.get(index).copied().unwrap_or(self.format.null());
        Some(PayloadRef::new(item, self.format).decode())
    }

    /// Reads the whole document as `T`, revived.
    fn read<T: DeserializeOwned>(&self) -> Result<T, String> {
        match self.format {
            #[cfg(feature = "json")]
            Format::Json => {
                let mut de = serde_json::Deserializer::from_slice(self.bytes);
                let value = T::deserialize(Revive::new(&mut de)).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
            #[cfg(any(feature = "cbor", feature = "bare"))]
            Format::Cbor => {
                let mut rest = self.bytes;
                let value = ciborium::de::from_reader_with_recursion_limit::<Revived<T>, _>(
                    &mut rest,
                    super::cbor_item::MAX_DEPTH,
                )
                .map_err(|e| cbor_error(e, self.bytes.len()))?;
                if !rest.is_empty() {
                    return Err(format!(
                        "{} trailing bytes after the CBOR document (it ended at byte {})",
                        rest.len(),
                        self.bytes.len() - rest.len()
                    ));
                }
                Ok(value.0)
            }
            #[allow(unreachable_patterns)]
            other => Err(other.not_compiled()),
        }
    }
}

/// `T` read through [`Revive`] (ciborium only takes `DeserializeOwned` types).
#[cfg(any(feature = "cbor", feature = "bare"))]
struct Revived<T>(T);

#[cfg(any(feature = "cbor", feature = "bare"))]
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Revived<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(Revive::new(d)).map(Revived)
    }
}

#[cfg(any(feature = "cbor", feature = "bare"))]
fn cbor_error(err: ciborium::de::Error<std::io::Error>, len: usize) -> String {
    use ciborium::de::Error as E;
    match err {
        E::Io(_) => format!("truncated CBOR: the input ended after {len} bytes"),
        E::Syntax(at) => format!("invalid CBOR at byte {at}"),
        E::Semantic(Some(at), msg) => format!("{msg} (at byte {at})"),
        E::Semantic(None, msg) => msg,
        E::RecursionLimitExceeded => "CBOR nested too deeply".to_owned(),
    }
}

/// The top-level shape of action arguments, found without serializing them.
enum Shape {
    Seq,
    Nothing,
    Single,
    Failed(String),
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shape")
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Failed(msg) => f.write_str(msg),
            _ => f.write_str("shape found"),
        }
    }
}

impl std::error::Error for Shape {}

impl ser::Error for Shape {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Shape::Failed(msg.to_string())
    }
}

/// Stops at the first call with the shape it shows (as an error, to skip the rest).
struct ShapeProbe;

macro_rules! single {
    ($($method:ident($($arg:ty),*)),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), Shape> {
            Err(Shape::Single)
        })*
    };
}

impl Serializer for ShapeProbe {
    type Ok = ();
    type Error = Shape;
    type SerializeSeq = Impossible<(), Shape>;
    type SerializeTuple = Impossible<(), Shape>;
    type SerializeTupleStruct = Impossible<(), Shape>;
    type SerializeTupleVariant = Impossible<(), Shape>;
    type SerializeMap = Impossible<(), Shape>;
    type SerializeStruct = Impossible<(), Shape>;
    type SerializeStructVariant = Impossible<(), Shape>;

    single!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_none(self) -> Result<(), Shape> {
        Err(Shape::Nothing)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Shape> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Shape> {
        Err(Shape::Nothing)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Shape> {
        Err(Shape::Nothing)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Shape> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Shape> {
        Err(Shape::Single)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Shape> {
        Err(Shape::Seq)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Shape> {
        Err(Shape::Seq)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Shape> {
        Err(Shape::Seq)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Shape> {
        Err(Shape::Single)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Shape> {
        Err(Shape::Single)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Shape> {
        Err(Shape::Single)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Shape> {
        Err(Shape::Single)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::compat::{revive, to_wire};
    use crate::Bytes;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn both(value: &Value) -> [Payload; 2] {
        [Format::Json, Format::Cbor].map(|format| {
            let bytes = match format {
                Format::Json => serde_json::to_vec(value).unwrap(),
                Format::Cbor => crate::protocol::cbor_encode(value).unwrap(),
            };
            Payload { format, bytes }
        })
    }

    #[test]
    fn values_read_exactly_as_revive_makes_them() {
        for wire in [
            json!(["$BigInt", "18446744073709551616"]),
            json!(["$BigInt", "-9223372036854775809"]),
            json!(["$BigInt", "7"]),
            json!(["$Uint8Array", "AQID"]),
            json!({"a": ["$ArrayBuffer", "AQI"], "b": ["$Undefined", 0]}),
            json!(["$Set", [1, ["$BigInt", "5"], ["$$x", 2]]]),
            json!(["$$x", 1]),
            json!(["$$$y", ["$BigInt", "3"]]),
            json!([["$$x", 1], "$", ["$"], ["$a", 1, 2]]),
            json!({"f": 5000000000.0, "g": 0.5, "h": -12, "i": null, "j": -0.0}),
            json!([1e300, 2.0, -4294967297.0]),
            json!(null),
        ] {
            let expected = revive(wire.clone()).unwrap();
            for payload in both(&wire) {
                assert_eq!(payload.as_ref().to_value().unwrap(), expected, "{wire}");
            }
        }
        for bad in [
            json!(["$Date", "x"]),
            json!(["$BigInt", "12a"]),
            json!(["$Uint8Array", 5]),
            json!({"k": ["$Set", 1]}),
        ] {
            for payload in both(&bad) {
                let err = payload.as_ref().to_value().unwrap_err();
                assert!(revive(bad.clone()).is_err());
                assert!(!err.is_empty(), "{bad}");
            }
        }
    }

    #[test]
    fn typed_reads_revive_bigints_bytes_and_escapes() {
        let wire = json!([
            ["$Uint8Array", "AQID"],
            ["$BigInt", "18446744073709551621"],
            ["$BigInt", "-1180591620717411303424"],
            ["$Undefined", 0],
            ["$$x", 1],
            ["$Set", ["a", "b"]],
            5000000000.0
        ]);
        type T = (
            Bytes,
            u128,
            i128,
            Option<u8>,
            (String, i32),
            Vec<String>,
            u64,
        );
        for payload in both(&wire) {
            let t: T = payload.as_ref().decode().unwrap();
            assert_eq!(
                t,
                (
                    Bytes::from(vec![1u8, 2, 3]),
                    (1u128 << 64) + 5,
                    -(1i128 << 70),
                    None,
                    ("$x".to_owned(), 1),
                    vec!["a".to_owned(), "b".to_owned()],
                    5_000_000_000
                )
            );
            let err = payload.as_ref().decode::<(Bytes, u64)>().unwrap_err();
            assert!(err.contains("18446744073709551621"), "{err}");
        }
        // Bytes asked as a sequence of numbers.
        for payload in both(&json!([["$Uint8Array", "AQID"]])) {
            let v: (Vec<u8>,) = payload.as_ref().decode().unwrap();
            assert_eq!(v.0, [1, 2, 3]);
        }
    }

    #[test]
    fn options_enums_and_maps_read_through_the_tags() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        enum E {
            Unit,
            Pair(i64, String),
            Named { n: Option<u64>, b: Bytes },
        }
        let wire = json!([
            "Unit",
            {"Pair": [["$BigInt", "5"], "$"]},
            {"Named": {"n": ["$BigInt", "18446744073709551615"], "b": ["$Uint8Array", ""]}},
            {"Named": {"n": null, "b": [1, 2]}}
        ]);
        for payload in both(&wire) {
            let v: Vec<E> = payload.as_ref().decode().unwrap();
            assert_eq!(
                v,
                vec![
                    E::Unit,
                    E::Pair(5, "$".into()),
                    E::Named {
                        n: Some(u64::MAX),
                        b: Bytes::new()
                    },
                    E::Named {
                        n: None,
                        b: Bytes::from(vec![1u8, 2])
                    },
                ]
            );
        }
        let wire = json!({"a": ["$BigInt", "9007199254740993"], "b": null, "c": ["$$x", 1]});
        for payload in both(&wire) {
            let m: BTreeMap<String, Option<Value>> = payload.as_ref().decode().unwrap();
            assert_eq!(m["a"], Some(json!(9007199254740993u64)));
            assert_eq!(m["b"], None);
            assert_eq!(m["c"], Some(json!(["$x", 1])));
            let o: Option<(String, u64)> = PayloadRef::new(b"", payload.format()).decode().unwrap();
            assert_eq!(o, None);
        }
    }

    #[test]
    fn typed_values_round_trip_through_their_wire_form() {
        let value = (
            Bytes::from(vec![0u8, 255]),
            u64::MAX,
            i64::MIN,
            i128::MIN,
            u128::MAX,
            ("$x".to_owned(), vec![Some(1.5), None]),
        );
        for format in [Format::Json, Format::Cbor] {
            let payload = Payload::encode(&value, format).unwrap();
            type Back = (Bytes, u64, i64, i128, u128, (String, Vec<Option<f64>>));
            let back: Back = payload.as_ref().decode().unwrap();
            assert_eq!(back, value);
            // What the tree path makes of the same bytes.
            let tree = payload.as_ref().to_value().unwrap();
            assert_eq!(tree[5], json!(["$x", [1.5, null]]));
        }
        let v = json!([1, ["$y", 2], {"k": u64::MAX}]);
        for format in [Format::Json, Format::Cbor] {
            let payload = Payload::encode(&v, format).unwrap();
            assert_eq!(payload.as_ref().to_value().unwrap(), v);
            let expected = to_wire(&v, crate::Encoding::Bare);
            let raw: Value = match format {
                Format::Json => serde_json::from_slice(&payload.bytes).unwrap(),
                Format::Cbor => crate::protocol::cbor_decode(&payload.bytes).unwrap(),
            };
            assert_eq!(raw, expected);
        }
    }

    #[test]
    fn args_spread_tuples_and_wrap_single_values() {
        let json = |v: &dyn erased::Ser| String::from_utf8(v.args_json()).unwrap();
        assert_eq!(json(&()), "[]");
        assert_eq!(json(&Option::<i32>::None), "[]");
        assert_eq!(json(&(1, "a")), r#"[1,"a"]"#);
        assert_eq!(json(&(vec![1, 2],)), "[[1,2]]");
        assert_eq!(json(&vec![1, 2]), "[1,2]");
        assert_eq!(json(&5), "[5]");
        assert_eq!(json(&u64::MAX), r#"[["$BigInt","18446744073709551615"]]"#);
        assert_eq!(json(&Bytes::from(vec![1u8])), r#"[["$Uint8Array","AQ=="]]"#);
        assert_eq!(json(&json!({"a": 1})), r#"[{"a":1}]"#);
        assert_eq!(json(&("$x", 1)), r#"["$$x",1]"#);
        assert_eq!(json(&(None::<u8>,)), "[null]");
    }

    /// Object-safe access to `Payload::args` for the table above.
    mod erased {
        pub trait Ser {
            fn args_json(&self) -> Vec<u8>;
        }
        impl<T: serde::Serialize> Ser for T {
            fn args_json(&self) -> Vec<u8> {
                super::Payload::args(self, super::Format::Json)
                    .unwrap()
                    .bytes
            }
        }
    }

    #[test]
    fn arg_reads_one_element_or_falls_back() {
        for payload in both(&json!([1, ["$BigInt", "18446744073709551616"], "x"])) {
            let p = payload.as_ref();
            assert_eq!(p.arg::<u8>(0).unwrap().unwrap(), 1);
            assert_eq!(p.arg::<u128>(1).unwrap().unwrap(), 1u128 << 64);
            assert_eq!(p.arg::<Option<u8>>(7).unwrap().unwrap(), None);
            assert!(p.arg::<u8>(2).unwrap().is_err());
        }
        // An escaped pair or a single value: read through the values.
        for payload in both(&json!(["$$x", 1])) {
            assert!(payload.as_ref().arg::<String>(0).is_none());
        }
        for payload in both(&json!(5)) {
            assert!(payload.as_ref().arg::<u8>(0).is_none());
        }
    }
}

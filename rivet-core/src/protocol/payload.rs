//! Dynamic payloads (action arguments and outputs, event arguments, queue bodies) kept in
//! their encoded form: JSON text or one CBOR document, compat tags included.
//!
//! Typed values are written straight into that form ([`Payload::encode`], through
//! [`Wire`](super::wire::Wire)) and read straight out of it ([`PayloadRef::decode`], through
//! [`Revive`](super::revive::Revive)), without a `serde_json::Value` tree in between.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::ser::{self, Impossible};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
            Format::Json => {
                serde_json::to_writer(&mut bytes, &Wire(value)).map_err(|e| e.to_string())?
            }
            Format::Cbor => {
                ciborium::into_writer(&Wire(value), &mut bytes).map_err(|e| match e {
                    ciborium::ser::Error::Io(e) => e.to_string(),
                    ciborium::ser::Error::Value(msg) => msg,
                })?
            }
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
    pub(crate) fn to_value(&self) -> Result<Value, String> {
        self.decode()
    }

    /// Positional argument `index` of an argument list as `T` (`null` when there are fewer
    /// arguments). `None` when the payload is not a plain list (a single value, or a list the
    /// server escaped or tagged): read those through [`to_value`](Self::to_value).
    pub(crate) fn arg<T: DeserializeOwned>(&self, index: usize) -> Option<Result<T, String>> {
        let items = match self.format {
            Format::Json => serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(self.bytes)
                .ok()?
                .into_iter()
                .map(|raw| raw.get().as_bytes())
                .collect::<Vec<_>>(),
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
            Format::Json => {
                let mut de = serde_json::Deserializer::from_slice(self.bytes);
                let value = T::deserialize(Revive::new(&mut de)).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
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
        }
    }
}

/// `T` read through [`Revive`] (ciborium only takes `DeserializeOwned` types).
struct Revived<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Revived<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(Revive::new(d)).map(Revived)
    }
}

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

//! CBOR ⇄ [`serde_json::Value`], in the JSON data model.
//!
//! Decoding is permissive (the server and cbor-x write several forms); encoding is strict
//! (the server's CBOR decoder accepts only the JSON data model).

use ciborium::value::Value as Cbor;
use serde_json::{Map, Number, Value};

use super::compat;
use super::Encoding;
use crate::Error;

/// CBOR bignum tags (RFC 8949 §3.4.3).
const TAG_POSITIVE_BIGNUM: u64 = 2;
const TAG_NEGATIVE_BIGNUM: u64 = 3;

/// Encodes a value as CBOR in the JSON data model: text keys, definite lengths,
/// smallest-width integers, floats in the smallest width that keeps them exact, no tags and no
/// byte strings. Compat tags are *not* added; see [`cbor_encode_compat`].
///
/// ```
/// use rivet_core::protocol::codec::cbor_encode;
/// use serde_json::json;
///
/// assert_eq!(cbor_encode(&json!({"args": [5]})).unwrap(), b"\xa1\x64args\x81\x05");
/// assert_eq!(cbor_encode(&json!(1.5)).unwrap(), [0xf9, 0x3e, 0x00]);
/// ```
pub fn cbor_encode(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| Error::encode("CBOR value", e))?;
    Ok(out)
}

/// Decodes one CBOR document into a JSON value.
///
/// Accepts integers of any width (beyond `i64`/`u64` they become decimal strings), half,
/// single and double floats (NaN and infinities become `null`), indefinite lengths and
/// `undefined` (as `null`). Byte strings become arrays of byte values; tags are dropped in
/// favour of their content (small bignums become numbers); number, boolean, null and byte
/// string map keys are turned into strings, array and map keys are an error. Trailing bytes
/// are an error.
///
/// ```
/// use rivet_core::protocol::codec::cbor_decode;
/// use serde_json::json;
///
/// // cbor-x writes maps with a 16-bit length header.
/// assert_eq!(cbor_decode(b"\xb9\x00\x01\x64args\x81\x05").unwrap(), json!({"args": [5]}));
/// // The server writes WebSocket ids as 8-byte integers.
/// assert_eq!(cbor_decode(&[0x1b, 0, 0, 0, 0, 0, 0, 0, 7]).unwrap(), json!(7));
/// assert!(cbor_decode(&[0x01, 0x02]).is_err());
/// ```
pub fn cbor_decode(bytes: &[u8]) -> Result<Value, Error> {
    decode_document(bytes).map_err(|reason| Error::decode("CBOR value", reason))
}

/// Encodes a dynamic payload the way the JS client's `encodeCborCompat` does: compat tags and
/// integer handling of [`compat::to_wire`], then [`cbor_encode`].
///
/// This is the form of the CBOR inside BARE messages and of actor create input, both of which
/// the actor decodes with cbor-x and revives.
///
/// ```
/// use rivet_core::protocol::codec::{cbor_decode_compat, cbor_encode_compat};
/// use serde_json::json;
///
/// let input = json!({"hello": "world", "n": 42, "pair": ["$x", 1]});
/// let bytes = cbor_encode_compat(&input).unwrap();
/// assert_eq!(cbor_decode_compat(&bytes).unwrap(), input);
/// ```
pub fn cbor_encode_compat(value: &Value) -> Result<Vec<u8>, Error> {
    cbor_encode(&compat::to_wire(value, Encoding::Bare))
}

/// Decodes a dynamic payload the way the JS client's `decodeCborCompat` does: [`cbor_decode`],
/// then [`compat::revive`].
pub fn cbor_decode_compat(bytes: &[u8]) -> Result<Value, Error> {
    decode_document(bytes)
        .and_then(compat::revive_value)
        .map_err(|reason| Error::decode("CBOR value", reason))
}

/// [`cbor_decode`] with a plain-text reason, so callers can name what they were decoding.
pub(crate) fn decode_document(bytes: &[u8]) -> Result<Value, String> {
    let mut rest = bytes;
    let value: Cbor = ciborium::from_reader(&mut rest).map_err(|e| describe(e, bytes.len()))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} trailing bytes after the CBOR document (it ended at byte {})",
            rest.len(),
            bytes.len() - rest.len()
        ));
    }
    from_cbor(value)
}

fn describe(err: ciborium::de::Error<std::io::Error>, len: usize) -> String {
    use ciborium::de::Error as E;
    match err {
        E::Io(_) => format!("truncated CBOR: the input ended after {len} bytes"),
        E::Syntax(at) => format!("invalid CBOR at byte {at}"),
        E::Semantic(Some(at), msg) => format!("invalid CBOR at byte {at}: {msg}"),
        E::Semantic(None, msg) => format!("invalid CBOR: {msg}"),
        E::RecursionLimitExceeded => "CBOR nested too deeply".to_owned(),
    }
}

fn from_cbor(value: Cbor) -> Result<Value, String> {
    Ok(match value {
        Cbor::Integer(i) => from_integer(i128::from(i)),
        Cbor::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cbor::Text(s) => Value::String(s),
        Cbor::Bool(b) => Value::Bool(b),
        Cbor::Null => Value::Null,
        Cbor::Bytes(bytes) => Value::Array(bytes.into_iter().map(Value::from).collect()),
        Cbor::Tag(tag @ (TAG_POSITIVE_BIGNUM | TAG_NEGATIVE_BIGNUM), inner) => match *inner {
            Cbor::Bytes(bytes) => from_bignum(tag == TAG_NEGATIVE_BIGNUM, &bytes)?,
            other => from_cbor(other)?,
        },
        Cbor::Tag(_, inner) => from_cbor(*inner)?,
        Cbor::Array(items) => {
            Value::Array(items.into_iter().map(from_cbor).collect::<Result<_, _>>()?)
        }
        Cbor::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(key_string(k)?, from_cbor(v)?);
            }
            Value::Object(map)
        }
        // `Value` is non-exhaustive; anything new has no JSON meaning.
        other => return Err(format!("unsupported CBOR item {other:?}")),
    })
}

fn from_integer(i: i128) -> Value {
    if let Ok(u) = u64::try_from(i) {
        Value::from(u)
    } else if let Ok(s) = i64::try_from(i) {
        Value::from(s)
    } else {
        // Below i64::MIN: keep it exact, as `$BigInt` beyond 64 bits is kept.
        Value::String(i.to_string())
    }
}

fn from_bignum(negative: bool, bytes: &[u8]) -> Result<Value, String> {
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
        return Ok(match u64::try_from(magnitude) {
            Ok(u) => Value::from(u),
            Err(_) => Value::String(magnitude.to_string()),
        });
    }
    // A negative bignum encodes -1 - magnitude.
    Ok(match i128::try_from(magnitude) {
        Ok(m) => from_integer(-1 - m),
        Err(_) => Value::String(match magnitude.checked_add(1) {
            Some(m) => format!("-{m}"),
            None => "-340282366920938463463374607431768211456".to_owned(),
        }),
    })
}

/// A CBOR map key as a JSON object key: text as it is, numbers, booleans, `null` and byte
/// strings written out (`1`, `true`, `null`, `[1,2]`).
///
/// Arrays and maps are refused: written out, a map key holding a map key holding a map key…
/// doubles in length at every level (each level escapes the quotes of the one inside), so a
/// 66-byte message would need gigabytes. No JSON-model sender uses them.
fn key_string(key: Cbor) -> Result<String, String> {
    let mut scalar = &key;
    while let Cbor::Tag(_, inner) = scalar {
        scalar = inner;
    }
    if let Cbor::Array(_) | Cbor::Map(_) = scalar {
        let kind = if matches!(scalar, Cbor::Map(_)) {
            "a map"
        } else {
            "an array"
        };
        return Err(format!(
            "a CBOR map key is {kind}; keys must be text, numbers, booleans, null or bytes"
        ));
    }
    Ok(match from_cbor(key)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_cbor_x_request_with_a_16_bit_map_header() {
        let bytes = hex("b9 0001 64 61726773 81 05");
        assert_eq!(cbor_decode(&bytes).unwrap(), json!({"args": [5]}));
        assert_eq!(
            cbor_decode(&hex("a1 64 61726773 81 02")).unwrap(),
            json!({"args": [2]})
        );
        assert_eq!(
            cbor_decode(&hex("a1 66 6f7574707574 13")).unwrap(),
            json!({"output": 19})
        );
    }

    #[test]
    fn decodes_integers_of_every_width() {
        for bytes in [
            "05",
            "18 05",
            "19 0005",
            "1a 00000005",
            "1b 0000000000000005",
        ] {
            assert_eq!(cbor_decode(&hex(bytes)).unwrap(), json!(5), "{bytes}");
        }
        assert_eq!(
            cbor_decode(&hex("1b ffffffffffffffff")).unwrap(),
            json!(u64::MAX)
        );
        assert_eq!(
            cbor_decode(&hex("3b 7fffffffffffffff")).unwrap(),
            json!(i64::MIN)
        );
        assert_eq!(
            cbor_decode(&hex("3b ffffffffffffffff")).unwrap(),
            json!("-18446744073709551616")
        );
        assert_eq!(cbor_decode(&hex("38 63")).unwrap(), json!(-100));
    }

    #[test]
    fn decodes_floats_of_every_width_and_drops_non_finite_ones() {
        assert_eq!(cbor_decode(&hex("f9 3e00")).unwrap(), json!(1.5));
        assert_eq!(cbor_decode(&hex("fa 3fc00000")).unwrap(), json!(1.5));
        assert_eq!(
            cbor_decode(&hex("fb 3ff8000000000000")).unwrap(),
            json!(1.5)
        );
        for non_finite in ["f9 7e00", "f9 7c00", "fb fff0000000000000"] {
            assert_eq!(cbor_decode(&hex(non_finite)).unwrap(), Value::Null);
        }
    }

    #[test]
    fn decodes_undefined_indefinite_lengths_bytes_tags_and_odd_keys() {
        assert_eq!(cbor_decode(&hex("f7")).unwrap(), Value::Null);
        assert_eq!(cbor_decode(&hex("9f 01 02 ff")).unwrap(), json!([1, 2]));
        assert_eq!(
            cbor_decode(&hex("7f 61 61 62 6263 ff")).unwrap(),
            json!("abc")
        );
        assert_eq!(
            cbor_decode(&hex("bf 61 61 01 ff")).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(cbor_decode(&hex("43 010203")).unwrap(), json!([1, 2, 3]));
        assert_eq!(
            cbor_decode(&hex("d8 40 43 010203")).unwrap(),
            json!([1, 2, 3])
        );
        assert_eq!(
            cbor_decode(&hex("c1 1a 5f000000")).unwrap(),
            json!(0x5f00_0000)
        );
        assert_eq!(
            cbor_decode(&hex("a3 01 61 61 f5 02 f6 03")).unwrap(),
            json!({"1": "a", "true": 2, "null": 3})
        );
    }

    #[test]
    fn map_keys_that_are_maps_or_arrays_are_refused_not_written_out() {
        // Found by libFuzzer: each level of map-in-key doubled the key's written length, so
        // 32 levels (66 bytes) asked for 16 GiB.
        for levels in [1, 2, 32] {
            let mut bytes = vec![0xa1; levels];
            bytes.extend(hex("61 61"));
            bytes.extend(vec![0x01; levels]);
            let result = cbor_decode(&bytes);
            if levels == 1 {
                assert_eq!(result.unwrap(), json!({"a": 1}));
            } else {
                let err = result.unwrap_err();
                assert!(err.to_string().contains("map key is a map"), "{err}");
            }
        }
        let err = cbor_decode(&hex("a1 81 01 02")).unwrap_err();
        assert!(err.to_string().contains("map key is an array"), "{err}");
        let err = cbor_decode(&hex("a1 c1 a0 02")).unwrap_err();
        assert!(err.to_string().contains("map key is a map"), "{err}");
        // Byte strings stay accepted, written out as their values.
        assert_eq!(
            cbor_decode(&hex("a1 42 0102 03")).unwrap(),
            json!({"[1,2]": 3})
        );
    }

    #[test]
    fn decodes_bignums_as_numbers_or_exact_strings() {
        assert_eq!(cbor_decode(&hex("c2 42 0100")).unwrap(), json!(256));
        assert_eq!(cbor_decode(&hex("c3 42 0100")).unwrap(), json!(-257));
        assert_eq!(
            cbor_decode(&hex("c2 49 010000000000000000")).unwrap(),
            json!("18446744073709551616")
        );
        assert_eq!(
            cbor_decode(&hex("c3 48 ffffffffffffffff")).unwrap(),
            json!("-18446744073709551616")
        );
        assert_eq!(
            cbor_decode(&hex("c2 50 ffffffffffffffffffffffffffffffff")).unwrap(),
            json!(u128::MAX.to_string())
        );
        assert!(cbor_decode(&hex("c2 51 0100000000000000000000000000000000")).is_err());
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "",                    // nothing
            "01 02",               // trailing bytes
            "62 fffe",             // invalid UTF-8
            "5b ffffffffffffffff", // absurd length
            "9b ffffffffffffffff",
            "a1 61", // truncated map
            "f0",    // unassigned simple value
            "ff",    // stray break
        ] {
            assert!(cbor_decode(&hex(bad)).is_err(), "{bad:?}");
        }
        let mut deep = vec![0x81; 10_000];
        deep.push(0x01);
        let err = cbor_decode(&deep).unwrap_err();
        assert!(err.to_string().contains("deeply"), "{err}");
    }

    #[test]
    fn encodes_the_json_model_compactly() {
        assert_eq!(
            cbor_encode(&json!({"args": [5]})).unwrap(),
            hex("a1 64 61726773 81 05")
        );
        assert_eq!(cbor_encode(&json!(7)).unwrap(), hex("07"));
        assert_eq!(cbor_encode(&json!(500)).unwrap(), hex("19 01f4"));
        assert_eq!(cbor_encode(&json!(-1)).unwrap(), hex("20"));
        assert_eq!(
            cbor_encode(&json!(u64::MAX)).unwrap(),
            hex("1b ffffffffffffffff")
        );
        assert_eq!(
            cbor_encode(&json!(i64::MIN)).unwrap(),
            hex("3b 7fffffffffffffff")
        );
        assert_eq!(cbor_encode(&json!(1.5)).unwrap(), hex("f9 3e00"));
        assert_eq!(
            cbor_encode(&json!(0.1)).unwrap(),
            hex("fb 3fb999999999999a")
        );
        assert_eq!(cbor_encode(&json!(null)).unwrap(), hex("f6"));
        assert_eq!(cbor_encode(&json!("hi")).unwrap(), hex("62 6869"));
    }

    #[test]
    fn round_trips_json_values() {
        let v = json!({"a": [1, -2, 3.25, "x", null, true, {"b": []}], "c": u64::MAX});
        assert_eq!(cbor_decode(&cbor_encode(&v).unwrap()).unwrap(), v);
    }

    #[test]
    fn compat_form_matches_what_the_js_client_sends() {
        // encodeCborCompat({hello:"world",n:42}) from the JS client, with cbor-x's map header.
        let js = hex("b9 0002 65 68656c6c6f 65 776f726c64 61 6e 18 2a");
        let ours = cbor_encode_compat(&json!({"hello": "world", "n": 42})).unwrap();
        assert_eq!(cbor_decode(&js).unwrap(), cbor_decode(&ours).unwrap());
        assert_eq!(
            cbor_decode_compat(&cbor_encode_compat(&json!(["$x", 1])).unwrap()).unwrap(),
            json!(["$x", 1])
        );
        assert_eq!(
            cbor_decode(&cbor_encode_compat(&json!(u64::MAX)).unwrap()).unwrap(),
            json!(["$BigInt", "18446744073709551615"])
        );
        assert!(cbor_decode_compat(&cbor_encode(&json!(["$Nope", 1])).unwrap()).is_err());
    }
}

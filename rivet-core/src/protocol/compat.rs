//! The JS client's compatibility tags, applied to dynamic payloads in both directions.
//!
//! JS values that JSON cannot carry travel as two-element arrays whose first element is a
//! `$`-prefixed tag: `["$BigInt","123"]`, `["$Uint8Array","<base64>"]`,
//! `["$ArrayBuffer","<base64>"]`, `["$Undefined",0]`, `["$Set",[…]]`. A real two-element array
//! whose first element starts with `$` is escaped with one more `$` (`["$x",1]` travels as
//! `["$$x",1]`). The server and the actor apply the same rules, in every encoding.
//!
//! [`revive`] turns wire values into user values; [`to_wire`] does the reverse.
//!
//! Numbers need the same care. The actor is JS: it has one number type, reads every integer
//! that needs a 64-bit CBOR header as a `bigint` (whatever the encoding: the server turns JSON
//! and CBOR requests into CBOR for the actor), and reads floats as numbers. So [`to_wire`] sends
//! integers the way the JS client sends JS numbers, and [`revive`] returns integral floats as
//! integers, so that they deserialize into Rust integer types.
//!
//! ```
//! use rivet_core::protocol::compat::{revive, to_wire};
//! use rivet_core::Encoding;
//! use serde_json::json;
//!
//! assert_eq!(revive(json!(["$BigInt", "42"])).unwrap(), json!(42));
//! assert_eq!(revive(json!(["$Uint8Array", "AQID"])).unwrap(), json!([1, 2, 3]));
//! assert_eq!(to_wire(&json!(["$x", 1]), Encoding::Bare), json!(["$$x", 1]));
//! ```

use serde_json::{Map, Number, Value};

use super::Encoding;
use crate::Error;

pub(super) const BIGINT: &str = "$BigInt";
pub(super) const UINT8_ARRAY: &str = "$Uint8Array";
pub(super) const ARRAY_BUFFER: &str = "$ArrayBuffer";
pub(super) const UNDEFINED: &str = "$Undefined";
pub(super) const SET: &str = "$Set";

/// 2^53: integers with a larger magnitude are not exact in a JS number.
pub(super) const MAX_EXACT_JS_INTEGER: u64 = 1 << 53;

/// Turns a value received from the server into a user value, removing the compat tags.
///
/// * `["$BigInt","n"]` → the number `n` if it fits an `i64` or `u64`, otherwise the decimal
///   string `"n"`;
/// * `["$Uint8Array",b64]` and `["$ArrayBuffer",b64]` → an array of byte values;
/// * `["$Undefined",_]` → `null`;
/// * `["$Set",[…]]` → an array;
/// * `["$$x",v]` → `["$x",v]`;
/// * a float with an integral value of magnitude at most 2^53 → that integer (the actor sends
///   a JS number such as `5000000000` as a float).
///
/// Any other `$` tag is an error, as in the JS client (corrupted data or a version mismatch).
///
/// ```
/// use rivet_core::protocol::compat::revive;
/// use serde_json::json;
///
/// let v = revive(json!({"n": ["$BigInt", "18446744073709551616"], "s": ["$Set", [1, 2]]}));
/// assert_eq!(v.unwrap(), json!({"n": "18446744073709551616", "s": [1, 2]}));
/// assert!(revive(json!(["$Date", "2024-01-01"])).is_err());
/// ```
pub fn revive(value: Value) -> Result<Value, Error> {
    revive_value(value).map_err(|reason| Error::decode("JS compat value", reason))
}

/// [`revive`] with a plain-text reason, so callers can name what they were decoding.
pub(crate) fn revive_value(value: Value) -> Result<Value, String> {
    match value {
        Value::Array(items) => {
            if let [Value::String(tag), _] = items.as_slice() {
                if tag.starts_with('$') {
                    return revive_tagged(items);
                }
            }
            items
                .into_iter()
                .map(revive_value)
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        // In place: collecting into a `Map` would compile a sort (BTreeMap's `from_iter`) for
        // this one iterator type.
        Value::Object(mut map) => {
            for item in map.values_mut() {
                *item = revive_value(std::mem::take(item))?;
            }
            Ok(Value::Object(map))
        }
        Value::Number(n) => Ok(Value::Number(integral_float_as_integer(n))),
        scalar => Ok(scalar),
    }
}

/// `5000000000.0` → `5000000000`; other numbers unchanged.
fn integral_float_as_integer(n: Number) -> Number {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() <= MAX_EXACT_JS_INTEGER as f64 => {
            // Exact: the value is integral and within ±2^53.
            if f < 0.0 {
                Number::from(f as i64)
            } else {
                Number::from(f as u64)
            }
        }
        _ => n,
    }
}

/// Revives `[tag, payload]` where `tag` starts with `$`.
fn revive_tagged(items: Vec<Value>) -> Result<Value, String> {
    let mut items = items.into_iter();
    let (Some(Value::String(tag)), Some(payload)) = (items.next(), items.next()) else {
        return Err("internal: compat tag without payload".to_owned());
    };
    match tag.as_str() {
        BIGINT => revive_bigint(&payload),
        UINT8_ARRAY | ARRAY_BUFFER => {
            let Value::String(b64) = payload else {
                return Err(format!(
                    "{tag} payload must be a base64 string, got {payload}"
                ));
            };
            // Padding optional, as node's `Buffer.from(s, "base64")` accepts both.
            let bytes = crate::b64::decode(b64.as_bytes(), crate::b64::Padding::Optional)
                .map_err(|e| format!("{tag} payload is not valid base64: {e}"))?;
            Ok(Value::Array(bytes.into_iter().map(Value::from).collect()))
        }
        UNDEFINED => Ok(Value::Null),
        SET => match payload {
            Value::Array(items) => items
                .into_iter()
                .map(revive_value)
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Err(format!("{SET} payload must be an array, got {other}")),
        },
        escaped if escaped.starts_with("$$") => Ok(Value::Array(vec![
            Value::String(escaped[1..].to_owned()),
            revive_value(payload)?,
        ])),
        unknown => Err(format!(
            "unknown compat tag {unknown:?} (corrupted data or a newer server?)"
        )),
    }
}

fn revive_bigint(payload: &Value) -> Result<Value, String> {
    let digits = match payload {
        Value::String(s) => s.trim(),
        Value::Number(n) if n.is_i64() || n.is_u64() => return Ok(Value::Number(n.clone())),
        other => {
            return Err(format!(
                "{BIGINT} payload must be a decimal string, got {other}"
            ))
        }
    };
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{BIGINT} payload {digits:?} is not a decimal integer"
        ));
    }
    if let Ok(n) = digits.parse::<u64>() {
        return Ok(Value::from(n));
    }
    if let Ok(n) = digits.parse::<i64>() {
        return Ok(Value::from(n));
    }
    // Beyond 64 bits: keep the exact digits rather than round to a float.
    Ok(Value::String(digits.to_owned()))
}

/// Turns a user value into the value to put on the wire.
///
/// Two-element arrays whose first element is a string starting with `$` get one more `$`, so
/// the server does not mistake them for tags.
///
/// Integers are sent the way the JS client sends JS numbers, so the actor sees a `number`
/// where a JS caller would have passed one: as integers when they fit a 32-bit CBOR header
/// (`-2^32..2^32`), as floats up to 2^53 (exact), and as `["$BigInt","n"]` beyond, which the
/// actor receives as a `bigint`. Sent as a plain integer, `5000000000` would reach the actor as
/// a `bigint` in every encoding.
///
/// The rules are the same for every encoding: the 2.3.19 server hands JSON, CBOR and BARE
/// payloads alike to the actor as CBOR. `encoding` names the wire the value is meant for, so
/// that a server that treats them differently only needs a change here.
///
/// ```
/// use rivet_core::protocol::compat::to_wire;
/// use rivet_core::Encoding;
/// use serde_json::json;
///
/// let wire = |v| to_wire(&v, Encoding::Json);
/// assert_eq!(wire(json!([7, -7, 1.5, ["$x", 1]])), json!([7, -7, 1.5, ["$$x", 1]]));
/// assert_eq!(wire(json!(5_000_000_000u64)), json!(5_000_000_000.0));
/// assert_eq!(wire(json!(9007199254740993u64)), json!(["$BigInt", "9007199254740993"]));
/// ```
pub fn to_wire(value: &Value, encoding: Encoding) -> Value {
    match encoding {
        Encoding::Json | Encoding::Cbor | Encoding::Bare => wire_value(value),
    }
}

fn wire_value(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut encoded: Vec<Value> = items.iter().map(wire_value).collect();
            if let [Value::String(first), _] = encoded.as_mut_slice() {
                if first.starts_with('$') {
                    first.insert(0, '$');
                }
            }
            Value::Array(encoded)
        }
        Value::Object(map) => {
            // Inserted one by one: `collect()` would compile a sort (BTreeMap's `from_iter`)
            // for this one iterator type.
            let mut encoded = Map::new();
            for (key, item) in map {
                encoded.insert(key.clone(), wire_value(item));
            }
            Value::Object(encoded)
        }
        Value::Number(n) => wire_number(n),
        other => other.clone(),
    }
}

/// How a number must travel for the actor's cbor-x to read it back as the same JS value.
fn wire_number(n: &Number) -> Value {
    // cbor-x reads integer headers up to 32 bits as numbers, 64-bit ones as bigints.
    let fits_cbor_x_number = |m: i128| (-(1i128 << 32)..=i128::from(u32::MAX)).contains(&m);
    let int = n
        .as_u64()
        .map(i128::from)
        .or_else(|| n.as_i64().map(i128::from));
    match int {
        Some(m) if fits_cbor_x_number(m) => Value::Number(n.clone()),
        Some(m) if m.unsigned_abs() <= u128::from(MAX_EXACT_JS_INTEGER) => {
            // Exact: |m| <= 2^53 fits a double's mantissa.
            Number::from_f64(m as f64).map_or_else(|| Value::Number(n.clone()), Value::Number)
        }
        Some(m) => Value::Array(vec![Value::from(BIGINT), Value::String(m.to_string())]),
        None => Value::Number(n.clone()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bigint_revives_to_a_number_when_it_fits_64_bits() {
        assert_eq!(revive(json!(["$BigInt", "7"])).unwrap(), json!(7));
        assert_eq!(revive(json!(["$BigInt", "-7"])).unwrap(), json!(-7));
        assert_eq!(
            revive(json!(["$BigInt", "18446744073709551615"])).unwrap(),
            json!(u64::MAX)
        );
        assert_eq!(
            revive(json!(["$BigInt", "-9223372036854775808"])).unwrap(),
            json!(i64::MIN)
        );
    }

    #[test]
    fn bigint_beyond_64_bits_keeps_its_digits_as_a_string() {
        assert_eq!(
            revive(json!(["$BigInt", "18446744073709551616"])).unwrap(),
            json!("18446744073709551616")
        );
        assert_eq!(
            revive(json!(["$BigInt", "-9223372036854775809"])).unwrap(),
            json!("-9223372036854775809")
        );
    }

    #[test]
    fn malformed_bigint_is_an_error() {
        for bad in [
            json!(["$BigInt", "12a"]),
            json!(["$BigInt", ""]),
            json!(["$BigInt", 1.5]),
        ] {
            assert!(revive(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes_revive_to_arrays_of_numbers() {
        assert_eq!(
            revive(json!(["$Uint8Array", "AQID"])).unwrap(),
            json!([1, 2, 3])
        );
        assert_eq!(
            revive(json!(["$ArrayBuffer", "AQI="])).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            revive(json!(["$ArrayBuffer", "AQI"])).unwrap(),
            json!([1, 2])
        );
        assert_eq!(revive(json!(["$Uint8Array", ""])).unwrap(), json!([]));
        assert!(revive(json!(["$Uint8Array", "!!"])).is_err());
        assert!(revive(json!(["$Uint8Array", 5])).is_err());
    }

    #[test]
    fn undefined_set_and_escapes_revive() {
        assert_eq!(revive(json!(["$Undefined", 0])).unwrap(), Value::Null);
        assert_eq!(
            revive(json!(["$Set", [1, ["$BigInt", "2"]]])).unwrap(),
            json!([1, 2])
        );
        assert!(revive(json!(["$Set", 1])).is_err());
        assert_eq!(revive(json!(["$$x", 1])).unwrap(), json!(["$x", 1]));
        assert_eq!(
            revive(json!(["$$$x", ["$BigInt", "3"]])).unwrap(),
            json!(["$$x", 3])
        );
    }

    #[test]
    fn unknown_tags_are_errors_naming_the_tag() {
        let err = revive(json!({"a": [["$Date", "x"]]})).unwrap_err();
        assert!(err.to_string().contains("$Date"), "{err}");
    }

    #[test]
    fn revive_recurses_and_leaves_plain_values_alone() {
        let plain = json!({"a": [1, "$x", ["x", 1], [1, 2, 3]], "b": null, "c": 1.5});
        assert_eq!(revive(plain.clone()).unwrap(), plain);
        assert_eq!(
            revive(json!({"a": {"b": ["$Uint8Array", "AQID"]}})).unwrap(),
            json!({"a": {"b": [1, 2, 3]}})
        );
        // Three elements: not a tag.
        let three = json!(["$BigInt", "1", "2"]);
        assert_eq!(revive(three.clone()).unwrap(), three);
    }

    #[test]
    fn to_wire_escapes_dollar_pairs_and_revive_undoes_it() {
        for user in [
            json!(["$x", 1]),
            json!(["$$x", ["$y", 2]]),
            json!(["$BigInt", "5"]),
            json!({"k": ["$Uint8Array", "AQID"], "l": [["$a", 1], "b"]}),
        ] {
            let wire = to_wire(&user, Encoding::Bare);
            assert_ne!(wire, user);
            assert_eq!(revive(wire).unwrap(), user);
        }
        assert_eq!(
            to_wire(&json!(["$x", 1]), Encoding::Bare),
            json!(["$$x", 1])
        );
        assert_eq!(to_wire(&json!(["x", 1]), Encoding::Bare), json!(["x", 1]));
        // A bigint produced for the first element is an array, not a string: no escape.
        assert_eq!(
            to_wire(&json!([u64::MAX, "$"]), Encoding::Bare),
            json!([["$BigInt", "18446744073709551615"], "$"])
        );
    }

    #[test]
    fn integers_travel_the_way_the_actor_reads_js_numbers() {
        let wire = |v: Value| to_wire(&v, Encoding::Bare);
        assert_eq!(wire(json!(u32::MAX)), json!(u32::MAX));
        assert_eq!(wire(json!(-(1i64 << 32))), json!(-(1i64 << 32)));
        assert_eq!(wire(json!(1u64 << 32)), json!(4294967296.0));
        assert_eq!(wire(json!(-(1i64 << 32) - 1)), json!(-4294967297.0));
        assert_eq!(wire(json!(1u64 << 53)), json!(9007199254740992.0));
        assert_eq!(
            wire(json!(u64::MAX)),
            json!(["$BigInt", "18446744073709551615"])
        );
        assert_eq!(
            wire(json!(i64::MIN)),
            json!(["$BigInt", "-9223372036854775808"])
        );
        assert_eq!(wire(json!(1.5)), json!(1.5));
        // Revived, a big integer comes back as the same number.
        assert_eq!(revive(wire(json!(u64::MAX))).unwrap(), json!(u64::MAX));
    }

    #[test]
    fn every_encoding_gets_the_same_treatment() {
        let v = json!([["$x", 1], 5_000_000_000u64, u64::MAX, {"k": -7}]);
        let bare = to_wire(&v, Encoding::Bare);
        for enc in Encoding::ALL {
            assert_eq!(to_wire(&v, enc), bare, "{enc}");
        }
    }

    #[test]
    fn integral_floats_revive_as_integers() {
        assert_eq!(
            revive(json!(5_000_000_000.0)).unwrap(),
            json!(5_000_000_000u64)
        );
        assert_eq!(revive(json!(-4294967297.0)).unwrap(), json!(-4294967297i64));
        assert_eq!(revive(json!([2.0, 1.5, -0.0])).unwrap(), json!([2, 1.5, 0]));
        // Beyond 2^53 a float is not a reliable integer: left alone.
        assert_eq!(revive(json!(1e300)).unwrap(), json!(1e300));
        let n: u64 = serde_json::from_value(revive(json!(5_000_000_000.0)).unwrap()).unwrap();
        assert_eq!(n, 5_000_000_000);
        // Every integer to_wire turns into a float comes back as itself.
        for m in [1i64 << 32, -(1i64 << 32) - 1, 1i64 << 53, -(1i64 << 53)] {
            assert_eq!(
                revive(to_wire(&json!(m), Encoding::Bare)).unwrap(),
                json!(m)
            );
        }
    }
}

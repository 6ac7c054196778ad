//! Base64 (RFC 4648 §4 and §5): the forms rivet-core needs, in a few hundred bytes of
//! wasm instead of the `base64` crate's configurable engines (6.4 KB in a browser bundle).
//!
//! Encoding: standard alphabet with padding (REST create input), URL-safe alphabet without
//! padding (create input in a gateway URL). Decoding: standard alphabet, padding required or
//! optional, canonical only (the unused bits of the last symbol must be zero), as the `base64`
//! crate's `STANDARD` engine and an `Indifferent` padding mode; `tests` checks both against it.

use std::fmt;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard alphabet, padded to a multiple of four characters.
pub(crate) fn encode(bytes: &[u8]) -> String {
    encode_with(bytes, STANDARD, true)
}

/// URL-safe alphabet (`-`, `_`), no padding.
pub(crate) fn encode_url_safe_no_pad(bytes: &[u8]) -> String {
    encode_with(bytes, URL_SAFE, false)
}

fn encode_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // One input byte gives two symbols, two give three, three give four.
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// Whether a decoded text must carry its `=` padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Padding {
    /// A multiple of four characters, padded with `=` (`base64`'s `STANDARD`).
    Required,
    /// With no more `=` than the canonical padding (node's `Buffer.from(s, "base64")`).
    Optional,
}

/// Why a text is not base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// A byte outside the alphabet (or `=` before the end).
    Byte { offset: usize, byte: u8 },
    /// A length no base64 text has (one symbol left over).
    Length,
    /// Padding missing where required, or more than the canonical amount.
    Padding,
    /// The last symbol has bits set that encode no byte (not canonical).
    LastSymbol { offset: usize, byte: u8 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Byte { offset, byte } => {
                write!(f, "invalid byte {byte:#04x} at offset {offset}")
            }
            DecodeError::Length => f.write_str("invalid length"),
            DecodeError::Padding => f.write_str("invalid padding"),
            DecodeError::LastSymbol { offset, byte } => write!(
                f,
                "invalid last symbol {byte:#04x} at offset {offset} (bits set that encode no byte)"
            ),
        }
    }
}

/// Decodes standard-alphabet base64.
pub(crate) fn decode(text: &[u8], padding: Padding) -> Result<Vec<u8>, DecodeError> {
    let symbols = text.len() - text.iter().rev().take_while(|&&b| b == b'=').count();
    let pads = text.len() - symbols;
    let (body, rest) = text.split_at(symbols);
    let needed = (4 - symbols % 4) % 4;
    if symbols % 4 == 1 {
        return Err(match body.iter().position(|&b| value(b).is_none()) {
            Some(offset) => DecodeError::Byte {
                offset,
                byte: body[offset],
            },
            None => DecodeError::Length,
        });
    }
    match (pads, padding) {
        (0, Padding::Required) if needed == 0 => {}
        (n, Padding::Required) if n == needed && n > 0 => {}
        (n, Padding::Optional) if n <= needed => {}
        _ => {
            // Padding where none belongs: the first `=` is the offending byte.
            if needed == 0 && pads > 0 {
                return Err(DecodeError::Byte {
                    offset: symbols,
                    byte: rest[0],
                });
            }
            return Err(DecodeError::Padding);
        }
    }
    let mut out = Vec::with_capacity(symbols / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (offset, &byte) in body.iter().enumerate() {
        let v = value(byte).ok_or(DecodeError::Byte { offset, byte })?;
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(DecodeError::LastSymbol {
            offset: symbols - 1,
            byte: body[symbols - 1],
        });
    }
    Ok(out)
}

fn value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ::base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
    use ::base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use ::base64::Engine as _;

    const INDIFFERENT: GeneralPurpose = GeneralPurpose::new(
        &::base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    #[test]
    fn rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(
                decode(encoded.as_bytes(), Padding::Required).unwrap(),
                plain.as_bytes()
            );
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(encode_url_safe_no_pad(plain.as_bytes()), unpadded);
            assert_eq!(
                decode(unpadded.as_bytes(), Padding::Optional).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(encode_url_safe_no_pad(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"Zg", Padding::Required), Err(DecodeError::Padding));
        assert_eq!(
            decode(b"Zh==", Padding::Required),
            Err(DecodeError::LastSymbol {
                offset: 1,
                byte: b'h'
            })
        );
    }

    /// Same output and the same accept/reject decisions as the `base64` crate's engines,
    /// over random bytes and random mutations of their encodings.
    #[test]
    fn agrees_with_the_base64_crate() {
        let mut rng = fastrand::Rng::with_seed(14);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ *";
        for round in 0..20_000 {
            let len = rng.usize(0..40);
            let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            assert_eq!(encode(&bytes), B64.encode(&bytes));
            assert_eq!(
                encode_url_safe_no_pad(&bytes),
                URL_SAFE_NO_PAD.encode(&bytes)
            );
            let mut text = if round % 2 == 0 {
                B64.encode(&bytes).into_bytes()
            } else {
                B64.encode(&bytes).trim_end_matches('=').as_bytes().to_vec()
            };
            // Mutate a third of the texts: replace, drop or add a character.
            match round % 9 {
                0 if !text.is_empty() => {
                    let at = rng.usize(..text.len());
                    text[at] = alphabet[rng.usize(..alphabet.len())];
                }
                3 if !text.is_empty() => {
                    text.remove(rng.usize(..text.len()));
                }
                6 => {
                    let at = rng.usize(..=text.len());
                    text.insert(at, alphabet[rng.usize(..alphabet.len())]);
                }
                _ => {}
            }
            let shown = String::from_utf8_lossy(&text).into_owned();
            assert_eq!(
                decode(&text, Padding::Required).ok(),
                B64.decode(&text).ok(),
                "required padding: {shown:?}"
            );
            assert_eq!(
                decode(&text, Padding::Optional).ok(),
                INDIFFERENT.decode(&text).ok(),
                "optional padding: {shown:?}"
            );
        }
    }
}

//! Root certificates given to [`ClientConfigBuilder::add_root_certificate`]: PEM or DER in,
//! checked DER out. The TLS setup itself is the transport's (`transport/native.rs`); the
//! browser uses its own trust store.
//!
//! [`ClientConfigBuilder::add_root_certificate`]: crate::ClientConfigBuilder::add_root_certificate

use crate::{Error, Result};

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// The certificates in `raw` (the `index`-th one given), DER: every `CERTIFICATE` block of
/// PEM text, or `raw` itself when it is DER. Each is checked to be an X.509 certificate.
pub(crate) fn parse_root_certificate(index: usize, raw: &[u8]) -> Result<Vec<Vec<u8>>> {
    let what = |kind: &str| {
        format!(
            "root certificate #{} ({kind}, {} bytes)",
            index + 1,
            raw.len()
        )
    };
    let invalid =
        |kind: &str, reason: String| Error::invalid("root_certificate", what(kind), reason);
    let looks_like_pem = raw.starts_with(b"-----") || raw.windows(11).any(|w| w == b"-----BEGIN ");
    let ders = if looks_like_pem {
        let text = std::str::from_utf8(raw).map_err(|_| {
            invalid(
                "PEM",
                "PEM text must be ASCII; pass the file's contents unchanged".to_owned(),
            )
        })?;
        let ders = pem_certificates(text).map_err(|reason| invalid("PEM", reason))?;
        if ders.is_empty() {
            return Err(invalid(
                "PEM",
                format!(
                    "holds no {PEM_BEGIN} block (a private key or a certificate request is not \
                     a root certificate)"
                ),
            ));
        }
        ders
    } else {
        vec![raw.to_vec()]
    };
    let kind = if looks_like_pem { "PEM" } else { "DER" };
    for der in &ders {
        crate::transport::check_certificate(der).map_err(|reason| {
            invalid(
                kind,
                format!(
                    "not an X.509 certificate ({reason}); pass the CA certificate as PEM text \
                     ({PEM_BEGIN} …) or as DER bytes"
                ),
            )
        })?;
    }
    Ok(ders)
}

/// The DER of every `CERTIFICATE` block; other blocks (keys, parameters) are skipped.
fn pem_certificates(text: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut ders = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(PEM_BEGIN) {
        let body_start = start + PEM_BEGIN.len();
        let Some(len) = rest[body_start..].find(PEM_END) else {
            return Err(format!("a {PEM_BEGIN} block has no {PEM_END} line"));
        };
        let body: String = rest[body_start..body_start + len]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = crate::b64::decode(body.as_bytes(), crate::b64::Padding::Required)
            .map_err(|e| format!("certificate #{} is not valid base64: {e}", ders.len() + 1))?;
        ders.push(der);
        rest = &rest[body_start + len + PEM_END.len()..];
    }
    Ok(ders)
}

/// The shape every X.509 certificate has: one DER `SEQUENCE` spanning all the bytes. The
/// browser build's only check (it never uses the certificate).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn check_der_sequence(der: &[u8]) -> std::result::Result<(), String> {
    let (&tag, rest) = der.split_first().ok_or("empty input")?;
    if tag != 0x30 {
        return Err("does not start with a DER SEQUENCE".to_owned());
    }
    let (&first, rest) = rest.split_first().ok_or("truncated length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".to_owned());
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if len != rest.len() {
        return Err(format!(
            "the DER length says {len} bytes but {} follow",
            rest.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_a_certificate() {
        for bad in [
            &b""[..],
            b"hello",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n",
            b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        ] {
            let err = parse_root_certificate(0, bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidInput {
                        field: "root_certificate",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("root certificate #1"), "{err}");
        }
    }

    #[test]
    fn der_sequence_shape() {
        assert!(check_der_sequence(&[0x30, 0x00]).is_ok());
        assert!(check_der_sequence(&[0x30, 0x81, 0x01, 0x00]).is_ok());
        assert!(check_der_sequence(&[0x30, 0x02, 0x00]).is_err());
        assert!(check_der_sequence(&[0x31, 0x00]).is_err());
    }
}

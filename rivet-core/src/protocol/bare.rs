//! BARE primitives: a [`Writer`] that appends to a byte vector and a [`Reader`] over a byte
//! slice that never panics, whatever the input.
//!
//! Every client-protocol message starts with a little-endian `u16` protocol version. This client
//! writes [`CURRENT_VERSION`] and reads anything from [`MIN_VERSION`] to [`CURRENT_VERSION`]
//! (the server always answers with version 4, but the older layouts are cheap to accept).
//!
//! ```
//! use rivet_core::protocol::bare::{Reader, Writer};
//!
//! let mut w = Writer::with_version();
//! w.str("increment");
//! w.optional(Some(7), |w, v| w.uint(v));
//! let bytes = w.finish();
//! assert_eq!(bytes[..3], [0x04, 0x00, 0x09]);
//!
//! let mut r = Reader::new(&bytes, "example");
//! assert_eq!(r.version().unwrap(), 4);
//! assert_eq!(r.str().unwrap(), "increment");
//! assert_eq!(r.optional(|r| r.uint()).unwrap(), Some(7));
//! r.finish().unwrap();
//! ```

use crate::Error;

/// The client protocol version this crate writes.
pub const CURRENT_VERSION: u16 = 4;

/// The oldest client protocol version this crate reads.
pub const MIN_VERSION: u16 = 1;

/// The longest LEB128 encoding of a `u64`.
const MAX_VARINT_LEN: usize = 10;

/// Appends BARE values to a byte buffer.
///
/// ```
/// let mut w = rivet_core::protocol::bare::Writer::new();
/// w.uint(300);
/// w.bool(true);
/// assert_eq!(w.finish(), [0xac, 0x02, 0x01]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer, without a version prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer that starts with the [`CURRENT_VERSION`] prefix (`04 00`).
    ///
    /// ```
    /// let w = rivet_core::protocol::bare::Writer::with_version();
    /// assert_eq!(w.finish(), [0x04, 0x00]);
    /// ```
    pub fn with_version() -> Self {
        let mut w = Self::new();
        w.u16(CURRENT_VERSION);
        w
    }

    /// A `u16`, little endian (used for the version prefix).
    pub fn u16(&mut self, value: u16) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// A `uint`: unsigned LEB128 varint.
    ///
    /// ```
    /// let mut w = rivet_core::protocol::bare::Writer::new();
    /// w.uint(0);
    /// w.uint(127);
    /// w.uint(128);
    /// assert_eq!(w.finish(), [0x00, 0x7f, 0x80, 0x01]);
    /// ```
    pub fn uint(&mut self, mut value: u64) {
        while value >= 0x80 {
            // Truncation is the point: the low seven bits, with the continuation bit set.
            self.buf.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    /// A `u64`: eight bytes, little endian.
    pub fn u64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// A `bool`: one byte, `0` or `1`.
    pub fn bool(&mut self, value: bool) {
        self.buf.push(u8::from(value));
    }

    /// A `str`: `uint` byte length, then UTF-8.
    pub fn str(&mut self, value: &str) {
        self.data(value.as_bytes());
    }

    /// A `data`: `uint` length, then the bytes.
    pub fn data(&mut self, value: &[u8]) {
        self.uint(value.len() as u64);
        self.buf.extend_from_slice(value);
    }

    /// An `optional<T>`: `0`, or `1` followed by the value written by `write`.
    ///
    /// ```
    /// let mut w = rivet_core::protocol::bare::Writer::new();
    /// w.optional(None::<bool>, |w, v| w.bool(v));
    /// w.optional(Some(true), |w, v| w.bool(v));
    /// assert_eq!(w.finish(), [0x00, 0x01, 0x01]);
    /// ```
    pub fn optional<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) {
        match value {
            None => self.buf.push(0),
            Some(v) => {
                self.buf.push(1);
                write(self, v);
            }
        }
    }

    /// A union tag (a `uint`).
    pub fn tag(&mut self, tag: u64) {
        self.uint(tag);
    }

    /// The bytes written so far.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads BARE values from a byte slice.
///
/// Every method returns [`Error::Decode`] instead of panicking: on truncated input, invalid
/// UTF-8, an overlong varint, a `bool` or `optional` byte other than 0 or 1, an unsupported
/// version, or (from [`Reader::finish`]) bytes left over after the message.
///
/// ```
/// use rivet_core::protocol::bare::Reader;
///
/// let mut r = Reader::new(&[0x05, b'h', b'i'], "greeting");
/// let err = r.str().unwrap_err();
/// assert!(err.to_string().contains("truncated"), "{err}");
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the message in error messages (e.g. `"BARE ToClient"`).
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self {
            buf: bytes,
            pos: 0,
            what,
        }
    }

    /// How many bytes have been consumed.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn error(&self, reason: impl std::fmt::Display) -> Error {
        Error::decode(self.what, reason)
    }

    fn take(&mut self, len: usize, item: &str) -> Result<&'a [u8], Error> {
        let left = self.remaining();
        if len > left {
            return Err(self.error(format_args!(
                "truncated input: {item} at byte {} needs {len} bytes, only {left} left",
                self.pos
            )));
        }
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    fn byte(&mut self, item: &str) -> Result<u8, Error> {
        Ok(self.take(1, item)?[0])
    }

    /// The `u16` version prefix, checked to be within [`MIN_VERSION`]`..=`[`CURRENT_VERSION`].
    ///
    /// ```
    /// use rivet_core::protocol::bare::Reader;
    /// assert_eq!(Reader::new(&[1, 0], "m").version().unwrap(), 1);
    /// let err = Reader::new(&[5, 0], "m").version().unwrap_err();
    /// assert!(err.to_string().contains("version 5"), "{err}");
    /// ```
    pub fn version(&mut self) -> Result<u16, Error> {
        let version = self.u16()?;
        if !(MIN_VERSION..=CURRENT_VERSION).contains(&version) {
            return Err(self.error(format_args!(
                "unsupported protocol version {version} (this client reads versions \
                 {MIN_VERSION} to {CURRENT_VERSION})"
            )));
        }
        Ok(version)
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2, "u16")?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// A `uint` (LEB128 varint of at most 64 bits).
    pub fn uint(&mut self) -> Result<u64, Error> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..MAX_VARINT_LEN {
            let b = self.byte("uint")?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte may only carry the 64th bit.
            if i == MAX_VARINT_LEN - 1 && bits > 1 {
                break;
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error(format_args!(
            "varint overflow: uint at byte {start} does not fit in 64 bits"
        )))
    }

    /// A `u64`: eight bytes, little endian.
    pub fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8, "u64")?;
        let mut le = [0u8; 8];
        le.copy_from_slice(b);
        Ok(u64::from_le_bytes(le))
    }

    /// A `bool`; bytes other than `0` and `1` are rejected.
    pub fn bool(&mut self) -> Result<bool, Error> {
        let at = self.pos;
        match self.byte("bool")? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.error(format_args!(
                "invalid bool byte {other:#04x} at byte {at} (expected 0 or 1)"
            ))),
        }
    }

    /// A `data`: `uint` length, then that many bytes (borrowed from the input).
    pub fn data(&mut self) -> Result<&'a [u8], Error> {
        let at = self.pos;
        let len = self.uint()?;
        let len = usize::try_from(len)
            .map_err(|_| self.error(format_args!("length {len} at byte {at} is too large")))?;
        self.take(len, "data")
    }

    /// A `str`: like [`Reader::data`], checked to be UTF-8.
    pub fn str(&mut self) -> Result<&'a str, Error> {
        let at = self.pos;
        let bytes = self.data()?;
        std::str::from_utf8(bytes)
            .map_err(|e| self.error(format_args!("invalid UTF-8 in string at byte {at}: {e}")))
    }

    /// An `optional<T>`: a `0`/`1` byte, then the value read by `read` if it is `1`.
    pub fn optional<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        let at = self.pos;
        match self.byte("optional")? {
            0 => Ok(None),
            1 => read(self).map(Some),
            other => Err(self.error(format_args!(
                "invalid optional marker {other:#04x} at byte {at} (expected 0 or 1)"
            ))),
        }
    }

    /// A union tag (a `uint`).
    pub fn tag(&mut self) -> Result<u64, Error> {
        self.uint()
    }

    /// Succeeds only if the whole input was consumed.
    pub fn finish(self) -> Result<(), Error> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(format_args!(
                "{n} trailing bytes after the message (it ended at byte {})",
                self.pos
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn uint_bytes(v: u64) -> Vec<u8> {
        let mut w = Writer::new();
        w.uint(v);
        w.finish()
    }

    #[test]
    fn uint_round_trips_at_every_width() {
        for v in [
            0,
            1,
            127,
            128,
            255,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let bytes = uint_bytes(v);
            let mut r = Reader::new(&bytes, "test");
            assert_eq!(r.uint().unwrap(), v);
            r.finish().unwrap();
        }
        assert_eq!(uint_bytes(u64::MAX).len(), 10);
        assert_eq!(uint_bytes(300), [0xac, 0x02]);
    }

    #[test]
    fn uint_longer_than_64_bits_is_an_overflow_error() {
        let eleven = [0xff; 11];
        let err = Reader::new(&eleven, "t").uint().unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
        // Ten bytes whose last one carries more than the 64th bit.
        let mut ten = vec![0xff; 9];
        ten.push(0x02);
        let err = Reader::new(&ten, "t").uint().unwrap_err();
        assert!(err.to_string().contains("overflow"), "{err}");
    }

    #[test]
    fn truncated_reads_are_errors() {
        assert!(Reader::new(&[0x80], "t").uint().is_err());
        assert!(Reader::new(&[1, 2, 3], "t").u64().is_err());
        assert!(Reader::new(&[4], "t").u16().is_err());
        assert!(Reader::new(&[], "t").bool().is_err());
        let err = Reader::new(&[3, b'a'], "t").str().unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        assert!(Reader::new(&[1], "t").optional(|r| r.bool()).is_err());
    }

    #[test]
    fn huge_length_prefix_is_rejected_without_allocating() {
        let mut w = Writer::new();
        w.uint(u64::MAX);
        let bytes = w.finish();
        assert!(Reader::new(&bytes, "t").data().is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let err = Reader::new(&[2, 0xff, 0xfe], "t").str().unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[test]
    fn bool_and_optional_reject_other_bytes() {
        assert!(Reader::new(&[2], "t").bool().is_err());
        assert!(Reader::new(&[2, 0], "t").optional(|r| r.bool()).is_err());
        assert_eq!(Reader::new(&[0], "t").optional(|r| r.bool()).unwrap(), None);
    }

    #[test]
    fn versions_one_to_four_are_accepted_and_others_rejected() {
        for v in 1..=4u16 {
            assert_eq!(Reader::new(&v.to_le_bytes(), "t").version().unwrap(), v);
        }
        for v in [0u16, 5, 9, 0x0400] {
            let err = Reader::new(&v.to_le_bytes(), "t").version().unwrap_err();
            assert!(err.to_string().contains(&format!("version {v}")), "{err}");
        }
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut r = Reader::new(&[1, 1], "t");
        assert!(r.bool().unwrap());
        let err = r.finish().unwrap_err();
        assert!(err.to_string().contains("trailing"), "{err}");
    }

    #[test]
    fn writer_produces_the_documented_layout() {
        let mut w = Writer::with_version();
        w.tag(1);
        w.str("newCount");
        w.bool(true);
        let mut expected = vec![0x04, 0x00, 0x01, 0x08];
        expected.extend_from_slice(b"newCount");
        expected.push(0x01);
        assert_eq!(w.finish(), expected);

        let mut w = Writer::new();
        w.u64(3000);
        assert_eq!(w.finish(), [0xb8, 0x0b, 0, 0, 0, 0, 0, 0]);
    }
}

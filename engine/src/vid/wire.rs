//! The versioned, canonical, size-limited byte codec for VID objects.
//!
//! Every object starts with a 4-byte tag (3 ASCII bytes naming the object and one version
//! byte). Integers are little-endian. Decoders check every length against a limit before
//! allocating, refuse trailing bytes, and return a [`WireError`] — never panic — on any input.
//!
//! Tags in use: `CVC`/`CVS` (AvidM common data and share), `CKC`/`CKS` (KZG), `CNC`/`CNS`/`CNP`
//! (namespaced common data, share and namespace proof). [`common_kind`] reads the tag of a
//! common-data object, which is how `crema vid` tells the schemes apart on disk.

use thiserror::Error;

use super::{SchemeTag, VidError};

/// An object with one canonical byte encoding (what the namespace layer nests and the CLI stores).
pub trait Codec: Sized {
    /// Canonical bytes.
    fn encode(&self) -> Vec<u8>;
    /// Decodes canonical bytes; a typed error, never a panic, on anything else.
    fn decode(bytes: &[u8]) -> Result<Self, VidError>;
}

/// [`Codec`] for types whose inherent `to_bytes` / `from_bytes` are their canonical encoding
/// (`from_bytes`' error converting into [`VidError`]).
macro_rules! codec_via_bytes {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::vid::wire::Codec for $t {
            fn encode(&self) -> Vec<u8> {
                self.to_bytes()
            }
            fn decode(bytes: &[u8]) -> Result<Self, $crate::vid::VidError> {
                Self::from_bytes(bytes).map_err(Into::into)
            }
        }
    )+};
}
pub(crate) use codec_via_bytes;

/// What a common-data object is, read from its tag (without decoding the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommonKind {
    /// A plain dispersal of one payload by this scheme.
    Plain(SchemeTag),
    /// A namespaced dispersal whose namespaces use this scheme.
    Namespaced(SchemeTag),
}

/// Tells the scheme (and whether the dispersal is namespaced) from common-data bytes.
pub fn common_kind(bytes: &[u8]) -> Result<CommonKind, WireError> {
    let head =
        bytes.get(..4).ok_or(WireError::Truncated { what: "common data tag", needed: 4, remaining: bytes.len() })?;
    match &head[..3] {
        b"CVC" => Ok(CommonKind::Plain(SchemeTag::Avidm)),
        b"CKC" => Ok(CommonKind::Plain(SchemeTag::Kzg)),
        b"CNC" => {
            // Namespaced common data: tag, version, then the scheme byte.
            let tag = *bytes.get(4).ok_or(WireError::Truncated { what: "scheme tag", needed: 1, remaining: 0 })?;
            Ok(CommonKind::Namespaced(SchemeTag::from_u8(tag)?))
        }
        _ => Err(WireError::WrongTag { expected: "vid common data", found: [head[0], head[1], head[2]] }),
    }
}

/// Why bytes did not decode.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The input ended early.
    #[error("truncated {what}: needed {needed} more bytes, {remaining} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// The tag names another object.
    #[error("expected a {expected} object, found tag {found:?}")]
    WrongTag {
        /// The object expected.
        expected: &'static str,
        /// The 3 tag bytes found.
        found: [u8; 3],
    },
    /// The version is not one this build reads.
    #[error("unsupported {what} version {got} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The object.
        what: &'static str,
        /// The version found.
        got: u8,
        /// The version supported.
        supported: u8,
    },
    /// A length or count is over its limit.
    #[error("{what} is {got}, over the limit of {max}")]
    OverLimit {
        /// The field.
        what: &'static str,
        /// The value found.
        got: u64,
        /// The limit.
        max: u64,
    },
    /// A field holds a value that can never be valid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Bytes were left after the object.
    #[error("{0} trailing bytes after the object")]
    TrailingBytes(usize),
}

/// Appends fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// Starts an object with its tag and version.
    pub fn new(tag: &[u8; 3], version: u8) -> Self {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(tag);
        v.push(version);
        Self(v)
    }

    /// Appends a byte.
    pub fn u8(&mut self, x: u8) -> &mut Self {
        self.0.push(x);
        self
    }

    /// Appends a little-endian u32.
    pub fn u32(&mut self, x: u32) -> &mut Self {
        self.0.extend_from_slice(&x.to_le_bytes());
        self
    }

    /// Appends a little-endian u64.
    pub fn u64(&mut self, x: u64) -> &mut Self {
        self.0.extend_from_slice(&x.to_le_bytes());
        self
    }

    /// Appends `b` behind a little-endian u32 length.
    pub fn len_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32).bytes(b)
    }

    /// Appends raw bytes (the length is the caller's business).
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }

    /// The encoded object.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads fields from a byte slice, with typed errors.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Checks the tag and version and positions after them.
    pub fn new(bytes: &'a [u8], tag: &[u8; 3], what: &'static str, version: u8) -> Result<Self, WireError> {
        let mut r = Self { rest: bytes };
        let head = r.take(4, what)?;
        if &head[..3] != tag {
            return Err(WireError::WrongTag { expected: what, found: [head[0], head[1], head[2]] });
        }
        if head[3] != version {
            return Err(WireError::UnsupportedVersion { what, got: head[3], supported: version });
        }
        Ok(r)
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Truncated { what, needed: n, remaining: self.rest.len() });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        Ok(self.take(N, what)?.try_into().expect("take returned N bytes"))
    }

    /// Reads a byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads a little-endian u32 and checks it against `max`.
    pub fn u32_max(&mut self, what: &'static str, max: u64) -> Result<u32, WireError> {
        let x = u32::from_le_bytes(self.array(what)?);
        if x as u64 > max {
            return Err(WireError::OverLimit { what, got: x as u64, max });
        }
        Ok(x)
    }

    /// Reads a little-endian u64 and checks it against `max`.
    pub fn u64_max(&mut self, what: &'static str, max: u64) -> Result<u64, WireError> {
        let x = u64::from_le_bytes(self.array(what)?);
        if x > max {
            return Err(WireError::OverLimit { what, got: x, max });
        }
        Ok(x)
    }

    /// Reads bytes behind a u32 length (written by [`Writer::len_bytes`]), at most `max`.
    pub fn len_bytes(&mut self, what: &'static str, max: u64) -> Result<&'a [u8], WireError> {
        let n = self.u32_max(what, max)? as usize;
        self.take(n, what)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Ends the object: no bytes may remain.
    pub fn finish(self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::TrailingBytes(self.rest.len())) }
    }
}

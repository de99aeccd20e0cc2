//! The versioned, canonical, size-limited byte codec every Crema wire format is written with:
//! VID objects here in the engine, consensus messages and storage records in the node.
//!
//! An object starts with a 4-byte tag (3 ASCII bytes naming the object and one version byte).
//! Integers are little-endian. [`Reader`] checks every length against a limit before the caller
//! allocates, refuses trailing bytes, and returns a [`WireError`] — never panics — on any
//! input; [`Writer`] builds the same layout.

use thiserror::Error;

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
        Self::with_capacity(tag, version, 60)
    }

    /// [`Writer::new`] with room for `body` bytes after the tag, so an object whose size is
    /// known up front (a share: megabytes of units) is written without regrowing the buffer.
    pub fn with_capacity(tag: &[u8; 3], version: u8, body: usize) -> Self {
        let mut v = Vec::with_capacity(4 + body);
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

    /// Appends `b` behind a little-endian u32 length. Callers bound their fields far below
    /// 4 GiB (every decoder has a limit); a longer field is a bug, caught here.
    pub fn len_bytes(&mut self, b: &[u8]) -> &mut Self {
        let len = u32::try_from(b.len()).expect("a wire field over 4 GiB");
        self.u32(len).bytes(b)
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

    /// Reads `bytes` that have no tag (a part of a tagged object, stored or hashed on its own).
    pub fn new_untagged(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
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
        let bytes = self.take(N, what)?;
        // `take` returned exactly N bytes, so the conversion cannot fail.
        Ok(bytes.try_into().expect("take returned N bytes"))
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

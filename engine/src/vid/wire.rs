//! The canonical encodings of VID objects ([`Codec`]), written with the engine's bounded
//! reader and writer ([`crate::codec`]): decoders check every length against a limit before
//! allocating, refuse trailing bytes, and return a typed error — never panic — on any input.
//!
//! Tags in use: `CVC`/`CVS` (AvidM common data and share), `CKC`/`CKS` (KZG), `CNC`/`CNS`/`CNP`
//! (namespaced common data, share and namespace proof). [`common_kind`] reads the tag of a
//! common-data object, which is how `crema vid` tells the schemes apart on disk.

use super::{SchemeKind, VidError};
use crate::codec::WireError;

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
    Plain(SchemeKind),
    /// A namespaced dispersal whose namespaces use this scheme.
    Namespaced(SchemeKind),
}

/// Tells the scheme (and whether the dispersal is namespaced) from common-data bytes.
pub fn common_kind(bytes: &[u8]) -> Result<CommonKind, WireError> {
    let head =
        bytes.get(..4).ok_or(WireError::Truncated { what: "common data tag", needed: 4, remaining: bytes.len() })?;
    match &head[..3] {
        b"CVC" => Ok(CommonKind::Plain(SchemeKind::Avidm)),
        b"CKC" => Ok(CommonKind::Plain(SchemeKind::Kzg)),
        b"CNC" => {
            // Namespaced common data: tag, version, then the scheme byte.
            let tag = *bytes.get(4).ok_or(WireError::Truncated { what: "scheme tag", needed: 1, remaining: 0 })?;
            Ok(CommonKind::Namespaced(SchemeKind::from_u8(tag)?))
        }
        _ => Err(WireError::WrongTag { expected: "vid common data", found: [head[0], head[1], head[2]] }),
    }
}

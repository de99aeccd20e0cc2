//! One shard of a GF(2^16) codeword with its integrity checksum, and its canonical bytes: the
//! unit of [`Gf16Code`](super::Gf16Code)'s opt-in checksummed layer (`encode_shards`,
//! `decode_shards`).
//!
//! The checksum is a BLAKE3 hash (keyed with a key derived from a Crema-specific context, so
//! it cannot collide with any other BLAKE3 use in Crema) over the shard's index and bytes. It detects accidental corruption
//! and misplaced shards (a shard sent under another index fails too); it is not an
//! authenticator, because anyone can recompute it: against a malicious sender, shards are
//! checked against a commitment (Merkle root, KZG) one layer up.

use std::sync::OnceLock;

use thiserror::Error;

/// BLAKE3 derive-key context for the shard checksum key. Changing it changes every checksum.
const CHECKSUM_CONTEXT: &str = "crema 2026 gf16 shard checksum v1";

/// The checksum key, `blake3::derive_key(CHECKSUM_CONTEXT, "")`, derived once: keyed mode
/// with a derived key gives the same domain separation as derive-key mode without hashing
/// the context string again for every shard (~15% of a 1 KiB shard's checksum).
fn checksum_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| blake3::derive_key(CHECKSUM_CONTEXT, b""))
}

/// Bytes of the canonical header: index (u32 LE) then payload length (u32 LE).
const HEADER_BYTES: usize = 8;

/// Bytes of the checksum.
pub const CHECKSUM_BYTES: usize = 32;

/// A shard of a codeword: `index` is its position among the `original_count + recovery_count`
/// shards (originals first, then recovery), `bytes` its payload, `checksum` the BLAKE3 hash of
/// both, set when the shard was made.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Position in the codeword: `0..original_count` originals, then recovery shards.
    pub index: u32,
    /// The payload.
    pub bytes: Vec<u8>,
    /// [`Shard::checksum_of`]`(index, bytes)` at the time the shard was made.
    pub checksum: [u8; 32],
}

/// Why bytes are not a canonical [`Shard`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ShardDecodeError {
    /// Fewer bytes than the header and checksum, or than the declared payload needs.
    #[error("shard encoding truncated: {got} bytes, need {need}")]
    Truncated {
        /// Bytes given.
        got: usize,
        /// Bytes the encoding needs (header + declared payload + checksum).
        need: usize,
    },
    /// The declared payload length is not a positive even number, or bytes trail the checksum.
    #[error("shard encoding has bad length: payload {declared} bytes declared, {got} bytes total, {expected} expected")]
    BadLength {
        /// The declared payload length.
        declared: usize,
        /// Bytes given.
        got: usize,
        /// Bytes the declared payload implies.
        expected: usize,
    },
    /// The checksum does not match the index and payload.
    #[error("shard {index} fails its checksum")]
    BadChecksum {
        /// The index the shard claims.
        index: u32,
    },
}

impl Shard {
    /// Makes a shard, computing its checksum.
    pub fn new(index: u32, bytes: Vec<u8>) -> Self {
        let checksum = Self::checksum_of(index, &bytes);
        Self { index, bytes, checksum }
    }

    /// The checksum of `(index, bytes)`: BLAKE3 keyed with
    /// `derive_key("crema 2026 gf16 shard checksum v1", "")`, over the index as u32 LE, the
    /// length as u64 LE, then the bytes.
    pub fn checksum_of(index: u32, bytes: &[u8]) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(checksum_key());
        h.update(&index.to_le_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
        *h.finalize().as_bytes()
    }

    /// Whether the checksum still matches the index and payload (constant time compare).
    pub fn is_intact(&self) -> bool {
        blake3::Hash::from(self.checksum) == blake3::Hash::from(Self::checksum_of(self.index, &self.bytes))
    }

    /// Length of [`Shard::to_bytes`] for a payload of `payload_bytes`.
    pub fn encoded_len(payload_bytes: usize) -> usize {
        HEADER_BYTES + payload_bytes + CHECKSUM_BYTES
    }

    /// Canonical encoding: `index u32 LE ‖ payload length u32 LE ‖ payload ‖ checksum (32)`.
    ///
    /// # Panics
    /// If the payload is 4 GiB or more (no codeword shard comes near that).
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = u32::try_from(self.bytes.len()).expect("shard payload below 4 GiB");
        let mut out = Vec::with_capacity(Self::encoded_len(self.bytes.len()));
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.bytes);
        out.extend_from_slice(&self.checksum);
        out
    }

    /// Parses [`Shard::to_bytes`] output and verifies the checksum. Never panics.
    pub fn from_bytes(data: &[u8]) -> Result<Self, ShardDecodeError> {
        let min = HEADER_BYTES + CHECKSUM_BYTES;
        if data.len() < min {
            return Err(ShardDecodeError::Truncated { got: data.len(), need: min });
        }
        let index = u32::from_le_bytes(data[0..4].try_into().expect("4 bytes"));
        let declared = u32::from_le_bytes(data[4..8].try_into().expect("4 bytes")) as usize;
        let expected = Self::encoded_len(declared);
        if declared == 0 || !declared.is_multiple_of(2) || data.len() > expected {
            return Err(ShardDecodeError::BadLength { declared, got: data.len(), expected });
        }
        if data.len() < expected {
            return Err(ShardDecodeError::Truncated { got: data.len(), need: expected });
        }
        let bytes = data[HEADER_BYTES..HEADER_BYTES + declared].to_vec();
        let checksum: [u8; 32] = data[HEADER_BYTES + declared..].try_into().expect("32 bytes");
        let shard = Self { index, bytes, checksum };
        if !shard.is_intact() {
            return Err(ShardDecodeError::BadChecksum { index });
        }
        Ok(shard)
    }
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Payloads are large; show the shape and a checksum prefix.
        f.debug_struct("Shard")
            .field("index", &self.index)
            .field("bytes", &self.bytes.len())
            .field("checksum", &hex::encode(&self.checksum[..8]))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_error() {
        let s = Shard::new(7, vec![1, 2, 3, 4, 5, 6]);
        let enc = s.to_bytes();
        assert_eq!(enc.len(), Shard::encoded_len(6));
        assert_eq!(Shard::from_bytes(&enc).unwrap(), s);

        assert_eq!(Shard::from_bytes(&enc[..10]), Err(ShardDecodeError::Truncated { got: 10, need: 40 }));
        assert_eq!(Shard::from_bytes(&enc[..45]), Err(ShardDecodeError::Truncated { got: 45, need: 46 }));
        let mut long = enc.clone();
        long.push(0);
        assert!(matches!(Shard::from_bytes(&long), Err(ShardDecodeError::BadLength { declared: 6, .. })));
        let mut odd = enc.clone();
        odd[4] = 5;
        assert!(matches!(Shard::from_bytes(&odd), Err(ShardDecodeError::BadLength { declared: 5, .. })));
        // Flipping any single bit of payload, index or checksum is caught.
        for byte in [0, 9, 13, 20, 45] {
            let mut bad = enc.clone();
            bad[byte] ^= 0x10;
            assert!(matches!(Shard::from_bytes(&bad), Err(ShardDecodeError::BadChecksum { .. })), "byte {byte}");
        }
    }

    #[test]
    fn checksum_binds_the_index() {
        let mut s = Shard::new(1, vec![9; 64]);
        assert!(s.is_intact());
        s.index = 2;
        assert!(!s.is_intact());
    }
}

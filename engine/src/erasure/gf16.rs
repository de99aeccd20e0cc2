//! Leopard GF(2^16) Reed–Solomon erasure coding over byte shards (= reed-solomon-simd 3.x).
//!
//! [`Gf16Code`] fixes the shape of a codeword (`original_count` data shards, `recovery_count`
//! recovery shards, `shard_bytes` each), validates every input against it with a typed
//! [`Gf16Error`] and runs the arithmetic on any [`Backend`]. A shard is named by its codeword
//! index: `0..k` the originals, `k..k+m` the recovery shards. Two layers:
//!
//! - [`Gf16Code::encode`] and [`Gf16Code::decode`] take borrowed slices and copy or hash
//!   nothing beyond what the backend's primitive does, so they cost what the primitive costs:
//!   encode returns the recovery shards, decode all originals (borrowed where they were given,
//!   owned where restored).
//! - [`Gf16Code::encode_shards`] and [`Gf16Code::decode_shards`] (opt-in, `gf16/checksummed.rs`)
//!   wrap every shard of the codeword in a [`Shard`] with its index and a checksum, so a
//!   corrupted shard is detected and left out of decoding, never decoded into wrong data. That
//!   costs a copy of the originals and a BLAKE3 pass over every shard.
//!
//! ```
//! use crema_engine::backend::Cpu;
//! use crema_engine::erasure::gf16::Gf16Code;
//!
//! let (cpu, code) = (Cpu::new(), Gf16Code::new(3, 2, 64).unwrap());
//! let data = [[1u8; 64], [2; 64], [3; 64]];
//! let recovery = code.encode(&cpu, &[&data[0][..], &data[1][..], &data[2][..]]).unwrap();
//! // Lose originals 0 and 1: any 3 of the 5 shards give the data back.
//! let kept = [(2, &data[2][..]), (3, &recovery[0][..]), (4, &recovery[1][..])];
//! let restored = code.decode(&cpu, &kept).unwrap();
//! assert_eq!(restored, data.map(|d| d.to_vec()));
//! ```
//!
//! The code itself (tables, layout, the textbook coder) is in [`crate::gf16`], below the
//! backends.

mod checksummed;
mod error;
mod shard;

pub use error::Gf16Error;
pub use shard::{CHECKSUM_BYTES, Shard, ShardDecodeError};

use std::borrow::Cow;

use crate::backend::{Backend, Gf16Received};
use crate::error::BackendError;
use crate::gf16::supports;

/// The shape of a Leopard GF(2^16) codeword; validated at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gf16Code {
    original_count: usize,
    recovery_count: usize,
    shard_bytes: usize,
}

impl Gf16Code {
    /// A code of `original_count` data shards and `recovery_count` recovery shards of
    /// `shard_bytes` each: any `original_count` of the shards restore the data.
    pub fn new(original_count: usize, recovery_count: usize, shard_bytes: usize) -> Result<Self, Gf16Error> {
        if !supports(original_count, recovery_count) {
            return Err(Gf16Error::UnsupportedCounts { original_count, recovery_count });
        }
        if shard_bytes == 0 || !shard_bytes.is_multiple_of(2) {
            return Err(Gf16Error::InvalidShardSize { shard_bytes });
        }
        Ok(Self { original_count, recovery_count, shard_bytes })
    }

    /// Data shards per codeword.
    pub fn original_count(&self) -> usize {
        self.original_count
    }

    /// Recovery shards per codeword.
    pub fn recovery_count(&self) -> usize {
        self.recovery_count
    }

    /// Bytes per shard.
    pub fn shard_bytes(&self) -> usize {
        self.shard_bytes
    }

    /// `original_count + recovery_count`.
    pub fn total_count(&self) -> usize {
        self.original_count + self.recovery_count
    }

    /// The `recovery_count` recovery shards (codeword indices `k..k+m`) of the data shards
    /// `original` (indices `0..k`), which are read in place, not copied.
    pub fn encode(&self, backend: &dyn Backend, original: &[&[u8]]) -> Result<Vec<Vec<u8>>, Gf16Error> {
        if original.len() != self.original_count {
            return Err(Gf16Error::WrongOriginalCount { got: original.len(), expected: self.original_count });
        }
        if let Some((index, s)) = original.iter().enumerate().find(|(_, s)| s.len() != self.shard_bytes) {
            return Err(Gf16Error::WrongShardSize { index, got: s.len(), expected: self.shard_bytes });
        }
        let recovery = backend.gf16_encode(original, self.recovery_count)?;
        if recovery.len() != self.recovery_count || recovery.iter().any(|r| r.len() != self.shard_bytes) {
            return Err(backend_shape(backend, "gf16_encode", "recovery shards of the wrong count or size"));
        }
        Ok(recovery)
    }

    /// Restores the `original_count` data shards from any `original_count` or more distinct
    /// shards of the codeword, given as `(codeword index, bytes)` in any order. The originals
    /// come back in index order: borrowed from `shards` where given, restored otherwise (all
    /// given: no decode at all).
    pub fn decode<'a>(
        &self,
        backend: &dyn Backend,
        shards: &[(usize, &'a [u8])],
    ) -> Result<Vec<Cow<'a, [u8]>>, Gf16Error> {
        self.restore(backend, shards.iter().copied(), Vec::new())
    }

    /// [`Gf16Code::decode`] of `shards`, checked one by one (index in range, size, no
    /// duplicate); `corrupted` are the indices of shards a layer above left out, named in
    /// [`Gf16Error::TooFewShards`].
    fn restore<'a>(
        &self,
        backend: &dyn Backend,
        shards: impl IntoIterator<Item = (usize, &'a [u8])>,
        corrupted: Vec<u32>,
    ) -> Result<Vec<Cow<'a, [u8]>>, Gf16Error> {
        let (k, total) = (self.original_count, self.total_count());
        let mut seen = vec![false; total];
        let mut given = Vec::new();
        for (index, bytes) in shards {
            let Some(seen) = seen.get_mut(index) else {
                return Err(Gf16Error::IndexOutOfRange { index, total });
            };
            if bytes.len() != self.shard_bytes {
                return Err(Gf16Error::WrongShardSize { index, got: bytes.len(), expected: self.shard_bytes });
            }
            if std::mem::replace(seen, true) {
                return Err(Gf16Error::DuplicateIndex { index });
            }
            given.push((index, bytes));
        }
        if given.len() < k {
            return Err(Gf16Error::TooFewShards { have: given.len(), need: k, corrupted });
        }

        let mut out: Vec<Option<Cow<'a, [u8]>>> = vec![None; k];
        for &(i, s) in given.iter().filter(|(i, _)| *i < k) {
            out[i] = Some(Cow::Borrowed(s));
        }
        if out.iter().any(Option::is_none) {
            let restored = backend.gf16_decode(&Gf16Received::from_codeword(k, self.recovery_count, given))?;
            for (i, bytes) in restored {
                let Some(slot) = out.get_mut(i).filter(|o| o.is_none() && bytes.len() == self.shard_bytes) else {
                    return Err(backend_shape(backend, "gf16_decode", "restored shard of wrong index or size"));
                };
                *slot = Some(Cow::Owned(bytes));
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, s)| s.ok_or_else(|| backend_shape(backend, "gf16_decode", format!("original {i} not restored"))))
            .collect()
    }
}

/// A backend broke its contract (wrong count or size of output): a device-level fault.
fn backend_shape(backend: &dyn Backend, op: &'static str, what: impl Into<String>) -> Gf16Error {
    Gf16Error::Backend(BackendError::Device { op, reason: format!("{} backend: {}", backend.name(), what.into()) })
}

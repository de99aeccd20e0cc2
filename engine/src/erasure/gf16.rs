//! Leopard GF(2^16) Reed–Solomon erasure coding over byte shards (= reed-solomon-simd 3.x).
//!
//! [`Gf16Code`] fixes the shape of a codeword (`original_count` data shards, `recovery_count`
//! recovery shards, `shard_bytes` each), validates every input against it and runs the
//! arithmetic on any [`Backend`]. Each [`Shard`] carries a checksum: a corrupted shard is
//! detected and left out of decoding, never decoded into wrong data.
//!
//! ```
//! use crema_engine::backend::Cpu;
//! use crema_engine::erasure::gf16::Gf16Code;
//!
//! let code = Gf16Code::new(3, 2, 64).unwrap();
//! let data = [[1u8; 64], [2; 64], [3; 64]];
//! let shards = code.encode(&Cpu::new(), &[&data[0][..], &data[1][..], &data[2][..]]).unwrap();
//! // Lose two shards, corrupt nothing: any 3 of the 5 give the data back.
//! let restored = code.decode(&Cpu::new(), &shards[2..]).unwrap();
//! assert_eq!(restored, data.map(|d| d.to_vec()));
//! ```

pub mod naive;
mod shard;
pub mod tables;

pub use shard::{CHECKSUM_BYTES, Shard, ShardDecodeError};

use rayon::prelude::*;
use thiserror::Error;

use crate::backend::Backend;
use crate::error::BackendError;

/// Checksum bytes below which one thread does all the checksums.
const PAR_CHECKSUM_MIN_BYTES: usize = 256 << 10;

/// Minimum shards per rayon task when checksumming `count` shards of `bytes` each: one big
/// task per thread (measured: fine-grained tasks lost to one thread on the loaded machine,
/// every hand-off can wait a scheduler slice), or everything in one task for small codewords.
fn checksum_task_len(count: usize, bytes: usize) -> usize {
    if count * bytes < PAR_CHECKSUM_MIN_BYTES { count.max(1) } else { count.div_ceil(rayon::current_num_threads()) }
}

/// Why a GF(2^16) operation was refused or failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Gf16Error {
    /// The counts are zero or beyond what Leopard supports.
    #[error(
        "unsupported shard counts {original_count}:{recovery_count}: both must be at least 1 and \
         min(k, m).next_power_of_two() + max(k, m) at most 65536"
    )]
    UnsupportedCounts {
        /// Original (data) shards asked for.
        original_count: usize,
        /// Recovery shards asked for.
        recovery_count: usize,
    },
    /// The shard size is zero or odd (shards are arrays of 16-bit symbols).
    #[error("shard size {shard_bytes} is not a positive even number")]
    InvalidShardSize {
        /// The size asked for.
        shard_bytes: usize,
    },
    /// Encode was given the wrong number of original shards.
    #[error("{got} original shards given, the code has {expected}")]
    WrongOriginalCount {
        /// Shards given.
        got: usize,
        /// The code's `original_count`.
        expected: usize,
    },
    /// A shard (intact, for decode) has the wrong length.
    #[error("shard {index} has {got} bytes, the code's shards have {expected}")]
    WrongShardSize {
        /// Index of the shard (position in the input for encode, shard index for decode).
        index: usize,
        /// Its length.
        got: usize,
        /// The code's `shard_bytes`.
        expected: usize,
    },
    /// Two intact shards claim the same index.
    #[error("two shards have index {index}")]
    DuplicateIndex {
        /// The repeated index.
        index: usize,
    },
    /// An intact shard's index is outside the codeword.
    #[error("shard index {index} is outside 0..{total}")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// `original_count + recovery_count`.
        total: usize,
    },
    /// Fewer intact shards than originals: the data cannot be restored.
    #[error("too few shards to decode: {have} intact, {need} needed; corrupted shard indices {corrupted:?}")]
    TooFewShards {
        /// Intact, distinct shards received.
        have: usize,
        /// `original_count`.
        need: usize,
        /// Indices of the shards that failed their checksum (excluded).
        corrupted: Vec<u32>,
    },
    /// A shard failed its checksum where no other shard can stand in for it.
    #[error("shard {index} failed its integrity check")]
    Integrity {
        /// The shard's claimed index.
        index: u32,
    },
    /// The backend failed or returned output of the wrong shape.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

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
        if !naive::supports(original_count, recovery_count) {
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

    /// Encodes the data shards into the whole codeword: `original_count` shards carrying the
    /// data (indices `0..k`) followed by `recovery_count` recovery shards (indices `k..k+m`),
    /// each with its checksum.
    pub fn encode(&self, backend: &dyn Backend, original: &[&[u8]]) -> Result<Vec<Shard>, Gf16Error> {
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
        let k = self.original_count;
        let shards: Vec<Vec<u8>> = original.iter().map(|s| s.to_vec()).chain(recovery).collect();
        // Checksums cost about as much as the encode itself at small counts: spread them over
        // the cores. Indices fit in u32: supported codes have at most 65536 + 32768 shards.
        Ok(shards
            .into_par_iter()
            .with_min_len(checksum_task_len(k + self.recovery_count, self.shard_bytes))
            .enumerate()
            .map(|(i, bytes)| Shard::new(i as u32, bytes))
            .collect())
    }

    /// Checks one received shard on its own: checksum, index within the codeword, size.
    pub fn check_shard(&self, shard: &Shard) -> Result<(), Gf16Error> {
        if !shard.is_intact() {
            return Err(Gf16Error::Integrity { index: shard.index });
        }
        let (index, total) = (shard.index as usize, self.total_count());
        if index >= total {
            return Err(Gf16Error::IndexOutOfRange { index, total });
        }
        if shard.bytes.len() != self.shard_bytes {
            return Err(Gf16Error::WrongShardSize { index, got: shard.bytes.len(), expected: self.shard_bytes });
        }
        Ok(())
    }

    /// Restores the `original_count` data shards from any `original_count` intact shards of
    /// the codeword, in any order. Shards failing their checksum are excluded (and named in
    /// [`Gf16Error::TooFewShards`] if what remains is not enough).
    pub fn decode(&self, backend: &dyn Backend, shards: &[Shard]) -> Result<Vec<Vec<u8>>, Gf16Error> {
        let (k, total) = (self.original_count, self.total_count());
        let mut seen = vec![false; total];
        let mut corrupted = Vec::new();
        let mut intact: Vec<&Shard> = Vec::with_capacity(shards.len());
        let checks: Vec<Result<(), Gf16Error>> = shards
            .par_iter()
            .with_min_len(checksum_task_len(shards.len(), self.shard_bytes))
            .map(|s| self.check_shard(s))
            .collect();
        for (s, check) in shards.iter().zip(checks) {
            match check {
                Err(Gf16Error::Integrity { index }) => {
                    corrupted.push(index);
                    continue;
                }
                other => other?,
            }
            let index = s.index as usize;
            if std::mem::replace(&mut seen[index], true) {
                return Err(Gf16Error::DuplicateIndex { index });
            }
            intact.push(s);
        }
        if intact.len() < k {
            return Err(Gf16Error::TooFewShards { have: intact.len(), need: k, corrupted });
        }

        let mut out: Vec<Option<Vec<u8>>> = vec![None; k];
        for s in intact.iter().filter(|s| (s.index as usize) < k) {
            out[s.index as usize] = Some(s.bytes.clone());
        }
        if out.iter().any(Option::is_none) {
            let original: Vec<(usize, &[u8])> =
                intact.iter().filter(|s| (s.index as usize) < k).map(|s| (s.index as usize, &s.bytes[..])).collect();
            let recovery: Vec<(usize, &[u8])> = intact
                .iter()
                .filter(|s| (s.index as usize) >= k)
                .map(|s| (s.index as usize - k, &s.bytes[..]))
                .collect();
            let restored = backend.gf16_decode(k, self.recovery_count, &original, &recovery)?;
            for (i, bytes) in restored {
                if i >= k || bytes.len() != self.shard_bytes || out[i].is_some() {
                    return Err(backend_shape(backend, "gf16_decode", "restored shard of wrong index or size"));
                }
                out[i] = Some(bytes);
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

//! [`Gf16Error`]: why a [`Gf16Code`](super::Gf16Code) call was refused or failed.

use thiserror::Error;

use crate::error::BackendError;

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
        /// Index of the shard (position in the input for encode, codeword index for decode).
        index: usize,
        /// Its length.
        got: usize,
        /// The code's `shard_bytes`.
        expected: usize,
    },
    /// Two (intact) shards claim the same index.
    #[error("two shards have index {index}")]
    DuplicateIndex {
        /// The repeated index.
        index: usize,
    },
    /// An (intact) shard's index is outside the codeword.
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
        /// Indices of the shards that failed their checksum (excluded; always empty for the
        /// unchecksummed [`Gf16Code::decode`](super::Gf16Code::decode)).
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

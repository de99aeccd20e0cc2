//! The one error type of the BLS module.

use thiserror::Error;

use crate::error::BackendError;
use crate::field::DecodeError;

/// Why a BLS operation failed. A signature that simply does not verify is *not* an error:
/// verification functions return `Ok(false)` for that and keep `Err` for malformed input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BlsError {
    /// A secret key was zero or not below the group order r.
    #[error("invalid secret key: {reason}")]
    InvalidSecretKey {
        /// What was wrong (zero, non-canonical, wrong length).
        reason: String,
    },
    /// KeyGen input keying material was shorter than the 32 bytes the spec requires.
    #[error("KeyGen needs at least 32 bytes of IKM, got {got}")]
    IkmTooShort {
        /// Bytes supplied.
        got: usize,
    },
    /// A public key failed to decode or failed KeyValidate.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(DecodeError),
    /// The public key is the point at infinity, which KeyValidate rejects.
    #[error("public key is the point at infinity")]
    InfinityPublicKey,
    /// A signature failed to decode (bad encoding, off curve, outside the subgroup).
    #[error("invalid signature: {0}")]
    InvalidSignature(DecodeError),
    /// An operation that needs at least one input got none.
    #[error("{op} needs at least one input, got none")]
    Empty {
        /// The operation.
        op: &'static str,
    },
    /// Parallel inputs had different lengths.
    #[error("{op}: {left} {left_what} but {right} {right_what}")]
    LengthMismatch {
        /// The operation.
        op: &'static str,
        /// Count of the first input.
        left: usize,
        /// What the first input holds.
        left_what: &'static str,
        /// Count of the second input.
        right: usize,
        /// What the second input holds.
        right_what: &'static str,
    },
    /// Hash-to-curve failed (only possible with a malformed DST).
    #[error("hash to G2 failed: {reason}")]
    HashToCurve {
        /// The arkworks message.
        reason: String,
    },
    /// The backend refused or failed an aggregation.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A stake-table entry's proof of possession did not verify.
    #[error("proof of possession for stake-table entry {index} does not verify")]
    BadProofOfPossession {
        /// Index the entry would have had.
        index: usize,
    },
    /// A public key appears twice in a stake table.
    #[error("public key of entry {index} duplicates entry {first}")]
    DuplicateKey {
        /// The rejected entry.
        index: usize,
        /// The earlier entry with the same key.
        first: usize,
    },
    /// A committee pairs keys and stakes of different lengths.
    #[error("committee has {keys} keys but {stakes} stake entries")]
    CommitteeMismatch {
        /// Keys in the key table.
        keys: usize,
        /// Entries in the stake table.
        stakes: usize,
    },
    /// A signer bitmap does not fit the stake table it is used with, or its bytes are malformed.
    #[error("bad signer bitmap: {reason}")]
    BadBitmap {
        /// What was wrong, with the sizes involved.
        reason: String,
    },
    /// A signer index is outside the stake table.
    #[error("signer index {index} is outside a stake table of {len} entries")]
    SignerOutOfRange {
        /// The index.
        index: usize,
        /// Table size.
        len: usize,
    },
    /// A vote's signature does not verify under its signer's key.
    #[error("vote from stake-table entry {index} does not verify")]
    InvalidVote {
        /// The signer's index.
        index: usize,
    },
    /// A signer voted twice.
    #[error("stake-table entry {index} already voted")]
    DuplicateVote {
        /// The signer's index.
        index: usize,
    },
    /// A certificate's bytes are malformed.
    #[error("bad certificate encoding: {reason}")]
    BadCertificate {
        /// What was wrong, with the sizes involved.
        reason: String,
    },
}

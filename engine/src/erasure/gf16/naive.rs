//! A plain, readable implementation of the Leopard GF(2^16) code: the oracle for the cpu and
//! gpu backends. PLACEHOLDER until the erasure work lands: it refuses every call.

use crate::error::BackendError;

/// Encodes `original` into `recovery_count` recovery shards.
pub fn encode(_original: &[&[u8]], _recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
    Err(BackendError::Unavailable { backend: "reference", reason: "naive GF(2^16) not written yet".into() })
}

/// Restores the missing original shards.
pub fn decode(
    _original_count: usize,
    _recovery_count: usize,
    _original: &[(usize, &[u8])],
    _recovery: &[(usize, &[u8])],
) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
    Err(BackendError::Unavailable { backend: "reference", reason: "naive GF(2^16) not written yet".into() })
}

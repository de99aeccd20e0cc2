//! Reconstruction of a whole codeword from exactly `original_count` of its shards
//! ([`Backend::gf16_reconstruct`]): what it returns ([`Gf16Restored`]) and the two ways to
//! compute it, written once for every backend.
//!
//! - [`by_reencoding`]: decode the missing originals, encode them all again, keep the recovery
//!   shards that were not given. Only the decode and encode primitives are needed: it is the
//!   trait's default, and so the reference backend's answer.
//! - [`in_one_decode`]: one Leopard decode restores the erased originals' and recovery shards'
//!   rows together (the final FFT runs a little further instead of a whole re-encode); the cpu
//!   and gpu backends supply the row decoder.
//!
//! [`Backend::gf16_reconstruct`]: crate::backend::Backend::gf16_reconstruct

use super::{DecodePlan, Gf16Received, plan_decode};
use crate::error::BackendError;

/// What a reconstruction restores: the shards it was not given, each list as
/// `(index, bytes)` in increasing index order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gf16Restored {
    /// The missing original shards.
    pub original: Vec<(usize, Vec<u8>)>,
    /// The missing recovery shards.
    pub recovery: Vec<(usize, Vec<u8>)>,
}

/// Checks a reconstruction was given exactly `original_count` shards: that many fix the
/// codeword, so whatever they hold the result is a codeword (callers rely on it).
fn check_count(received: &Gf16Received<'_>) -> Result<(), BackendError> {
    let (given, k) = (received.len(), received.original_count);
    if given != k {
        return Err(BackendError::invalid("gf16_reconstruct", format!("{given} shards given, exactly {k} needed")));
    }
    Ok(())
}

/// The recovery shards of `encoded` whose index is not among `given`, as `(index, bytes)`.
fn missing_recovery(encoded: Vec<Vec<u8>>, given: &[(usize, &[u8])]) -> Vec<(usize, Vec<u8>)> {
    let mut have = vec![false; encoded.len()];
    for &(j, _) in given {
        if let Some(h) = have.get_mut(j) {
            *h = true;
        }
    }
    encoded.into_iter().enumerate().filter(|(j, _)| !have[*j]).collect()
}

/// Reconstruction from the decode and encode primitives: `decode` restores the missing
/// originals (validating the call), then `encode` re-encodes all originals.
pub fn by_reencoding(
    received: &Gf16Received<'_>,
    decode: impl FnOnce(&Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError>,
    encode: impl FnOnce(&[&[u8]]) -> Result<Vec<Vec<u8>>, BackendError>,
) -> Result<Gf16Restored, BackendError> {
    check_count(received)?;
    let restored = decode(received)?;
    // decode validated the indices, so every original is now in one of the two lists.
    let mut all: Vec<&[u8]> = vec![&[]; received.original_count];
    for (i, s) in received.original.iter().map(|&(i, s)| (i, s)).chain(restored.iter().map(|(i, s)| (*i, &s[..]))) {
        all[i] = s;
    }
    let encoded = encode(&all)?;
    Ok(Gf16Restored { recovery: missing_recovery(encoded, &received.recovery), original: restored })
}

/// Reconstruction for a backend that restores any erased rows in one Leopard decode:
/// validates the call, encodes when every original is given (then no recovery shard is), else
/// has `restore` decode the missing originals' and recovery shards' rows together (returned in
/// the order of the field positions it is given) and sorts them into the two lists.
pub fn in_one_decode(
    received: &Gf16Received<'_>,
    encode: impl FnOnce(&[&[u8]]) -> Result<Vec<Vec<u8>>, BackendError>,
    restore: impl FnOnce(&mut DecodePlan, &[(usize, &[u8])], &[usize]) -> Result<Vec<Vec<u8>>, BackendError>,
) -> Result<Gf16Restored, BackendError> {
    check_count(received)?;
    let Some(mut plan) = plan_decode(received)? else {
        // Every original is given (plan_decode checked their indices), so no recovery shard is.
        let mut all: Vec<&[u8]> = vec![&[]; received.original_count];
        received.original.iter().for_each(|&(i, s)| all[i] = s);
        let recovery = missing_recovery(encode(&all)?, &received.recovery);
        return Ok(Gf16Restored { original: Vec::new(), recovery });
    };
    let rows = plan.received(received);
    let positions: Vec<usize> = plan.restore().into_iter().chain(plan.restore_recovery()).collect();
    let mut restored = restore(&mut plan, &rows, &positions)?.into_iter();
    let original = plan.missing.iter().copied().zip(restored.by_ref()).collect();
    Ok(Gf16Restored { original, recovery: plan.missing_recovery.iter().copied().zip(restored).collect() })
}

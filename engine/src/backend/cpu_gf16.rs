//! The CPU backend's GF(2^16) Reed–Solomon: reed-solomon-simd (AVX2/SSSE3/NEON chosen at run
//! time), with two things a VID-sized call needs on top of its one-shot `encode`/`decode`:
//!
//! - **Reused work buffers.** A 334:666 × 30 KB encode works in a 30 MB buffer (1024 shards:
//!   the low-rate path rounds up to whole chunks); allocating, faulting in and zeroing it on
//!   every call cost as much as a third of the transform. Encoders and decoders are pooled and
//!   `reset` for the next call.
//! - **Byte-range halves on two cores.** Leopard works column by column: byte `b` of a shard
//!   belongs to the 16-bit symbols of its 64-byte block and never meets another block, so
//!   cutting every shard at a multiple of 64 gives two independent codes whose outputs,
//!   concatenated, are exactly the one-call bytes. Each output shard is assembled with one
//!   copy straight from the two encoders' buffers.

use std::ops::Range;
use std::sync::Mutex;

use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

use super::check_gf16_encode_shape;
use crate::error::BackendError;

/// Shard data (all shards of a codeword together) below which one thread wins: rayon's
/// hand-off costs more than half of the transform saves. Measured (noisily, shared machine):
/// 2 MiB (1024:1024 × 1 KiB) lost, 8 MiB won ~2×.
const SPLIT_MIN_BYTES: usize = 4 << 20;

/// Encoders and decoders kept for reuse (their work buffers are the expensive part).
static ENCODERS: Mutex<Vec<ReedSolomonEncoder>> = Mutex::new(Vec::new());
static DECODERS: Mutex<Vec<ReedSolomonDecoder>> = Mutex::new(Vec::new());
/// Most of each kept (two per concurrent split call, on a 2-core machine).
const POOL: usize = 4;

fn rs_err(op: &'static str, e: reed_solomon_simd::Error) -> BackendError {
    BackendError::invalid(op, e.to_string())
}

/// Where to cut every shard for two independent half-width codes, if worth it.
fn split(shard_count: usize, shard_bytes: usize) -> Option<usize> {
    let cut = shard_bytes / 2 / 64 * 64;
    (cut > 0 && shard_count * shard_bytes >= SPLIT_MIN_BYTES && rayon::current_num_threads() > 1).then_some(cut)
}

/// A pooled encoder reset to `(k, m, bytes)`, or a new one.
fn take_encoder(k: usize, m: usize, bytes: usize) -> Result<ReedSolomonEncoder, BackendError> {
    let err = |e| rs_err("gf16_encode", e);
    match ENCODERS.lock().unwrap_or_else(|e| e.into_inner()).pop() {
        Some(mut e) => e.reset(k, m, bytes).map(|_| e).map_err(err),
        None => ReedSolomonEncoder::new(k, m, bytes).map_err(err),
    }
}

fn give_back<T>(pool: &Mutex<Vec<T>>, item: T) {
    let mut pool = pool.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < POOL {
        pool.push(item);
    }
}

/// Feeds the `range` columns of `original` to `encoder`.
fn load(encoder: &mut ReedSolomonEncoder, original: &[&[u8]], range: Range<usize>) -> Result<(), BackendError> {
    for shard in original {
        encoder.add_original_shard(&shard[range.clone()]).map_err(|e| rs_err("gf16_encode", e))?;
    }
    Ok(())
}

/// `Backend::gf16_encode` for the CPU.
pub(crate) fn encode(original: &[&[u8]], m: usize) -> Result<Vec<Vec<u8>>, BackendError> {
    let len = check_gf16_encode_shape(original, m)?;
    let k = original.len();
    let err = |e| rs_err("gf16_encode", e);
    let out = match split(k + m, len) {
        None => {
            let mut e = take_encoder(k, m, len)?;
            load(&mut e, original, 0..len)?;
            let out = e.encode().map_err(err)?.recovery_iter().map(<[u8]>::to_vec).collect();
            give_back(&ENCODERS, e);
            out
        }
        Some(cut) => {
            let (mut a, mut b) = (take_encoder(k, m, cut)?, take_encoder(k, m, len - cut)?);
            load(&mut a, original, 0..cut)?;
            load(&mut b, original, cut..len)?;
            let out = {
                // Both transforms at once; their results stay in the two encoders' buffers, so
                // each output shard is assembled with a single copy of each half.
                let (ra, rb) = rayon::join(|| a.encode(), || b.encode());
                let (ra, rb) = (ra.map_err(err)?, rb.map_err(err)?);
                ra.recovery_iter()
                    .zip(rb.recovery_iter())
                    .map(|(l, r)| {
                        let mut shard = Vec::with_capacity(len);
                        shard.extend_from_slice(l);
                        shard.extend_from_slice(r);
                        shard
                    })
                    .collect()
            };
            give_back(&ENCODERS, a);
            give_back(&ENCODERS, b);
            out
        }
    };
    Ok(out)
}

/// A pooled decoder reset to `(k, m, bytes)` and loaded with the `range` columns of the
/// given shards.
fn loaded_decoder(
    k: usize,
    m: usize,
    original: &[(usize, &[u8])],
    recovery: &[(usize, &[u8])],
    range: Range<usize>,
) -> Result<ReedSolomonDecoder, BackendError> {
    let err = |e| rs_err("gf16_decode", e);
    let pooled = DECODERS.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut decoder = match pooled {
        Some(mut d) => d.reset(k, m, range.len()).map(|_| d).map_err(err)?,
        None => ReedSolomonDecoder::new(k, m, range.len()).map_err(err)?,
    };
    for (i, s) in original {
        decoder.add_original_shard(*i, &s[range.clone()]).map_err(err)?;
    }
    for (i, s) in recovery {
        decoder.add_recovery_shard(*i, &s[range.clone()]).map_err(err)?;
    }
    Ok(decoder)
}

/// `Backend::gf16_decode` for the CPU: the restored originals in increasing index order.
/// Split into two byte-range halves like encode when big: each half repeats the erasure
/// locator (a 64k-point transform, independent of shard size), which only pays off for the
/// large shards VID uses.
pub(crate) fn decode(
    k: usize,
    m: usize,
    original: &[(usize, &[u8])],
    recovery: &[(usize, &[u8])],
) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
    let err = |e| rs_err("gf16_decode", e);
    let len = original.first().or(recovery.first()).map_or(0, |(_, s)| s.len());
    if let Some((i, s)) = original.iter().chain(recovery).find(|(_, s)| s.len() != len) {
        return Err(BackendError::invalid("gf16_decode", format!("shard {i} has {} bytes, expected {len}", s.len())));
    }
    let mut restored: Vec<(usize, Vec<u8>)> = match split(original.len() + recovery.len(), len) {
        None => {
            let mut d = loaded_decoder(k, m, original, recovery, 0..len)?;
            let out = d.decode().map_err(err)?.restored_original_iter().map(|(i, s)| (i, s.to_vec())).collect();
            give_back(&DECODERS, d);
            out
        }
        Some(cut) => {
            let (mut a, mut b) = rayon::join(
                || loaded_decoder(k, m, original, recovery, 0..cut),
                || loaded_decoder(k, m, original, recovery, cut..len),
            );
            let (a_ref, b_ref) = (a.as_mut().map_err(|e| e.clone())?, b.as_mut().map_err(|e| e.clone())?);
            let out = {
                let (ra, rb) = rayon::join(|| a_ref.decode(), || b_ref.decode());
                let (ra, rb) = (ra.map_err(err)?, rb.map_err(err)?);
                let mut right: std::collections::HashMap<usize, &[u8]> = rb.restored_original_iter().collect();
                ra.restored_original_iter()
                    .map(|(i, l)| {
                        // Both halves see the same erasure pattern, so they restore the same shards.
                        let r = right.remove(&i).ok_or_else(|| {
                            BackendError::invalid("gf16_decode", format!("halves disagree on shard {i}"))
                        })?;
                        let mut shard = Vec::with_capacity(len);
                        shard.extend_from_slice(l);
                        shard.extend_from_slice(r);
                        Ok((i, shard))
                    })
                    .collect::<Result<Vec<_>, BackendError>>()
            };
            let out = out?;
            [a, b].into_iter().flatten().for_each(|d| give_back(&DECODERS, d));
            out
        }
    };
    restored.sort_unstable_by_key(|(i, _)| *i);
    Ok(restored)
}

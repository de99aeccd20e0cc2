//! Batch verification of independent (key, message, signature) triples with random
//! coefficients: one multi-pairing instead of one pairing check per triple.

use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use rand::{CryptoRng, Rng, RngCore};
use rayon::prelude::*;

use super::aggregate::{group_by_message, multi_pairing_check};
use super::error::BlsError;
use super::hash::{DST_SIG, hash_to_g2};
use super::keys::PublicKey;
use super::sig::Signature;
use crate::backend::Backend;
use crate::field::{G1Affine, G1Projective, G2Affine, G2Projective};

/// Verifies every `sigs[i]` on `msgs[i]` under `pks[i]` at once, with coefficients drawn from
/// the thread-local CSPRNG. `Ok(true)` iff (except with probability ≤ 2^-64) every triple
/// verifies; an empty batch is `Ok(false)`.
pub fn batch_verify(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
) -> Result<bool, BlsError> {
    batch_verify_with_rng(backend, pks, msgs, sigs, &mut rand::thread_rng())
}

/// [`batch_verify`] with a caller-chosen CSPRNG for the coefficients. Checks
/// `Π_m e(Σ_{i: msg_i = m} r_i·pk_i, H(m)) · e(−G1, Σ r_i·sig_i) == 1` with non-zero 64-bit
/// `r_i`: a forged triple passes only if the verifier's coefficients are predicted.
pub fn batch_verify_with_rng<R: RngCore + CryptoRng>(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
    rng: &mut R,
) -> Result<bool, BlsError> {
    let mismatch = |right: usize, right_what| BlsError::LengthMismatch {
        op: "batch_verify",
        left: pks.len(),
        left_what: "public keys",
        right,
        right_what,
    };
    if pks.len() != msgs.len() {
        return Err(mismatch(msgs.len(), "messages"));
    }
    if pks.len() != sigs.len() {
        return Err(mismatch(sigs.len(), "signatures"));
    }
    if pks.is_empty() {
        return Ok(false);
    }
    // Zero would drop a triple from the check, so draw from [1, 2^64).
    let coeffs: Vec<u64> = (0..pks.len()).map(|_| rng.gen_range(1..=u64::MAX)).collect();

    // A 64-bit double-and-add is cheaper than a full-width (GLV) scalar multiplication.
    let scaled: Vec<G1Projective> = pks.par_iter().zip(&coeffs).map(|(pk, r)| pk.point().mul_bigint([*r])).collect();
    let scaled = G1Projective::normalize_batch(&scaled);
    let (distinct, groups) = group_by_message(scaled.into_iter(), msgs);
    let refs: Vec<&[G1Affine]> = groups.iter().map(Vec::as_slice).collect();
    let sums = backend.sum_g1(&refs)?;
    let g1 = G1Projective::normalize_batch(&sums);

    let g2: Vec<G2Affine> = distinct.par_iter().map(|m| hash_to_g2(m, DST_SIG)).collect::<Result<_, _>>()?;
    let sig_points: Vec<G2Affine> = sigs.iter().map(|s| *s.point()).collect();
    let sig_sum = G2Projective::msm_u64(&sig_points, &coeffs).into_affine();
    Ok(multi_pairing_check(g1, g2, &sig_sum))
}

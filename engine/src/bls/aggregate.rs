//! Aggregate, FastAggregateVerify and AggregateVerify. Every sum of many points goes through
//! the [`Backend`] (`sum_g1` / `sum_g2`) so a GPU backend can take it.

use std::collections::HashMap;

use ark_ec::pairing::Pairing;
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::Zero;
use rayon::prelude::*;

use super::error::BlsError;
use super::hash::{DST_SIG, hash_to_g2};
use super::keys::PublicKey;
use super::sig::{Signature, pairing_check};
use crate::backend::Backend;
use crate::field::{Bls12_381, G1Affine, G1Projective, G2Affine};

/// Aggregate(signature_1, ..., signature_n): the sum of the signatures. Fails on an empty list.
pub fn aggregate(backend: &dyn Backend, sigs: &[Signature]) -> Result<Signature, BlsError> {
    if sigs.is_empty() {
        return Err(BlsError::Empty { op: "aggregate" });
    }
    let points: Vec<G2Affine> = sigs.iter().map(|s| *s.point()).collect();
    let sum = sum_one_g2(backend, &points)?;
    Ok(Signature::from_point(sum))
}

/// The sum of public keys (may be infinity when keys cancel; PoP rules that out for honest
/// tables). Fails on an empty list.
pub fn aggregate_public_keys(backend: &dyn Backend, pks: &[PublicKey]) -> Result<G1Affine, BlsError> {
    if pks.is_empty() {
        return Err(BlsError::Empty { op: "aggregate_public_keys" });
    }
    let points: Vec<G1Affine> = pks.iter().map(|p| *p.point()).collect();
    sum_one_g1(backend, &points)
}

/// FastAggregateVerify(PK_1..PK_n, message, signature): every key signed the same message.
/// Sums the keys on the backend, hashes once, and does one two-pair multi-pairing.
/// An empty key list is INVALID (`Ok(false)`), as in the spec.
pub fn fast_aggregate_verify(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msg: &[u8],
    sig: &Signature,
) -> Result<bool, BlsError> {
    if pks.is_empty() {
        return Ok(false);
    }
    let points: Vec<G1Affine> = pks.iter().map(|p| *p.point()).collect();
    fast_aggregate_verify_points(backend, &points, msg, sig)
}

/// [`fast_aggregate_verify`] over already-validated key points (the certificate path, where
/// the stake table keeps its keys contiguous).
pub(crate) fn fast_aggregate_verify_points(
    backend: &dyn Backend,
    points: &[G1Affine],
    msg: &[u8],
    sig: &Signature,
) -> Result<bool, BlsError> {
    if points.is_empty() {
        return Ok(false);
    }
    // Hash on this thread while nothing else needs it; the sum runs on the backend.
    let (agg, q) = rayon::join(|| sum_one_g1(backend, points), || hash_to_g2(msg, DST_SIG));
    Ok(pairing_check(agg?, q?, sig.point()))
}

/// AggregateVerify(PK_1..PK_n, message_1..message_n, signature) of the POP ciphersuite, which
/// is CoreAggregateVerify: messages need not be distinct (proofs of possession stop rogue
/// keys). Keys sharing a message are summed first (on the backend), so the multi-pairing has
/// one Miller loop per distinct message plus one. An empty list is INVALID (`Ok(false)`).
pub fn aggregate_verify(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sig: &Signature,
) -> Result<bool, BlsError> {
    if pks.len() != msgs.len() {
        return Err(BlsError::LengthMismatch {
            op: "aggregate_verify",
            left: pks.len(),
            left_what: "public keys",
            right: msgs.len(),
            right_what: "messages",
        });
    }
    if pks.is_empty() {
        return Ok(false);
    }
    let (distinct, groups) = group_by_message(pks.iter().map(|p| *p.point()), msgs);
    let refs: Vec<&[G1Affine]> = groups.iter().map(Vec::as_slice).collect();
    let sums = backend.sum_g1(&refs)?;
    let g1: Vec<G1Affine> = G1Projective::normalize_batch(&sums);
    let g2: Vec<G2Affine> = distinct.par_iter().map(|m| hash_to_g2(m, DST_SIG)).collect::<Result<_, _>>()?;
    Ok(multi_pairing_check(g1, g2, sig.point()))
}

/// Splits `(point, message)` pairs into the distinct messages (first-seen order) and, for each,
/// the points that go with it.
pub(crate) fn group_by_message<'m>(
    points: impl Iterator<Item = G1Affine>,
    msgs: &[&'m [u8]],
) -> (Vec<&'m [u8]>, Vec<Vec<G1Affine>>) {
    let mut index: HashMap<&[u8], usize> = HashMap::with_capacity(msgs.len());
    let mut distinct = Vec::new();
    let mut groups: Vec<Vec<G1Affine>> = Vec::new();
    for (p, m) in points.zip(msgs) {
        let i = *index.entry(m).or_insert_with(|| {
            distinct.push(*m);
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(p);
    }
    (distinct, groups)
}

/// Checks `Π e(g1_i, g2_i) · e(−G1, sig) == 1` with one final exponentiation. The G2 line
/// coefficients are prepared in parallel (arkworks prepares them serially otherwise).
pub(crate) fn multi_pairing_check(mut g1: Vec<G1Affine>, g2: Vec<G2Affine>, sig: &G2Affine) -> bool {
    g1.push((-G1Projective::generator()).into_affine());
    let mut prepared: Vec<<Bls12_381 as Pairing>::G2Prepared> = g2.into_par_iter().map(Into::into).collect();
    prepared.push((*sig).into());
    Bls12_381::multi_pairing(g1, prepared).is_zero()
}

/// Sums one group of G1 points on the backend.
pub(crate) fn sum_one_g1(backend: &dyn Backend, points: &[G1Affine]) -> Result<G1Affine, BlsError> {
    let sums = backend.sum_g1(&[points])?;
    let sum = sums.into_iter().next().ok_or_else(|| {
        BlsError::Backend(crate::error::BackendError::invalid("sum_g1", "backend returned no sum for one group"))
    })?;
    Ok(sum.into_affine())
}

/// Sums one group of G2 points on the backend.
pub(crate) fn sum_one_g2(backend: &dyn Backend, points: &[G2Affine]) -> Result<G2Affine, BlsError> {
    let sums = backend.sum_g2(&[points])?;
    let sum = sums.into_iter().next().ok_or_else(|| {
        BlsError::Backend(crate::error::BackendError::invalid("sum_g2", "backend returned no sum for one group"))
    })?;
    Ok(sum.into_affine())
}

//! Aggregate, FastAggregateVerify and AggregateVerify. Every sum of many points goes through
//! the [`Backend`] (`sum_g1` / `sum_g2`) so a GPU backend can take it; hashing and pairings
//! run on the backend's [`crate::backend::BlsArithmetic`].

use std::collections::HashMap;

use ark_ec::{AffineRepr, CurveGroup};

use super::arith::{Arith, check_hashed, dispatch};
use super::error::BlsError;
use super::hash::DST_SIG;
use super::keys::PublicKey;
use super::sig::Signature;
use crate::backend::Backend;
use crate::field::{G1Affine, G1Projective, G2Affine};

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
/// Sums the keys on the backend, hashes once, and does one two-pair pairing check.
/// An empty key list is INVALID (`Ok(false)`), as in the spec; so is a key set that sums to
/// infinity (cancelling keys), which would otherwise accept the infinity signature on any message.
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
    dispatch!(backend.bls_arithmetic(), fast_aggregate_verify_in(backend, points, msg, sig))
}

fn fast_aggregate_verify_in<A: Arith>(
    backend: &dyn Backend,
    points: &[G1Affine],
    msg: &[u8],
    sig: &Signature,
) -> Result<bool, BlsError> {
    // The keys are summed on the backend while the message is hashed and the signature's
    // Miller loop runs.
    let (agg, (q, sig_ml)) = rayon::join(
        || sum_one_g1(backend, points),
        || {
            rayon::join(
                || A::hash_to_g2(msg, DST_SIG),
                || A::miller_loop(&[A::neg_g1_generator()], &[A::g2(sig.point())]),
            )
        },
    );
    let agg = agg?;
    // Keys that cancel (x·G and −x·G, both with valid PoPs from one holder) sum to infinity,
    // and e(O, H(m)) = 1 would then accept the infinity signature on ANY message. The spec
    // does not name this case; Crema refuses it.
    if agg.is_zero() {
        return Ok(false);
    }
    let f = A::ml_mul(&A::miller_loop(&[A::g1(&agg)], &[q?]), &sig_ml);
    Ok(A::gt_is_one(&A::final_exp(&f)))
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
    let sums = G1Projective::normalize_batch(&backend.sum_g1(&refs)?);
    dispatch!(backend.bls_arithmetic(), aggregate_verify_in(&sums, &distinct, sig))
}

fn aggregate_verify_in<A: Arith>(sums: &[G1Affine], distinct: &[&[u8]], sig: &Signature) -> Result<bool, BlsError> {
    let g1: Vec<A::G1> = sums.iter().map(A::g1).collect();
    check_hashed::<A>(&g1, distinct, DST_SIG, sig.point())
}

/// Splits `(item, message)` pairs into the distinct messages (first-seen order) and, for each,
/// the items that go with it (in input order).
pub(crate) fn group_by_message<'m, T>(
    items: impl Iterator<Item = T>,
    msgs: &[&'m [u8]],
) -> (Vec<&'m [u8]>, Vec<Vec<T>>) {
    let mut index: HashMap<&[u8], usize> = HashMap::with_capacity(msgs.len());
    let mut distinct = Vec::new();
    let mut groups: Vec<Vec<T>> = Vec::new();
    for (item, m) in items.zip(msgs) {
        let i = *index.entry(m).or_insert_with(|| {
            distinct.push(*m);
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(item);
    }
    (distinct, groups)
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

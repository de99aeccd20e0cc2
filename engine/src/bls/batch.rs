//! Batch verification of independent (key, message, signature) triples, and bisection to
//! find the ones that fail.
//!
//! Triple `i` gets a random non-zero 64-bit coefficient `r_i`, and the batch's value is
//! `V = Π_i v_i^{r_i}` in GT, with `v_i = e(pk_i, H(m_i)) · e(−G1, sig_i)`, which is one iff
//! the triple verifies. Triples sharing a message share a Miller loop:
//! `V = Π_m e(Σ_{i: m_i = m} r_i·pk_i, H(m)) · e(−G1, Σ_i r_i·sig_i)`, two multi-scalar
//! multiplications and one final exponentiation for the lot.
//!
//! When `V ≠ 1`, bisection. `V` is multiplicative over a split, so of two halves only the left
//! is computed and the right one's value is `V / V(left)`; a half whose value is one holds no
//! bad triple (a bad one hides only if the coefficients were predicted: probability ≤ 2^-64
//! per check), and a single triple whose value is not one is bad for certain (`v^r ≠ 1` for
//! `0 < r <` the group order). So one forged vote among n costs log2(n) checks of halving
//! ranges, and a valid triple is never reported.

use std::ops::Range;

use rand::{CryptoRng, Rng, RngCore};
use rayon::prelude::*;

use super::aggregate::group_by_message;
use super::arith::{Arith, dispatch, hash_all, miller_product};
use super::error::BlsError;
use super::hash::DST_SIG;
use super::keys::PublicKey;
use super::sig::Signature;
use crate::backend::Backend;

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
    Ok(!pks.is_empty() && check(backend, pks, msgs, sigs, rng, false)?.is_none())
}

/// Checks every triple at once and, when the batch fails, finds the triples that do not verify
/// by bisection: returns their indices in increasing order (empty when every triple verifies,
/// and for an empty batch). A returned index is always a bad triple; a bad one is missed only
/// with probability ≤ 2^-64 per check. Coefficients come from the thread-local CSPRNG.
///
/// For the node's votes (many keys, one message): one forged vote among n costs about log2(n)
/// pairing checks of halving ranges on top of the batch, not n signature checks.
pub fn batch_find_invalid(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
) -> Result<Vec<usize>, BlsError> {
    batch_find_invalid_with_rng(backend, pks, msgs, sigs, &mut rand::thread_rng())
}

/// [`batch_find_invalid`] with a caller-chosen CSPRNG for the coefficients.
pub fn batch_find_invalid_with_rng<R: RngCore + CryptoRng>(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
    rng: &mut R,
) -> Result<Vec<usize>, BlsError> {
    Ok(check(backend, pks, msgs, sigs, rng, true)?.unwrap_or_default())
}

/// Both entry points: checks the shapes, draws the coefficients and runs the batch on the
/// backend's arithmetic. `None` when every triple verifies (an empty batch included); else
/// the bad indices, found by bisection when `bisect` is set (else left empty).
fn check<R: RngCore + CryptoRng>(
    backend: &dyn Backend,
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
    rng: &mut R,
    bisect: bool,
) -> Result<Option<Vec<usize>>, BlsError> {
    check_lengths(pks, msgs, sigs)?;
    if pks.is_empty() {
        return Ok(None);
    }
    let coeffs = coefficients(pks.len(), rng);
    dispatch!(backend.bls_arithmetic(), check_in(pks, msgs, sigs, coeffs, bisect))
}

fn check_lengths(pks: &[PublicKey], msgs: &[&[u8]], sigs: &[Signature]) -> Result<(), BlsError> {
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
    Ok(())
}

/// One coefficient per triple, uniform in [1, 2^64): zero would drop a triple from the check.
fn coefficients<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Vec<u64> {
    (0..n).map(|_| rng.gen_range(1..=u64::MAX)).collect()
}

fn check_in<A: Arith>(
    pks: &[PublicKey],
    msgs: &[&[u8]],
    sigs: &[Signature],
    coeffs: Vec<u64>,
    bisect: bool,
) -> Result<Option<Vec<usize>>, BlsError> {
    let batch = Batch::<A>::new(pks, msgs, sigs, coeffs)?;
    let all = 0..pks.len();
    let value = batch.value(all.clone());
    if A::gt_is_one(&value) {
        return Ok(None);
    }
    Ok(Some(if bisect { batch.bisect(all, value) } else { Vec::new() }))
}

/// A batch in one arithmetic's types, ready to have the value of any index range computed.
struct Batch<A: Arith> {
    pks: Vec<A::G1>,
    sigs: Vec<A::G2>,
    coeffs: Vec<u64>,
    /// Per distinct message: the indices of its triples (increasing) and the message's hash.
    groups: Vec<(Vec<usize>, A::G2)>,
}

impl<A: Arith> Batch<A> {
    /// Converts the points and hashes each distinct message once (every sub-check reuses them).
    fn new(pks: &[PublicKey], msgs: &[&[u8]], sigs: &[Signature], coeffs: Vec<u64>) -> Result<Self, BlsError> {
        let (distinct, members) = group_by_message(0..msgs.len(), msgs);
        let (hashes, (pks, sigs)) = rayon::join(
            || hash_all::<A>(&distinct, DST_SIG),
            || {
                rayon::join(
                    || pks.par_iter().map(|p| A::g1(p.point())).collect(),
                    || sigs.par_iter().map(|s| A::g2(s.point())).collect(),
                )
            },
        );
        Ok(Self { pks, sigs, coeffs, groups: members.into_iter().zip(hashes?).collect() })
    }

    /// `Π_{i ∈ range} v_i^{r_i}`: per message met in the range, its coefficient-weighted key
    /// sum paired with its hash, and `−G1` paired with the weighted signature sum.
    fn value(&self, range: Range<usize>) -> A::Gt {
        let (keys, sig_sum) = rayon::join(
            || {
                self.groups
                    .par_iter()
                    .filter_map(|(members, hash)| {
                        let part = within(members, &range);
                        (!part.is_empty()).then(|| (self.weighted_key_sum(part), *hash))
                    })
                    .collect::<Vec<_>>()
            },
            || A::msm_g2_u64(&self.sigs[range.clone()], &self.coeffs[range.clone()]),
        );
        let (mut g1, mut g2): (Vec<A::G1>, Vec<A::G2>) = keys.into_iter().unzip();
        g1.push(A::neg_g1_generator());
        g2.push(sig_sum);
        A::final_exp(&miller_product::<A>(&g1, &g2))
    }

    /// `Σ r_i·pk_i` over the given indices.
    fn weighted_key_sum(&self, indices: &[usize]) -> A::G1 {
        let points: Vec<A::G1> = indices.iter().map(|&i| self.pks[i]).collect();
        let scalars: Vec<u64> = indices.iter().map(|&i| self.coeffs[i]).collect();
        A::msm_g1_u64(&points, &scalars)
    }

    /// The indices in `range` (non-empty, of value `value`) of the triples that fail, in
    /// increasing order.
    fn bisect(&self, range: Range<usize>, value: A::Gt) -> Vec<usize> {
        if A::gt_is_one(&value) {
            return Vec::new();
        }
        if range.len() == 1 {
            return vec![range.start];
        }
        let mid = range.start + range.len() / 2;
        let left = self.value(range.start..mid);
        let right = A::gt_div(&value, &left);
        let (mut bad, right_bad) =
            rayon::join(|| self.bisect(range.start..mid, left), || self.bisect(mid..range.end, right));
        bad.extend(right_bad);
        bad
    }
}

/// The part of the increasing index list `indices` that falls in `range`.
fn within<'a>(indices: &'a [usize], range: &Range<usize>) -> &'a [usize] {
    let lo = indices.partition_point(|&i| i < range.start);
    let hi = indices.partition_point(|&i| i < range.end);
    &indices[lo..hi]
}

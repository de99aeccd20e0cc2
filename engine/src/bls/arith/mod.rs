//! The arithmetic the BLS algorithms are written on: a small set of curve and pairing
//! primitives with two implementations, [`Blst`] (the fast path) and [`Ark`] (arkworks, the
//! independent oracle). Which one runs is a run-time value, [`Backend::bls_arithmetic`].
//!
//! Same model as the backend: primitives only, the algorithms (sign, verify, aggregate
//! verification, batch verification with bisection) written once above them, and both
//! implementations compared byte for byte (`differential` tests, the conformance suite).
//! The typed BLS values keep arkworks points (the one curve type the engine names); each
//! implementation converts at its boundary, a few field copies beside a pairing.
//!
//! [`Backend::bls_arithmetic`]: crate::backend::Backend::bls_arithmetic

mod ark;
pub(crate) mod blst;
mod blst_group;

pub(crate) use self::ark::Ark;
pub(crate) use self::blst::Blst;

use rayon::prelude::*;

use super::error::BlsError;
use crate::field::{Fr, G1Affine, G2Affine};

/// Curve and pairing primitives over BLS12-381, in one library's own types.
pub(crate) trait Arith {
    /// A G1 point in affine form.
    type G1: Copy + Send + Sync;
    /// A G2 point in affine form.
    type G2: Copy + Send + Sync;
    /// A Miller-loop value: an Fp12 element before the final exponentiation.
    type Ml: Copy + Send + Sync;
    /// An element of the target group GT (after the final exponentiation).
    type Gt: Copy + Send + Sync;

    /// An arkworks G1 point in this library's form.
    fn g1(p: &G1Affine) -> Self::G1;
    /// An arkworks G2 point in this library's form.
    fn g2(p: &G2Affine) -> Self::G2;
    /// A G1 point back in arkworks' form (the tests compare G1 results through it).
    #[cfg(test)]
    fn g1_out(p: &Self::G1) -> G1Affine;
    /// A G2 point back in arkworks' form.
    fn g2_out(p: &Self::G2) -> G2Affine;
    /// −G1, the generator negated: `e(pk, H) · e(−G1, sig) == 1` is the verification equation.
    fn neg_g1_generator() -> Self::G1;

    /// RFC 9380 `hash_to_curve` to G2 (expand_message_xmd with SHA-256, SSWU, random oracle).
    fn hash_to_g2(msg: &[u8], dst: &[u8]) -> Result<Self::G2, BlsError>;
    /// `k · p` for a secret scalar `k` (constant time where the library offers it).
    fn mul_g2_secret(p: &Self::G2, k: &Fr) -> Self::G2;
    /// `Σ s_i · p_i` with 64-bit scalars (batch-verification coefficients).
    fn msm_g1_u64(points: &[Self::G1], scalars: &[u64]) -> Self::G1;
    /// `Σ s_i · p_i` with 64-bit scalars.
    fn msm_g2_u64(points: &[Self::G2], scalars: &[u64]) -> Self::G2;

    /// The product of the Miller loops of the pairs `(g1[i], g2[i])` on one core; a pair with
    /// a point at infinity contributes one (`e(O, Q) = e(P, O) = 1`).
    fn miller_loop(g1: &[Self::G1], g2: &[Self::G2]) -> Self::Ml;
    /// The Miller-loop value one.
    fn ml_one() -> Self::Ml;
    /// `a · b` in Fp12.
    fn ml_mul(a: &Self::Ml, b: &Self::Ml) -> Self::Ml;
    /// The final exponentiation: a Miller-loop product into GT.
    fn final_exp(f: &Self::Ml) -> Self::Gt;
    /// True for the identity of GT.
    fn gt_is_one(x: &Self::Gt) -> bool;
    /// `a / b` in GT.
    fn gt_div(a: &Self::Gt, b: &Self::Gt) -> Self::Gt;
    /// Canonical bytes of a GT element (the 12 Fp coefficients, big-endian, in the tower
    /// order c0.c0.c0, c0.c0.c1, …): what the differential tests compare.
    #[cfg(test)]
    fn gt_bytes(x: &Self::Gt) -> Vec<u8>;
}

/// Calls the generic function `$f::<A>(args)` with `A` the arithmetic `$choice` names.
macro_rules! dispatch {
    ($choice:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $choice {
            $crate::backend::BlsArithmetic::Blst => $f::<$crate::bls::arith::Blst>($($arg),*),
            $crate::backend::BlsArithmetic::Arkworks => $f::<$crate::bls::arith::Ark>($($arg),*),
        }
    };
}
pub(crate) use dispatch;

/// Pairs per Miller-loop call when a product is spread over cores (blst shares one squaring
/// chain across up to 16 pairs).
const MILLER_CHUNK: usize = 16;

/// `Π ML(g1[i], g2[i])` over every core, in chunks that each share one squaring chain.
pub(crate) fn miller_product<A: Arith>(g1: &[A::G1], g2: &[A::G2]) -> A::Ml {
    if g1.len() <= MILLER_CHUNK / 2 {
        return A::miller_loop(g1, g2);
    }
    // At least one chunk per core, at most MILLER_CHUNK pairs each.
    let chunk = g1.len().div_ceil(rayon::current_num_threads()).clamp(1, MILLER_CHUNK);
    g1.par_chunks(chunk)
        .zip(g2.par_chunks(chunk))
        .map(|(a, b)| A::miller_loop(a, b))
        .reduce(A::ml_one, |a, b| A::ml_mul(&a, &b))
}

/// Checks `Π e(g1[i], H(msgs[i])) · e(−G1, sig) == 1`: on one side the messages are hashed
/// (over every core) and paired with their keys, on the other the signature's Miller loop
/// runs; then one final exponentiation. Verify, AggregateVerify (one pair per distinct
/// message) and, on a summed key, FastAggregateVerify are all this check.
pub(crate) fn check_hashed<A: Arith>(
    g1: &[A::G1],
    msgs: &[&[u8]],
    dst: &[u8],
    sig: &G2Affine,
) -> Result<bool, BlsError> {
    let (keys_ml, sig_ml) = rayon::join(
        || Ok::<_, BlsError>(miller_product::<A>(g1, &hash_all::<A>(msgs, dst)?)),
        || A::miller_loop(&[A::neg_g1_generator()], &[A::g2(sig)]),
    );
    Ok(A::gt_is_one(&A::final_exp(&A::ml_mul(&keys_ml?, &sig_ml))))
}

/// Every message hashed to G2, over every core.
pub(crate) fn hash_all<A: Arith>(msgs: &[&[u8]], dst: &[u8]) -> Result<Vec<A::G2>, BlsError> {
    if msgs.len() == 1 {
        return Ok(vec![A::hash_to_g2(msgs[0], dst)?]);
    }
    msgs.par_iter().map(|m| A::hash_to_g2(m, dst)).collect()
}

#[cfg(test)]
mod differential;

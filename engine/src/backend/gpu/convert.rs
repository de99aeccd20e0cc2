//! arkworks types to and from the `u32` words of `crema-kernels`.
//!
//! The kernels hold field elements as little-endian `u32` limbs in Montgomery form with the
//! same R as arkworks (2^256 for Fr, 2^384 for Fp), so a conversion is a limb copy. Points
//! cross as homogeneous projective `(X : Y : Z)` (identity `(0 : 1 : 0)`); arkworks'
//! projective points are Jacobian, so results are mapped with `(X·Z, Y·Z², Z)`.
//! Everything read back is checked: field elements must be fully reduced and points must lie
//! on their curve (`Y²Z = X³ + bZ³`, a few multiplications; the identity is `(0 : Y : 0)` with
//! `Y ≠ 0`), or the call is a [`BackendError::Device`]. This catches garbage, not every wrong
//! answer: a device that returns a different valid point (or a wrong but reduced scalar from
//! an NTT) is caught only by the conformance tests against the CPU, and points are not checked
//! to be in the prime-order subgroup (that costs a scalar multiplication each).

use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, Field, PrimeField, Zero};

use crate::error::BackendError;
use crate::field::{Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};

fn push_limbs<const N: usize>(b: &BigInt<N>, out: &mut Vec<u32>) {
    for w in b.0 {
        out.extend([w as u32, (w >> 32) as u32]);
    }
}

fn limbs<const N: usize>(w: &[u32]) -> BigInt<N> {
    let mut b = BigInt::<N>::zero();
    for (i, x) in b.0.iter_mut().enumerate() {
        *x = u64::from(w[2 * i]) | (u64::from(w[2 * i + 1]) << 32);
    }
    b
}

/// Appends `x` in Montgomery form (8 words).
pub(super) fn push_fr(x: &Fr, out: &mut Vec<u32>) {
    push_limbs(&x.0, out);
}

/// Appends `x` as its canonical integer (8 words), as the MSM's digit decomposition wants.
pub(super) fn push_fr_canonical(x: &Fr, out: &mut Vec<u32>) {
    push_limbs(&x.into_bigint(), out);
}

/// Reads an Fr element in Montgomery form, refusing unreduced limbs.
pub(super) fn fr_from(op: &'static str, w: &[u32]) -> Result<Fr, BackendError> {
    let b = limbs::<4>(w);
    if b >= Fr::MODULUS {
        return Err(unreduced(op));
    }
    Ok(Fr::new_unchecked(b))
}

fn push_fq(x: &Fq, out: &mut Vec<u32>) {
    push_limbs(&x.0, out);
}

fn fq_from(op: &'static str, w: &[u32]) -> Result<Fq, BackendError> {
    let b = limbs::<6>(w);
    if b >= Fq::MODULUS {
        return Err(unreduced(op));
    }
    Ok(Fq::new_unchecked(b))
}

fn push_fq2(x: &Fq2, out: &mut Vec<u32>) {
    push_fq(&x.c0, out);
    push_fq(&x.c1, out);
}

fn fq2_from(op: &'static str, w: &[u32]) -> Result<Fq2, BackendError> {
    Ok(Fq2::new(fq_from(op, &w[..12])?, fq_from(op, &w[12..24])?))
}

fn unreduced(op: &'static str) -> BackendError {
    BackendError::Device { op, reason: "the device returned an unreduced field element".into() }
}

/// Whether homogeneous projective `(x : y : z)` is a point of the curve `P` (the identity is
/// `(0 : y : 0)`, `y ≠ 0`; `(0 : 0 : 0)` is no point).
fn on_curve<P: SWCurveConfig>(x: P::BaseField, y: P::BaseField, z: P::BaseField) -> bool {
    if z.is_zero() {
        return x.is_zero() && !y.is_zero();
    }
    y.square() * z == x.square() * x + P::COEFF_B * z.square() * z
}

fn off_curve(op: &'static str, group: &str) -> BackendError {
    BackendError::Device { op, reason: format!("the device returned a point that is not on the {group} curve") }
}

/// Appends `p` as a projective G1 point (36 words).
pub(super) fn push_g1(p: &G1Affine, out: &mut Vec<u32>) {
    let (x, y, z) = match p.xy() {
        Some((x, y)) => (x, y, Fq::ONE),
        None => (Fq::zero(), Fq::ONE, Fq::zero()),
    };
    [x, y, z].iter().for_each(|c| push_fq(c, out));
}

/// Appends `p` as a projective G2 point (72 words).
pub(super) fn push_g2(p: &G2Affine, out: &mut Vec<u32>) {
    let (x, y, z) = match p.xy() {
        Some((x, y)) => (x, y, Fq2::ONE),
        None => (Fq2::zero(), Fq2::ONE, Fq2::zero()),
    };
    [x, y, z].iter().for_each(|c| push_fq2(c, out));
}

/// Reads a projective G1 point (36 words).
pub(super) fn g1_from(op: &'static str, w: &[u32]) -> Result<G1Projective, BackendError> {
    let (x, y, z) = (fq_from(op, &w[..12])?, fq_from(op, &w[12..24])?, fq_from(op, &w[24..36])?);
    if !on_curve::<<G1Projective as CurveGroup>::Config>(x, y, z) {
        return Err(off_curve(op, "G1"));
    }
    if z.is_zero() {
        return Ok(G1Projective::zero());
    }
    Ok(G1Projective::new_unchecked(x * z, y * z.square(), z))
}

/// Reads a projective G2 point (72 words).
pub(super) fn g2_from(op: &'static str, w: &[u32]) -> Result<G2Projective, BackendError> {
    let (x, y, z) = (fq2_from(op, &w[..24])?, fq2_from(op, &w[24..48])?, fq2_from(op, &w[48..72])?);
    if !on_curve::<<G2Projective as CurveGroup>::Config>(x, y, z) {
        return Err(off_curve(op, "G2"));
    }
    if z.is_zero() {
        return Ok(G2Projective::zero());
    }
    Ok(G2Projective::new_unchecked(x * z, y * z.square(), z))
}

#[cfg(test)]
mod tests {
    use ark_ec::PrimeGroup;
    use ark_ff::UniformRand;

    use super::*;

    /// Words of `(x : y : z)` as the device would return them.
    fn g1_words(x: Fq, y: Fq, z: Fq) -> Vec<u32> {
        let mut w = Vec::new();
        [x, y, z].iter().for_each(|c| push_fq(c, &mut w));
        w
    }

    fn g2_words(x: Fq2, y: Fq2, z: Fq2) -> Vec<u32> {
        let mut w = Vec::new();
        [x, y, z].iter().for_each(|c| push_fq2(c, &mut w));
        w
    }

    #[test]
    fn points_read_back_off_the_curve_are_device_errors() {
        let mut r = crate::backend::conformance::rng(3);
        // Reduced coordinates that are no point: accepted before the on-curve check.
        let bad1 = [g1_words(Fq::ONE, Fq::ONE, Fq::ONE), g1_words(Fq::ONE, Fq::ONE, Fq::zero())];
        for w in bad1.iter().chain([&g1_words(Fq::zero(), Fq::zero(), Fq::zero())]) {
            assert!(matches!(g1_from("t", w), Err(BackendError::Device { .. })));
        }
        let (one, zero) = (Fq2::ONE, Fq2::zero());
        for w in [g2_words(one, one, one), g2_words(one, one, zero), g2_words(zero, zero, zero)] {
            assert!(matches!(g2_from("t", &w), Err(BackendError::Device { .. })));
        }
        // Valid points, scaled projectively (what the kernels' formulas return), and the identity.
        for _ in 0..8 {
            let p = (G1Projective::generator() * Fr::rand(&mut r)).into_affine();
            let (x, y) = p.xy().unwrap();
            let s = Fq::rand(&mut r);
            assert_eq!(g1_from("t", &g1_words(x * s, y * s, s)).unwrap().into_affine(), p);
            let q = (G2Projective::generator() * Fr::rand(&mut r)).into_affine();
            let (x, y) = q.xy().unwrap();
            let s = Fq2::rand(&mut r);
            assert_eq!(g2_from("t", &g2_words(x * s, y * s, s)).unwrap().into_affine(), q);
        }
        assert!(g1_from("t", &g1_words(Fq::zero(), Fq::from(5u64), Fq::zero())).unwrap().is_zero());
        assert!(g2_from("t", &g2_words(zero, one, zero)).unwrap().is_zero());
    }
}

//! arkworks types to and from the `u32` words of `crema-kernels`.
//!
//! The kernels hold field elements as little-endian `u32` limbs in Montgomery form with the
//! same R as arkworks (2^256 for Fr, 2^384 for Fp), so a conversion is a limb copy. Points
//! cross as homogeneous projective `(X : Y : Z)` (identity `(0 : 1 : 0)`); arkworks'
//! projective points are Jacobian, so results are mapped with `(X·Z, Y·Z², Z)`.
//! Everything read back is checked to be fully reduced: a device returning garbage is a
//! [`BackendError::Device`], never a wrong answer.

use ark_ec::AffineRepr;
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
    if z.is_zero() {
        return Ok(G1Projective::zero());
    }
    Ok(G1Projective::new_unchecked(x * z, y * z.square(), z))
}

/// Reads a projective G2 point (72 words).
pub(super) fn g2_from(op: &'static str, w: &[u32]) -> Result<G2Projective, BackendError> {
    let (x, y, z) = (fq2_from(op, &w[..24])?, fq2_from(op, &w[24..48])?, fq2_from(op, &w[48..72])?);
    if z.is_zero() {
        return Ok(G2Projective::zero());
    }
    Ok(G2Projective::new_unchecked(x * z, y * z.square(), z))
}

//! Radix-2 FFT over G1 with fixed twiddles, the second half of FK20's cost.
//!
//! Every butterfly multiplies a point by a twiddle `w^j`. These scalars are fixed, so each is
//! prepared once ([`PreparedScalar`]): split by the GLV endomorphism (`k = k₁ + λ·k₂`, both
//! about 128 bits) and written in width-4 NAF. A multiplication is then 128 doublings plus
//! about 2×26 mixed additions from a table of odd multiples `{1,3,5,7}·P` (and their images
//! under the endomorphism, one field multiplication each), where arkworks' generic GLV path
//! spends 128 doublings plus ~96 full projective additions and re-derives the decomposition
//! with big integers on every call. The tables of all points of a layer are normalised to
//! affine together (one inversion).

use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use rayon::prelude::*;

use super::domain::bit_reverse_in_place;
use crate::field::{Fr, G1Affine, G1Projective};

type G1Config = ark_bls12_381::g1::Config;

/// NAF window width: digits are odd and below `2^(W-1)` in magnitude.
const W: u32 = 4;
/// Odd multiples kept per point: `1, 3, …, 2^(W-1) - 1`.
const TABLE: usize = 1 << (W - 2);

/// A scalar ready for repeated multiplication: its GLV halves in width-`W` NAF.
#[derive(Debug, Clone)]
pub(crate) struct PreparedScalar {
    /// `k₁` digits, least significant first, already carrying `k₁`'s sign.
    naf1: Vec<i8>,
    /// `k₂` digits (multiplying `φ(P) = λ·P`), with `k₂`'s sign.
    naf2: Vec<i8>,
    /// Multiplying by one (or zero) needs no work.
    trivial: Option<bool>,
}

impl PreparedScalar {
    /// Prepares `k`.
    pub(crate) fn new(k: Fr) -> Self {
        let trivial = if k.is_one() {
            Some(true)
        } else if k.is_zero() {
            Some(false)
        } else {
            None
        };
        let ((sign1, k1), (sign2, k2)) = G1Config::scalar_decomposition(k);
        Self { naf1: naf(k1, sign1), naf2: naf(k2, sign2), trivial }
    }

    /// `k·P` for every `P` in `points`, all tables normalised in one batch.
    pub(crate) fn mul_many(scalars: &[&PreparedScalar], points: &[G1Projective]) -> Vec<G1Projective> {
        debug_assert_eq!(scalars.len(), points.len());
        // Odd multiples 1P, 3P, 5P, 7P of every point, projective, then affine in one go.
        let odd: Vec<G1Projective> = points
            .par_iter()
            .flat_map_iter(|p| {
                let double = p.double();
                let mut m = *p;
                (0..TABLE).map(move |i| {
                    if i > 0 {
                        m += double;
                    }
                    m
                })
            })
            .collect();
        let odd = G1Projective::normalize_batch(&odd);
        scalars
            .par_iter()
            .zip(odd.par_chunks(TABLE))
            .zip(points.par_iter())
            .map(|((s, table), p)| match s.trivial {
                Some(true) => *p,
                Some(false) => G1Projective::zero(),
                None => s.mul_with_table(table),
            })
            .collect()
    }

    /// Straus–Shamir over the two NAFs with the table `{1,3,5,7}·P`.
    fn mul_with_table(&self, table: &[G1Affine]) -> G1Projective {
        let endo: Vec<G1Affine> = table.iter().map(G1Config::endomorphism_affine).collect();
        let mut acc = G1Projective::zero();
        for i in (0..self.naf1.len().max(self.naf2.len())).rev() {
            acc.double_in_place();
            for (naf, t) in [(&self.naf1, table), (&self.naf2, endo.as_slice())] {
                match naf.get(i).copied().unwrap_or(0) {
                    0 => {}
                    d if d > 0 => acc += &t[(d as usize) / 2],
                    d => acc -= &t[(-d as usize) / 2],
                }
            }
        }
        acc
    }
}

/// Width-`W` NAF of `magnitude` (< 2^128 for a GLV half), negated when `positive` is false.
fn naf(magnitude: Fr, positive: bool) -> Vec<i8> {
    let limbs = magnitude.into_bigint();
    debug_assert!(limbs.num_bits() <= 128, "GLV halves of BLS12-381 scalars fit 128 bits");
    let mut k = (limbs.as_ref()[0] as u128) | ((limbs.as_ref()[1] as u128) << 64);
    let mut digits = Vec::with_capacity(130);
    while k != 0 {
        let d = if k & 1 == 1 {
            let m = (k & ((1 << W) - 1)) as i32;
            let d = if m >= 1 << (W - 1) { m - (1 << W) } else { m };
            k = if d >= 0 { k - d as u128 } else { k + (-d) as u128 };
            d as i8
        } else {
            0
        };
        digits.push(if positive { d } else { -d });
        k >>= 1;
    }
    digits
}

/// An FFT of one fixed size over G1: twiddles `w^j` (j < n/2) prepared once.
#[derive(Debug, Clone)]
pub(crate) struct G1Fft {
    twiddles: Vec<PreparedScalar>,
}

impl G1Fft {
    /// The transform whose butterflies use `twiddles[j] = w^j` for `j < n/2`, `w` a primitive
    /// n-th root of unity (pass inverse powers for an unscaled inverse transform).
    pub(crate) fn new(twiddles: &[Fr]) -> Self {
        Self { twiddles: twiddles.iter().map(|w| PreparedScalar::new(*w)).collect() }
    }

    /// In-place radix-2 DIT FFT, natural order in and out, unscaled.
    pub(crate) fn run(&self, v: &mut [G1Projective]) {
        let n = v.len();
        debug_assert!(n.is_power_of_two() && self.twiddles.len() * 2 == n);
        bit_reverse_in_place(v);
        let mut m = 1;
        while m < n {
            let stride = n / (2 * m);
            // Every upper input of this layer's butterflies, times its twiddle, in one batch.
            let (mut scalars, mut uppers) = (Vec::with_capacity(n / 2), Vec::with_capacity(n / 2));
            for block in v.chunks(2 * m) {
                for (j, b) in block[m..].iter().enumerate() {
                    scalars.push(&self.twiddles[j * stride]);
                    uppers.push(*b);
                }
            }
            let products = PreparedScalar::mul_many(&scalars, &uppers);
            for (block, t) in v.chunks_mut(2 * m).zip(products.chunks(m)) {
                let (lo, hi) = block.split_at_mut(m);
                for ((a, b), t) in lo.iter_mut().zip(hi.iter_mut()).zip(t) {
                    *b = *a - t;
                    *a += t;
                }
            }
            m *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;
    use ark_ff::{Field, UniformRand};
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
    use rand::SeedableRng;

    use crate::kzg::domain::root_of_unity;

    #[test]
    fn prepared_scalars_multiply_like_arkworks() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let g = G1Projective::generator();
        let mut scalars: Vec<Fr> = (0..40).map(|_| Fr::rand(&mut r)).collect();
        scalars.extend([Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(2u64), Fr::from(7u64), -Fr::from(8u64)]);
        let points: Vec<G1Projective> =
            (0..scalars.len()).map(|i| if i == 3 { G1Projective::zero() } else { g * Fr::rand(&mut r) }).collect();
        let prepared: Vec<PreparedScalar> = scalars.iter().map(|k| PreparedScalar::new(*k)).collect();
        let refs: Vec<&PreparedScalar> = prepared.iter().collect();
        let got = PreparedScalar::mul_many(&refs, &points);
        for (i, (k, p)) in scalars.iter().zip(&points).enumerate() {
            assert_eq!(got[i].into_affine(), (*p * k).into_affine(), "scalar {i}");
        }
    }

    #[test]
    fn fft_matches_arkworks() {
        let g = G1Projective::generator();
        for n in [2usize, 16, 128] {
            let v: Vec<G1Projective> = (0..n as u64).map(|i| g * Fr::from(i * i + 3)).collect();
            let omega = root_of_unity(n);
            let tw: Vec<Fr> = (0..n as u64 / 2).map(|k| omega.pow([k])).collect();
            let mut got = v.clone();
            G1Fft::new(&tw).run(&mut got);
            let mut want = v;
            Radix2EvaluationDomain::<Fr>::new(n).unwrap().fft_in_place(&mut want);
            assert_eq!(G1Projective::normalize_batch(&got), G1Projective::normalize_batch(&want), "n = {n}");
        }
    }
}

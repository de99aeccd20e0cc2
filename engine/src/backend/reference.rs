//! The `reference` backend: textbook algorithms, slow and obviously right. It is the oracle
//! every other backend is compared against, so clarity beats speed everywhere in this file.

use ark_ec::{AdditiveGroup, AffineRepr, PrimeGroup};
use ark_ff::{Field, PrimeField, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

use super::{Backend, BlsArithmetic, Direction, G1Bases, Gf16Received, check_msm_shape, check_ntt_shape};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crate::gf16::naive;

/// The reference backend.
#[derive(Debug, Default, Clone)]
pub struct Reference;

impl Reference {
    /// Builds the reference backend.
    pub fn new() -> Self {
        Self
    }
}

impl Backend for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn gf16_encode(&self, original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        naive::encode(original, recovery_count)
    }

    fn gf16_decode(&self, received: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        naive::decode(received)
    }

    fn ntt(&self, values: &mut [Fr], size: usize, direction: Direction, coset: Option<Fr>) -> Result<(), BackendError> {
        check_ntt_shape(values, size)?;
        let omega = Radix2EvaluationDomain::<Fr>::new(size).expect("size checked").group_gen();
        let c = coset.unwrap_or(Fr::ONE);
        if c.is_zero() {
            return Err(BackendError::invalid("ntt", "coset offset is zero"));
        }
        for chunk in values.chunks_mut(size) {
            let out = match direction {
                // out[i] = Σ_j a_j (c ω^i)^j
                Direction::Forward => (0..size).map(|i| eval(chunk, c * omega.pow([i as u64]))).collect::<Vec<_>>(),
                // a_j = c^-j / n · Σ_i y_i ω^-ij
                Direction::Inverse => {
                    let n_inv = Fr::from(size as u64).inverse().expect("n < r");
                    let (omega_inv, c_inv) = (omega.inverse().expect("ω ≠ 0"), c.inverse().expect("c ≠ 0"));
                    (0..size).map(|j| eval(chunk, omega_inv.pow([j as u64])) * n_inv * c_inv.pow([j as u64])).collect()
                }
            };
            chunk.copy_from_slice(&out);
        }
        Ok(())
    }

    fn msm_g1(&self, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        check_msm_shape(bases, scalars)?;
        Ok(scalars
            .iter()
            .map(|s| {
                s.iter()
                    .zip(bases.points())
                    .map(|(k, p)| double_and_add(p.into_group(), k))
                    .fold(G1Projective::default(), |acc, x| acc + x)
            })
            .collect())
    }

    fn sum_g1(&self, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        Ok(groups.iter().map(|g| g.iter().fold(G1Projective::default(), |acc, p| acc + p)).collect())
    }

    fn sum_g2(&self, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        Ok(groups.iter().map(|g| g.iter().fold(G2Projective::default(), |acc, p| acc + p)).collect())
    }

    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        Ok(chunks.iter().map(|c| *blake3::hash(c).as_bytes()).collect())
    }

    /// arkworks: the oracle's BLS is an implementation independent of the other backends'.
    fn bls_arithmetic(&self) -> BlsArithmetic {
        BlsArithmetic::Arkworks
    }
}

/// Horner evaluation of the polynomial with coefficients `coeffs` at `x`.
fn eval(coeffs: &[Fr], x: Fr) -> Fr {
    coeffs.iter().rev().fold(Fr::ZERO, |acc, a| acc * x + a)
}

/// Left-to-right double-and-add over the canonical scalar bits.
fn double_and_add<G: PrimeGroup>(p: G, k: &Fr) -> G {
    let bits = k.into_bigint();
    let mut acc = G::zero();
    for i in (0..Fr::MODULUS_BIT_SIZE as usize).rev() {
        acc.double_in_place();
        if ark_ff::BigInteger::get_bit(&bits, i) {
            acc += p;
        }
    }
    acc
}

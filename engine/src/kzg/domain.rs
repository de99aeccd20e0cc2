//! Evaluation domains, bit-reversal, byte ↔ field conversions and Fiat–Shamir hashing shared
//! by the EIP-4844 and EIP-7594 code.

use ark_ff::{BigInteger, Field, PrimeField};
use sha2::{Digest, Sha256};

use super::{BYTES_PER_FIELD_ELEMENT, CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB, FIELD_ELEMENTS_PER_EXT_BLOB};
use super::{Bytes48, KzgError};
use crate::field::{Fr, G1Affine, fr_from_bytes, g1_from_bytes};

/// The spec's `PRIMITIVE_ROOT_OF_UNITY`.
pub(crate) const PRIMITIVE_ROOT: u64 = 7;

/// `x` with its lowest `bits` bits reversed.
pub(crate) fn reverse_bits(x: usize, bits: u32) -> usize {
    if bits == 0 { 0 } else { x.reverse_bits() >> (usize::BITS - bits) }
}

/// The spec's `bit_reversal_permutation` (length must be a power of two).
pub(crate) fn bit_reversed<T: Clone>(v: &[T]) -> Vec<T> {
    let bits = v.len().trailing_zeros();
    (0..v.len()).map(|i| v[reverse_bits(i, bits)].clone()).collect()
}

/// In-place bit-reversal permutation.
pub(crate) fn bit_reverse_in_place<T>(v: &mut [T]) {
    let bits = v.len().trailing_zeros();
    for i in 0..v.len() {
        let j = reverse_bits(i, bits);
        if i < j {
            v.swap(i, j);
        }
    }
}

/// The spec's `compute_roots_of_unity(n)`: `ω^i` with `ω = 7^((r-1)/n)`.
pub(crate) fn roots_of_unity(n: usize) -> Vec<Fr> {
    powers(root_of_unity(n), n)
}

/// A primitive `n`-th root of unity, `7^((r-1)/n)`.
pub(crate) fn root_of_unity(n: usize) -> Fr {
    let mut exp = Fr::MODULUS;
    exp.sub_with_borrow(&1u64.into());
    exp >>= n.trailing_zeros();
    Fr::from(PRIMITIVE_ROOT).pow(exp)
}

/// The blob domain and the extended-blob shifts, computed once per context.
#[derive(Debug, Clone)]
pub struct Domain {
    /// The 4096-th roots of unity in bit-reversed order (blob evaluation points).
    pub(crate) roots_brp: Vec<Fr>,
    /// `ω_8192^{brp7(i)}`: the coset shift of cell `i`.
    pub(crate) cell_shifts: Vec<Fr>,
}

impl Domain {
    /// Builds the domain tables.
    pub(crate) fn new() -> Self {
        let roots_brp = bit_reversed(&roots_of_unity(FIELD_ELEMENTS_PER_BLOB));
        let ext = roots_of_unity(FIELD_ELEMENTS_PER_EXT_BLOB);
        let bits = CELLS_PER_EXT_BLOB.trailing_zeros();
        let cell_shifts = (0..CELLS_PER_EXT_BLOB).map(|i| ext[reverse_bits(i, bits)]).collect();
        Self { roots_brp, cell_shifts }
    }
}

/// Decodes big-endian field elements, naming the first non-canonical one.
pub(crate) fn bytes_to_frs(bytes: &[u8], what: &'static str) -> Result<Vec<Fr>, KzgError> {
    bytes
        .chunks(BYTES_PER_FIELD_ELEMENT)
        .enumerate()
        .map(|(index, c)| fr_from_bytes(c).map_err(|_| KzgError::NonCanonicalFieldElement { what, index }))
        .collect()
}

/// Decodes one field element.
pub(crate) fn bytes_to_fr(bytes: &[u8; 32], what: &'static str) -> Result<Fr, KzgError> {
    fr_from_bytes(bytes).map_err(|_| KzgError::NonCanonicalFieldElement { what, index: 0 })
}

/// Decodes a commitment or proof (infinity allowed, subgroup checked).
pub(crate) fn bytes_to_g1(bytes: &Bytes48, what: &'static str, index: usize) -> Result<G1Affine, KzgError> {
    g1_from_bytes(bytes).map_err(|source| KzgError::InvalidPoint { what, index, source })
}

/// The spec's `hash_to_bls_field`: SHA-256, read big-endian, reduced mod r.
pub(crate) fn hash_to_fr(data: &[u8]) -> Fr {
    Fr::from_be_bytes_mod_order(&Sha256::digest(data))
}

/// `[1, x, x², …]` of length `n` (the spec's `compute_powers`).
pub(crate) fn powers(x: Fr, n: usize) -> Vec<Fr> {
    let mut out = Vec::with_capacity(n);
    let mut p = Fr::ONE;
    for _ in 0..n {
        out.push(p);
        p *= x;
    }
    out
}

/// The spec's `evaluate_polynomial_in_evaluation_form` (barycentric formula over the
/// bit-reversed blob domain).
pub(crate) fn evaluate_evals(poly: &[Fr], z: Fr, roots_brp: &[Fr]) -> Fr {
    if let Some(i) = roots_brp.iter().position(|w| *w == z) {
        return poly[i];
    }
    let mut denoms: Vec<Fr> = roots_brp.iter().map(|w| z - w).collect();
    ark_ff::batch_inversion(&mut denoms);
    let sum: Fr = poly.iter().zip(roots_brp).zip(&denoms).map(|((p, w), d)| *p * w * d).sum();
    let n = FIELD_ELEMENTS_PER_BLOB as u64;
    let zn_minus_1 = z.pow([n]) - Fr::ONE;
    sum * zn_minus_1 * Fr::from(n).inverse().expect("n < r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

    #[test]
    fn spec_roots_match_the_ntt_domain() {
        // The backend NTTs use arkworks' domain generator; the spec uses 7^((r-1)/n).
        for n in [64usize, 128, 4096, 8192] {
            assert_eq!(Radix2EvaluationDomain::<Fr>::new(n).unwrap().group_gen(), root_of_unity(n), "n = {n}");
        }
    }

    #[test]
    fn bit_reversal_is_an_involution() {
        let v: Vec<usize> = (0..64).collect();
        assert_eq!(bit_reversed(&bit_reversed(&v)), v);
        assert_eq!(reverse_bits(1, 7), 64);
    }
}

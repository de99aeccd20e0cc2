//! Recovery of a blob's polynomial from any half of its extended cells, exactly as the spec's
//! `recover_polynomialcoeff` (so that even inconsistent inputs give c-kzg's bytes).
//!
//! `E` = extended evaluations with zeros at missing cells, `Z` = vanishing polynomial of the
//! missing cells. `E·Z = P·Z` on the whole domain, so an inverse NTT gives `(P·Z)` in
//! coefficients; dividing by `Z` on a coset (shift 7, where `Z` has no zeros) gives `P`.

use ark_ff::One;

use super::KzgError;
use super::domain::{PRIMITIVE_ROOT, bit_reverse_in_place, reverse_bits, roots_of_unity};
use super::{CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_EXT_BLOB};
use crate::backend::{Backend, Direction};
use crate::field::Fr;

/// The spec's `construct_vanishing_polynomial`: `Z(X) = Π_{missing i} (X^64 - ω_128^{brp7(i)})`
/// in coefficient form, length 8192.
fn vanishing_polynomial(missing: &[usize]) -> Vec<Fr> {
    let roots = roots_of_unity(CELLS_PER_EXT_BLOB);
    let bits = CELLS_PER_EXT_BLOB.trailing_zeros();
    // Short polynomial in Y = X^64, built by multiplying in one root at a time.
    let mut short = vec![Fr::one()];
    for &i in missing {
        let root = roots[reverse_bits(i, bits)];
        let mut next = vec![Fr::default(); short.len() + 1];
        for (k, c) in short.iter().enumerate() {
            next[k + 1] += c;
            next[k] -= *c * root;
        }
        short = next;
    }
    let mut out = vec![Fr::default(); FIELD_ELEMENTS_PER_EXT_BLOB];
    for (k, c) in short.into_iter().enumerate() {
        out[k * FIELD_ELEMENTS_PER_CELL] = c;
    }
    out
}

/// Recovers the 4096 coefficients from `cells` (index, 64 evaluations in bit-reversed order).
/// The caller has checked indices (distinct, in range) and the count.
pub(crate) fn recover_polynomial_coeff(cells: &[(usize, Vec<Fr>)], backend: &dyn Backend) -> Result<Vec<Fr>, KzgError> {
    let n = FIELD_ELEMENTS_PER_EXT_BLOB;
    let mut present = [false; CELLS_PER_EXT_BLOB];
    let mut ext = vec![Fr::default(); n];
    for (i, evals) in cells {
        present[*i] = true;
        ext[i * FIELD_ELEMENTS_PER_CELL..(i + 1) * FIELD_ELEMENTS_PER_CELL].copy_from_slice(evals);
    }
    bit_reverse_in_place(&mut ext);
    let missing: Vec<usize> = (0..CELLS_PER_EXT_BLOB).filter(|&i| !present[i]).collect();
    let zero_coeff = vanishing_polynomial(&missing);

    let mut zero_eval = zero_coeff.clone();
    backend.ntt(&mut zero_eval, n, Direction::Forward, None)?;
    for (e, z) in ext.iter_mut().zip(&zero_eval) {
        *e *= z;
    }
    backend.ntt(&mut ext, n, Direction::Inverse, None)?;

    // Both onto the coset in one batched call.
    let shift = Fr::from(PRIMITIVE_ROOT);
    let mut both = ext;
    both.extend_from_slice(&zero_coeff);
    backend.ntt(&mut both, n, Direction::Forward, Some(shift))?;
    let (ez, z) = both.split_at_mut(n);
    ark_ff::batch_inversion(z);
    for (a, b) in ez.iter_mut().zip(z.iter()) {
        *a *= b;
    }
    let mut poly = ez.to_vec();
    backend.ntt(&mut poly, n, Direction::Inverse, Some(shift))?;
    poly.truncate(FIELD_ELEMENTS_PER_BLOB);
    Ok(poly)
}

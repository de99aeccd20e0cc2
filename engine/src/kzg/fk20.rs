//! FK20 multi-proofs: all 128 cell proofs of a blob from one batch of small MSMs, instead of
//! 128 separate openings (Feist–Khovratovich, "Fast amortized KZG proofs", 2020).
//!
//! For `f(X) = Σ fᵢXⁱ` (n = 4096 coefficients), cells of l = 64 points and m = n/l = 64 rows,
//! the proof for a coset whose vanishing polynomial is `X^l - a` is `π(a) = Σ_k a^k h_k` with
//!
//! `h_k = Σ_{t<l} Σ_{u=0}^{m-2-k} f_{(u+k+1)l+t} · [τ^{ul+t}]`.
//!
//! For each offset t that inner sum is a Toeplitz product, computed as a cyclic convolution
//! of size 2m = 128 between the reversed setup column `s'ₜ = ([τ^{(m-1-v)l+t}])_v` and the
//! coefficient column `cₜ = (f_{jl+t})_j`: `h_k = (s'ₜ ⊛ cₜ)[k+m]`. The setup side's FFTs are
//! precomputed here (64 G1 FFTs); per blob we do 64 small Fr NTTs, 128 MSMs of 64 points
//! (one per convolution frequency, summing over t), one inverse and one forward G1 FFT of 128.
//! The cosets' `a = z^l` are exactly the 128-th roots of unity, so the last FFT yields every
//! proof; cell i (shift `ω_8192^{brp7(i)}`) takes output `brp7(i)`.

use ark_ec::CurveGroup;
use ark_ff::Field;
use rayon::prelude::*;

use super::domain::{bit_reverse_in_place, root_of_unity};
use super::{CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB, FIELD_ELEMENTS_PER_CELL, KzgError};
use crate::backend::{Backend, Direction, G1Bases};
use crate::field::{Fr, G1Affine, G1Projective};

/// Rows of the Toeplitz decomposition (`n / l`).
const ROWS: usize = FIELD_ELEMENTS_PER_BLOB / FIELD_ELEMENTS_PER_CELL;
/// Size of the circulant embedding.
const CIRCULANT: usize = 2 * ROWS;

/// The precomputed setup side of FK20.
pub(crate) struct Fk20 {
    /// For each convolution frequency j: the 64 points `FFT(s'ₜ)[j]`, t = 0..64.
    bases: Vec<G1Bases>,
    /// `ω^k` and `ω^{-k}` for k < 64, ω a primitive 128-th root of unity.
    twiddles: Vec<Fr>,
    inverse_twiddles: Vec<Fr>,
}

impl Fk20 {
    /// Precomputes the FFTs of the setup columns from the G1 monomial setup.
    pub(crate) fn new(monomial: &[G1Affine]) -> Self {
        let omega = root_of_unity(CIRCULANT);
        let omega_inv = omega.inverse().expect("root of unity is nonzero");
        let twiddles: Vec<Fr> = (0..CIRCULANT as u64 / 2).map(|k| omega.pow([k])).collect();
        let inverse_twiddles: Vec<Fr> = (0..CIRCULANT as u64 / 2).map(|k| omega_inv.pow([k])).collect();
        let l = FIELD_ELEMENTS_PER_CELL;
        // columns[t] = FFT over G1 of s'ₜ zero-padded to 128.
        let columns: Vec<Vec<G1Affine>> = (0..l)
            .into_par_iter()
            .map(|t| {
                let mut v: Vec<G1Projective> = (0..CIRCULANT)
                    .map(|j| if j < ROWS { monomial[(ROWS - 1 - j) * l + t].into() } else { G1Projective::default() })
                    .collect();
                g1_fft(&mut v, &twiddles);
                G1Projective::normalize_batch(&v)
            })
            .collect();
        let bases = (0..CIRCULANT).map(|j| G1Bases::resident(columns.iter().map(|c| c[j]).collect())).collect();
        Self { bases, twiddles, inverse_twiddles }
    }

    /// All 128 cell proofs (cell order) of the polynomial with coefficients `coeffs` (4096).
    pub(crate) fn proofs(&self, coeffs: &[Fr], backend: &dyn Backend) -> Result<Vec<G1Projective>, KzgError> {
        let l = FIELD_ELEMENTS_PER_CELL;
        // Column t, zero-padded to 128, laid out contiguously for one batched NTT.
        let mut cols = vec![Fr::default(); l * CIRCULANT];
        for (t, col) in cols.chunks_mut(CIRCULANT).enumerate() {
            for (j, x) in col.iter_mut().take(ROWS).enumerate() {
                *x = coeffs[j * l + t];
            }
        }
        backend.ntt(&mut cols, CIRCULANT, Direction::Forward, None)?;
        // Fold the inverse G1 FFT's 1/128 into these scalars: Fr products are far cheaper than
        // 128 more G1 scalar multiplications.
        let n_inv = Fr::from(CIRCULANT as u64).inverse().expect("128 < r");
        cols.iter_mut().for_each(|x| *x *= n_inv);
        // Transpose: frequency j gathers every column's j-th value.
        let scalars: Vec<Vec<Fr>> = (0..CIRCULANT).map(|j| (0..l).map(|t| cols[t * CIRCULANT + j]).collect()).collect();
        let jobs: Vec<(&G1Bases, &[Fr])> = self.bases.iter().zip(&scalars).map(|(b, s)| (b, s.as_slice())).collect();
        let mut u = backend.msm_g1_many(&jobs)?;
        g1_fft(&mut u, &self.inverse_twiddles); // unscaled inverse: 1/128 folded in above
        // h_k = u[k + m], then evaluate H at every 128-th root of unity.
        let mut h: Vec<G1Projective> = u[ROWS..].to_vec();
        h.resize(CIRCULANT, G1Projective::default());
        g1_fft(&mut h, &self.twiddles);
        debug_assert_eq!(h.len(), CELLS_PER_EXT_BLOB);
        bit_reverse_in_place(&mut h);
        Ok(h)
    }
}

/// In-place radix-2 DIT FFT over G1, natural order in and out, unscaled: `twiddles[k] = w^k`
/// for k < n/2 (pass inverse powers for an unscaled inverse transform). Scalar
/// multiplications dominate, so multiplications by `w^0 = 1` are skipped and each layer's
/// multiplications run in parallel.
fn g1_fft(v: &mut [G1Projective], twiddles: &[Fr]) {
    let n = v.len();
    debug_assert!(n.is_power_of_two() && twiddles.len() * 2 == n);
    bit_reverse_in_place(v);
    let mut m = 1;
    while m < n {
        let stride = n / (2 * m);
        v.par_chunks_mut(2 * m).for_each(|block| {
            let (lo, hi) = block.split_at_mut(m);
            lo.par_iter_mut().zip(hi.par_iter_mut()).enumerate().for_each(|(j, (a, b))| {
                if j != 0 {
                    *b *= twiddles[j * stride];
                }
                let t = *b;
                *b = *a - t;
                *a += t;
            });
        });
        m *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

    #[test]
    fn g1_fft_matches_arkworks() {
        let g = G1Projective::generator();
        let v: Vec<G1Projective> = (0..16u64).map(|i| g * Fr::from(i * i + 3)).collect();
        let omega = root_of_unity(16);
        let tw: Vec<Fr> = (0..8u64).map(|k| omega.pow([k])).collect();
        let mut got = v.clone();
        g1_fft(&mut got, &tw);
        let mut want = v;
        Radix2EvaluationDomain::<Fr>::new(16).unwrap().fft_in_place(&mut want);
        assert_eq!(G1Projective::normalize_batch(&got), G1Projective::normalize_batch(&want));
    }
}

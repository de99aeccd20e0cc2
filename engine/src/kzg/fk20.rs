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
//! precomputed (64 G1 FFTs; embedded for the Ethereum setup); per blob we do 64 small Fr NTTs, 128 MSMs of 64 points
//! (one per convolution frequency, summing over t), one inverse and one forward G1 FFT of 128.
//! The cosets' `a = z^l` are exactly the 128-th roots of unity, so the last FFT yields every
//! proof; cell i (shift `ω_8192^{brp7(i)}`) takes output `brp7(i)`.

use ark_ec::CurveGroup;
use ark_ff::Field;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::domain::{bit_reverse_in_place, root_of_unity};
use super::g1_fft::G1Fft;
use super::setup::{TrustedSetup, decode_uncompressed_g1};
use super::{CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB, FIELD_ELEMENTS_PER_CELL, KzgError};
use crate::backend::{Backend, Direction, G1Bases};
use crate::field::{Fr, G1Affine, G1Projective};

/// Rows of the Toeplitz decomposition (`n / l`).
const ROWS: usize = FIELD_ELEMENTS_PER_BLOB / FIELD_ELEMENTS_PER_CELL;
/// Size of the circulant embedding.
const CIRCULANT: usize = 2 * ROWS;

/// For each convolution frequency j (128) and column t (64): `FFT(s'ₜ)[j]`, flattened `[j][t]`.
pub(crate) fn frequency_bases(monomial: &[G1Affine]) -> Vec<G1Affine> {
    let omega = root_of_unity(CIRCULANT);
    let twiddles: Vec<Fr> = (0..CIRCULANT as u64 / 2).map(|k| omega.pow([k])).collect();
    let fft = G1Fft::new(&twiddles);
    let l = FIELD_ELEMENTS_PER_CELL;
    // columns[t] = FFT over G1 of s'ₜ zero-padded to 128.
    let columns: Vec<Vec<G1Affine>> = (0..l)
        .into_par_iter()
        .map(|t| {
            let mut v: Vec<G1Projective> = (0..CIRCULANT)
                .map(|j| if j < ROWS { monomial[(ROWS - 1 - j) * l + t].into() } else { G1Projective::default() })
                .collect();
            fft.run(&mut v);
            G1Projective::normalize_batch(&v)
        })
        .collect();
    (0..CIRCULANT).flat_map(|j| columns.iter().map(move |c| c[j])).collect()
}

/// The embedded bases, or `None` (and the caller computes them) if the bytes do not match
/// their pinned hash — which only a corrupted build can cause.
fn load_embedded() -> Option<Vec<G1Affine>> {
    if hex::encode(Sha256::digest(EMBEDDED_FK20)) != EMBEDDED_FK20_SHA256 {
        return None;
    }
    decode_uncompressed_g1(EMBEDDED_FK20).ok().filter(|v| v.len() == CIRCULANT * FIELD_ELEMENTS_PER_CELL)
}

/// The precomputed setup side of FK20.
pub(crate) struct Fk20 {
    /// For each convolution frequency j: the 64 points `FFT(s'ₜ)[j]`, t = 0..64.
    bases: Vec<G1Bases>,
    /// FFTs of size 128 with twiddles `ω^k` and (unscaled inverse) `ω^{-k}`, k < 64.
    fft: G1Fft,
    inverse_fft: G1Fft,
}

/// The FK20 bases of the embedded Ethereum setup (`[j][t]` order, uncompressed), made by
/// [`frequency_bases`] and pinned by [`EMBEDDED_FK20_SHA256`]: computing them costs 64 G1 FFTs
/// (seconds), loading them a hash and 8192 on-curve checks (milliseconds).
static EMBEDDED_FK20: &[u8] = include_bytes!("../../assets/fk20_bases.bin");
/// SHA-256 of `assets/fk20_bases.bin`.
pub(crate) const EMBEDDED_FK20_SHA256: &str = "13103ad4ce6f256c162276af10f05fc10afbce65f0cf384784492a949d1e985d";

impl Fk20 {
    /// The FK20 tables for `setup`: loaded from the crate for the embedded Ethereum setup,
    /// computed (64 G1 FFTs) for any other.
    pub(crate) fn new(setup: &'static TrustedSetup) -> Self {
        let embedded = TrustedSetup::ethereum().ok().filter(|e| std::ptr::eq(*e, setup)).and_then(|_| load_embedded());
        Self::from_bases(embedded.unwrap_or_else(|| frequency_bases(&setup.g1_monomial)))
    }

    fn from_bases(flat: Vec<G1Affine>) -> Self {
        let omega = root_of_unity(CIRCULANT);
        let omega_inv = omega.inverse().expect("root of unity is nonzero");
        let twiddles: Vec<Fr> = (0..CIRCULANT as u64 / 2).map(|k| omega.pow([k])).collect();
        let inverse_twiddles: Vec<Fr> = (0..CIRCULANT as u64 / 2).map(|k| omega_inv.pow([k])).collect();
        let bases = flat.chunks(FIELD_ELEMENTS_PER_CELL).map(|c| G1Bases::resident(c.to_vec())).collect();
        Self { bases, fft: G1Fft::new(&twiddles), inverse_fft: G1Fft::new(&inverse_twiddles) }
    }

    /// The 128 resident base sets (one per convolution frequency).
    pub(crate) fn bases(&self) -> &[G1Bases] {
        &self.bases
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
        self.inverse_fft.run(&mut u); // unscaled inverse: 1/128 folded in above
        // h_k = u[k + m], then evaluate H at every 128-th root of unity.
        let mut h: Vec<G1Projective> = u[ROWS..].to_vec();
        h.resize(CIRCULANT, G1Projective::default());
        self.fft.run(&mut h);
        debug_assert_eq!(h.len(), CELLS_PER_EXT_BLOB);
        bit_reverse_in_place(&mut h);
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kzg::setup::encode_uncompressed_g1;

    /// Regenerate with `CREMA_REGEN_FK20=1 cargo test -p crema-engine --release --lib embedded_fk20`.
    #[test]
    fn embedded_fk20_bases_are_the_computed_ones() {
        let setup = TrustedSetup::ethereum().expect("embedded setup");
        let bytes = encode_uncompressed_g1(&frequency_bases(&setup.g1_monomial));
        let hash = hex::encode(Sha256::digest(&bytes));
        if std::env::var("CREMA_REGEN_FK20").as_deref() == Ok("1") {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fk20_bases.bin");
            std::fs::write(path, &bytes).expect("write asset");
            eprintln!("wrote {path} ({} bytes), sha256 {hash}: set EMBEDDED_FK20_SHA256 to it", bytes.len());
            return;
        }
        assert_eq!(hash, EMBEDDED_FK20_SHA256, "regenerate with CREMA_REGEN_FK20=1");
        assert_eq!(bytes, EMBEDDED_FK20);
        assert!(load_embedded().is_some(), "the embedded bases decode");
    }
}

//! EIP-7594 (PeerDAS): cells of the Reed–Solomon extended blob, their FK20 proofs, recovery
//! from any half of the cells, and universal batch verification.
//!
//! Spec: <https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md>.

use std::collections::HashMap;

use ark_ec::pairing::Pairing;
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::{Field, Zero};
use rayon::prelude::*;

use super::domain::{bit_reverse_in_place, bytes_to_frs, bytes_to_g1, hash_to_fr, powers};
use super::eip4844::blob_to_polynomial;
use super::recovery::recover_polynomial_coeff;
use super::{Blob, Bytes48, Cell, KzgContext, KzgError};
use super::{CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_EXT_BLOB};
use crate::backend::{Direction, G1Bases};
use crate::field::{Bls12_381, Fr, G1Projective, G2Projective, fr_to_bytes};

/// Domain of the cell batch-verification challenge.
const RANDOM_CHALLENGE_KZG_CELL_BATCH_DOMAIN: &[u8; 16] = b"RCKZGCBATCH__V1_";

/// Cells and their proofs, both in cell-index order (128 each).
pub type CellsAndProofs = (Vec<Cell>, Vec<Bytes48>);

impl KzgContext {
    /// The spec's `polynomial_eval_to_coeff`: blob evaluations (bit-reversed order) to the
    /// 4096 monomial coefficients.
    fn blob_to_coeffs(&self, blob: &Blob) -> Result<Vec<Fr>, KzgError> {
        let mut poly = blob_to_polynomial(blob)?;
        bit_reverse_in_place(&mut poly);
        self.backend.ntt(&mut poly, FIELD_ELEMENTS_PER_BLOB, Direction::Inverse, None)?;
        Ok(poly)
    }

    /// Evaluates the polynomial on the extended domain and cuts the bit-reversed result into cells.
    fn coeffs_to_cells(&self, coeffs: &[Fr]) -> Result<Vec<Cell>, KzgError> {
        let mut ext = coeffs.to_vec();
        ext.resize(FIELD_ELEMENTS_PER_EXT_BLOB, Fr::zero());
        self.backend.ntt(&mut ext, FIELD_ELEMENTS_PER_EXT_BLOB, Direction::Forward, None)?;
        bit_reverse_in_place(&mut ext);
        Ok(ext
            .chunks(FIELD_ELEMENTS_PER_CELL)
            .map(|c| {
                let mut cell = [0u8; super::BYTES_PER_CELL];
                for (out, x) in cell.chunks_mut(32).zip(c) {
                    out.copy_from_slice(&fr_to_bytes(x));
                }
                cell
            })
            .collect())
    }

    /// The spec's `compute_cells_and_kzg_proofs_polynomialcoeff`.
    fn coeffs_to_cells_and_proofs(&self, coeffs: &[Fr]) -> Result<CellsAndProofs, KzgError> {
        let (cells, proofs) =
            rayon::join(|| self.coeffs_to_cells(coeffs), || self.fk20().proofs(coeffs, self.backend()));
        let proofs = G1Projective::normalize_batch(&proofs?);
        Ok((cells?, proofs.iter().map(crate::field::g1_to_bytes).collect()))
    }

    /// The 128 cells of the extended blob (no proofs).
    ///
    /// Spec: [`compute_cells`](https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md#compute_cells).
    pub fn compute_cells(&self, blob: &Blob) -> Result<Vec<Cell>, KzgError> {
        let coeffs = self.blob_to_coeffs(blob)?;
        self.coeffs_to_cells(&coeffs)
    }

    /// The 128 cells of the extended blob and their KZG multi-proofs (FK20).
    ///
    /// Spec: [`compute_cells_and_kzg_proofs`](https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md#compute_cells_and_kzg_proofs).
    pub fn compute_cells_and_kzg_proofs(&self, blob: &Blob) -> Result<CellsAndProofs, KzgError> {
        let coeffs = self.blob_to_coeffs(blob)?;
        self.coeffs_to_cells_and_proofs(&coeffs)
    }

    /// Recovers all 128 cells and proofs from at least 64 cells, given in strictly increasing
    /// index order.
    ///
    /// Spec: [`recover_cells_and_kzg_proofs`](https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md#recover_cells_and_kzg_proofs).
    pub fn recover_cells_and_kzg_proofs(
        &self,
        cell_indices: &[u64],
        cells: &[&Cell],
    ) -> Result<CellsAndProofs, KzgError> {
        let coeffs = self.recover_coeffs(cell_indices, cells)?;
        self.coeffs_to_cells_and_proofs(&coeffs)
    }

    /// Recovers all 128 cells (no proofs) from at least 64, with the same input rules as
    /// [`KzgContext::recover_cells_and_kzg_proofs`]. Not a spec function: for callers that
    /// already hold the proofs or only want the data (VID recovery), it skips FK20, which is
    /// most of the cost.
    pub fn recover_cells(&self, cell_indices: &[u64], cells: &[&Cell]) -> Result<Vec<Cell>, KzgError> {
        let coeffs = self.recover_coeffs(cell_indices, cells)?;
        self.coeffs_to_cells(&coeffs)
    }

    /// The spec's input checks of `recover_cells_and_kzg_proofs`, then polynomial recovery.
    fn recover_coeffs(&self, cell_indices: &[u64], cells: &[&Cell]) -> Result<Vec<Fr>, KzgError> {
        if cell_indices.len() != cells.len() {
            return Err(KzgError::LengthMismatch {
                detail: format!("{} cell indices, {} cells", cell_indices.len(), cells.len()),
            });
        }
        let (min, max) = (CELLS_PER_EXT_BLOB / 2, CELLS_PER_EXT_BLOB);
        if cells.len() < min || cells.len() > max {
            return Err(KzgError::WrongCellCount { min, max, got: cells.len() });
        }
        for (position, &index) in cell_indices.iter().enumerate() {
            check_cell_index(index)?;
            if position > 0 {
                let previous = cell_indices[position - 1];
                if index == previous {
                    return Err(KzgError::DuplicateCellIndex { index });
                }
                if index < previous {
                    return Err(KzgError::CellIndicesNotAscending { position, previous, index });
                }
            }
        }
        let decoded = cell_indices
            .par_iter()
            .zip(cells)
            .map(|(&i, c)| Ok((i as usize, bytes_to_frs(&c[..], "cell")?)))
            .collect::<Result<Vec<_>, KzgError>>()?;
        recover_polynomial_coeff(&decoded, self.backend())
    }

    /// Verifies cells against their commitments and proofs, all in one pairing check
    /// (commitments may repeat: they are deduplicated as the spec does).
    ///
    /// Spec: [`verify_cell_kzg_proof_batch`](https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md#verify_cell_kzg_proof_batch).
    pub fn verify_cell_kzg_proof_batch(
        &self,
        commitments: &[&Bytes48],
        cell_indices: &[u64],
        cells: &[&Cell],
        proofs: &[&Bytes48],
    ) -> Result<bool, KzgError> {
        let n = cells.len();
        if commitments.len() != n || cell_indices.len() != n || proofs.len() != n {
            return Err(KzgError::LengthMismatch {
                detail: format!(
                    "{} commitments, {} cell indices, {} cells, {} proofs",
                    commitments.len(),
                    cell_indices.len(),
                    n,
                    proofs.len()
                ),
            });
        }
        for &i in cell_indices {
            check_cell_index(i)?;
        }
        // Decompression and subgroup checks dominate small batches: run them in parallel.
        let evals = cells.par_iter().map(|c| bytes_to_frs(&c[..], "cell")).collect::<Result<Vec<_>, _>>()?;
        let proof_points =
            proofs.par_iter().enumerate().map(|(i, p)| bytes_to_g1(p, "proof", i)).collect::<Result<Vec<_>, _>>()?;
        // Deduplicate commitments by their bytes, in order of first appearance.
        let mut unique: Vec<&Bytes48> = Vec::new();
        let mut position: HashMap<&Bytes48, usize> = HashMap::new();
        let mut commitment_indices = Vec::with_capacity(n);
        for c in commitments {
            let k = *position.entry(c).or_insert_with(|| {
                unique.push(c);
                unique.len() - 1
            });
            commitment_indices.push(k as u64);
        }
        let commitment_points = unique
            .par_iter()
            .enumerate()
            .map(|(i, c)| bytes_to_g1(c, "commitment", i))
            .collect::<Result<Vec<_>, _>>()?;
        if n == 0 {
            return Ok(true);
        }

        let r =
            compute_verify_cell_kzg_proof_batch_challenge(&unique, &commitment_indices, cell_indices, cells, proofs);
        let r_powers = powers(r, n);

        // Σ_k r^k C_{idx(k)}: weights per unique commitment.
        let mut weights = vec![Fr::zero(); unique.len()];
        for (k, &ci) in commitment_indices.iter().enumerate() {
            weights[ci as usize] += r_powers[k];
        }
        // Σ_k r^k I_k(X): aggregate evaluations per cell index first (same coset, same
        // interpolation), then one size-64 inverse NTT per distinct index.
        let mut per_cell: Vec<Option<Vec<Fr>>> = vec![None; CELLS_PER_EXT_BLOB];
        for (k, &ci) in cell_indices.iter().enumerate() {
            let acc = per_cell[ci as usize].get_or_insert_with(|| vec![Fr::zero(); FIELD_ELEMENTS_PER_CELL]);
            for (a, e) in acc.iter_mut().zip(&evals[k]) {
                *a += r_powers[k] * e;
            }
        }
        let used: Vec<usize> = (0..CELLS_PER_EXT_BLOB).filter(|&i| per_cell[i].is_some()).collect();
        let mut batch = Vec::with_capacity(used.len() * FIELD_ELEMENTS_PER_CELL);
        for &i in &used {
            // `used` lists exactly the indices whose slot is Some, each once.
            let mut v = per_cell[i].take().expect("used");
            bit_reverse_in_place(&mut v); // coset order ω^{brp6(j)} → natural
            batch.extend(v);
        }
        self.backend.ntt(&mut batch, FIELD_ELEMENTS_PER_CELL, Direction::Inverse, None)?;
        let mut interpolation = vec![Fr::zero(); FIELD_ELEMENTS_PER_CELL];
        for (chunk, &i) in batch.chunks(FIELD_ELEMENTS_PER_CELL).zip(&used) {
            // I(X) = g(X / h): scale coefficient j by h^{-j}.
            let h_inv = self.domain.cell_shifts[i].inverse().expect("root of unity is nonzero");
            let mut scale = Fr::ONE;
            for (acc, c) in interpolation.iter_mut().zip(chunk) {
                *acc += *c * scale;
                scale *= h_inv;
            }
        }

        let rh: Vec<Fr> = cell_indices
            .iter()
            .zip(&r_powers)
            .map(|(&ci, r)| *r * self.domain.cell_shifts[ci as usize].pow([FIELD_ELEMENTS_PER_CELL as u64]))
            .collect();
        let proof_bases = G1Bases::new(proof_points);
        // The three MSMs are independent: run them side by side.
        let commitment_bases = G1Bases::new(commitment_points);
        let (proof_sums, (rlc, rli)) = rayon::join(
            || self.backend.msm_g1(&proof_bases, &[&r_powers, &rh]),
            || {
                rayon::join(
                    || self.backend.msm_g1(&commitment_bases, &[&weights]),
                    || self.backend.msm_g1(self.monomial_cell(), &[&interpolation]),
                )
            },
        );
        let (proof_sums, rlc, rli) = (proof_sums?, rlc?[0], rli?[0]);
        let rl = rlc - rli + proof_sums[1];
        let lhs = [proof_sums[0].into_affine(), rl.into_affine()];
        let rhs = [self.g2_tau_cell, (-G2Projective::generator()).into_affine()];
        Ok(Bls12_381::multi_pairing(lhs, rhs).is_zero())
    }
}

fn check_cell_index(index: u64) -> Result<usize, KzgError> {
    if index >= CELLS_PER_EXT_BLOB as u64 {
        return Err(KzgError::CellIndexOutOfRange { index });
    }
    Ok(index as usize)
}

/// The spec's `compute_verify_cell_kzg_proof_batch_challenge` over deduplicated `commitments`
/// (cells are given as bytes: each is the concatenation of its evaluations' encodings).
///
/// Spec: [`compute_verify_cell_kzg_proof_batch_challenge`](https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md#compute_verify_cell_kzg_proof_batch_challenge).
pub fn compute_verify_cell_kzg_proof_batch_challenge(
    commitments: &[&Bytes48],
    commitment_indices: &[u64],
    cell_indices: &[u64],
    cells: &[&Cell],
    proofs: &[&Bytes48],
) -> Fr {
    let mut data = Vec::with_capacity(48 + commitments.len() * 48 + cells.len() * (16 + 2048 + 48));
    data.extend_from_slice(RANDOM_CHALLENGE_KZG_CELL_BATCH_DOMAIN);
    data.extend_from_slice(&(FIELD_ELEMENTS_PER_BLOB as u64).to_be_bytes());
    data.extend_from_slice(&(FIELD_ELEMENTS_PER_CELL as u64).to_be_bytes());
    data.extend_from_slice(&(commitments.len() as u64).to_be_bytes());
    data.extend_from_slice(&(cell_indices.len() as u64).to_be_bytes());
    for c in commitments {
        data.extend_from_slice(&c[..]);
    }
    for (k, cell) in cells.iter().enumerate() {
        data.extend_from_slice(&commitment_indices[k].to_be_bytes());
        data.extend_from_slice(&cell_indices[k].to_be_bytes());
        data.extend_from_slice(&cell[..]);
        data.extend_from_slice(&proofs[k][..]);
    }
    hash_to_fr(&data)
}

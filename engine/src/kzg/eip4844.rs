//! EIP-4844 blob commitments and proofs.
//!
//! Spec: <https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md>.

use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::Zero;
use rayon::prelude::*;

use super::domain::{bytes_to_fr, bytes_to_frs, bytes_to_g1, evaluate_evals, hash_to_fr, powers};
use super::{Blob, Bytes32, Bytes48, FIELD_ELEMENTS_PER_BLOB, KzgContext, KzgError};
use crate::backend::G1Bases;
use crate::field::{Bls12_381, Fr, G1Affine, G1Projective, G2Projective, fr_to_bytes, g1p_to_bytes};

/// Fiat–Shamir domain of [`KzgContext::compute_challenge`].
const FIAT_SHAMIR_PROTOCOL_DOMAIN: &[u8; 16] = b"FSBLOBVERIFY_V1_";
/// Domain of the batch-verification random challenge.
const RANDOM_CHALLENGE_KZG_BATCH_DOMAIN: &[u8; 16] = b"RCKZGBATCH___V1_";

/// The spec's `blob_to_polynomial`: 4096 canonical field elements in evaluation form.
pub(crate) fn blob_to_polynomial(blob: &Blob) -> Result<Vec<Fr>, KzgError> {
    bytes_to_frs(blob, "blob")
}

impl KzgContext {
    /// Commits to a blob.
    ///
    /// Spec: [`blob_to_kzg_commitment`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#blob_to_kzg_commitment).
    pub fn blob_to_kzg_commitment(&self, blob: &Blob) -> Result<Bytes48, KzgError> {
        let poly = blob_to_polynomial(blob)?;
        Ok(g1p_to_bytes(&self.commit_evals(&[&poly])?[0]))
    }

    /// Commits to several blobs in one batched MSM call.
    pub fn blobs_to_kzg_commitments(&self, blobs: &[&Blob]) -> Result<Vec<Bytes48>, KzgError> {
        let polys = blobs.par_iter().map(|b| blob_to_polynomial(b)).collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&[Fr]> = polys.iter().map(Vec::as_slice).collect();
        Ok(self.commit_evals(&refs)?.iter().map(g1p_to_bytes).collect())
    }

    fn commit_evals(&self, polys: &[&[Fr]]) -> Result<Vec<G1Projective>, KzgError> {
        Ok(self.backend.msm_g1(self.lagrange_brp(), polys)?)
    }

    /// Opens the blob's polynomial at `z`: returns `(proof, y)` with `y = p(z)`.
    ///
    /// Spec: [`compute_kzg_proof`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#compute_kzg_proof).
    pub fn compute_kzg_proof(&self, blob: &Blob, z: &Bytes32) -> Result<(Bytes48, Bytes32), KzgError> {
        let poly = blob_to_polynomial(blob)?;
        let z = bytes_to_fr(z, "z")?;
        let (proof, y) = self.compute_kzg_proof_impl(&poly, z)?;
        Ok((g1p_to_bytes(&proof), fr_to_bytes(&y)))
    }

    /// The spec's `compute_kzg_proof_impl`: quotient `(p(X) - y) / (X - z)` in evaluation form.
    fn compute_kzg_proof_impl(&self, poly: &[Fr], z: Fr) -> Result<(G1Projective, Fr), KzgError> {
        let roots = &self.domain.roots_brp;
        let y = evaluate_evals(poly, z, roots);
        let mut denoms: Vec<Fr> = roots.iter().map(|w| *w - z).collect();
        ark_ff::batch_inversion(&mut denoms); // zero stays zero: handled below
        let mut quotient: Vec<Fr> = poly.iter().zip(&denoms).map(|(p, d)| (*p - y) * d).collect();
        if let Some(m) = roots.iter().position(|w| *w == z) {
            quotient[m] = quotient_within_domain(poly, y, m, roots);
        }
        Ok((self.backend.msm_g1(self.lagrange_brp(), &[&quotient])?[0], y))
    }

    /// Proves the blob against its commitment at the Fiat–Shamir challenge point.
    ///
    /// Spec: [`compute_blob_kzg_proof`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#compute_blob_kzg_proof).
    pub fn compute_blob_kzg_proof(&self, blob: &Blob, commitment: &Bytes48) -> Result<Bytes48, KzgError> {
        // Validated although unused: the spec rejects a proof request for an invalid commitment.
        let _ = bytes_to_g1(commitment, "commitment", 0)?;
        let poly = blob_to_polynomial(blob)?;
        let z = self.compute_challenge(blob, commitment);
        Ok(g1p_to_bytes(&self.compute_kzg_proof_impl(&poly, z)?.0))
    }

    /// Verifies that `p(z) = y` for the polynomial committed to by `commitment`.
    ///
    /// Spec: [`verify_kzg_proof`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#verify_kzg_proof).
    pub fn verify_kzg_proof(
        &self,
        commitment: &Bytes48,
        z: &Bytes32,
        y: &Bytes32,
        proof: &Bytes48,
    ) -> Result<bool, KzgError> {
        let c = bytes_to_g1(commitment, "commitment", 0)?;
        let z = bytes_to_fr(z, "z")?;
        let y = bytes_to_fr(y, "y")?;
        let pi = bytes_to_g1(proof, "proof", 0)?;
        Ok(self.verify_kzg_proof_impl(c, z, y, pi))
    }

    /// `e(C - [y], [1]) = e(π, [τ - z])`, as one two-pairing product.
    fn verify_kzg_proof_impl(&self, c: G1Affine, z: Fr, y: Fr, pi: G1Affine) -> bool {
        let g2 = G2Projective::generator();
        let tau_minus_z = self.g2_tau.into_group() - g2 * z;
        let c_minus_y = c.into_group() - G1Projective::generator() * y;
        let lhs = [c_minus_y.into_affine(), pi];
        let rhs = [(-g2).into_affine(), tau_minus_z.into_affine()];
        Bls12_381::multi_pairing(lhs, rhs).is_zero()
    }

    /// Verifies a blob proof produced by [`KzgContext::compute_blob_kzg_proof`].
    ///
    /// Spec: [`verify_blob_kzg_proof`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#verify_blob_kzg_proof).
    pub fn verify_blob_kzg_proof(&self, blob: &Blob, commitment: &Bytes48, proof: &Bytes48) -> Result<bool, KzgError> {
        let c = bytes_to_g1(commitment, "commitment", 0)?;
        let pi = bytes_to_g1(proof, "proof", 0)?;
        let poly = blob_to_polynomial(blob)?;
        let z = self.compute_challenge(blob, commitment);
        let y = evaluate_evals(&poly, z, &self.domain.roots_brp);
        Ok(self.verify_kzg_proof_impl(c, z, y, pi))
    }

    /// Verifies many blob proofs with one random linear combination and one two-pairing product.
    ///
    /// Spec: [`verify_blob_kzg_proof_batch`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#verify_blob_kzg_proof_batch).
    pub fn verify_blob_kzg_proof_batch(
        &self,
        blobs: &[&Blob],
        commitments: &[&Bytes48],
        proofs: &[&Bytes48],
    ) -> Result<bool, KzgError> {
        if blobs.len() != commitments.len() || blobs.len() != proofs.len() {
            return Err(KzgError::LengthMismatch {
                detail: format!("{} blobs, {} commitments, {} proofs", blobs.len(), commitments.len(), proofs.len()),
            });
        }
        if blobs.is_empty() {
            return Ok(true);
        }
        // Decode and evaluate every blob in parallel; the first error (in input order) wins.
        let items = (0..blobs.len())
            .into_par_iter()
            .map(|i| {
                let c = bytes_to_g1(commitments[i], "commitment", i)?;
                let pi = bytes_to_g1(proofs[i], "proof", i)?;
                let poly = blob_to_polynomial(blobs[i])?;
                let z = self.compute_challenge(blobs[i], commitments[i]);
                let y = evaluate_evals(&poly, z, &self.domain.roots_brp);
                Ok((c, pi, z, y))
            })
            .collect::<Result<Vec<_>, KzgError>>()?;
        if items.len() == 1 {
            let (c, pi, z, y) = items[0];
            return Ok(self.verify_kzg_proof_impl(c, z, y, pi));
        }
        self.verify_kzg_proof_batch(commitments, proofs, &items)
    }

    /// The spec's `verify_kzg_proof_batch`:
    /// `e(Σ rⁱπᵢ, [τ]) = e(Σ rⁱ(Cᵢ - [yᵢ]) + Σ rⁱzᵢπᵢ, [1])`.
    fn verify_kzg_proof_batch(
        &self,
        commitments: &[&Bytes48],
        proofs: &[&Bytes48],
        items: &[(G1Affine, G1Affine, Fr, Fr)],
    ) -> Result<bool, KzgError> {
        let n = items.len();
        let mut data = Vec::with_capacity(32 + n * (48 * 2 + 64));
        data.extend_from_slice(RANDOM_CHALLENGE_KZG_BATCH_DOMAIN);
        data.extend_from_slice(&(FIELD_ELEMENTS_PER_BLOB as u64).to_be_bytes());
        data.extend_from_slice(&(n as u64).to_be_bytes());
        for (i, (_, _, z, y)) in items.iter().enumerate() {
            data.extend_from_slice(commitments[i]);
            data.extend_from_slice(&fr_to_bytes(z));
            data.extend_from_slice(&fr_to_bytes(y));
            data.extend_from_slice(proofs[i]);
        }
        let r_powers = powers(hash_to_fr(&data), n);
        let proof_bases = G1Bases::new(items.iter().map(|it| it.1).collect());
        let commit_bases = G1Bases::new(items.iter().map(|it| it.0).collect());
        let rz: Vec<Fr> = items.iter().zip(&r_powers).map(|(it, r)| it.2 * r).collect();
        let (proof_sums, c_sum) = rayon::join(
            || self.backend.msm_g1(&proof_bases, &[&r_powers, &rz]),
            || self.backend.msm_g1(&commit_bases, &[&r_powers]),
        );
        let (proof_sums, c_sum) = (proof_sums?, c_sum?[0]);
        let ry: Fr = items.iter().zip(&r_powers).map(|(it, r)| it.3 * r).sum();
        let rhs_g1 = c_sum - G1Projective::generator() * ry + proof_sums[1];
        let lhs = [proof_sums[0].into_affine(), rhs_g1.into_affine()];
        let rhs = [(-self.g2_tau.into_group()).into_affine(), G2Projective::generator().into_affine()];
        Ok(Bls12_381::multi_pairing(lhs, rhs).is_zero())
    }

    /// The spec's `compute_challenge`: the Fiat–Shamir evaluation point of a blob and its
    /// commitment (exposed for the reference tests).
    ///
    /// Spec: [`compute_challenge`](https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md#compute_challenge).
    pub fn compute_challenge(&self, blob: &Blob, commitment: &Bytes48) -> Fr {
        let mut data = Vec::with_capacity(16 + 16 + blob.len() + 48);
        data.extend_from_slice(FIAT_SHAMIR_PROTOCOL_DOMAIN);
        data.extend_from_slice(&(FIELD_ELEMENTS_PER_BLOB as u128).to_be_bytes());
        data.extend_from_slice(blob);
        data.extend_from_slice(commitment);
        hash_to_fr(&data)
    }
}

/// The spec's `compute_quotient_eval_within_domain`: the quotient's value at `z = ω_m`, where
/// `(p(X) - y) / (X - z)` is 0/0; `Σ_{i≠m} (pᵢ - y)·ωᵢ / (z·(z - ωᵢ))`.
fn quotient_within_domain(poly: &[Fr], y: Fr, m: usize, roots: &[Fr]) -> Fr {
    let z = roots[m];
    let mut denoms: Vec<Fr> = roots.iter().map(|w| z * (z - w)).collect();
    ark_ff::batch_inversion(&mut denoms);
    (0..poly.len()).filter(|&i| i != m).map(|i| (poly[i] - y) * roots[i] * denoms[i]).sum()
}

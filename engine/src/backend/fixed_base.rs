//! Fixed-base MSM over precomputed window tables, for base sets that stay resident (the
//! trusted setup, FK20's tables).
//!
//! For every base `P` we store `2^{c·w}·P` for each window `w`, so an MSM needs no doublings:
//! each scalar is cut into signed `c`-bit digits (in `[-2^{c-1}, 2^{c-1}]`), every
//! (point, window) pair is added into the bucket of its digit, and the buckets are combined
//! with the usual running sum. With `c = 8` the digits are the scalar's bytes, and a 64-point
//! MSM (FK20) costs ~2.1k mixed additions instead of Pippenger's ~5k plus 255 doublings.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField};
use rayon::prelude::*;

use crate::field::{Fr, G1Affine, G1Projective};

/// Window width in bits (digits are bytes).
const C: usize = 8;
/// Windows per scalar: 32 bytes, plus one for the carry out of the top signed digit.
const WINDOWS: usize = 33;
/// Buckets for digit magnitudes 1..=128.
const BUCKETS: usize = 1 << (C - 1);
/// Points per rayon task when one MSM is split across threads.
const CHUNK: usize = 512;

/// Precomputed `2^{8w}·Pᵢ` for every base `i` and window `w`.
#[derive(Debug)]
pub(crate) struct FixedBaseTable {
    /// `points[i * WINDOWS + w] = 2^{8w}·Pᵢ`.
    points: Vec<G1Affine>,
}

impl FixedBaseTable {
    /// Builds the table (8 doublings per point and window, then one batch normalisation).
    pub(crate) fn new(bases: &[G1Affine]) -> Self {
        let proj: Vec<G1Projective> = bases
            .par_iter()
            .flat_map_iter(|p| {
                let mut acc = p.into_group();
                (0..WINDOWS).map(move |_| {
                    let cur = acc;
                    for _ in 0..C {
                        acc.double_in_place();
                    }
                    cur
                })
            })
            .collect();
        let points = proj.par_chunks(4096).flat_map_iter(G1Projective::normalize_batch).collect();
        Self { points }
    }

    /// Number of bases.
    pub(crate) fn len(&self) -> usize {
        self.points.len() / WINDOWS
    }

    /// `Σ sᵢ·Pᵢ`, split across threads when long.
    pub(crate) fn msm(&self, scalars: &[Fr]) -> G1Projective {
        debug_assert!(scalars.len() <= self.len());
        if scalars.len() <= CHUNK {
            return self.msm_range(0, scalars);
        }
        scalars
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(k, s)| self.msm_range(k * CHUNK, s))
            .reduce(G1Projective::default, |a, b| a + b)
    }

    /// The MSM of `scalars` against bases `start..start + scalars.len()`.
    fn msm_range(&self, start: usize, scalars: &[Fr]) -> G1Projective {
        let mut buckets = [G1Projective::default(); BUCKETS];
        for (i, s) in scalars.iter().enumerate() {
            let row = &self.points[(start + i) * WINDOWS..(start + i + 1) * WINDOWS];
            let bytes = s.into_bigint().to_bytes_le();
            let mut carry = 0i32;
            for (w, p) in row.iter().enumerate() {
                let mut d = bytes.get(w).copied().unwrap_or(0) as i32 + carry;
                // Signed digit: d in [-128, 128], carrying into the next window.
                carry = 0;
                if d > BUCKETS as i32 {
                    d -= 1 << C;
                    carry = 1;
                }
                match d.cmp(&0) {
                    std::cmp::Ordering::Greater => buckets[d as usize - 1] += p,
                    std::cmp::Ordering::Less => buckets[(-d) as usize - 1] -= p,
                    std::cmp::Ordering::Equal => {}
                }
            }
        }
        // Σ (j+1)·bucket[j] by a running sum from the top.
        let mut running = G1Projective::default();
        let mut total = G1Projective::default();
        for b in buckets.iter().rev() {
            running += b;
            total += running;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::VariableBaseMSM;
    use ark_ff::{Field, UniformRand};
    use rand::SeedableRng;

    #[test]
    fn matches_variable_base_msm_including_edge_scalars() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let bases: Vec<G1Affine> = (0..600).map(|_| G1Projective::rand(&mut r).into_affine()).collect();
        let mut scalars: Vec<Fr> = (0..600).map(|_| Fr::rand(&mut r)).collect();
        scalars[0] = -Fr::ONE; // r - 1: every byte carries
        scalars[1] = Fr::ZERO;
        scalars[2] = Fr::from(128u64);
        scalars[3] = Fr::from(129u64);
        let table = FixedBaseTable::new(&bases);
        for n in [1, 4, 64, 600] {
            let want = G1Projective::msm_unchecked(&bases[..n], &scalars[..n]);
            assert_eq!(table.msm(&scalars[..n]).into_affine(), want.into_affine(), "n = {n}");
        }
    }
}

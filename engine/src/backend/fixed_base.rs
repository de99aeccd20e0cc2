//! Fixed-base MSM over precomputed window tables, for base sets that stay resident (the
//! trusted setup, FK20's tables).
//!
//! For every base `P` we store `2^{c·w}·P` for each of the `W = ⌈256/c⌉` windows, so an MSM
//! needs no doublings: each scalar is cut into signed `c`-bit digits (in `[-2^{c-1}+1, 2^{c-1}]`),
//! every (point, window) pair with a nonzero digit is added into the bucket of the digit's
//! magnitude, and the buckets are combined with the running-sum method. The bucket additions
//! are batch-affine ([`super::batch_affine`]): ≈ 5.5 field multiplications each.
//!
//! `c` is picked per table size to minimise `n·W(c)` additions plus `2^c` for the running sum:
//! 8 for FK20's 64-point MSMs (32 additions per point), 13 for the 4096-point commitment.
//! No top-digit carry can escape the last window: r < 2^255, so with `c·W ≥ 256` the top raw
//! digit is below `2^{c-1}` and the carry into it keeps it within `2^{c-1}`.

use ark_ec::PrimeGroup;
use ark_ff::{BigInteger, PrimeField, Zero};
use rayon::prelude::*;

use super::batch_affine::{Accumulator, double_all, entry, weighted_sums};
use crate::field::{Fr, G1Affine, G1Projective};

/// Bits in a scalar window covering, with signed digits, all of Fr.
const SCALAR_BITS: usize = 256;

/// Precomputed `2^{c·w}·Pᵢ` for every base `i` and window `w`.
#[derive(Debug)]
pub(crate) struct FixedBaseTable {
    c: usize,
    windows: usize,
    /// `points[i * windows + w] = 2^{c·w}·Pᵢ`.
    points: Vec<G1Affine>,
}

/// The window width minimising additions for an MSM over `n` bases: `n·⌈256/c⌉` bucket
/// additions plus about `2^c` for the running sum over `2^{c-1}` buckets.
fn window_for(n: usize) -> usize {
    (4..=16).min_by_key(|&c| n * SCALAR_BITS.div_ceil(c) + (1 << c)).expect("non-empty range")
}

impl FixedBaseTable {
    /// Builds the table with the best window for `bases.len()` (c doublings per point and
    /// window, then one batch normalisation).
    pub(crate) fn new(bases: &[G1Affine]) -> Self {
        Self::with_window(bases, window_for(bases.len()))
    }

    /// Builds the table with window width `c` (4..=16): every base is doubled `c` times per
    /// window, in affine coordinates with one shared inversion per block of bases and step.
    pub(crate) fn with_window(bases: &[G1Affine], c: usize) -> Self {
        assert!((4..=16).contains(&c), "window width {c} out of range");
        let windows = SCALAR_BITS.div_ceil(c);
        const BLOCK: usize = 256;
        let blocks: Vec<Vec<G1Affine>> = bases
            .par_chunks(BLOCK)
            .map(|block| {
                // rows[w][i] = 2^{c·w}·P_i for this block, then laid out point-major.
                let mut cur = block.to_vec();
                let (mut d, mut p) = (Vec::new(), Vec::new());
                let mut rows = Vec::with_capacity(windows);
                for w in 0..windows {
                    rows.push(cur.clone());
                    if w + 1 < windows {
                        for _ in 0..c {
                            double_all(&mut cur, &mut d, &mut p);
                        }
                    }
                }
                (0..block.len()).flat_map(|i| rows.iter().map(move |r| r[i])).collect()
            })
            .collect();
        Self { c, windows, points: blocks.concat() }
    }

    /// Number of bases.
    pub(crate) fn len(&self) -> usize {
        self.points.len() / self.windows
    }

    /// Buckets per MSM: one per digit magnitude `1..=2^{c-1}`.
    fn buckets(&self) -> usize {
        1 << (self.c - 1)
    }

    /// `Σ sᵢ·Pᵢ` for each scalar vector (each at most [`FixedBaseTable::len`] long).
    pub(crate) fn msm_batch(&self, scalars: &[&[Fr]]) -> Vec<G1Projective> {
        let threads = rayon::current_num_threads();
        if scalars.len() >= threads {
            let jobs: Vec<(&FixedBaseTable, &[Fr])> = scalars.iter().map(|s| (self, *s)).collect();
            return msm_many(&jobs);
        }
        scalars.iter().map(|s| self.msm_split(s, threads)).collect()
    }

    /// One MSM on `threads` cores: each takes a range of digit magnitudes (its own buckets),
    /// so no bucket is summed twice and the running sums split too.
    fn msm_split(&self, scalars: &[Fr], threads: usize) -> G1Projective {
        debug_assert!(scalars.len() <= self.len());
        let digits = self.digits(scalars);
        let half = self.buckets();
        let parts = threads.clamp(1, half);
        let table = [self.points.as_slice()];
        (0..parts)
            .into_par_iter()
            .map(|part| {
                // Magnitudes lo..hi (1-based) go to this part's buckets 0..hi-lo.
                let (lo, hi) = (1 + part * half / parts, 1 + (part + 1) * half / parts);
                let mut acc = Accumulator::new(&table, hi - lo);
                for (k, &d) in digits.iter().enumerate() {
                    let m = d.unsigned_abs() as usize;
                    if m >= lo && m < hi {
                        acc.add(m - lo, entry(0, k, d < 0));
                    }
                }
                // Σ m·B_m = Σ (m - lo + 1)·B_m + (lo - 1)·Σ B_m.
                let (weighted, plain) = weighted_sums(&acc.finish(), hi - lo)[0];
                weighted + plain.mul_bigint([(lo - 1) as u64])
            })
            .reduce(G1Projective::zero, |a, b| a + b)
    }

    /// Signed digits of every scalar, laid out like the table (`digits[i * windows + w]`).
    fn digits(&self, scalars: &[Fr]) -> Vec<i32> {
        let mut out = vec![0i32; scalars.len() * self.windows];
        out.par_chunks_mut(self.windows).zip(scalars.par_iter()).for_each(|(row, s)| signed_digits(s, self.c, row));
        out
    }
}

/// Cuts `s` into `out.len()` signed base-`2^c` digits, least significant first.
pub(crate) fn signed_digits(s: &Fr, c: usize, out: &mut [i32]) {
    let limbs = s.into_bigint();
    let half = 1i64 << (c - 1);
    let mut carry = 0i64;
    for (w, d) in out.iter_mut().enumerate() {
        let bit = w * c;
        let raw = if bit >= 256 {
            0
        } else {
            let (limb, shift) = (bit / 64, bit % 64);
            let mut v = limbs.as_ref()[limb] >> shift;
            if shift + c > 64 && limb + 1 < 4 {
                v |= limbs.as_ref()[limb + 1] << (64 - shift);
            }
            (v & ((1u64 << c) - 1)) as i64
        };
        let mut v = raw + carry;
        carry = 0;
        if v > half {
            v -= 1 << c;
            carry = 1;
        }
        *d = v as i32;
    }
    debug_assert_eq!(carry, 0, "r < 2^255 leaves no carry past the last window");
    debug_assert!(limbs.num_bits() as usize <= out.len() * c);
}

/// Many MSMs, each over its own table (FK20 runs 128 of 64 points), in parallel groups: each
/// group shares one batch-affine accumulator, so even 64-point MSMs fill big batches.
pub(crate) fn msm_many(jobs: &[(&FixedBaseTable, &[Fr])]) -> Vec<G1Projective> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let threads = rayon::current_num_threads().max(1);
    let per_group = jobs.len().div_ceil(threads);
    jobs.par_chunks(per_group).flat_map_iter(msm_group).collect()
}

/// The MSMs of `jobs` through one accumulator (jobs of different window widths run apart).
fn msm_group(jobs: &[(&FixedBaseTable, &[Fr])]) -> Vec<G1Projective> {
    let c = jobs[0].0.c;
    if jobs.iter().any(|(t, _)| t.c != c) {
        return jobs.iter().map(|(t, s)| msm_group(&[(*t, *s)])[0]).collect();
    }
    let tables: Vec<&[G1Affine]> = jobs.iter().map(|(t, _)| t.points.as_slice()).collect();
    let half = jobs[0].0.buckets();
    let windows = jobs[0].0.windows;
    let digits: Vec<Vec<i32>> = jobs
        .iter()
        .map(|(table, scalars)| {
            debug_assert!(scalars.len() <= table.len());
            let mut d = vec![0i32; scalars.len() * windows];
            for (row, s) in d.chunks_mut(windows).zip(scalars.iter()) {
                signed_digits(s, c, row);
            }
            d
        })
        .collect();
    // Interleave the jobs a few digits at a time: consecutive additions then land in
    // different jobs' buckets (a batch rarely hits one bucket twice), while each job's table
    // is still read in short sequential runs (one table row is one base's windows).
    const RUN: usize = 8;
    let mut acc = Accumulator::new(&tables, jobs.len() * half);
    let longest = digits.iter().map(Vec::len).max().unwrap_or(0);
    for start in (0..longest).step_by(RUN) {
        for (j, d) in digits.iter().enumerate() {
            for (k, &d) in d.iter().enumerate().skip(start).take(RUN) {
                if d != 0 {
                    acc.add(j * half + d.unsigned_abs() as usize - 1, entry(j, k, d < 0));
                }
            }
        }
    }
    let buckets = acc.finish();
    weighted_sums(&buckets, half).into_iter().map(|(weighted, _)| weighted).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AdditiveGroup, CurveGroup, VariableBaseMSM};
    use ark_ff::{Field, UniformRand};
    use rand::SeedableRng;

    fn edge_scalars(n: usize, seed: u64) -> Vec<Fr> {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        let edges = [-Fr::ONE, Fr::ZERO, Fr::from(128u64), Fr::from(129u64), Fr::from(4096u64), -Fr::from(2u64)];
        for (s, e) in scalars.iter_mut().zip(edges) {
            *s = e; // r - 1: every digit carries
        }
        scalars
    }

    #[test]
    fn matches_variable_base_msm_at_every_window_width() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut bases: Vec<G1Affine> = (0..300).map(|_| G1Projective::rand(&mut r).into_affine()).collect();
        bases[5] = bases[4]; // repeated base: P + P inside one bucket
        bases[7] = -bases[6]; // P + (−P)
        let scalars = edge_scalars(300, 1);
        for c in [4, 8, 13, 16] {
            let table = FixedBaseTable::with_window(&bases, c);
            for n in [1, 4, 64, 300] {
                let want = G1Projective::msm_unchecked(&bases[..n], &scalars[..n]).into_affine();
                assert_eq!(table.msm_batch(&[&scalars[..n]])[0].into_affine(), want, "c = {c}, n = {n}");
                assert_eq!(table.msm_split(&scalars[..n], 3).into_affine(), want, "c = {c}, n = {n}, 3 parts");
            }
        }
    }

    #[test]
    fn many_tables_at_once_match_one_by_one() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let tables: Vec<FixedBaseTable> = (0..5)
            .map(|_| {
                let bases: Vec<G1Affine> = (0..64).map(|_| G1Projective::rand(&mut r).into_affine()).collect();
                FixedBaseTable::with_window(&bases, 8)
            })
            .collect();
        let scalars: Vec<Vec<Fr>> = (0..5).map(|k| edge_scalars(64 - k, k as u64)).collect();
        let jobs: Vec<(&FixedBaseTable, &[Fr])> = tables.iter().zip(&scalars).map(|(t, s)| (t, s.as_slice())).collect();
        let got = msm_many(&jobs);
        for (k, (t, s)) in jobs.iter().enumerate() {
            assert_eq!(got[k].into_affine(), t.msm_split(s, 1).into_affine(), "job {k}");
        }
        assert!(msm_many(&[]).is_empty());
    }

    #[test]
    fn window_choice_follows_size() {
        assert_eq!(window_for(64), 8);
        assert!((12..=13).contains(&window_for(4096)));
    }
}

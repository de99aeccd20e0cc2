//! The `cpu` backend: rayon across batches, SIMD where the crates below provide it.
//!
//! GF(2^16) goes through reed-solomon-simd (AVX2/SSSE3/NEON picked at run time); field and
//! curve work goes through arkworks' parallel NTT and Pippenger MSM, except MSMs over
//! resident bases ([`G1Bases::resident`]), which use precomputed fixed-base window tables
//! cached per [`G1Bases::id`] (see `fixed_base.rs`).

use ark_ec::AffineRepr;
use ark_ec::VariableBaseMSM;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

use rayon::prelude::*;

use super::fixed_base::{self, FixedBaseTable};
use super::table_cache;

use super::{Backend, Direction, G1Bases, check_gf16_encode_shape, check_msm_shape, check_ntt_shape};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// The CPU backend. Cheap to build; holds no state yet.
#[derive(Debug, Default, Clone)]
pub struct Cpu;

impl Cpu {
    /// Builds the CPU backend.
    pub fn new() -> Self {
        Self
    }
}

fn rs_err(op: &'static str, e: reed_solomon_simd::Error) -> BackendError {
    BackendError::invalid(op, e.to_string())
}

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn gf16_encode(&self, original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        let len = check_gf16_encode_shape(original, recovery_count)?;
        let k = original.len();
        let encode = |range: std::ops::Range<usize>| {
            reed_solomon_simd::encode(k, recovery_count, original.iter().map(|s| &s[range.clone()]))
                .map_err(|e| rs_err("gf16_encode", e))
        };
        match gf16_split(k + recovery_count, len) {
            None => encode(0..len),
            Some(h) => {
                let (left, right) = rayon::join(|| encode(0..h), || encode(h..len));
                Ok(join_halves(left?, right?))
            }
        }
    }

    fn gf16_decode(
        &self,
        original_count: usize,
        recovery_count: usize,
        original: &[(usize, &[u8])],
        recovery: &[(usize, &[u8])],
    ) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        // Not split in halves like encode: measured here (shared 2-core machine), two half-width
        // decodes were no faster than one, as each repeats the per-call erasure-locator work.
        let restored = reed_solomon_simd::decode(
            original_count,
            recovery_count,
            original.iter().copied(),
            recovery.iter().copied(),
        )
        .map_err(|e| rs_err("gf16_decode", e))?;
        // BTreeMap iterates in increasing index order, as the Backend contract wants.
        Ok(restored.into_iter().collect())
    }

    fn ntt(&self, values: &mut [Fr], size: usize, direction: Direction, coset: Option<Fr>) -> Result<(), BackendError> {
        check_ntt_shape(values, size)?;
        let mut domain = Radix2EvaluationDomain::<Fr>::new(size).expect("size checked against two-adicity");
        if let Some(c) = coset {
            domain = domain.get_coset(c).ok_or_else(|| BackendError::invalid("ntt", "coset offset is zero"))?;
        }
        values.par_chunks_mut(size).for_each(|chunk| {
            // arkworks transforms a Vec in place; one copy per vector is cheap next to the NTT.
            let mut v = chunk.to_vec();
            match direction {
                Direction::Forward => domain.fft_in_place(&mut v),
                Direction::Inverse => domain.ifft_in_place(&mut v),
            }
            chunk.copy_from_slice(&v);
        });
        Ok(())
    }

    fn msm_g1(&self, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        check_msm_shape(bases, scalars)?;
        if bases.is_resident()
            && let Some(table) = table_cache::ready(bases)
        {
            return Ok(table.msm_batch(scalars));
        }
        Ok(scalars.iter().map(|s| G1Projective::msm_unchecked(&bases.points()[..s.len()], s)).collect())
    }

    fn msm_g1_many(&self, jobs: &[(&G1Bases, &[Fr])]) -> Result<Vec<G1Projective>, BackendError> {
        for (b, s) in jobs {
            check_msm_shape(b, &[s])?;
        }
        let tables: Option<Vec<table_cache::Table>> =
            jobs.iter().map(|(b, _)| b.is_resident().then(|| table_cache::ready(b)).flatten()).collect();
        if let Some(tables) = tables {
            // One batch-affine pass over every table (FK20's 128 small MSMs).
            let refs: Vec<(&FixedBaseTable, &[Fr])> = tables.iter().zip(jobs).map(|(t, (_, s))| (&**t, *s)).collect();
            return Ok(fixed_base::msm_many(&refs));
        }
        Ok(jobs.par_iter().map(|(b, s)| Ok(self.msm_g1(b, &[s])?[0])).collect::<Result<_, BackendError>>()?)
    }

    fn prepare_bases(&self, bases: &G1Bases) -> Result<(), BackendError> {
        if bases.is_resident() {
            table_cache::prepared(bases);
        }
        Ok(())
    }

    fn sum_g1(&self, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        Ok(groups.iter().map(|g| par_sum(g)).collect())
    }

    fn sum_g2(&self, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        Ok(groups.iter().map(|g| par_sum(g)).collect())
    }

    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        Ok(chunks.par_iter().map(|c| *blake3::hash(c).as_bytes()).collect())
    }
}

/// Shard data (all shards of a codeword together) below which one thread wins: rayon's
/// hand-off and the copy that joins the halves cost more than half of the transform saves.
/// Measured (noisily, shared machine): 2 MiB (1024:1024 × 1 KiB) lost, 8 MiB won ~2×.
const GF16_SPLIT_MIN_BYTES: usize = 4 << 20;

/// Where to cut every shard for two independent half-width GF(2^16) encodes, if worth it.
///
/// Leopard works column by column: byte `b` of a shard belongs to the 16-bit symbols of its
/// 64-byte block and never meets another block. Cutting at a multiple of 64 therefore leaves
/// every block (including a short final block) intact, so encoding the two halves separately
/// and concatenating gives exactly the same bytes as one call.
fn gf16_split(shard_count: usize, shard_bytes: usize) -> Option<usize> {
    let cut = shard_bytes / 2 / 64 * 64;
    (cut > 0 && shard_count * shard_bytes >= GF16_SPLIT_MIN_BYTES && rayon::current_num_threads() > 1).then_some(cut)
}

/// Concatenates the left and right halves of each shard.
fn join_halves(left: Vec<Vec<u8>>, right: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    left.into_iter()
        .zip(right)
        .map(|(mut l, r)| {
            l.extend_from_slice(&r);
            l
        })
        .collect()
}

/// Parallel sum of affine points (mixed addition into projective accumulators).
fn par_sum<A: AffineRepr>(points: &[A]) -> A::Group
where
    A::Group: Send,
{
    points
        .par_chunks(1024)
        .map(|c| c.iter().fold(A::Group::default(), |acc, p| acc + p))
        .reduce(A::Group::default, |a, b| a + b)
}

//! The `cpu` backend: rayon across batches, SIMD where the crates below provide it.
//!
//! GF(2^16) runs Leopard's transforms in L2-sized column blocks over every core (`cpu_gf16.rs`),
//! on crema's AVX-512 engine or reed-solomon-simd's AVX2/SSSE3/NEON one; field and
//! curve work goes through arkworks' parallel NTT and Pippenger MSM, except MSMs over
//! resident bases ([`G1Bases::resident`]), which use precomputed fixed-base window tables
//! cached per [`G1Bases::id`] (see `fixed_base.rs`). Point sums (BLS key and signature
//! aggregation) run on blst's batch-affine accumulation, like the rest of the cpu's BLS.

use ark_ec::AffineRepr;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

use rayon::prelude::*;

use super::fixed_base::{self, FixedBaseTable};
use super::{pippenger, table_cache};

use super::{Backend, Direction, G1Bases, Gf16Received, Gf16Restored, check_msm_shape, check_ntt_shape, cpu_gf16};
use crate::bls::arith::blst;
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

    /// Which GF(2^16) engine the Reed–Solomon transforms run on here: crema's AVX-512 one, or
    /// reed-solomon-simd's own pick (`CREMA_GF16_ENGINE=crate` forces the latter).
    pub fn gf16_engine() -> &'static str {
        cpu_gf16::engine_name()
    }

    /// The CPU features detected here that change which code paths run (the GF(2^16) engines,
    /// arkworks' assembly), for reports such as `crema info` and `crema bench --json`.
    pub fn features() -> Vec<&'static str> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            macro_rules! probe {
                ($($f:tt),*) => { $( if std::is_x86_feature_detected!($f) { out.push($f); } )* };
            }
            probe!("sse2", "ssse3", "sse4.1", "avx", "avx2", "bmi2", "adx", "avx512f", "avx512bw");
        }
        #[cfg(target_arch = "aarch64")]
        {
            if std::arch::is_aarch64_feature_detected!("neon") {
                out.push("neon");
            }
        }
        out
    }
}

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn gf16_encode(&self, original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        cpu_gf16::encode(original, recovery_count)
    }

    fn gf16_decode(&self, received: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        cpu_gf16::decode(received)
    }

    fn gf16_reconstruct(&self, received: &Gf16Received<'_>) -> Result<Gf16Restored, BackendError> {
        cpu_gf16::reconstruct(received)
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
        Ok(scalars.par_iter().map(|s| pippenger::msm(bases.points(), s)).collect())
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
        jobs.par_iter().map(|(b, s)| Ok(self.msm_g1(b, &[s])?[0])).collect()
    }

    fn prepare_bases(&self, bases: &G1Bases) -> Result<(), BackendError> {
        if bases.is_resident() {
            table_cache::prepared(bases);
        }
        Ok(())
    }

    fn sum_g1(&self, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        Ok(groups.iter().map(|g| blst::sum_g1(g).into_group()).collect())
    }

    fn sum_g2(&self, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        Ok(groups.iter().map(|g| blst::sum_g2(g).into_group()).collect())
    }

    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        Ok(chunks.par_iter().map(|c| *blake3::hash(c).as_bytes()).collect())
    }
}

//! The [`Backend`] trait: the small set of compute primitives every heavy algorithm is built on.
//!
//! Modelled on reed-solomon-simd's `Engine`: primitives only, batch-first, written once per
//! backend; the algorithms (erasure coding, KZG, BLS aggregation, VID) are written once above it.
//! Every backend must produce the same canonical bytes as the [`Reference`] backend, which
//! [`conformance`] checks.
//!
//! # Primitive or algorithm
//!
//! A method belongs on the trait when it is a **primitive**: one batch of heavy arithmetic whose
//! result a specification fixes byte for byte (Leopard GF(2^16), an NTT, an MSM, a point sum,
//! BLAKE3), and that a backend can compute faster its own way — in its own memory, kernels or
//! tables — than by composing other methods. Whatever composes primitives is an **algorithm**:
//! validating a user's input against a code or a setup, checksums, erasure coding over byte
//! shards, KZG, BLS, VID. An algorithm is written once above the trait (`erasure`, `kzg`, `bls`,
//! `vid`), takes `&dyn Backend`, and is never a trait method for convenience.
//!
//! A primitive has a provided (default) body only when some backend overrides it for speed and
//! the default, composed from the other primitives, gives the same bytes: a new backend then
//! works at once, and the conformance suite compares each override with the default (the
//! reference backend keeps every default). There are three:
//!
//! - [`Backend::gf16_reconstruct`]: default decode and re-encode
//!   ([`crate::gf16::reconstruct::by_reencoding`]); cpu and gpu restore the whole codeword in
//!   one decode ([`crate::gf16::reconstruct::in_one_decode`]).
//! - [`Backend::msm_g1_many`]: default one [`Backend::msm_g1`] after another; cpu runs one
//!   batch-affine pass over every fixed-base table, gpu one submission.
//! - [`Backend::prepare_bases`]: default nothing (a backend may build tables lazily); cpu builds
//!   its fixed-base tables now. A hint about resident state that never changes a result.
//!
//! What the backends share lies below them, so no backend imports an algorithm: the GF(2^16)
//! code's tables, layout, checks and reconstruction ([`crate::gf16`]), and the NTT and MSM shape
//! checks (`checks.rs`), so that every backend refuses the same calls.
//!
//! # Files
//!
//! - this file: the trait and [`Direction`];
//! - `bases.rs`: [`G1Bases`], MSM bases with an id for resident tables;
//! - `bls_arithmetic.rs`: [`BlsArithmetic`], the library [`Backend::bls_arithmetic`] names for
//!   the `bls` module's pairings, hash to G2 and scalar multiplications (not a primitive: they
//!   stay on the CPU, blst unless the backend is the reference);
//! - `choice.rs`: [`BackendChoice`], the run-time choice and the factory (`auto`'s adapter
//!   detection);
//! - the backends: `reference.rs` ([`Reference`]), `cpu.rs` ([`Cpu`], with `cpu_gf16.rs`,
//!   `gf16_avx512.rs`, `pippenger.rs`, `fixed_base.rs`, `batch_affine.rs`, `table_cache.rs`) and
//!   `gpu.rs` ([`Gpu`], with `gpu/`);
//! - [`conformance`]: the one test suite every backend passes.

mod bases;
mod batch_affine;
mod bls_arithmetic;
mod checks;
mod choice;
pub mod conformance;
mod cpu;
mod cpu_gf16;
mod fixed_base;
mod gf16_avx512;
// Public only for the engine's own GPU kernel tests (field tables, decode layouts); use
// [`Gpu`] and [`adapters`] from here.
#[doc(hidden)]
pub mod gpu;
mod pippenger;
mod reference;
mod table_cache;

use std::fmt;

pub use bases::G1Bases;
pub use bls_arithmetic::BlsArithmetic;
pub(crate) use checks::{check_msm_shape, check_ntt_shape};
pub use choice::BackendChoice;
pub use cpu::Cpu;
pub use gpu::{AdapterReport, Gpu, PORTED as GPU_KERNELS, adapters};
pub use reference::Reference;

use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crate::gf16::reconstruct;
pub use crate::gf16::{Gf16Received, Gf16Restored};

/// Direction of a number-theoretic transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Coefficients to evaluations: `out[i] = Σ_j a_j · (c·ω^i)^j`.
    Forward,
    /// Evaluations to coefficients (the exact inverse of [`Direction::Forward`]).
    Inverse,
}

/// The compute primitives. Inputs are validated by the caller's layer (erasure, kzg, bls);
/// a backend still returns [`BackendError::InvalidInput`] rather than panicking on shapes it
/// cannot handle.
pub trait Backend: Send + Sync + fmt::Debug {
    /// `"reference"`, `"cpu"` or `"gpu"`.
    fn name(&self) -> &'static str;

    /// Leopard GF(2^16) encode (= reed-solomon-simd 3.x): `original` shards, all of one even
    /// length, into `recovery_count` recovery shards of the same length.
    fn gf16_encode(&self, original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError>;

    /// Leopard GF(2^16) decode: given at least `original_count` distinct shards of a codeword,
    /// returns the missing original shards as `(index, bytes)` in increasing index order.
    fn gf16_decode(&self, received: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError>;

    /// Leopard GF(2^16) reconstruction of a whole codeword: given **exactly** `original_count`
    /// distinct shards, returns every other shard (originals and recovery) of the one codeword
    /// through them. Since that many shards fix the codeword, the result is a codeword whatever
    /// the input, so a caller holding a commitment over all shards can check it without
    /// re-encoding (avidm recovery does). The default decodes the originals and re-encodes
    /// them; the cpu and gpu backends restore everything in one decode.
    fn gf16_reconstruct(&self, received: &Gf16Received<'_>) -> Result<Gf16Restored, BackendError> {
        reconstruct::by_reencoding(
            received,
            |r| self.gf16_decode(r),
            |all| self.gf16_encode(all, received.recovery_count),
        )
    }

    /// In-place NTT over Fr on a batch: `values` holds `values.len() / size` vectors of `size`
    /// (a power of two) elements each, every one transformed independently in natural order.
    /// With `coset = Some(c)` the evaluation points are `c·ω^i`.
    fn ntt(&self, values: &mut [Fr], size: usize, direction: Direction, coset: Option<Fr>) -> Result<(), BackendError>;

    /// Batched G1 multi-scalar multiplication over fixed bases: one result per scalar vector,
    /// `Σ_i s[i]·bases[i]`. A scalar vector may be shorter than the bases (missing = 0).
    fn msm_g1(&self, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError>;

    /// Many independent MSMs, each over its own fixed bases (FK20 runs 128 of 64 points).
    /// The default runs them one after the other through [`Backend::msm_g1`]; the cpu and gpu
    /// backends override it to run them together.
    fn msm_g1_many(&self, jobs: &[(&G1Bases, &[Fr])]) -> Result<Vec<G1Projective>, BackendError> {
        jobs.iter().map(|(b, s)| Ok(self.msm_g1(b, &[s])?[0])).collect()
    }

    /// Builds (blocking) whatever the backend keeps for resident `bases` — precomputed tables,
    /// a device copy — so the next MSM over them runs at steady-state speed. Otherwise a
    /// backend may build them lazily or in the background; results never depend on it.
    fn prepare_bases(&self, _bases: &G1Bases) -> Result<(), BackendError> {
        Ok(())
    }

    /// Sums each group of G1 points (public-key aggregation). Empty groups give the identity.
    fn sum_g1(&self, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError>;

    /// Sums each group of G2 points (signature aggregation). Empty groups give the identity.
    fn sum_g2(&self, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError>;

    /// BLAKE3 hash of each chunk (Merkle leaves).
    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError>;

    /// The library the `bls` module runs this backend's hash to G2, scalar multiplications and
    /// pairings on (DESIGN.md: they stay on the CPU). Blst unless the backend is the oracle.
    fn bls_arithmetic(&self) -> BlsArithmetic {
        BlsArithmetic::Blst
    }
}

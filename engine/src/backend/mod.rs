//! The [`Backend`] trait: the small set of compute primitives every heavy algorithm is built on.
//!
//! Modelled on reed-solomon-simd's `Engine`: primitives only, batch-first, written once per
//! backend; the algorithms (erasure coding, KZG, BLS aggregation, VID) are written once above it.
//! Every backend must produce the same canonical bytes as the [`Reference`] backend, which
//! [`conformance`] checks.

mod batch_affine;
mod bls_arithmetic;
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

pub use cpu::Cpu;
pub use gpu::{AdapterReport, Gpu, PORTED as GPU_KERNELS, adapters};
pub use reference::Reference;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use bls_arithmetic::BlsArithmetic;

use crate::erasure::gf16::naive::{self, DecodePlan};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// Direction of a number-theoretic transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Coefficients to evaluations: `out[i] = Σ_j a_j · (c·ω^i)^j`.
    Forward,
    /// Evaluations to coefficients (the exact inverse of [`Direction::Forward`]).
    Inverse,
}

/// A fixed set of G1 bases for multi-scalar multiplication, with a process-unique id so a
/// backend may keep them (or tables derived from them) resident across calls.
#[derive(Clone)]
pub struct G1Bases {
    id: u64,
    points: Arc<[G1Affine]>,
    resident: bool,
}

impl G1Bases {
    /// Wraps `points` under a fresh id.
    pub fn new(points: Vec<G1Affine>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self { id: NEXT.fetch_add(1, Ordering::Relaxed), points: points.into(), resident: false }
    }

    /// Wraps long-lived `points` (a trusted setup, FK20 tables) under a fresh id, inviting the
    /// backend to build and keep precomputed tables for them for the life of the process.
    pub fn resident(points: Vec<G1Affine>) -> Self {
        Self { resident: true, ..Self::new(points) }
    }

    /// True when built by [`G1Bases::resident`].
    pub fn is_resident(&self) -> bool {
        self.resident
    }

    /// The id backends key their caches on.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The points themselves.
    pub fn points(&self) -> &[G1Affine] {
        &self.points
    }

    /// Number of bases.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when there are no bases.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl fmt::Debug for G1Bases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("G1Bases")
            .field("id", &self.id)
            .field("len", &self.points.len())
            .field("resident", &self.resident)
            .finish()
    }
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

    /// Leopard GF(2^16) decode: given at least `original_count` distinct shards of a code with
    /// `original_count + recovery_count` shards, returns the missing original shards as
    /// `(index, bytes)` in increasing index order.
    fn gf16_decode(
        &self,
        original_count: usize,
        recovery_count: usize,
        original: &[(usize, &[u8])],
        recovery: &[(usize, &[u8])],
    ) -> Result<Vec<(usize, Vec<u8>)>, BackendError>;

    /// Leopard GF(2^16) reconstruction of a whole codeword: given **exactly** `original_count`
    /// distinct shards, returns every other shard (originals and recovery) of the one codeword
    /// through them. Since that many shards fix the codeword, the result is a codeword whatever
    /// the input, so a caller holding a commitment over all shards can check it without
    /// re-encoding (avidm recovery does). The default decodes the originals and re-encodes
    /// them; the cpu and gpu backends restore everything in one decode.
    fn gf16_reconstruct(
        &self,
        original_count: usize,
        recovery_count: usize,
        original: &[(usize, &[u8])],
        recovery: &[(usize, &[u8])],
    ) -> Result<Gf16Restored, BackendError> {
        check_reconstruct_count(original_count, original, recovery)?;
        let restored = self.gf16_decode(original_count, recovery_count, original, recovery)?;
        // gf16_decode validated the indices, so every original is now in one of the two lists.
        let mut all: Vec<&[u8]> = vec![&[]; original_count];
        original
            .iter()
            .map(|(i, s)| (*i, *s))
            .chain(restored.iter().map(|(i, s)| (*i, s.as_slice())))
            .for_each(|(i, s)| all[i] = s);
        let encoded = self.gf16_encode(&all, recovery_count)?;
        Ok(Gf16Restored { recovery: missing_recovery(encoded, recovery), original: restored })
    }

    /// In-place NTT over Fr on a batch: `values` holds `values.len() / size` vectors of `size`
    /// (a power of two) elements each, every one transformed independently in natural order.
    /// With `coset = Some(c)` the evaluation points are `c·ω^i`.
    fn ntt(&self, values: &mut [Fr], size: usize, direction: Direction, coset: Option<Fr>) -> Result<(), BackendError>;

    /// Batched G1 multi-scalar multiplication over fixed bases: one result per scalar vector,
    /// `Σ_i s[i]·bases[i]`. A scalar vector may be shorter than the bases (missing = 0).
    fn msm_g1(&self, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError>;

    /// Many independent MSMs, each over its own fixed bases (FK20 runs 128 of 64 points).
    /// The default runs them one after the other through [`Backend::msm_g1`]; backends
    /// override it to run them concurrently.
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

/// Which backend to build, chosen at run time (`--backend`, `CREMA_BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A real GPU when one is present, else the CPU; the choice is logged once.
    #[default]
    Auto,
    /// rayon + SIMD on the CPU.
    Cpu,
    /// wgpu compute shaders; an error when no adapter exists.
    Gpu,
    /// The textbook oracle: slow, obviously right.
    Reference,
}

impl BackendChoice {
    /// Every choice, in the order `crema info` lists them.
    pub const ALL: [BackendChoice; 4] = [Self::Auto, Self::Cpu, Self::Gpu, Self::Reference];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
            Self::Reference => "reference",
        }
    }

    /// Reads `CREMA_BACKEND`, defaulting to [`BackendChoice::Auto`] when unset.
    pub fn from_env() -> Result<Self, BackendError> {
        match std::env::var("CREMA_BACKEND") {
            Ok(v) => v.parse(),
            Err(_) => Ok(Self::Auto),
        }
    }

    /// Builds the backend. Fallback happens only here (`Auto` without a GPU); a device error
    /// after construction is always reported, never hidden.
    pub fn build(self) -> Result<Arc<dyn Backend>, BackendError> {
        match self {
            Self::Cpu => Ok(Arc::new(cpu::Cpu::new())),
            Self::Reference => Ok(Arc::new(reference::Reference::new())),
            Self::Gpu => Ok(Arc::new(gpu::Gpu::shared()?)),
            Self::Auto => Ok(Self::auto()),
        }
    }

    /// `auto`: the gpu backend when a real GPU is present, else the CPU, with the choice and its
    /// reason printed once. A CPU-type adapter (lavapipe, SwiftShader) does not count — it runs
    /// the kernels correctly but far slower than the CPU backend; `--backend gpu` uses it.
    fn auto() -> Arc<dyn Backend> {
        let real = gpu::adapters().into_iter().find(|a| !a.is_cpu);
        let reason = match real {
            None => "no GPU adapter besides CPU-type ones".to_string(),
            Some(adapter) => match gpu::Gpu::shared() {
                Ok(gpu) if !gpu.adapter().is_cpu => return Arc::new(gpu),
                Ok(gpu) => {
                    format!("wgpu opened the CPU-type adapter {} rather than {}", gpu.adapter().name, adapter.name)
                }
                Err(e) => format!("{} could not be opened: {e}", adapter.name),
            },
        };
        eprintln!("crema: backend auto -> cpu ({reason})");
        Arc::new(cpu::Cpu::new())
    }
}

impl FromStr for BackendChoice {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            BackendError::invalid(
                "backend choice",
                format!("unknown backend {s:?}; expected auto, cpu, gpu or reference"),
            )
        })
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks the shape of a batched NTT call; shared by every backend.
pub(crate) fn check_ntt_shape(values: &[Fr], size: usize) -> Result<(), BackendError> {
    if size == 0 || !size.is_power_of_two() {
        return Err(BackendError::invalid("ntt", format!("size {size} is not a power of two")));
    }
    if size.trailing_zeros() > 32 {
        return Err(BackendError::invalid("ntt", format!("size {size} exceeds Fr's 2^32 two-adicity")));
    }
    if !values.len().is_multiple_of(size) {
        return Err(BackendError::invalid("ntt", format!("{} values is not a multiple of size {size}", values.len())));
    }
    Ok(())
}

/// Checks that no scalar vector is longer than the bases; shared by every backend.
pub(crate) fn check_msm_shape(bases: &G1Bases, scalars: &[&[Fr]]) -> Result<(), BackendError> {
    if let Some(s) = scalars.iter().find(|s| s.len() > bases.len()) {
        return Err(BackendError::invalid("msm_g1", format!("{} scalars for {} bases", s.len(), bases.len())));
    }
    Ok(())
}

/// What [`Backend::gf16_reconstruct`] restores: the shards it was not given, each list as
/// `(index, bytes)` in increasing index order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gf16Restored {
    /// The missing original shards.
    pub original: Vec<(usize, Vec<u8>)>,
    /// The missing recovery shards.
    pub recovery: Vec<(usize, Vec<u8>)>,
}

/// Checks a reconstruct call was given exactly `k` shards; shared by every backend.
pub(crate) fn check_reconstruct_count(
    k: usize,
    original: &[(usize, &[u8])],
    recovery: &[(usize, &[u8])],
) -> Result<(), BackendError> {
    let given = original.len() + recovery.len();
    if given != k {
        return Err(BackendError::invalid("gf16_reconstruct", format!("{given} shards given, exactly {k} needed")));
    }
    Ok(())
}

/// `gf16_reconstruct` for a backend that can restore any erased rows in one Leopard decode:
/// validates the call, encodes when every original is given (then no recovery shard is), else
/// has `restore` decode the missing originals' and recovery shards' rows together (returned in
/// the order of the positions it is given) and sorts them into the two lists.
pub(crate) fn reconstruct_in_one_decode(
    k: usize,
    m: usize,
    original: &[(usize, &[u8])],
    recovery: &[(usize, &[u8])],
    encode: impl FnOnce(&[&[u8]]) -> Result<Vec<Vec<u8>>, BackendError>,
    restore: impl FnOnce(&mut DecodePlan, &[(usize, &[u8])], &[usize]) -> Result<Vec<Vec<u8>>, BackendError>,
) -> Result<Gf16Restored, BackendError> {
    check_reconstruct_count(k, original, recovery)?;
    let Some(mut plan) = naive::plan_decode(k, m, original, recovery)? else {
        let mut all: Vec<&[u8]> = vec![&[]; k];
        original.iter().for_each(|&(i, s)| all[i] = s);
        return Ok(Gf16Restored { original: Vec::new(), recovery: missing_recovery(encode(&all)?, recovery) });
    };
    let received = plan.received(original, recovery);
    let positions: Vec<usize> = plan.restore().into_iter().chain(plan.restore_recovery()).collect();
    let mut rows = restore(&mut plan, &received, &positions)?.into_iter();
    let original = plan.missing.iter().copied().zip(rows.by_ref()).collect();
    Ok(Gf16Restored { original, recovery: plan.missing_recovery.iter().copied().zip(rows).collect() })
}

/// The recovery shards of `encoded` whose index is not among `given`, as `(index, bytes)`.
pub(crate) fn missing_recovery(encoded: Vec<Vec<u8>>, given: &[(usize, &[u8])]) -> Vec<(usize, Vec<u8>)> {
    let mut have = vec![false; encoded.len()];
    for &(j, _) in given {
        if let Some(h) = have.get_mut(j) {
            *h = true;
        }
    }
    encoded.into_iter().enumerate().filter(|(j, _)| !have[*j]).collect()
}

/// Checks the shape of a GF(2^16) encode call; shared by every backend.
pub(crate) fn check_gf16_encode_shape(original: &[&[u8]], recovery_count: usize) -> Result<usize, BackendError> {
    let k = original.len();
    if k == 0 || recovery_count == 0 {
        return Err(BackendError::invalid("gf16_encode", format!("{k} original and {recovery_count} recovery shards")));
    }
    let len = original[0].len();
    if len == 0 || !len.is_multiple_of(2) {
        return Err(BackendError::invalid("gf16_encode", format!("shard size {len} is not a positive even number")));
    }
    if let Some((i, s)) = original.iter().enumerate().find(|(_, s)| s.len() != len) {
        return Err(BackendError::invalid("gf16_encode", format!("shard {i} has {} bytes, expected {len}", s.len())));
    }
    Ok(len)
}

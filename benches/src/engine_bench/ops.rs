//! What a benchmark case is, what a backend under test is, and how one call is timed.
//!
//! A [`Case`] is one operation at one size. Its inputs are built lazily (only for the cases the
//! filter keeps) and once, then shared by every backend; the [`Runner`] it yields times one
//! call of the operation on a [`Target`] and returns a [`Sample`]: the end-to-end time, the
//! GPU kernel-only time when there is one, and a BLAKE3 hash of the canonical output bytes
//! (the correctness guard compares these across backends).

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use crema_engine::backend::Cpu;
use crema_engine::backend::Gpu;
use crema_engine::bls::BlsError;
use crema_engine::erasure::gf16::Gf16Error;
use crema_engine::kzg::{KzgContext, KzgError};
use crema_engine::merkle::MerkleError;
use crema_engine::vid::VidError;
use crema_engine::{Backend, BackendError};

/// How much work one call does, for the throughput column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Work {
    /// Payload bytes processed (throughput in bytes/s).
    Bytes(u64),
    /// Items processed (throughput in `unit`/s: elements, points, signers).
    Items {
        /// How many.
        count: u64,
        /// What they are, plural.
        unit: &'static str,
    },
}

impl Work {
    /// The amount of work, in bytes or items.
    pub fn amount(&self) -> u64 {
        match *self {
            Work::Bytes(n) | Work::Items { count: n, .. } => n,
        }
    }

    /// `"bytes"` or the item unit.
    pub fn unit(&self) -> &'static str {
        match self {
            Work::Bytes(_) => "bytes",
            Work::Items { unit, .. } => unit,
        }
    }
}

/// One timed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Wall-clock time of the whole call (GPU: uploads, kernels, readback, host-side steps).
    pub wall_ns: u64,
    /// Time inside GPU compute passes during the call (timestamp queries); `None` on the CPU
    /// or on an adapter without timestamp queries.
    pub kernel_ns: Option<u64>,
    /// BLAKE3 of the canonical output bytes.
    pub hash: [u8; 32],
}

/// Why a call produced no sample.
#[derive(Debug)]
pub enum Failure {
    /// The backend does not offer this op (not ported to the GPU yet, or no adapter): shown
    /// as "n/a (reason)", never replaced by another backend's result.
    Unavailable(String),
    /// Anything else: a real error, reported and turned into a non-zero exit.
    Error(anyhow::Error),
}

/// Finds a [`BackendError::Unavailable`] inside an engine error, so "not ported" is told apart
/// from real failures (the engine's error enums wrap the backend's error transparently).
pub trait Unavailability {
    /// The backend's reason when the error is, at bottom, an unavailable backend op.
    fn unavailable(&self) -> Option<String>;
}

impl Unavailability for BackendError {
    fn unavailable(&self) -> Option<String> {
        match self {
            BackendError::Unavailable { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }
}

impl Unavailability for Gf16Error {
    fn unavailable(&self) -> Option<String> {
        match self {
            Gf16Error::Backend(e) => e.unavailable(),
            _ => None,
        }
    }
}

impl Unavailability for MerkleError {
    fn unavailable(&self) -> Option<String> {
        match self {
            MerkleError::Backend(e) => e.unavailable(),
            _ => None,
        }
    }
}

impl Unavailability for BlsError {
    fn unavailable(&self) -> Option<String> {
        match self {
            BlsError::Backend(e) => e.unavailable(),
            _ => None,
        }
    }
}

impl Unavailability for KzgError {
    fn unavailable(&self) -> Option<String> {
        match self {
            KzgError::Backend(e) => e.unavailable(),
            _ => None,
        }
    }
}

impl Unavailability for VidError {
    fn unavailable(&self) -> Option<String> {
        match self {
            VidError::Backend(e) => e.unavailable(),
            VidError::Code(e) => e.unavailable(),
            VidError::Merkle(e) => e.unavailable(),
            _ => None,
        }
    }
}

impl<E: Unavailability + std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        match e.unavailable() {
            Some(reason) => Failure::Unavailable(reason),
            None => Failure::Error(e.into()),
        }
    }
}

/// A backend under test (or one that could not be built, with the reason).
pub struct Target {
    /// `"cpu"` or `"gpu"`.
    pub name: &'static str,
    /// The backend, or why it is unavailable (e.g. no GPU adapter).
    pub backend: Result<Arc<dyn Backend>, String>,
    /// The same backend as a [`Gpu`], for its kernel-time counter.
    gpu: Option<Arc<Gpu>>,
    /// A KZG context over this backend, built on first use and shared by the KZG cases so
    /// their lazily built FK20 tables are built once.
    kzg: OnceCell<Arc<KzgContext>>,
}

impl Target {
    /// The CPU backend.
    pub fn cpu() -> Self {
        Self { name: "cpu", backend: Ok(Arc::new(Cpu::new())), gpu: None, kzg: OnceCell::new() }
    }

    /// The GPU backend, or an unavailable target saying why it could not be built.
    pub fn gpu() -> Self {
        match Gpu::shared() {
            Ok(g) => {
                let g = Arc::new(g);
                Self { name: "gpu", backend: Ok(g.clone()), gpu: Some(g), kzg: OnceCell::new() }
            }
            Err(e) => {
                let reason = e.unavailable().unwrap_or_else(|| e.to_string());
                Self { name: "gpu", backend: Err(reason), gpu: None, kzg: OnceCell::new() }
            }
        }
    }

    /// The backend; callers only run cases on targets that have one.
    pub fn backend(&self) -> Result<&dyn Backend, Failure> {
        self.backend.as_deref().map_err(|reason| Failure::Unavailable(reason.clone()))
    }

    /// The GPU adapter's name, for the report.
    pub fn adapter_name(&self) -> Option<String> {
        self.gpu.as_ref().map(|g| g.adapter().name.clone())
    }

    /// The KZG context over this backend.
    pub fn kzg(&self) -> Result<&KzgContext, Failure> {
        if let Some(k) = self.kzg.get() {
            return Ok(k);
        }
        let backend = self.backend.clone().map_err(Failure::Unavailable)?;
        let ctx = KzgContext::new(backend)?;
        // Steady state is what the bench reports: FK20 and fixed-base tables are built first.
        ctx.warm_up()?;
        Ok(self.kzg.get_or_init(|| Arc::new(ctx)))
    }

    /// Kernel time since the last call (and resets the counter).
    fn take_kernel_nanos(&self) -> Option<u64> {
        self.gpu.as_ref().and_then(|g| g.take_kernel_nanos())
    }

    /// Times `call` on this target: clears the kernel counter, runs the call, reads the clock
    /// and the counter, and only then hashes the output with `digest` (untimed).
    pub fn time<T>(
        &self,
        call: impl FnOnce() -> Result<T, Failure>,
        digest: impl FnOnce(&T, &mut blake3::Hasher) -> Result<(), Failure>,
    ) -> Result<Sample, Failure> {
        let _ = self.take_kernel_nanos();
        let start = Instant::now();
        let out = black_box(call()?);
        let wall_ns = start.elapsed().as_nanos() as u64;
        let kernel_ns = self.take_kernel_nanos();
        let mut h = blake3::Hasher::new();
        digest(&out, &mut h)?;
        // `out` is dropped here, after the clock stopped: freeing big outputs is not timed.
        Ok(Sample { wall_ns, kernel_ns, hash: *h.finalize().as_bytes() })
    }
}

/// Times one call of an operation on a target.
pub type Runner = Box<dyn Fn(&Target) -> Result<Sample, Failure>>;

/// Builds a case's inputs (once) and returns its runner.
pub type Prepare = Box<dyn FnOnce() -> anyhow::Result<Runner>>;

/// One operation at one size.
pub struct Case {
    /// The panel of the plot it goes in (`gf16`, `merkle`, `ntt`, `msm`, `sum`, `kzg`, `bls`, `vid`).
    pub family: &'static str,
    /// The operation (`gf16_encode`, `msm_g1`, …).
    pub op: &'static str,
    /// The size, as shown (`1024:1024 x 1 KiB`, `2^16`, …).
    pub size: String,
    /// Work per call, for throughput.
    pub work: Work,
    /// What the timed call is, exactly.
    pub timed: &'static str,
    /// Builds the inputs and the runner.
    pub prepare: Prepare,
}

impl Case {
    /// `op size`, what `--filter` matches against (case-insensitively).
    pub fn label(&self) -> String {
        format!("{} {}", self.op, self.size)
    }

    /// True when `filter` (if any) is a substring of the label or the family.
    pub fn matches(&self, filter: Option<&str>) -> bool {
        filter.is_none_or(|f| {
            let f = f.to_ascii_lowercase();
            self.label().to_ascii_lowercase().contains(&f) || self.family.contains(&f)
        })
    }
}

/// Hashes a list of byte strings with their lengths, so `["ab","c"]` and `["a","bc"]` differ.
pub fn digest_all<'a>(h: &mut blake3::Hasher, parts: impl IntoIterator<Item = &'a [u8]>) {
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(op: &'static str, size: &str) -> Case {
        Case {
            family: "gf16",
            op,
            size: size.into(),
            work: Work::Bytes(1),
            timed: "",
            prepare: Box::new(|| anyhow::bail!("not built in this test")),
        }
    }

    #[test]
    fn filter_matches_op_size_or_family() {
        let c = case("gf16_encode", "1024:1024 x 1 KiB");
        assert!(c.matches(None));
        assert!(c.matches(Some("encode")));
        assert!(c.matches(Some("GF16_ENCODE 1024")));
        assert!(c.matches(Some("gf16")));
        assert!(!c.matches(Some("msm")));
    }

    #[test]
    fn unavailable_is_told_apart_from_errors() {
        let na = BackendError::Unavailable { backend: "gpu", reason: "ntt is not ported".into() };
        assert!(
            matches!(Failure::from(KzgError::Backend(na.clone())), Failure::Unavailable(r) if r == "ntt is not ported")
        );
        assert!(matches!(Failure::from(VidError::Code(Gf16Error::Backend(na))), Failure::Unavailable(_)));
        let dev = BackendError::Device { op: "ntt", reason: "lost".into() };
        assert!(matches!(Failure::from(KzgError::Backend(dev)), Failure::Error(_)));
    }

    #[test]
    fn digest_separates_parts() {
        let (mut a, mut b) = (blake3::Hasher::new(), blake3::Hasher::new());
        digest_all(&mut a, [&b"ab"[..], b"c"]);
        digest_all(&mut b, [&b"a"[..], b"bc"]);
        assert_ne!(a.finalize(), b.finalize());
    }
}

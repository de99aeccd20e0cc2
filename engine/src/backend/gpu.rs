//! The `gpu` backend: wgpu compute shaders from `crema-kernels`, byte-identical to the CPU.
//!
//! Ported so far: `merkle_leaves` (BLAKE3), `ntt`, `msm_g1` / `msm_g1_many` and
//! `sum_g1` / `sum_g2` (in `gpu/algebra.rs`; arkworks conversions in `gpu/convert.rs`). Every other primitive returns
//! [`BackendError::Unavailable`] naming the op — never a silent CPU computation, so a caller
//! always knows what ran where. `auto` therefore keeps choosing the CPU until every op is ported.

mod algebra;
mod convert;

use std::sync::Arc;

pub use crema_kernels::{AdapterReport, adapters};
use crema_kernels::{GpuContext, GpuError};

use super::{Backend, Direction, G1Bases};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// The primitives that run as GPU kernels in this build.
pub const PORTED: &[&str] = &["merkle_leaves", "msm_g1", "msm_g1_many", "ntt", "sum_g1", "sum_g2"];

/// The GPU backend: one [`GpuContext`] (device, queue, pipelines) built once and shared.
#[derive(Debug, Clone)]
pub struct Gpu {
    ctx: Arc<GpuContext>,
}

impl Gpu {
    /// Opens the best adapter (lavapipe counts) and builds every pipeline.
    pub fn new() -> Result<Self, BackendError> {
        let ctx = GpuContext::new().map_err(|e| BackendError::Unavailable { backend: "gpu", reason: e.to_string() })?;
        Ok(Self { ctx: Arc::new(ctx) })
    }

    /// The process-wide GPU backend, opened on first success and shared after: a device and
    /// its pipelines cost seconds to build (shader compilation), and everything that asks for
    /// "the gpu backend" by name (the vectors runner, the KZG VID scheme's context cache) must
    /// land on the same device. A failure is returned and retried on the next call.
    pub fn shared() -> Result<Self, BackendError> {
        static SHARED: std::sync::Mutex<Option<Gpu>> = std::sync::Mutex::new(None);
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gpu) = slot.as_ref() {
            return Ok(gpu.clone());
        }
        let gpu = Self::new()?;
        eprintln!("crema: backend gpu on {} ({})", gpu.adapter().name, gpu.adapter().device_type);
        Ok(slot.insert(gpu).clone())
    }

    /// Test-only: a backend whose kernels act as if storage bindings held at most `bytes`, so
    /// tests reach the paths that cut work at the adapter's limit with small inputs.
    #[doc(hidden)]
    pub fn with_storage_binding_limit(bytes: u64) -> Result<Self, BackendError> {
        let ctx = GpuContext::new().map_err(|e| BackendError::Unavailable { backend: "gpu", reason: e.to_string() })?;
        Ok(Self { ctx: Arc::new(ctx.with_storage_binding_limit(bytes)) })
    }

    /// The adapter in use.
    pub fn adapter(&self) -> &AdapterReport {
        self.ctx.adapter()
    }

    /// Nanoseconds spent inside GPU compute passes (timestamp queries) since the last call, or
    /// `None` when the adapter has no timestamp queries. Uploads, readbacks, submission and any
    /// host-side work are excluded; `crema bench` reports this as the kernel-only time beside
    /// the end-to-end time of the same call.
    pub fn take_kernel_nanos(&self) -> Option<u64> {
        self.ctx.take_kernel_nanos()
    }
}

fn not_ported(op: &'static str) -> BackendError {
    BackendError::Unavailable {
        backend: "gpu",
        reason: format!("{op} is not ported to the GPU yet (ported: {PORTED:?})"),
    }
}

fn device(op: &'static str, e: GpuError) -> BackendError {
    BackendError::Device { op, reason: e.to_string() }
}

impl Backend for Gpu {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn gf16_encode(&self, _original: &[&[u8]], _recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        Err(not_ported("gf16_encode"))
    }

    fn gf16_decode(
        &self,
        _original_count: usize,
        _recovery_count: usize,
        _original: &[(usize, &[u8])],
        _recovery: &[(usize, &[u8])],
    ) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        Err(not_ported("gf16_decode"))
    }

    fn ntt(&self, values: &mut [Fr], size: usize, dir: Direction, coset: Option<Fr>) -> Result<(), BackendError> {
        algebra::ntt(&self.ctx, values, size, dir, coset)
    }

    fn msm_g1(&self, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        algebra::msm_g1(&self.ctx, bases, scalars)
    }

    fn msm_g1_many(&self, jobs: &[(&G1Bases, &[Fr])]) -> Result<Vec<G1Projective>, BackendError> {
        algebra::msm_g1_many(&self.ctx, jobs)
    }

    fn sum_g1(&self, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        algebra::sum_g1(&self.ctx, groups)
    }

    fn sum_g2(&self, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        algebra::sum_g2(&self.ctx, groups)
    }

    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        self.ctx.blake3_many(chunks).map_err(|e| device("merkle_leaves", e))
    }
}

//! The `gpu` backend: wgpu compute shaders from `crema-kernels`, byte-identical to the CPU.
//!
//! Every primitive runs as GPU kernels: `merkle_leaves` (BLAKE3), `gf16_encode` and
//! `gf16_decode` (Leopard; the engine keeps the code's logic — rate choice, field positions,
//! erasures, the field tables in [`crate::gf16`] — and hands it to the kernels, so the GPU
//! cannot lay a codeword out differently from the reference), `ntt`,
//! `msm_g1` / `msm_g1_many` and `sum_g1` / `sum_g2` (in `gpu/algebra.rs`; arkworks conversions
//! in `gpu/convert.rs`). A device error is returned as [`BackendError::Device`], never hidden
//! behind a CPU computation.

mod algebra;
mod convert;

use std::sync::Arc;

pub use crema_kernels::{AdapterReport, adapters};
use crema_kernels::{Gf16Decode, Gf16Rate, Gf16Tables, GpuContext, GpuError};

use super::{Backend, Direction, G1Bases, Gf16Received, Gf16Restored};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crate::gf16::{DecodePlan, check_encode, plan_decode, reconstruct, tables, use_high_rate};

/// The primitives that run as GPU kernels in this build.
pub const PORTED: &[&str] =
    &["gf16_encode", "gf16_decode", "merkle_leaves", "msm_g1", "msm_g1_many", "ntt", "sum_g1", "sum_g2"];

/// The GPU backend: one [`GpuContext`] (device, queue, pipelines) built once and shared.
#[derive(Debug, Clone)]
pub struct Gpu {
    ctx: Arc<GpuContext>,
}

impl Gpu {
    /// Opens the best adapter (lavapipe counts); pipelines are built on first use.
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

    /// Compute dispatches submitted by this backend's device so far (tests check that an op
    /// really ran on the device).
    pub fn dispatches(&self) -> u64 {
        self.ctx.dispatches()
    }

    /// The kernels' context this backend runs on (tests drive the kernels' own API on the same
    /// device instead of opening a second one).
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }
}

fn device(op: &'static str, e: GpuError) -> BackendError {
    match e {
        GpuError::InvalidInput { reason, .. } => BackendError::invalid(op, reason),
        e => BackendError::Device { op, reason: e.to_string() },
    }
}

/// The engine's field tables as the kernels take them (they keep them resident per context).
pub fn gf16_tables() -> Gf16Tables {
    let t = tables::tables();
    Gf16Tables { exp: &t.exp, log: &t.log, skew: &t.skew, log_walsh: &t.log_walsh }
}

/// A decode laid out by `plan` as the kernels take it: `received` and `restore` are
/// [`DecodePlan::received`] and [`DecodePlan::restore`].
pub fn gf16_decode_layout<'a>(
    plan: &'a DecodePlan,
    received: &'a [(usize, &'a [u8])],
    restore: &'a [usize],
) -> Gf16Decode<'a> {
    Gf16Decode { size: plan.size, truncated: plan.end, erased: &plan.erased, received, restore }
}

impl Backend for Gpu {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn gf16_encode(&self, original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        const OP: &str = "gf16_encode";
        check_encode(original, recovery_count)?;
        let rate = if use_high_rate(original.len(), recovery_count) { Gf16Rate::High } else { Gf16Rate::Low };
        self.ctx.gf16_encode(&gf16_tables(), original, recovery_count, rate).map_err(|e| device(OP, e))
    }

    fn gf16_decode(&self, received: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        const OP: &str = "gf16_decode";
        let Some(plan) = plan_decode(received)? else {
            return Ok(Vec::new());
        };
        let (rows, restore) = (plan.received(received), plan.restore());
        let decode = gf16_decode_layout(&plan, &rows, &restore);
        let restored = self.ctx.gf16_decode(&gf16_tables(), &decode).map_err(|e| device(OP, e))?;
        Ok(plan.missing.into_iter().zip(restored).collect())
    }

    fn gf16_reconstruct(&self, received: &Gf16Received<'_>) -> Result<Gf16Restored, BackendError> {
        const OP: &str = "gf16_reconstruct";
        reconstruct::in_one_decode(
            received,
            |all| self.gf16_encode(all, received.recovery_count),
            |plan, rows, positions| {
                let decode = gf16_decode_layout(plan, rows, positions);
                self.ctx.gf16_decode(&gf16_tables(), &decode).map_err(|e| device(OP, e))
            },
        )
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

//! The `gpu` backend: wgpu compute shaders from `crema-kernels`, byte-identical to the CPU.
//!
//! Ported so far: `merkle_leaves` (BLAKE3), `gf16_encode` and `gf16_decode` (Leopard). The
//! engine keeps the code's logic — rate choice, field positions, erasures, the field tables
//! (`erasure::gf16::naive`, `tables`) — and hands it to the kernels, so the GPU cannot lay a
//! codeword out differently from the reference. Every other primitive returns
//! [`BackendError::Unavailable`] naming the op — never a silent CPU computation, so a caller
//! always knows what ran where. `auto` therefore keeps choosing the CPU until every op is ported.

use std::sync::Arc;

pub use crema_kernels::{AdapterReport, adapters};
use crema_kernels::{Gf16Decode, Gf16Rate, Gf16Tables, GpuContext, GpuError};

use super::{Backend, Direction, G1Bases, check_gf16_encode_shape};
use crate::erasure::gf16::naive::{self, DecodePlan};
use crate::erasure::gf16::tables;
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// The primitives that run as GPU kernels in this build.
pub const PORTED: &[&str] = &["gf16_encode", "gf16_decode", "merkle_leaves"];

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

    /// The adapter in use.
    pub fn adapter(&self) -> &AdapterReport {
        self.ctx.adapter()
    }
}

fn not_ported(op: &'static str) -> BackendError {
    BackendError::Unavailable {
        backend: "gpu",
        reason: format!("{op} is not ported to the GPU yet (ported: {PORTED:?})"),
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
        check_gf16_encode_shape(original, recovery_count)?;
        let (k, m) = (original.len(), recovery_count);
        if !naive::supports(k, m) {
            return Err(BackendError::invalid(OP, format!("unsupported counts {k}:{m}")));
        }
        let rate = if naive::use_high_rate(k, m) { Gf16Rate::High } else { Gf16Rate::Low };
        self.ctx.gf16_encode(&gf16_tables(), original, m, rate).map_err(|e| device(OP, e))
    }

    fn gf16_decode(
        &self,
        original_count: usize,
        recovery_count: usize,
        original: &[(usize, &[u8])],
        recovery: &[(usize, &[u8])],
    ) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        const OP: &str = "gf16_decode";
        let Some(plan) = naive::plan_decode(original_count, recovery_count, original, recovery)? else {
            return Ok(Vec::new());
        };
        let (received, restore) = (plan.received(original, recovery), plan.restore());
        let decode = gf16_decode_layout(&plan, &received, &restore);
        let restored = self.ctx.gf16_decode(&gf16_tables(), &decode).map_err(|e| device(OP, e))?;
        Ok(plan.missing.into_iter().zip(restored).collect())
    }

    fn ntt(&self, _values: &mut [Fr], _size: usize, _dir: Direction, _coset: Option<Fr>) -> Result<(), BackendError> {
        Err(not_ported("ntt"))
    }

    fn msm_g1(&self, _bases: &G1Bases, _scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        Err(not_ported("msm_g1"))
    }

    fn sum_g1(&self, _groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        Err(not_ported("sum_g1"))
    }

    fn sum_g2(&self, _groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        Err(not_ported("sum_g2"))
    }

    fn merkle_leaves(&self, chunks: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        self.ctx.blake3_many(chunks).map_err(|e| device("merkle_leaves", e))
    }
}

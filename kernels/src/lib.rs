//! WGSL compute kernels and the wgpu host side for Crema's `gpu` backend.
//!
//! Every WGSL source lives in `kernels/wgsl/` and is embedded with `include_str!`. The host side
//! ([`GpuContext`]) builds the instance, adapter, device and queue **once**, every pipeline and
//! its explicit bind-group layout once (on first use), and every call reuses them. This crate
//! speaks bytes and `u32` words only; the engine converts its own types (it never names a wgpu type).
//!
//! Kernels: BLAKE3 of many inputs ([`GpuContext::blake3_many`], the Merkle leaves), Leopard
//! GF(2^16) Reed–Solomon ([`GpuContext::gf16_encode`], [`GpuContext::gf16_decode`]) and
//! BLS12-381 algebra — one Montgomery field template for Fr and Fp (u32-only), Fp2, complete
//! projective additions in G1 and G2: point sums ([`GpuContext::sum_g1`],
//! [`GpuContext::sum_g2`]), batched NTTs over Fr ([`GpuContext::ntt`]) and Pippenger MSMs over
//! G1 ([`GpuContext::msm_g1`], [`GpuContext::msm_g1_many`]). See `kernels/README.md` for each
//! kernel's work, bytes moved, design and measured figures.
//!
//! Modules, each importing only those below it: `spec.rs` (what a kernel is: source, entry,
//! bindings) and `error.rs`; `context.rs` (device, queue, lazily built pipelines, resident
//! buffers via `resident.rs`) and `job.rs` (one submission); the kernel families (`blake3.rs`,
//! `gf16.rs`, `field.rs`, `curve.rs`, `ntt.rs`, `msm.rs`), each adding its typed entry to
//! [`GpuContext`] and declaring its kernels; and `registry.rs`, which lists every family's
//! kernels and opens the context with them ([`GpuContext::new`]).

mod blake3;
mod context;
mod curve;
mod error;
mod field;
mod gf16;
mod job;
mod msm;
mod ntt;
mod registry;
mod resident;
mod spec;

pub use context::{AdapterReport, GpuContext, adapters};
pub use error::GpuError;
pub use field::{FP_WORDS, FR_WORDS, G1_WORDS, G2_WORDS, TestField};
pub use gf16::{Gf16Decode, Gf16Rate, Gf16Tables};
pub use msm::MsmBases;
pub use ntt::{FrTable, NttSpec, OutputScale};
pub use registry::wgsl_modules;

/// Reports that a GPU test cannot run because `reason`: it panics when `CREMA_REQUIRE_GPU=1`
/// (CI and GPU machines must never pass without running), else prints a loud skip.
pub fn skip_gpu_test(reason: impl std::fmt::Display) {
    if std::env::var("CREMA_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!("CREMA_REQUIRE_GPU=1 but no GPU can be used: {reason}");
    }
    eprintln!("!!!!!!!! SKIPPING GPU TEST: {reason} !!!!!!!!");
}

//! WGSL compute kernels and the wgpu host side for Crema's `gpu` backend.
//!
//! Every WGSL source lives in `kernels/wgsl/` and is embedded with `include_str!`. The host side
//! ([`GpuContext`]) builds the instance, adapter, device and queue **once**, every pipeline and
//! its explicit bind-group layout once (on first use), and every call reuses them. This crate speaks bytes and `u32`
//! words only; the engine converts its own types (it never names a wgpu type).
//!
//! Kernels so far: BLAKE3 of many inputs ([`GpuContext::blake3_many`], the Merkle leaves) and
//! Leopard GF(2^16) Reed–Solomon ([`GpuContext::gf16_encode`], [`GpuContext::gf16_decode`]).
//! See `kernels/README.md` for the designs and the roadmap (Fp/Fr, sums, NTT, MSM).

mod blake3;
mod context;
mod error;
mod gf16;
mod job;

pub use context::{AdapterReport, GpuContext, adapters, wgsl_modules};
pub use error::GpuError;
pub use gf16::{Gf16Decode, Gf16Rate, Gf16Tables};

/// Reports that a GPU test cannot run because `reason`: it panics when `CREMA_REQUIRE_GPU=1`
/// (CI and GPU machines must never pass without running), else prints a loud skip.
pub fn skip_gpu_test(reason: impl std::fmt::Display) {
    if std::env::var("CREMA_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!("CREMA_REQUIRE_GPU=1 but no GPU can be used: {reason}");
    }
    eprintln!("!!!!!!!! SKIPPING GPU TEST: {reason} !!!!!!!!");
}

//! The Leopard GF(2^16) Reed–Solomon code itself (= reed-solomon-simd 3.x), independent of
//! any backend: the field and its tables, the layout of a codeword, the request and result
//! types of a decode, reconstruction written once, and the textbook coder.
//!
//! **An advanced module**: to erasure-code data, use [`crate::erasure::Gf16Code`]. This one is
//! for backend authors, the GPU kernels' tests and anyone checking the code against its spec.
//!
//! It sits below the backends, as reed-solomon-simd keeps its tables and its `Engine` below
//! its rate algorithms; [`crate::erasure::gf16`] (the byte-shard API users call) and avidm sit
//! above them. Nothing here imports a backend or the erasure layer:
//!
//! ```text
//! erasure::gf16 (Gf16Code, Shard)   vid::avidm        algorithms, typed errors, checksums
//!            │                          │
//!            ▼                          ▼
//! backend: Backend::gf16_encode / gf16_decode / gf16_reconstruct   (reference, cpu, gpu)
//!            │
//!            ▼
//! gf16: tables, plan, Gf16Received / Gf16Restored, reconstruct, naive
//! ```
//!
//! - [`tables`]: GF(2^16) in Leopard's Cantor basis, and the FFT and decoder tables.
//! - [`plan`]: which counts the code supports, its rate, the checks every call passes, and the
//!   [`DecodePlan`] that puts received shards at their field positions.
//! - [`Gf16Received`] (what a decode is given) and [`Gf16Restored`] (what a reconstruction
//!   returns); [`reconstruct`]: reconstruction by re-encoding or in one decode.
//! - [`naive`]: the textbook coder, the reference backend's and the oracle of the others.

pub mod naive;
pub mod plan;
mod received;
pub mod reconstruct;
pub mod tables;

pub use plan::{DecodePlan, check_encode, plan_decode, supports, use_high_rate};
pub use received::Gf16Received;
pub use reconstruct::Gf16Restored;

//! # crema-engine
//!
//! The data-availability compute engine of Crema: GF(2^16) Reed–Solomon erasure coding
//! ([`erasure`]), BLAKE3 Merkle trees ([`merkle`]), BLS signatures and certificates ([`bls`]),
//! Ethereum KZG (EIP-4844 and EIP-7594, [`kzg`]) and verifiable information dispersal ([`vid`]).
//!
//! Every heavy primitive goes through one [`Backend`] trait: a textbook `reference` backend
//! (the oracle), a `cpu` backend (rayon + SIMD) and a `gpu` backend (wgpu, via crema-kernels;
//! partial so far). Algorithms are written once above the trait, and every backend must give
//! byte-identical results.
//!
//! This crate has no async runtime and no networking: DA nodes embed it as a library.

pub mod backend;
pub mod bls;
pub mod erasure;
pub mod error;
pub mod field;
pub mod kzg;
pub mod merkle;
pub mod vectors;
pub mod vid;

pub use backend::{Backend, BackendChoice, Direction, G1Bases, Gf16Restored};
pub use error::BackendError;

//! Leopard GF(2^16) Reed–Solomon erasure coding over byte shards (= reed-solomon-simd 3.x).

pub mod naive;
pub mod tables;

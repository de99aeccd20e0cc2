//! Erasure codes. [`gf16`]: byte shards under the Leopard GF(2^16) Reed–Solomon code,
//! identical to reed-solomon-simd 3.x.

pub mod gf16;

pub use gf16::{Gf16Code, Gf16Error, Shard, ShardDecodeError};

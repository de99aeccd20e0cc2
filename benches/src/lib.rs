//! Crema's benchmarking, in one place. The criterion benches (`benches/benches/`, with peer
//! libraries side by side) and `devnet.sh` live beside this library; the library holds:
//!
//! - [`engine_bench`]: the benchmark behind `crema bench` — every engine operation on the CPU
//!   and GPU backends, timed, checked against each other, reported as a table, JSON and a PNG;
//! - [`chart`]: the PNG setup (embedded font, palette) that `crema bench --plot` and
//!   `crema devnet --plot` both draw through.
//!
//! It depends on `crema-engine` only; the node (`crema-node`) calls it, never the reverse.

pub mod chart;
pub mod engine_bench;

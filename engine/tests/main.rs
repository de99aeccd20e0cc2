//! The integration tests of crema-engine, one binary (`autotests = false` in Cargo.toml): one link instead of one
//! per file, and the files' tests share the harness's threads. Each file is a module:
//! `cargo test --release -p crema-engine --test integration bls_vectors::` runs one file's tests. A new file in
//! `tests/` needs its `mod` line here (`.ci/run` checks).

mod common;

mod bls_vectors;
mod conformance;
mod gf16;
mod gf16_code;
mod gf16_fixtures;
mod gpu;
mod gpu_algebra;
mod gpu_gf16;
mod kzg_api;
mod kzg_fixtures;
mod kzg_setup;
mod kzg_vectors;
mod vectors_runner;
mod vid_avidm;
mod vid_kzg;
mod vid_namespace;

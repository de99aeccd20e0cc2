//! The integration tests of crema-kernels, one binary (`autotests = false` in Cargo.toml): one link instead of one
//! per file, and the files' tests share the harness's threads. Each file is a module:
//! `cargo test --release -p crema-kernels --test integration blake3::` runs one file's tests. A new file in
//! `tests/` needs its `mod` line here (`.ci/run` checks).

mod blake3;
mod field;
mod sums;
mod validate;

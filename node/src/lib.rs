//! The Crema node: HotShot consensus and Tiramisu data availability around `crema-engine`,
//! and the `crema` command's subcommands. Benchmarking (`crema bench`'s engine benchmark) and
//! the PNG charts live in `crema-benches`; `cli::bench` and `devnet::plot` call it.

pub mod addr;
pub mod api;
pub mod atomic_write;
pub mod cdn;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod da;
pub mod devnet;
pub mod keys;
pub mod mempool;
pub mod metrics;
pub mod net;
pub mod network_file;
pub mod runtime;
pub mod setup;
pub mod store;
pub mod toml_file;

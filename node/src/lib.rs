//! The Crema node: HotShot consensus and Tiramisu data availability around `crema-engine`,
//! and the `crema` command's subcommands.

pub mod addr;
pub mod api;
pub mod atomic_write;
pub mod cdn;
pub mod chart;
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

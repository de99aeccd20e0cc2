//! The Crema node: HotShot consensus and Tiramisu data availability around `crema-engine`,
//! and the `crema` command's subcommands.

pub mod atomic_write;
pub mod cli;
pub mod consensus;
pub mod da;
pub mod mempool;
pub mod metrics;
pub mod net;
pub mod store;

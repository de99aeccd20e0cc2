//! The `crema` subcommands, one file each; `main.rs` only parses arguments and dispatches.

pub mod bench;
pub mod cdn;
pub mod check;
pub mod devnet;
pub mod info;
pub mod init;
pub mod keygen;
pub mod node;
pub mod sim;
pub mod vectors;
pub mod vid;

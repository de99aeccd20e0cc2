//! crema-node's integration tests, one binary (`autotests = false` in Cargo.toml): one link instead of one per
//! file, and the files' tests share the harness's threads, so a test that mostly waits (a node network's timeouts)
//! runs beside another one (see [`machine`]). Each file is a module: `cargo test --release --test integration
//! devnet::` runs one file's tests. A new file in `tests/` needs its `mod` line here (`.ci/run` checks).

mod machine;
mod network;

mod bad_invocations;
mod bench_cli;
mod cdn_broker;
mod cdn_network;
mod consensus_fuzz;
mod consensus_script;
mod devnet;
mod node_files_cli;
mod node_network;
mod sim_scenarios;
mod store_crash;
mod vid_cli;

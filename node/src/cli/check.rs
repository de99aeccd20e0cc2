//! `crema check --config node.toml`: load a node's files exactly as the node does and say what node they make,
//! or which file, key and problem stop it (exit 1).

use std::path::Path;
use std::process::ExitCode;

use crate::setup::NodeSetup;

/// Loads the node's configuration, network file and keys, and prints a summary.
pub fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let s = NodeSetup::load(config_path)?;
    let net = &s.network;
    let members = net.nodes.iter().filter(|n| n.da_member).count();
    let total: u64 = net.nodes.iter().map(|n| n.stake).sum();
    let me = net.nodes.get(usize::from(s.me)).map(|e| (e.stake, e.da_member, e.p2p.to_string()));
    println!("{}: ok", config_path.display());
    println!(
        "network {}: {} nodes, total stake {total}, DA committee of {members}, {} threshold {}, view timeout {} ms, \
         blocks up to {} bytes",
        s.config.network.display(),
        net.nodes.len(),
        net.params.vid.scheme,
        net.params.vid.threshold,
        net.params.view_timeout_ms,
        net.params.max_block_bytes
    );
    if let Some((stake, da, p2p)) = me {
        println!(
            "this node: index {}, PeerId {}, stake {stake}{}, dialed at {p2p}",
            s.me,
            s.keys.peer_id(),
            if da { ", DA member" } else { "" }
        );
    }
    println!(
        "listens: p2p {}, api {}; data in {}; backend {}",
        s.config.p2p_listen,
        s.config.api_listen,
        s.config.data_dir.display(),
        s.config.backend
    );
    Ok(ExitCode::SUCCESS)
}

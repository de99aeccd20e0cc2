//! `crema keygen --out DIR`: a new node's keys, and the `[[node]]` entry that admits it to a stake table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use libp2p::Multiaddr;

use crate::addr;
use crate::keys::{NodeKeys, key_files};

/// Arguments of `crema keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeygenArgs {
    /// The keys directory to write `bls.key` and `p2p.key` into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace key files that already exist (the old keys are lost).
    #[arg(long)]
    pub force: bool,
    /// The entry's stake (at least 1; also its VID share units).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=65535))]
    pub stake: u64,
    /// Whether the node joins the DA committee.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    pub da_member: bool,
    /// Where peers will dial the node: /ip4|ip6|dns/HOST/tcp/PORT.
    #[arg(long, default_value = "/ip4/127.0.0.1/tcp/9000")]
    pub p2p: String,
    /// The node's HTTP API, host:port (informational, for tooling).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub api: String,
}

/// Generates and writes the keys, then prints the stake-table entry on stdout (and what was written on stderr).
pub fn run(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    // Check the flags before any key exists, so a typo leaves nothing behind.
    let p2p: Multiaddr = addr::dialable(&args.p2p, None).map_err(anyhow::Error::msg).context("--p2p")?;
    addr::host_port(&args.api).map_err(anyhow::Error::msg).context("--api")?;
    let files = key_files(&args.out);
    if !args.force
        && let Some(f) = files.iter().find(|f| f.exists())
    {
        bail!("{} already exists; keys are not overwritten without --force", f.display());
    }
    let keys = NodeKeys::generate();
    keys.write(&args.out)?;
    let entry = keys.entry(args.stake, args.da_member, p2p, Some(args.api.clone()));
    for f in &files {
        eprintln!("wrote {}", f.display());
    }
    eprintln!("add this entry to network.toml's stake table (PeerId {}):", entry.peer_id);
    print!("{}", entry.to_toml());
    Ok(ExitCode::SUCCESS)
}

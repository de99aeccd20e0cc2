//! `crema init --nodes N --out DIR`: a local network in one directory — `DIR/network.toml` (the parameters and a
//! stake table of N nodes of stake 1, the first K in the DA committee) and, per node i, `DIR/node-<i>/node.toml`
//! with its keys in `DIR/node-<i>/keys/`. Node i listens for peers on port `base_port + i` and serves its API on
//! `api_base_port + i`. Everything written is read back through the same loaders a node uses before init reports
//! success.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail, ensure};
use crema_engine::stake::Fraction;
use crema_engine::vid::SchemeKind;
use rayon::prelude::*;

use crate::addr;
use crate::atomic_write::create_dir;
use crate::config::NodeConfig;
use crate::consensus::VidParams;
use crate::keys::NodeKeys;
use crate::network_file::{NetworkFile, NetworkParams};

/// The DA committee when `--da-committee` is not given: the first `min(N, 4)` nodes. Four is the smallest
/// committee that still certifies data with one member faulty (3f + 1 with f = 1), and a committee smaller than the
/// network is what makes the VID layer do its job.
pub const DEFAULT_DA_COMMITTEE: u64 = 4;

/// Arguments of `crema init`.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Number of nodes, each of stake 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub nodes: u64,
    /// Size of the DA committee: nodes 0..K are members (default min(N, 4)).
    #[arg(long, value_name = "K")]
    pub da_committee: Option<u64>,
    /// The directory to create; it must be empty or missing unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Node i listens for peers on base_port + i.
    #[arg(long, default_value_t = 9000, value_parser = clap::value_parser!(u16).range(1..))]
    pub base_port: u16,
    /// Node i serves its HTTP API on api_base_port + i.
    #[arg(long, default_value_t = 8000, value_parser = clap::value_parser!(u16).range(1..))]
    pub api_base_port: u16,
    /// The host every node is reached at: an IP address (nodes listen on it) or a DNS name (nodes listen on
    /// 0.0.0.0, peers dial the name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The base view timer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub view_timeout_ms: u64,
    /// The largest block payload, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_block_bytes: u64,
    /// The VID scheme: avidm or kzg.
    #[arg(long, default_value = "avidm")]
    pub scheme: SchemeKind,
    /// The VID recovery threshold, a fraction of the total stake (default: the scheme's own, 1/3 avidm, 1/2 kzg).
    #[arg(long)]
    pub threshold: Option<Fraction>,
    /// A Cocoa broker (`crema cdn`) every node logs in to, as host:port; repeat for several brokers (node i
    /// starts with broker i mod count and moves to the next when it is lost). Without it the nodes use libp2p only.
    #[arg(long = "cdn", value_name = "HOST:PORT")]
    pub cdn: Vec<String>,
    /// Write into a non-empty directory, replacing the files init writes (other files, such as node data
    /// directories, are left alone).
    #[arg(long)]
    pub force: bool,
}

/// One node's generated pieces.
struct Planned {
    dir: PathBuf,
    keys: NodeKeys,
    config: NodeConfig,
}

/// Writes the network, then reads it all back as the nodes will.
pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let n = args.nodes;
    let k = args.da_committee.unwrap_or(n.min(DEFAULT_DA_COMMITTEE));
    ensure!((1..=n).contains(&k), "--da-committee {k}: must be in 1..={n} (a committee of the first K nodes)");
    let p2p_ports = port_range("--base-port", args.base_port, n)?;
    let api_ports = port_range("--api-base-port", args.api_base_port, n)?;
    ensure!(
        p2p_ports.end() < api_ports.start() || api_ports.end() < p2p_ports.start(),
        "ports {}..={} (--base-port) and {}..={} (--api-base-port) overlap",
        p2p_ports.start(),
        p2p_ports.end(),
        api_ports.start(),
        api_ports.end()
    );
    addr::host_port(&addr::join_host_port(&args.host, 1)).map_err(anyhow::Error::msg).context("--host")?;
    for b in &args.cdn {
        addr::host_port(b).map_err(anyhow::Error::msg).with_context(|| format!("--cdn {b}"))?;
    }
    let vid = VidParams { scheme: args.scheme, threshold: args.threshold.unwrap_or(args.scheme.default_threshold()) };
    let params = NetworkParams::new(args.view_timeout_ms, args.max_block_bytes, vid)
        .map_err(|(key, reason)| anyhow::anyhow!("{}: {reason}", flag_of(key)))?;
    check_out_dir(&args.out, args.force)?;

    let planned: Vec<Planned> = (0..n)
        .into_par_iter()
        .map(|i| plan(args, i, p2p_ports.start() + i as u16, api_ports.start() + i as u16))
        .collect::<anyhow::Result<_>>()?;
    let network = NetworkFile {
        params,
        nodes: (0..n)
            .zip(&planned)
            .map(|(i, p)| {
                let api = Some(addr::join_host_port(&args.host, api_ports.start() + i as u16));
                let p2p = addr::tcp_multiaddr(&args.host, p2p_ports.start() + i as u16).map_err(anyhow::Error::msg)?;
                Ok(p.keys.entry(1, i < k, p2p, api))
            })
            .collect::<anyhow::Result<_>>()?,
    };

    create_dir(&args.out)?;
    let network_path = args.out.join("network.toml");
    network.write(&network_path)?;
    for p in &planned {
        p.keys.write(&p.dir.join("keys"))?;
        p.config.write(&p.dir.join("node.toml"))?;
    }
    verify_written(&network_path, &network, &planned)?;

    println!(
        "wrote {}: {n} nodes of stake 1, DA committee nodes 0..{k}, {} threshold {}, view timeout {} ms, \
         blocks up to {} bytes",
        network_path.display(),
        params.vid.scheme,
        params.vid.threshold,
        params.view_timeout_ms,
        params.max_block_bytes
    );
    for ((i, p), e) in planned.iter().enumerate().zip(&network.nodes) {
        println!(
            "wrote {}/{{node.toml, keys/bls.key, keys/p2p.key}}: node {i}, p2p {}, api {}, PeerId {}{}",
            p.dir.display(),
            e.p2p,
            p.config.api_listen,
            e.peer_id,
            if e.da_member { ", DA member" } else { "" }
        );
    }
    println!("start each node with:");
    for p in &planned {
        println!("  crema node --config {}", p.dir.join("node.toml").display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The flag that sets a `[params]` key.
fn flag_of(param: &str) -> &'static str {
    match param {
        "view_timeout_ms" => "--view-timeout-ms",
        "max_block_bytes" => "--max-block-bytes",
        _ => "--threshold",
    }
}

/// The ports `base..base + n`, refused if they run past 65535.
fn port_range(flag: &str, base: u16, n: u64) -> anyhow::Result<std::ops::RangeInclusive<u16>> {
    let last = u64::from(base) + n - 1;
    let last = u16::try_from(last).map_err(|_| {
        anyhow::anyhow!("{flag} {base}: {n} nodes need ports up to {last}, past the largest port 65535")
    })?;
    Ok(base..=last)
}

/// Refuses a directory with anything in it, unless `force`.
fn check_out_dir(dir: &Path, force: bool) -> anyhow::Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if !force && entries.next().is_some() {
                bail!("{} is not empty; use --force to write into it", dir.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("{} cannot be used as the output directory", dir.display())),
    }
}

/// Node `i`'s keys and configuration.
fn plan(args: &InitArgs, i: u64, p2p_port: u16, api_port: u16) -> anyhow::Result<Planned> {
    // A node listens on the host's address when it is an IP address, and on every interface behind a DNS name.
    let listen_host = match args.host.parse::<std::net::IpAddr>() {
        Ok(_) => args.host.as_str(),
        Err(_) => "0.0.0.0",
    };
    let api_listen = addr::join_host_port(listen_host, api_port);
    let config = NodeConfig {
        keys_dir: "keys".into(),
        network: "../network.toml".into(),
        data_dir: "data".into(),
        p2p_listen: addr::tcp_multiaddr(listen_host, p2p_port).map_err(anyhow::Error::msg)?,
        api_listen: api_listen.parse().with_context(|| format!("API address {api_listen}"))?,
        cdn_brokers: args.cdn.clone(),
        ..NodeConfig::default()
    };
    Ok(Planned { dir: args.out.join(format!("node-{i}")), keys: NodeKeys::generate(), config })
}

/// Reads every file back through the node's own loaders: the network file equals what was meant, every node
/// config loads and names that network file, and every node finds itself at its index.
fn verify_written(network_path: &Path, network: &NetworkFile, planned: &[Planned]) -> anyhow::Result<()> {
    let read = NetworkFile::read(network_path)?;
    ensure!(read == *network, "{} reads back different from what was written", network_path.display());
    let canonical = fs::canonicalize(network_path)?;
    planned.par_iter().enumerate().try_for_each(|(i, p)| {
        let config = NodeConfig::read(&p.dir.join("node.toml"))?;
        ensure!(fs::canonicalize(&config.network)? == canonical, "{} names another network file", p.dir.display());
        let index = NodeKeys::read(&config.keys_dir)?.index_in(&read)?;
        ensure!(usize::from(index) == i, "{} finds itself at index {index}", p.dir.display());
        Ok(())
    })
}

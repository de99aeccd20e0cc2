//! `crema devnet`: a real local network on 127.0.0.1 that shows itself working — N `crema node` processes with
//! libp2p, redb and their HTTP APIs, a load generator, fault drills, and a summary computed through the APIs alone.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use crema_engine::BackendChoice;

use crate::devnet::cluster::ClusterSpec;
use crate::devnet::load::LoadSpec;
use crate::devnet::run::{self, DevnetOptions, Fault};
use crate::runtime::byzantine::Misbehaviour;

/// `crema devnet` arguments.
#[derive(Debug, clap::Args)]
pub struct DevnetArgs {
    /// Nodes (stake 1 each).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub nodes: u64,
    /// DA committee size: nodes 0..K. The end-of-run recovery check needs nodes outside it holding at least the
    /// VID threshold of the shares.
    #[arg(long, default_value_t = 4)]
    pub da_committee: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Largest block payload, bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub block_bytes: u64,
    /// Transactions per second the load generator submits.
    #[arg(long, default_value_t = 200.0)]
    pub tx_rate: f64,
    /// Bytes per transaction.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(8..=(1 << 20)))]
    pub tx_bytes: u64,
    /// Namespaces (rollups) the load is spread over: 1..=M.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub namespaces: u64,
    /// VID scheme: avidm or kzg.
    #[arg(long, default_value = "avidm")]
    pub scheme: String,
    /// Base view timeout of the network, ms.
    #[arg(long, default_value_t = 1000)]
    pub view_timeout_ms: u64,
    /// Crash node I (SIGKILL) S seconds into the load; repeatable. Example: --crash 1@3
    #[arg(long, value_name = "I@S")]
    pub crash: Vec<String>,
    /// Restart node I S seconds into the load; repeatable. Example: --restart 1@6
    #[arg(long, value_name = "I@S")]
    pub restart: Vec<String>,
    /// Make node I misbehave: da-withhold, da-corrupt or bad-shares; repeatable. Example: --byzantine 3:da-corrupt
    #[arg(long, value_name = "I:KIND")]
    pub byzantine: Vec<String>,
    /// Cocoa brokers (`crema cdn` processes) to start; 0 runs on libp2p alone. Two or more share a Redis server
    /// for discovery (started too; needs `redis-server` on PATH).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=8))]
    pub cdn_brokers: u64,
    /// Kill the CDN broker(s) S seconds into the load: the nodes fall back to libp2p.
    #[arg(long, value_name = "S")]
    pub kill_cdn_at: Option<u64>,
    /// Restart the CDN broker(s) S seconds into the load (after --kill-cdn-at): the nodes return to it.
    #[arg(long, value_name = "S")]
    pub restart_cdn_at: Option<u64>,
    /// Make the broker(s) lie: corrupt, drop, forge or delay=MS (see `crema cdn --help`).
    #[arg(long, value_name = "KIND")]
    pub cdn_misbehave: Option<String>,
    /// Keep the network's directory (configs, keys, databases, node logs) here instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Also write the summary as JSON.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

/// Runs the devnet; exit 1 when a summary flag is false or nothing was decided.
pub fn run(backend: &str, args: &DevnetArgs) -> anyhow::Result<ExitCode> {
    let nodes = args.nodes as usize;
    let parse_at = |s: &str, restart: bool| -> anyhow::Result<Fault> {
        let (i, at) = s.split_once('@').with_context(|| format!("{s:?}: expected I@S, e.g. 1@3"))?;
        let node: usize = i.parse().with_context(|| format!("{s:?}: node index"))?;
        if node >= nodes {
            bail!("{s:?}: there are only {nodes} nodes");
        }
        Ok(Fault { node, at: at.parse().with_context(|| format!("{s:?}: seconds"))?, restart })
    };
    let mut faults = Vec::new();
    for s in &args.crash {
        faults.push(parse_at(s, false)?);
    }
    for s in &args.restart {
        faults.push(parse_at(s, true)?);
    }
    let mut byzantine = Vec::new();
    for s in &args.byzantine {
        let (i, kind) = s.split_once(':').with_context(|| format!("{s:?}: expected I:KIND, e.g. 3:da-corrupt"))?;
        let node: usize = i.parse().with_context(|| format!("{s:?}: node index"))?;
        if node >= nodes {
            bail!("{s:?}: there are only {nodes} nodes");
        }
        let m: Misbehaviour = kind.parse().map_err(|e: String| anyhow::anyhow!("{s:?}: {e}"))?;
        byzantine.push((node, m.name().to_string()));
    }
    if args.cdn_brokers == 0
        && (args.kill_cdn_at.is_some() || args.restart_cdn_at.is_some() || args.cdn_misbehave.is_some())
    {
        bail!("--kill-cdn-at, --restart-cdn-at and --cdn-misbehave need a broker (--cdn-brokers 1 or more)");
    }
    if let (Some(k), Some(r)) = (args.kill_cdn_at, args.restart_cdn_at)
        && r <= k
    {
        bail!("--restart-cdn-at {r} must come after --kill-cdn-at {k}");
    }
    if args.da_committee == 0 || args.da_committee > args.nodes {
        bail!("--da-committee must be between 1 and --nodes ({})", args.nodes);
    }
    let choice: BackendChoice = backend.parse()?;
    if let Some(p) = &args.keep
        && p.exists()
    {
        bail!("--keep {}: already exists (crema init refuses to overwrite a network)", p.display());
    }
    let opts = DevnetOptions {
        exe: std::env::current_exe().context("locating the crema binary")?,
        cluster: ClusterSpec {
            nodes,
            da_committee: args.da_committee as usize,
            view_timeout_ms: args.view_timeout_ms,
            max_block_bytes: args.block_bytes,
            scheme: args.scheme.clone(),
            env: Vec::new(),
            byzantine,
            backend: Some(backend.to_string()),
            cdn_brokers: args.cdn_brokers as usize,
            cdn_misbehave: args.cdn_misbehave.clone(),
        },
        kill_cdn_at: args.kill_cdn_at,
        restart_cdn_at: args.restart_cdn_at,
        duration: args.duration,
        load: LoadSpec { rate: args.tx_rate, tx_bytes: args.tx_bytes as usize, namespaces: args.namespaces },
        faults,
        keep: args.keep.clone(),
        check_backend: if choice == BackendChoice::Gpu { BackendChoice::Gpu } else { BackendChoice::Cpu },
    };
    let summary = run::run(&opts)?;
    run::print(&summary);
    if let Some(path) = &args.summary_json {
        let json = serde_json::to_vec_pretty(&summary)?;
        crate::atomic_write::write_atomic(path, &json)?;
    }
    Ok(if summary.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

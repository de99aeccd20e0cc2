//! `crema cdn`: runs a Cocoa broker until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tokio::sync::watch;

use crate::cdn::misbehave::Misbehave;
use crate::cdn::server::{BoundBroker, BrokerConfig, DEFAULT_CACHE_BYTES, DEFAULT_MEMORY_CAP, DEFAULT_QUEUE_BYTES};
use crate::network_file::NetworkFile;

/// Run a Cocoa broker: the CDN that fans a leader's block out to every node, so the leader sends it once.
///
/// Cocoa is untrusted by design. It checks who connects (a BLS-signed login against the stake table: nodes outside
/// it are refused) but vouches for no message: nodes verify everything it delivers against signatures and
/// commitments, and fall back to libp2p when it is down, slow or lying. It routes a global topic, a DA-committee
/// topic and direct messages by node id, caches recent blocks and shares by commitment, and enforces a frame limit
/// (from the network's largest block), bounded per-connection queues (slow readers are disconnected) and a global
/// memory cap, each hit counted in /metrics.
///
/// Several brokers serve one network with --discovery: they register in Redis, link to each other and forward what
/// their own nodes need. Stdout gets one line, `cdn listening on IP:PORT`, once the broker accepts connections.
///
/// Example: crema init --nodes 4 --out net && crema cdn --listen 127.0.0.1:7000 --stake-table net/network.toml
/// --metrics 127.0.0.1:7001
#[derive(Debug, clap::Args)]
pub struct CdnArgs {
    /// Where nodes (and other brokers) connect.
    #[arg(long)]
    pub listen: SocketAddr,
    /// The network file (`network.toml`): its stake table says who may log in, its block size the frame limit.
    #[arg(long, value_name = "network.toml")]
    pub stake_table: PathBuf,
    /// Serve Prometheus `/metrics` and `/healthcheck` here.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// This broker's identifier in discovery and logs (default: random).
    #[arg(long, value_name = "ID")]
    pub broker_id: Option<String>,
    /// Where other brokers reach this one (default: the listen address).
    #[arg(long, value_name = "ADDR")]
    pub advertise: Option<SocketAddr>,
    /// Share the network with other brokers through this Redis server (`redis://HOST:PORT`).
    #[arg(long, value_name = "URL")]
    pub discovery: Option<String>,
    /// Fault drills only: corrupt (flip a byte in big messages), drop (a third of deliveries), forge (inject copies
    /// claiming another sender) or delay=MS (hold every frame MS milliseconds).
    #[arg(long, value_name = "KIND")]
    pub misbehave: Option<Misbehave>,
    /// Cap on all queued bytes plus the cache; a frame that would exceed it is dropped.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MEMORY_CAP)]
    pub memory_cap: usize,
    /// Cap on the cache of recent blocks and shares (oldest evicted first).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CACHE_BYTES)]
    pub cache_bytes: usize,
    /// Cap on one connection's outgoing queue; a reader that lets it fill is disconnected.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_QUEUE_BYTES)]
    pub queue_bytes: usize,
}

impl CdnArgs {
    /// The broker configuration these arguments describe (reads and checks the network file).
    pub fn config(&self) -> anyhow::Result<BrokerConfig> {
        let network = NetworkFile::read(&self.stake_table)?;
        let mut cfg = BrokerConfig::new(self.listen, network);
        cfg.metrics = self.metrics;
        if let Some(id) = &self.broker_id {
            cfg.broker_id = id.clone();
        }
        cfg.advertise = self.advertise;
        cfg.discovery = self.discovery.clone();
        cfg.misbehave = self.misbehave;
        cfg.memory_cap = self.memory_cap;
        cfg.cache_bytes = self.cache_bytes;
        cfg.queue_bytes = self.queue_bytes;
        Ok(cfg)
    }
}

/// Starts logging (`RUST_LOG`, default `info`, to stderr: stdout carries only the listening line), binds, prints the listening line and serves until a signal.
pub fn run(args: &CdnArgs) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).try_init();
    let cfg = args.config()?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let bound = BoundBroker::bind(cfg).await?;
        let addr = bound.local_addr().context("the listener's address")?;
        let mut line = format!("cdn listening on {addr}");
        if let Some(m) = bound.metrics_addr() {
            line.push_str(&format!(" metrics on {m}"));
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        drop(out);
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            super::node::wait_for_signal().await;
            tracing::info!("stopping");
            let _ = stop_tx.send(true);
        });
        bound.run(stop_rx).await
    })?;
    Ok(ExitCode::SUCCESS)
}

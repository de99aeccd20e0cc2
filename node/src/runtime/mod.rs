//! The node process: a tokio runtime that drives the pure consensus core with real I/O.
//!
//! Tasks, all started and stopped by [`run`]:
//! - **core** (`core_task.rs`): owns the [`Node`] state machine, alone calls `handle`, and carries its actions out
//!   in order — sends through the transport, timers, `Persist` written and synced before anything after it,
//!   decisions to the store, engine jobs (block building and dispersal, payload and share checks) on the blocking
//!   pool, whose answers come back as inputs.
//! - **inbound** (`inbound.rs`): reads the transport (libp2p, and the Cocoa broker when configured; a message that
//!   arrives both ways is passed on once), routes consensus messages to the verification workers and DA
//!   service messages to the service handler; a verified message goes to the core over a bounded channel (a full
//!   channel drops and counts, never blocks the transport).
//! - **api** (`crate::api`): the HTTP API; it reads the store and asks the retrieval layer (`retrieval.rs`) for
//!   payloads: the DA committee first, then reconstruction from other nodes' shares, each answer checked against a
//!   commitment this node trusts.
//!
//! A task that fails stops the node with an error (non-zero exit); SIGTERM or Ctrl-C stops it cleanly.

pub mod byzantine;
mod core_task;
mod engine_jobs;
mod inbound;
mod recent;
pub mod retrieval;
mod shared;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{mpsc, watch};
use tracing::info;

pub use shared::{Shared, Status};

use crate::cdn::frame::FrameLimits;
use crate::consensus::{BlsScheme, MessageVerifier, Node, NodeId};
use crate::metrics::Metrics;
use crate::net::cocoa::{Cocoa, CocoaConfig};
use crate::net::p2p::{P2p, P2pConfig, Peer};
use crate::net::transport::Transport;
use crate::setup::NodeSetup;
use crate::store::Store;

/// Capacity of the verified-message channel into the core.
const CORE_QUEUE: usize = 4096;
/// Capacity of the queue of raw consensus messages waiting for a verification worker.
const VERIFY_QUEUE: usize = 8192;

/// Runs a node from its config file until `stop` fires or a task fails.
pub async fn run(
    config_path: &Path,
    misbehave: Option<byzantine::Misbehaviour>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let NodeSetup { config: cfg, network, keys, me } = NodeSetup::load(config_path)?;
    let backend = cfg.backend.build().context("building the engine backend")?;
    let consensus = network.consensus_config();
    let verifier_keys = crate::consensus::bls::BlsVerifier::new(network.public_keys(), backend.clone());
    let checker = Arc::new(MessageVerifier::<BlsScheme>::new(consensus.clone(), verifier_keys.clone()));
    let vid = crate::da::savoiardi::network_vid(&consensus).context("the network's VID parameters")?;
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    let store = Arc::new(Store::<BlsScheme>::open_with_cache(&cfg.data_dir.join("crema.redb"), cfg.store_cache_bytes)?);
    let metrics = Metrics::new();

    let peers = network
        .peers()
        .into_iter()
        .filter(|(id, ..)| *id != me)
        .map(|(node, peer_id, addr)| Peer { node, peer_id, addr })
        .collect();
    let mut p2p_config =
        P2pConfig::new(keys.p2p.clone(), me, cfg.p2p_listen.clone(), peers, checker.limits().max_message());
    p2p_config.queue = 4096;
    let p2p = P2p::start(p2p_config).await.context("starting the libp2p transport")?;
    let cocoa = (!cfg.cdn_brokers.is_empty()).then(|| {
        let limits = FrameLimits { max_message: checker.limits().max_message(), max_nodes: network.nodes.len() };
        let cocoa_cfg = CocoaConfig {
            brokers: cfg.cdn_brokers.clone(),
            me,
            key: keys.bls.clone(),
            limits,
            queue_bytes: cfg.cdn_queue_bytes,
            latency: std::time::Duration::ZERO,
        };
        Cocoa::start(cocoa_cfg, stop.clone())
    });
    let da_members: Vec<NodeId> = (0..network.nodes.len())
        .filter_map(|i| NodeId::try_from(i).ok())
        .filter(|&i| consensus.is_da_member(i))
        .collect();
    let transport = Transport::new(p2p.sender(), cocoa.as_ref().map(Cocoa::handle), me, &da_members);

    let shared = Arc::new(Shared::new(
        me,
        cfg.clone(),
        network,
        consensus.clone(),
        store.clone(),
        vid,
        backend.clone(),
        metrics,
        transport,
        misbehave,
    ));
    info!(node = me, backend = backend.name(), peers = shared.network.nodes.len() - 1, "starting");
    if let Some(m) = misbehave {
        tracing::warn!(node = me, misbehaviour = m.name(), "this node misbehaves on purpose (--byzantine)");
    }

    // Before the API answers /healthcheck: the first block this node leads or checks costs no more than later ones,
    // and an engine that cannot check its own block (a broken backend) stops the node here, not in a view.
    let took = tokio::task::spawn_blocking({
        let shared = shared.clone();
        move || engine_jobs::warm_up(&shared)
    })
    .await?
    .context("the engine's warm-up block (a dispersal and its checks) failed")?;
    info!(node = me, ms = took.as_millis() as u64, "engine warmed up and checked on one full block");

    let safety = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.safety()
    })
    .await??;
    let bls = crate::consensus::bls::BlsKey::new(me, keys.bls.clone());
    let node = match safety {
        Some(ps) => Node::restore(me, consensus, bls, verifier_keys, ps),
        None => Node::new(me, consensus, bls, verifier_keys),
    };

    let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE);
    let (verify_tx, verify_rx) = mpsc::channel(VERIFY_QUEUE);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(inbound::receive(shared.clone(), p2p, cocoa, verify_tx, stop.clone()));
    tasks.spawn(inbound::verify(shared.clone(), checker, verify_rx, core_tx.clone(), stop.clone()));
    tasks.spawn(core_task::drive(shared.clone(), node, core_rx, core_tx, stop.clone()));
    tasks.spawn(crate::api::serve(shared.clone(), stop.clone()));
    tasks.spawn(shared::housekeeping(shared.clone(), stop.clone()));

    // The first task to end ends the node: cleanly when asked to stop, with its error otherwise.
    let first = tasks.join_next().await;
    tasks.abort_all();
    match first {
        Some(Ok(Ok(()))) if *stop.borrow() => {
            info!(node = me, "stopped");
            Ok(())
        }
        Some(Ok(Ok(()))) => anyhow::bail!("a node task ended unexpectedly"),
        Some(Ok(Err(e))) => Err(e),
        Some(Err(e)) => Err(anyhow::anyhow!("a node task panicked: {e}")),
        None => Ok(()),
    }
}

//! What every task of a running node shares: its identity and configuration, the store, the engine, the transport's
//! sender, the mempool, metrics and a status snapshot for the API.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crema_engine::Backend;
use crema_engine::vid::{NamespaceId, Vid};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::byzantine::Misbehaviour;
use super::retrieval::Retrieval;
use crate::config::NodeConfig;
use crate::consensus::{BlsScheme, BuiltBlock, Config, Digest, Membership, Message, NodeId, View, wire};
use crate::da::service::{self, ServiceMsg};
use crate::mempool::{Mempool, MempoolError};
use crate::metrics::Metrics;
use crate::net::network::{Class, NetError, Outbound};
use crate::net::p2p::P2pSender;
use crate::network_file::NetworkFile;
use crate::store::Store;

/// Dispersals a leader keeps to serve shares nodes ask for.
const KEEP_DISPERSALS: usize = 16;
/// Transaction arrival times kept for the submit-to-decide histogram.
const KEEP_ARRIVALS: usize = 200_000;

/// A snapshot of the node's consensus state, for `GET /v0/status`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Status {
    /// The current view.
    pub view: View,
    /// The current view's leader.
    pub leader: NodeId,
    /// The highest decided height.
    pub decided_height: u64,
    /// The view of the last decided block.
    pub decided_view: View,
    /// Blocks decided since start.
    pub decided_blocks: u64,
    /// Blocks decided through range sync since start.
    pub synced_blocks: u64,
    /// Messages refused since start.
    pub rejected: u64,
}

/// Shared by every task of a node.
pub struct Shared {
    /// This node's index.
    pub me: NodeId,
    /// Its config file.
    pub cfg: NodeConfig,
    /// The network file.
    pub network: NetworkFile,
    /// The consensus configuration derived from it.
    pub consensus: Config,
    /// The store.
    pub store: Arc<Store<BlsScheme>>,
    /// The network's VID scheme.
    pub vid: Vid,
    /// The engine backend the operator chose.
    pub backend: Arc<dyn Backend>,
    /// Metrics.
    pub metrics: Metrics,
    /// Sends through the transport.
    pub net: P2pSender,
    /// The status snapshot.
    pub status: RwLock<Status>,
    /// The transaction pool.
    pub mempool: Mutex<Mempool>,
    /// When each transaction arrived here (for the submit-to-decide histogram), and in which view's block it went.
    pub arrivals: Mutex<HashMap<[u8; 32], Instant>>,
    /// The transactions of the blocks this node proposed, by view, until decided or abandoned.
    pub proposed: Mutex<HashMap<View, Vec<[u8; 32]>>>,
    /// This node's recent dispersals, to serve shares.
    pub dispersals: Mutex<VecDeque<BuiltBlock>>,
    /// Pending payload and share retrievals.
    pub retrieval: Retrieval,
    /// When the node started.
    pub started: Instant,
    /// The misbehaviour a fault drill asked for (`None`: an honest node).
    pub misbehave: Option<Misbehaviour>,
}

/// Why a transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The mempool refused it.
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    /// The leader it was forwarded to could not be reached.
    #[error("forwarding to the leader failed: {0}")]
    Forward(#[from] NetError),
}

impl Shared {
    /// Everything a node shares, freshly started.
    #[allow(clippy::too_many_arguments)] // One constructor, called once, with the node's parts.
    pub fn new(
        me: NodeId,
        cfg: NodeConfig,
        network: NetworkFile,
        consensus: Config,
        store: Arc<Store<BlsScheme>>,
        vid: Vid,
        backend: Arc<dyn Backend>,
        metrics: Metrics,
        net: P2pSender,
        misbehave: Option<Misbehaviour>,
    ) -> Self {
        let mempool = Mempool::new(cfg.mempool_max_bytes, cfg.mempool_max_txs);
        Shared {
            me,
            cfg,
            network,
            consensus,
            store,
            vid,
            backend,
            metrics,
            net,
            status: RwLock::new(Status::default()),
            mempool: Mutex::new(mempool),
            arrivals: Mutex::new(HashMap::new()),
            proposed: Mutex::new(HashMap::new()),
            dispersals: Mutex::new(VecDeque::new()),
            retrieval: Retrieval::default(),
            started: Instant::now(),
            misbehave,
        }
    }

    /// The status snapshot.
    pub fn status(&self) -> Status {
        self.status.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Updates the status snapshot.
    pub fn update_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// The mempool (a poisoned lock only means a panic elsewhere; the pool itself stays consistent per call).
    pub fn mempool(&self) -> std::sync::MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a consensus message to one node.
    pub fn send(&self, to: NodeId, msg: &Message<BlsScheme>) {
        let altered;
        let msg = match self.misbehave {
            Some(m) => match m.outgoing(self.me, to, msg) {
                Some(a) => {
                    altered = a;
                    &altered
                }
                None => return,
            },
            None => msg,
        };
        let out = self.encode(msg);
        if let Err(e) = self.net.send(to, out) {
            self.metrics.drop_on("send");
            debug!(to, kind = msg.kind(), "send failed: {e}");
        }
    }

    /// Sends a consensus message to every node, this one included.
    pub fn broadcast(&self, msg: &Message<BlsScheme>) {
        let out = self.encode(msg);
        let copies = self.network.nodes.len();
        let bytes = out.bytes.len();
        if let Err(e) = self.net.broadcast(out) {
            self.metrics.drop_on("broadcast");
            debug!(kind = msg.kind(), "broadcast failed: {e}");
        } else {
            // Counted once per peer: what leaves the node (bulk broadcasts go to each peer).
            for _ in 1..copies.max(1) {
                self.metrics.traffic(layer_of(msg), "sent", bytes);
            }
        }
    }

    fn encode(&self, msg: &Message<BlsScheme>) -> Outbound {
        let bytes = wire::encode(msg);
        self.metrics.traffic(layer_of(msg), "sent", bytes.len());
        let class = if msg.is_bulk() { Class::Bulk } else { Class::Small };
        Outbound { class, bytes: Arc::new(bytes) }
    }

    /// Sends a DA service message to one node.
    pub fn send_service(&self, to: NodeId, msg: &ServiceMsg) -> Result<(), NetError> {
        let bytes = service::encode(msg);
        self.metrics.traffic("service", "sent", bytes.len());
        self.net.send(to, Outbound { class: Class::Bulk, bytes: Arc::new(bytes) })
    }

    /// A transaction from a client: kept if this node leads soon, else forwarded to the leader two views ahead
    /// (the first one not already building its block), so it is proposed in a few views, by exactly one leader.
    pub fn submit(&self, namespace: NamespaceId, tx: Vec<u8>) -> Result<[u8; 32], SubmitError> {
        let view = self.status().view;
        let leader = self.consensus.table.leader(view + 2);
        let hash = crate::mempool::tx_hash(namespace, &tx);
        if leader == self.me {
            self.accept(namespace, tx)?;
        } else {
            self.send_service(leader, &ServiceMsg::Transactions(vec![(namespace, tx)]))?;
        }
        self.metrics.submitted.inc();
        Ok(hash)
    }

    /// Puts a transaction into this node's mempool and notes its arrival.
    pub fn accept(&self, namespace: NamespaceId, tx: Vec<u8>) -> Result<[u8; 32], MempoolError> {
        let hash = self.mempool().submit(namespace, tx)?;
        let mut arrivals = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        if arrivals.len() >= KEEP_ARRIVALS {
            arrivals.clear(); // A histogram sample lost beats unbounded memory.
        }
        arrivals.insert(hash, Instant::now());
        Ok(hash)
    }

    /// Remembers a block this node dispersed, to serve shares of it.
    pub fn keep_dispersal(&self, block: BuiltBlock) {
        let mut d = self.dispersals.lock().unwrap_or_else(|e| e.into_inner());
        d.push_back(block);
        while d.len() > KEEP_DISPERSALS {
            d.pop_front();
        }
    }

    /// A dispersal this node made, by commitment.
    pub fn dispersal(&self, commitment: &Digest) -> Option<BuiltBlock> {
        let d = self.dispersals.lock().unwrap_or_else(|e| e.into_inner());
        d.iter().find(|b| b.payload_commitment == *commitment).cloned()
    }
}

/// The DA layer a consensus message belongs to, for byte counts.
pub fn layer_of(msg: &Message<BlsScheme>) -> &'static str {
    match msg {
        Message::DaProposal(_) => "mascarpone",
        Message::VidShare(_) => "savoiardi",
        Message::SyncRequest { .. } | Message::SyncResponse(_) => "sync",
        _ => "consensus",
    }
}

/// Every few seconds: prune the store to the retention setting, refresh gauges.
pub async fn housekeeping(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            _ = tick.tick() => {}
        }
        let store = shared.store.clone();
        let keep = shared.cfg.retain_blocks;
        match tokio::task::spawn_blocking(move || store.prune(keep)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => warn!("pruning the store failed: {e}"),
            Err(e) => warn!("pruning task failed: {e}"),
        }
        let (len, peers) = (shared.mempool().len(), shared.net.stats().peers_connected);
        shared.metrics.mempool_txs.set(len as i64);
        shared.metrics.peers.set(peers as i64);
    }
}

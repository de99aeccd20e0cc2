//! What every task of a running node shares: its identity and configuration, the store, the engine, the transport's
//! sender, the mempool, metrics and a status snapshot for the API.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crema_engine::Backend;
use crema_engine::vid::{NamespaceId, Vid};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::byzantine::Misbehaviour;
use super::recent::{RecentDispersals, RecentPayloads};
use super::retrieval::Retrieval;
use crate::config::NodeConfig;
use crate::consensus::{BlsScheme, BuiltBlock, Config, Digest, Membership, Message, NodeId, View, wire};
use crate::da::service::{self, ServiceMsg};
use crate::mempool::{Mempool, MempoolError};
use crate::metrics::Metrics;
use crate::net::network::{Class, NetError, Outbound};
use crate::net::transport::{Path, Transport};
use crate::network_file::NetworkFile;
use crate::store::Store;

/// Bytes of its recent dispersals (payload and shares) a leader keeps to serve shares nodes ask for; the newest
/// is always kept. Sixteen were kept before, whatever their size: 280 MB of 5 MB blocks, a node's largest memory.
const KEEP_DISPERSAL_BYTES: usize = 64 << 20;
/// Bytes of recently checked payloads kept in memory to answer requests for them (six 5 MB blocks).
const KEEP_RECENT_PAYLOAD_BYTES: usize = 32 << 20;
/// Transaction arrival times kept for the submit-to-decide histogram.
const KEEP_ARRIVALS: usize = 200_000;
/// Views whose CDN dispersal is kept for a libp2p resend.
const KEEP_FALLBACKS: usize = 8;
/// The longest wait for a DA certificate before a CDN dispersal is resent over libp2p: the smaller of this and a
/// quarter of the view timeout. DESIGN §5 names a tenth (100 ms at the 1 s default); measured on the 10-node,
/// 5 MB-block devnet, a healthy broker and committee need longer than that on a loaded machine, so nearly every
/// view was resent (179 resends for 101 blocks, 5 GB over libp2p beside 3 GB through the broker), and the
/// resends themselves slowed the views. A quarter is also when nodes without their share start asking for it.
const CDN_FALLBACK_MAX: Duration = Duration::from_millis(500);

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
    /// Sends through the transport (libp2p, and the CDN when configured).
    pub net: Transport,
    /// Dispersals sent through the CDN, by view, until the view's DA certificate forms: resent over libp2p if it
    /// does not in time.
    pub cdn_dispersed: Mutex<std::collections::BTreeMap<View, Vec<CdnDispersal>>>,
    /// The status snapshot.
    pub status: RwLock<Status>,
    /// The transaction pool.
    pub mempool: Mutex<Mempool>,
    /// When each transaction arrived here (for the submit-to-decide histogram), and in which view's block it went.
    pub arrivals: Mutex<HashMap<[u8; 32], Instant>>,
    /// The transactions of the blocks this node proposed, by view, until decided or abandoned.
    pub proposed: Mutex<HashMap<View, Vec<[u8; 32]>>>,
    /// This node's recent dispersals, to serve shares.
    pub dispersals: RecentDispersals,
    /// Pending payload and share retrievals.
    pub retrieval: Retrieval,
    /// Recently checked payloads, to answer requests without reading the store.
    pub recent: RecentPayloads,
    /// When the node started.
    pub started: Instant,
    /// The misbehaviour a fault drill asked for (`None`: an honest node).
    pub misbehave: Option<Misbehaviour>,
}

/// A dispersal sent through the CDN, kept for a libp2p resend.
#[derive(Debug)]
pub struct CdnDispersal {
    to: Vec<NodeId>,
    out: Outbound,
    layer: &'static str,
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
        net: Transport,
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
            cdn_dispersed: Mutex::new(Default::default()),
            status: RwLock::new(Status::default()),
            mempool: Mutex::new(mempool),
            arrivals: Mutex::new(HashMap::new()),
            proposed: Mutex::new(HashMap::new()),
            dispersals: RecentDispersals::new(KEEP_DISPERSAL_BYTES),
            retrieval: Retrieval::default(),
            recent: RecentPayloads::new(KEEP_RECENT_PAYLOAD_BYTES),
            started: Instant::now(),
            misbehave,
        }
    }

    /// The size limits of this network's messages (its node count, its largest block).
    pub fn wire_limits(&self) -> crate::consensus::WireLimits {
        crate::consensus::WireLimits::for_network(self.network.nodes.len(), self.consensus.max_block_bytes as usize)
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

    /// Sends a consensus message to one node (small messages both ways, bulk replies over libp2p).
    pub fn send(&self, to: NodeId, msg: &Message<BlsScheme>) {
        let Some(msg) = self.outgoing(to, msg) else { return };
        let out = encode(&msg);
        match self.net.send(to, out.clone()) {
            Ok(path) => self.count_sent(&msg, &out, path, 1),
            Err(e) => {
                self.metrics.drop_on("send");
                debug!(to, kind = msg.kind(), "send failed: {e}");
            }
        }
    }

    /// Sends a consensus message to every node, this one included.
    pub fn broadcast(&self, msg: &Message<BlsScheme>) {
        let out = encode(msg);
        match self.net.broadcast(out.clone()) {
            Ok(path) => self.count_sent(msg, &out, path, self.network.nodes.len().saturating_sub(1)),
            Err(e) => {
                self.metrics.drop_on("broadcast");
                debug!(kind = msg.kind(), "broadcast failed: {e}");
            }
        }
    }

    /// Disperses a block's DA proposal or a VID share to `to`: through the CDN in one upload when it is
    /// connected, remembered until the view's DA certificate forms (see [`Shared::arm_cdn_fallback`]); else over
    /// libp2p. A misbehaving node (a drill) alters each recipient's copy, so it sends them one by one.
    pub fn disperse(&self, to: &[NodeId], msg: &Message<BlsScheme>) {
        let (view, key) = match msg {
            Message::DaProposal(d) => (d.view, crate::cdn::login::payload_key(&d.commitment)),
            Message::VidShare(s) => (s.view, crate::cdn::login::share_key(&s.commitment, s.node)),
            other => {
                for &t in to {
                    self.send(t, other);
                }
                return;
            }
        };
        if self.misbehave.is_some() && to.len() > 1 {
            for &t in to {
                self.disperse(&[t], msg);
            }
            return;
        }
        let Some(msg) = to.first().and_then(|&t| self.outgoing(t, msg)) else { return };
        let out = encode(&msg);
        let others: Vec<NodeId> = to.iter().copied().filter(|&t| t != self.me).collect();
        match self.net.disperse(to, key, out.clone()) {
            Ok(Path::Cdn) => {
                self.count_sent(&msg, &out, Path::Cdn, 1);
                // Only the DA committee's copies wait for a resend: the certificate needs them, and their votes
                // tell who has them. Other nodes ask for a missing share themselves (the share timer).
                let members: Vec<NodeId> = others.into_iter().filter(|&t| self.consensus.is_da_member(t)).collect();
                if !members.is_empty() {
                    let mut pending = self.cdn_dispersed.lock().unwrap_or_else(|e| e.into_inner());
                    pending.entry(view).or_default().push(CdnDispersal { to: members, out, layer: layer_of(&msg) });
                    while pending.len() > KEEP_FALLBACKS {
                        pending.pop_first();
                    }
                }
            }
            // Only this node's own copy: delivered locally, nothing left the node.
            Ok(Path::P2p) if others.is_empty() => {}
            Ok(Path::P2p) => self.count_sent(&msg, &out, Path::P2p, others.len()),
            Err(e) => {
                self.metrics.drop_on("send");
                debug!(kind = msg.kind(), "dispersal failed: {e}");
            }
        }
    }

    /// After a view's dispersal through the CDN: if no DA certificate has formed for `view` within the smaller of
    /// 500 ms and a quarter of the view timeout, resend over libp2p what went through the broker to the DA
    /// committee members whose DA vote has not arrived. A broker that is slow, drops or corrupts data costs this delay, not a view.
    pub fn arm_cdn_fallback(self: &Arc<Self>, view: View) {
        if !self.cdn_dispersed.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&view) {
            return;
        }
        let delay = CDN_FALLBACK_MAX.min(Duration::from_millis(self.consensus.base_timeout_ms / 4));
        let shared = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let Some(sends) = shared.cdn_dispersed.lock().unwrap_or_else(|e| e.into_inner()).remove(&view) else {
                return;
            };
            shared.metrics.cdn_fallback("no_da_certificate");
            debug!(view, "no DA certificate {} ms after the CDN dispersal: resending over libp2p", delay.as_millis());
            for d in sends.into_iter().filter(|d| !d.to.is_empty()) {
                if shared.net.p2p_each(&d.to, d.out.clone()).is_ok() {
                    shared.count_bytes(d.layer, "p2p", d.out.bytes.len() * d.to.len());
                }
            }
        });
    }

    /// A DA member's verified vote for `view` reached this leader: it has the block (and, through the same broker
    /// at the same moment, its share), so a resend skips it.
    pub fn da_voted(&self, view: View, voter: NodeId) {
        if let Some(sends) = self.cdn_dispersed.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&view) {
            for d in sends.iter_mut() {
                d.to.retain(|&t| t != voter);
            }
        }
    }

    /// The view's DA certificate formed: its CDN dispersal needs no resend.
    pub fn da_certified(&self, view: View) {
        self.cdn_dispersed.lock().unwrap_or_else(|e| e.into_inner()).remove(&view);
    }

    /// The message as this node sends it to `to`: itself (not copied: a share is megabytes), altered by a drill's
    /// misbehaviour, or nothing.
    fn outgoing<'a>(&self, to: NodeId, msg: &'a Message<BlsScheme>) -> Option<Cow<'a, Message<BlsScheme>>> {
        match self.misbehave {
            Some(m) => m.outgoing(self.me, to, msg).map(Cow::Owned),
            None => Some(Cow::Borrowed(msg)),
        }
    }

    /// Counts what left: `copies` copies over libp2p, or one upload to the broker.
    fn count_sent(&self, msg: &Message<BlsScheme>, out: &Outbound, path: Path, copies: usize) {
        let layer = layer_of(msg);
        let (bytes, path_name) = match path {
            Path::Cdn if out.class == Class::Bulk => (out.bytes.len(), "cdn"),
            // Small messages went both ways: count the libp2p copies (the CDN's is counted on its own path).
            Path::Cdn => {
                self.metrics.traffic_path(layer, "cdn", out.bytes.len());
                (out.bytes.len() * copies.max(1), "p2p")
            }
            Path::P2p => (out.bytes.len() * copies.max(1), "p2p"),
        };
        self.count_bytes(layer, path_name, bytes);
    }

    /// Counts `bytes` sent on `layer` through `path`, in the per-layer and the per-path counters.
    fn count_bytes(&self, layer: &str, path: &str, bytes: usize) {
        self.metrics.traffic(layer, "sent", bytes);
        self.metrics.traffic_path(layer, path, bytes);
    }

    /// Sends a DA service message to one node.
    pub fn send_service(&self, to: NodeId, msg: &ServiceMsg) -> Result<(), NetError> {
        let bytes = service::encode(msg);
        self.metrics.traffic("service", "sent", bytes.len());
        self.net.send(to, Outbound { class: Class::Bulk, bytes: Arc::new(bytes) }).map(|_| ())
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
        self.dispersals.insert(block);
    }

    /// The payload with `commitment` if this node holds it: kept in memory, or read (and checked against its
    /// ref) from the store. Blocking: call it from a blocking task.
    pub fn local_payload(&self, commitment: &Digest) -> Result<Option<Arc<Vec<u8>>>, crate::store::StoreError> {
        if let Some(p) = self.recent.get(commitment) {
            return Ok(Some(p));
        }
        let Some(p) = self.store.payload(commitment)? else { return Ok(None) };
        let p = Arc::new(p);
        self.recent.insert(*commitment, p.clone());
        Ok(Some(p))
    }

    /// Node `node`'s share of a dispersal this node made, by commitment, with the common data.
    pub fn dispersed_share(&self, commitment: &Digest, node: NodeId) -> Option<(Arc<Vec<u8>>, Vec<u8>)> {
        self.dispersals.share(commitment, node as usize)
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

/// The encoded message, with how it should travel.
fn encode(msg: &Message<BlsScheme>) -> Outbound {
    let class = if msg.is_bulk() { Class::Bulk } else { Class::Small };
    Outbound { class, bytes: Arc::new(wire::encode(msg)) }
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
        let (len, peers) = (shared.mempool().len(), shared.net.p2p().stats().peers_connected);
        shared.metrics.mempool_txs.set(len as i64);
        shared.metrics.peers.set(peers as i64);
        if let Some(cdn) = shared.net.cdn() {
            shared.metrics.cdn_connected.set(i64::from(cdn.connected()));
        }
    }
}

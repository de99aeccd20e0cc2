//! The libp2p 0.57 transport of the node: [`P2p`] implements [`Network`] between the nodes of one stake table.
//!
//! # Design
//!
//! - **Stack.** TCP + noise + yamux under one [`behaviour::Behaviour`]: an allowlist, identify, gossipsub and
//!   request-response. Peers are static (the stake table's addresses): every peer is dialled at start and redialled
//!   with exponential backoff while disconnected ([`dialer`]). No DHT, no mDNS; identify's addresses are logged,
//!   never dialled.
//! - **Which class goes where.** A *small broadcast* (votes, certificates, proposals without payload) is
//!   published on one gossipsub topic: `ValidationMode::Strict`, messages signed by the libp2p key, BLAKE3
//!   message ids, transmit limit [`behaviour::GOSSIP_MAX_TRANSMIT`] (1 MiB). It is also pushed point to point to
//!   any connected peer gossip would miss: all of them when the message is over
//!   [`behaviour::GOSSIP_MAX_MESSAGE`], when the publish fails (no subscribed peer yet) or when gossip's duplicate
//!   cache holds it (the core repeats some messages on purpose, e.g. a timeout vote after a partition). A *bulk
//!   broadcast* (payloads, shares, header ranges) is one request-response push per peer, sharing one buffer.
//!   A *send* is always a push. Every broadcast is also delivered to this node itself (gossipsub does not deliver
//!   to its publisher); `Inbound::via` is then this node.
//! - **Limits.** A push is a length-prefixed frame ([`codec`]): a frame over
//!   [`P2pConfig::max_message_bytes`] (which follows the configured maximum block size through
//!   [`crate::consensus::wire::WireLimits::max_message`]) is refused before anything is allocated, and this node
//!   refuses to send one ([`NetError::TooLarge`]). Streams run under request-response's timeout, with at most
//!   [`P2pConfig::max_streams`] per connection and [`P2pConfig::max_in_flight`] unacknowledged pushes per peer.
//!   Every queue is bounded by [`P2pConfig::queue`]; when one is full the message is dropped and counted
//!   ([`P2pStats`]), sending never blocks and the swarm never waits for the consumer.
//! - **Latency drill.** [`P2pSender::set_latency`] (`p2p.latency_ms` in node.toml) holds every message bound for
//!   a peer in a FIFO delay line in the swarm task for that long before it goes out: one-way delay on each
//!   message this node sends (acknowledgements and gossip forwards by other peers do not wait again), with
//!   order kept and the line bounded by [`P2pConfig::queue`]. The machine offers no traffic shaping; this stands
//!   in for a wide-area network.
//! - **Trust.** Only PeerIds in [`P2pConfig::peers`] may connect: that list comes from the stake table, whose
//!   PeerId-to-BLS-key bindings were verified when it was loaded; any other connection is closed as soon as the
//!   noise handshake reveals its PeerId, and counted. That is all the transport checks. It never vouches for a
//!   sender: what [`Network::recv`] returns is unverified bytes, and [`Inbound::via`] (the peer that handed them
//!   over: a gossip forwarder, not necessarily the author) is only for accounting.
//! - **Tasks.** As in the rust-libp2p file-sharing example, one task ([`swarm`]) owns the `Swarm`; the [`P2p`]
//!   handle and its cloneable [`P2pSender`]s talk to it over bounded channels. [`P2p::shutdown`] drains the queued
//!   commands and gives pushes in flight a grace period before closing every connection.

mod behaviour;
mod codec;
mod delay;
mod dialer;
mod listen;
mod peers;
mod sender;
mod stats;
mod swarm;
#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId, SwarmBuilder, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use self::codec::{Frame, FrameError, read_frame, write_frame};
pub use self::dialer::Backoff;
pub use self::peers::Peer;
pub use self::sender::P2pSender;
pub use self::stats::{FlowStats, P2pStats};
use crate::consensus::NodeId;
use crate::net::network::{Inbound, NetError, Network, Outbound};

/// Connections stay open while idle: peers are static, closing them would only cost a redial.
const IDLE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The transport's configuration.
#[derive(Clone, Debug)]
pub struct P2pConfig {
    /// This node's libp2p identity (its PeerId is in the stake table).
    pub keypair: Keypair,
    /// This node's index in the stake table.
    pub me: NodeId,
    /// Where to listen (port 0 picks a free port: see [`P2p::listen_addrs`]).
    pub listen: Multiaddr,
    /// The other nodes (this node's own entry may be included: it is checked and skipped). Only these PeerIds
    /// may connect.
    pub peers: Vec<Peer>,
    /// Largest message carried (from [`crate::consensus::wire::WireLimits::max_message`]).
    pub max_message_bytes: usize,
    /// Capacity of the command queue and of the inbound queue.
    pub queue: usize,
    /// Request-response timeout: a push not acknowledged in time fails (and an inbound frame not read in time
    /// is dropped).
    pub request_timeout: Duration,
    /// Concurrent request-response streams per connection.
    pub max_streams: usize,
    /// Unacknowledged pushes per peer before further ones to it are dropped.
    pub max_in_flight: usize,
    /// Redial delays.
    pub backoff: Backoff,
    /// How long [`P2p::shutdown`] waits for pushes in flight, then for connections to close.
    pub shutdown_grace: Duration,
}

impl P2pConfig {
    /// A configuration with the default queue sizes and timeouts.
    pub fn new(keypair: Keypair, me: NodeId, listen: Multiaddr, peers: Vec<Peer>, max_message_bytes: usize) -> Self {
        P2pConfig {
            keypair,
            me,
            listen,
            peers,
            max_message_bytes,
            queue: 1024,
            request_timeout: Duration::from_secs(30),
            max_streams: 32,
            max_in_flight: 64,
            backoff: Backoff::default(),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// Why the transport could not start.
#[derive(Debug, thiserror::Error)]
pub enum P2pError {
    /// A peer entry names this node's index with another PeerId, or this node's PeerId under another index.
    #[error("peer list: node {node} / {peer_id} contradicts this node's index or key")]
    SelfMismatch {
        /// The entry's node index.
        node: NodeId,
        /// The entry's PeerId.
        peer_id: PeerId,
    },
    /// Two peer entries share a node index.
    #[error("peer list: node {0} listed twice")]
    DuplicateNode(NodeId),
    /// Two peer entries share a PeerId.
    #[error("peer list: PeerId {0} listed twice")]
    DuplicatePeer(PeerId),
    /// A configuration value is out of range.
    #[error("p2p config: {field} = {value} (must be {rule})")]
    Config {
        /// The field.
        field: &'static str,
        /// Its value.
        value: usize,
        /// What it must be.
        rule: &'static str,
    },
    /// The transport or a behaviour could not be built.
    #[error("building the libp2p stack: {0}")]
    Build(String),
    /// Listening failed.
    #[error("listening on {addr}: {reason}")]
    Listen {
        /// The configured address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
}

/// The transport handle: the receiving end, a sender, and the swarm task it controls.
#[derive(Debug)]
pub struct P2p {
    sender: P2pSender,
    inbound: mpsc::Receiver<Inbound>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    local: PeerId,
    listen: Arc<RwLock<Vec<Multiaddr>>>,
}

impl P2p {
    /// Builds the stack, starts listening (returning once the listener has an address) and spawns the swarm
    /// task on the current tokio runtime, which dials every peer at once.
    pub async fn start(cfg: P2pConfig) -> Result<Self, P2pError> {
        check(&cfg)?;
        let local = cfg.keypair.public().to_peer_id();
        let directory = Arc::new(peers::Directory::new(cfg.me, local, &cfg.peers)?);
        let stats = Arc::new(stats::Counters::default());
        let limits = behaviour::Limits {
            max_message_bytes: cfg.max_message_bytes,
            request_timeout: cfg.request_timeout,
            max_streams: cfg.max_streams,
        };
        let allowed = directory.addrs().iter().map(|(p, _)| *p);
        let behaviour =
            behaviour::Behaviour::new(&cfg.keypair, allowed, &limits, stats.clone()).map_err(P2pError::Build)?;
        let mut swarm = SwarmBuilder::with_existing_identity(cfg.keypair.clone())
            .with_tokio()
            .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
            .map_err(|e| P2pError::Build(e.to_string()))?
            .with_behaviour(|_| behaviour)
            .map_err(|e| P2pError::Build(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
            .build();
        let first = listen::listen(&mut swarm, &cfg.listen)
            .await
            .map_err(|reason| P2pError::Listen { addr: cfg.listen.clone(), reason })?;
        tracing::info!(address = %first, peer = %local, node = cfg.me, "p2p listening");
        let listen = Arc::new(RwLock::new(vec![first]));
        let (cmd_tx, cmd_rx) = mpsc::channel(cfg.queue);
        let (in_tx, in_rx) = mpsc::channel(cfg.queue);
        let (stop, stop_rx) = oneshot::channel();
        let dialer = dialer::Dialer::new(directory.addrs().to_vec(), cfg.backoff, std::time::Instant::now());
        let latency = Arc::new(sender::Latency::default());
        let event_loop = swarm::EventLoop {
            swarm,
            commands: cmd_rx,
            inbound: in_tx,
            shutdown: stop_rx,
            directory: directory.clone(),
            stats: stats.clone(),
            dialer,
            listen: listen.clone(),
            max_in_flight: cfg.max_in_flight,
            queue: cfg.queue,
            latency: latency.clone(),
            tick: cfg.backoff.initial.min(Duration::from_millis(100)),
            shutdown_grace: cfg.shutdown_grace,
        };
        let task = tokio::spawn(event_loop.run());
        let sender = P2pSender::new(cmd_tx, directory, cfg.max_message_bytes, stats, latency);
        Ok(P2p { sender, inbound: in_rx, stop, task, local, listen })
    }

    /// A cloneable handle sending through this transport (same semantics as [`Network::send`] and
    /// [`Network::broadcast`]).
    pub fn sender(&self) -> P2pSender {
        self.sender.clone()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> P2pStats {
        self.sender.stats()
    }

    /// This node's PeerId.
    pub fn local_peer_id(&self) -> PeerId {
        self.local
    }

    /// The addresses the transport listens on (the actual port when the configured one was 0).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.listen.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops the transport: queued commands are still handled, pushes in flight get
    /// [`P2pConfig::shutdown_grace`] to be acknowledged, then connections close. Senders get
    /// [`NetError::Closed`] afterwards.
    pub async fn shutdown(self) {
        // Err: the task already ended, which the join below reports.
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "p2p swarm task failed");
        }
    }
}

fn check(cfg: &P2pConfig) -> Result<(), P2pError> {
    let positive = |field: &'static str, value: usize| {
        if value == 0 { Err(P2pError::Config { field, value, rule: "at least 1" }) } else { Ok(()) }
    };
    positive("queue", cfg.queue)?;
    positive("max_streams", cfg.max_streams)?;
    positive("max_in_flight", cfg.max_in_flight)?;
    positive("max_message_bytes", cfg.max_message_bytes)?;
    if cfg.backoff.initial.is_zero() || cfg.backoff.max < cfg.backoff.initial {
        let value = cfg.backoff.initial.as_millis() as usize;
        return Err(P2pError::Config {
            field: "backoff.initial (ms)",
            value,
            rule: "positive and at most backoff.max",
        });
    }
    if cfg.max_message_bytes > u32::MAX as usize {
        let rule = "at most u32::MAX (the frame length prefix)";
        return Err(P2pError::Config { field: "max_message_bytes", value: cfg.max_message_bytes, rule });
    }
    Ok(())
}

impl Network for P2p {
    fn send(&mut self, to: NodeId, msg: Outbound) -> Result<(), NetError> {
        self.sender.send(to, msg)
    }

    fn broadcast(&mut self, msg: Outbound) -> Result<(), NetError> {
        self.sender.broadcast(msg)
    }

    fn recv(&mut self) -> impl Future<Output = Option<Inbound>> + Send {
        self.inbound.recv()
    }
}

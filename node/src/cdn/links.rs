//! Scale-out: links between the brokers of one network, found through [`Discovery`].
//!
//! Each broker registers itself and its logged-in nodes in Redis every [`HEARTBEAT`] (entries live [`TTL`]). On
//! each heartbeat it lists the brokers and dials those whose id sorts after its own, so each pair shares exactly
//! one TCP link, used both ways. A dialer answers the acceptor's challenge with `BrokerHello{id}`; the acceptor
//! links only with a broker registered in Redis (Redis is the brokers' trust root: whoever can write to it can join
//! the mesh, which gives them no power over nodes, who verify everything).
//!
//! A node's `Publish` is forwarded once to every linked broker as `Forward{Topic}`, which delivers it to its own
//! nodes and never forwards it again (a full mesh: one hop). A `Direct` to a node logged in elsewhere goes as
//! `Forward{Nodes}` to that node's broker, looked up in Redis and cached for [`LOCATE_TTL`]. Forwards carry the
//! cache key, so every broker caches what it delivers.
//!
//! [`HEARTBEAT`]: super::discovery::HEARTBEAT
//! [`TTL`]: super::discovery::TTL

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, watch};

use super::broker::{Broker, Origin};
use super::discovery::{Discovery, HEARTBEAT};
use super::frame::{self, CacheKey, Frame, Target, Topic};
use super::metrics::BrokerMetrics;
use super::outbox::{Outbox, Pushed};
use super::session::{LOGIN_TIMEOUT, count_read_error};
use crate::consensus::NodeId;

/// How long a node's location (or its absence) is trusted before Redis is asked again.
pub const LOCATE_TTL: Duration = Duration::from_secs(1);

/// A node arriving at or leaving this broker, for discovery.
#[derive(Clone, Copy, Debug)]
enum NodeEvent {
    Arrived(NodeId),
    Left(NodeId),
}

struct Link {
    conn: u64,
    outbox: Outbox,
}

/// This broker's links to the other brokers of the network.
pub struct Links {
    id: String,
    advertise: SocketAddr,
    discovery: Discovery,
    /// Outgoing queue cap of a link (it carries many nodes' traffic).
    queue_bytes: usize,
    links: Mutex<HashMap<String, Link>>,
    dialing: Mutex<HashSet<String>>,
    located: Mutex<HashMap<NodeId, (Option<String>, Instant)>>,
    events: mpsc::UnboundedSender<NodeEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<NodeEvent>>>,
    next_conn: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves the data consistent, so a panic elsewhere does not poison it for us.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Links {
    /// Links for broker `id`, reachable at `advertise`, with a link queue cap of `queue_bytes`.
    pub fn new(id: String, advertise: SocketAddr, discovery: Discovery, queue_bytes: usize) -> Self {
        let (events, rx) = mpsc::unbounded_channel();
        Links {
            id,
            advertise,
            discovery,
            queue_bytes,
            links: Mutex::new(HashMap::new()),
            dialing: Mutex::new(HashSet::new()),
            located: Mutex::new(HashMap::new()),
            events,
            events_rx: Mutex::new(Some(rx)),
            next_conn: AtomicU64::new(0),
        }
    }

    /// Tells discovery that `node` logged in here.
    pub fn node_arrived(&self, node: NodeId) {
        let _ = self.events.send(NodeEvent::Arrived(node));
    }

    /// Tells discovery that `node` left.
    pub fn node_left(&self, node: NodeId) {
        let _ = self.events.send(NodeEvent::Left(node));
    }

    fn link_outboxes(&self) -> Vec<Outbox> {
        lock(&self.links).values().map(|l| l.outbox.clone()).collect()
    }

    /// Forwards a node's topic message to every linked broker.
    pub fn forward_topic(&self, broker: &Broker, from: NodeId, topic: Topic, key: Option<CacheKey>, message: &[u8]) {
        let outboxes = self.link_outboxes();
        if outboxes.is_empty() {
            return;
        }
        let body = frame::encode(&Frame::Forward { from, target: Target::Topic(topic), key, bytes: message.to_vec() });
        let body: Arc<[u8]> = body.into();
        for o in outboxes {
            self.push(broker, &o, body.clone());
        }
    }

    /// Forwards a node's direct message to the brokers of `nodes` (nodes not logged in here).
    pub async fn forward_direct(
        &self,
        broker: &Broker,
        from: NodeId,
        nodes: &[NodeId],
        key: Option<CacheKey>,
        message: &[u8],
    ) {
        let mut by_broker: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
        for &n in nodes {
            match self.locate(n).await {
                Some(b) if b != self.id => by_broker.entry(b).or_default().push(n),
                _ => BrokerMetrics::hit(&broker.metrics.forwards, "unroutable"),
            }
        }
        for (peer, nodes) in by_broker {
            let outbox = lock(&self.links).get(&peer).map(|l| l.outbox.clone());
            let Some(outbox) = outbox else {
                BrokerMetrics::hit(&broker.metrics.forwards, "no_link");
                continue;
            };
            let f = Frame::Forward { from, target: Target::Nodes(nodes), key, bytes: message.to_vec() };
            self.push(broker, &outbox, frame::encode(&f).into());
        }
    }

    fn push(&self, broker: &Broker, outbox: &Outbox, body: Arc<[u8]>) {
        match outbox.push(body) {
            Pushed::Queued => BrokerMetrics::hit(&broker.metrics.forwards, "out"),
            Pushed::Closed => {}
            Pushed::SlowReader => {
                BrokerMetrics::hit(&broker.metrics.limits, "slow_link");
                tracing::warn!("a broker link let its queue fill: closed (it is dialed again)");
                outbox.close();
            }
            Pushed::MemoryCap => BrokerMetrics::hit(&broker.metrics.limits, "memory_cap"),
        }
    }

    /// The broker `node` is logged in to, per discovery (cached briefly).
    async fn locate(&self, node: NodeId) -> Option<String> {
        if let Some((b, at)) = lock(&self.located).get(&node)
            && at.elapsed() < LOCATE_TTL
        {
            return b.clone();
        }
        let found = match self.discovery.node_broker(node).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(node, "discovery lookup failed: {e}");
                None
            }
        };
        lock(&self.located).insert(node, (found.clone(), Instant::now()));
        found
    }

    /// Registers this broker, keeps its entries fresh and dials new brokers, until `stop`; then unregisters.
    pub async fn run(self: Arc<Self>, broker: Arc<Broker>, mut stop: watch::Receiver<bool>) {
        let Some(mut events) = lock(&self.events_rx).take() else { return };
        let mut tick = tokio::time::interval(HEARTBEAT);
        let link_stop = stop.clone();
        loop {
            // Decide first, act after: the stop signal's guard must not live across the awaits below.
            let event = tokio::select! {
                _ = tick.tick() => None,
                Some(e) = events.recv() => Some(e),
                _ = super::fired(&mut stop) => break,
            };
            let r = match event {
                None => {
                    self.heartbeat(&broker, &link_stop).await;
                    continue;
                }
                Some(NodeEvent::Arrived(n)) => self.discovery.register_node(n, &self.id).await,
                Some(NodeEvent::Left(n)) => self.discovery.unregister_node(n, &self.id).await,
            };
            if let Err(err) = r {
                tracing::warn!("discovery update failed ({event:?}): {err}");
            }
        }
        // A clean stop: the other brokers and nodes learn at once instead of after the TTL.
        let _ = self.discovery.unregister_broker(&self.id).await;
        for n in broker.logged_in() {
            let _ = self.discovery.unregister_node(n, &self.id).await;
        }
    }

    async fn heartbeat(self: &Arc<Self>, broker: &Arc<Broker>, stop: &watch::Receiver<bool>) {
        let refreshed = async {
            self.discovery.register_broker(&self.id, self.advertise).await?;
            self.discovery.register_nodes(&broker.logged_in(), &self.id).await?;
            self.discovery.brokers().await
        };
        let brokers = match refreshed.await {
            Ok(b) => b,
            Err(e) => return tracing::warn!("discovery heartbeat failed: {e}"),
        };
        for (peer, addr) in brokers {
            // The smaller id dials: one link per pair.
            if peer <= self.id || lock(&self.links).contains_key(&peer) || !lock(&self.dialing).insert(peer.clone()) {
                continue;
            }
            let (links, broker, stop) = (self.clone(), broker.clone(), stop.clone());
            tokio::spawn(async move {
                if let Err(e) = links.dial(&broker, &peer, addr, stop).await {
                    tracing::info!(%peer, %addr, "broker link: {e}");
                }
                lock(&links.dialing).remove(&peer);
            });
        }
    }

    /// Dials broker `peer` at `addr` and serves the link until it closes.
    async fn dial(
        &self,
        broker: &Arc<Broker>,
        peer: &str,
        addr: SocketAddr,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut stream = tokio::time::timeout(LOGIN_TIMEOUT, TcpStream::connect(addr)).await??;
        let _ = stream.set_nodelay(true);
        let answer = tokio::time::timeout(LOGIN_TIMEOUT, async {
            let Frame::Challenge { .. } = frame::read(&mut stream, &broker.settings.limits).await? else {
                anyhow::bail!("the broker did not open with a challenge");
            };
            frame::write(&mut stream, &Frame::BrokerHello { broker: self.id.clone() }).await?;
            Ok(frame::read(&mut stream, &broker.settings.limits).await?)
        })
        .await??;
        match answer {
            Frame::Welcome { broker: id } if id == peer => {
                tracing::info!(%peer, %addr, "linked to broker");
                self.serve(broker, peer.to_string(), stream, stop).await;
                Ok(())
            }
            Frame::Welcome { broker: id } => anyhow::bail!("{addr} is broker {id:?}, not {peer:?}"),
            Frame::Refused { reason } => anyhow::bail!("refused: {reason}"),
            _ => anyhow::bail!("unexpected answer to the hello"),
        }
    }

    /// Accepts a link from broker `peer` (its hello just read), if discovery knows it.
    pub async fn accept(&self, broker: &Arc<Broker>, peer: String, mut stream: TcpStream, stop: watch::Receiver<bool>) {
        let known = match self.discovery.broker_addr(&peer).await {
            Ok(a) => a.is_some() && peer != self.id,
            Err(e) => {
                tracing::warn!("discovery lookup failed: {e}");
                false
            }
        };
        if !known {
            BrokerMetrics::hit(&broker.metrics.logins, "unknown_broker");
            let reason = format!("broker {peer:?} is not registered in discovery");
            let _ = frame::write(&mut stream, &Frame::Refused { reason }).await;
            return;
        }
        if frame::write(&mut stream, &Frame::Welcome { broker: self.id.clone() }).await.is_ok() {
            BrokerMetrics::hit(&broker.metrics.logins, "broker");
            tracing::info!(%peer, "broker linked to us");
            self.serve(broker, peer, stream, stop).await;
        }
    }

    /// Serves an established link: forwards in, through the broker to its own nodes; forwards out, through the
    /// link's outbox (replacing an older link to the same broker).
    async fn serve(&self, broker: &Arc<Broker>, peer: String, stream: TcpStream, mut stop: watch::Receiver<bool>) {
        let (mut rd, wr) = stream.into_split();
        let (outbox, mut closed) =
            Outbox::spawn(wr, self.queue_bytes, broker.settings.memory.clone(), None, broker.metrics.clone());
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let old = lock(&self.links).insert(peer.clone(), Link { conn, outbox: outbox.clone() });
        if let Some(old) = old {
            old.outbox.close();
        }
        broker.metrics.broker_links.set(lock(&self.links).len() as i64);
        tokio::select! {
            _ = read_forwards(broker, &mut rd) => {}
            _ = super::fired(&mut closed) => {}
            _ = super::fired(&mut stop) => {}
        }
        outbox.close();
        let mut links = lock(&self.links);
        if links.get(&peer).is_some_and(|l| l.conn == conn) {
            links.remove(&peer);
        }
        broker.metrics.broker_links.set(links.len() as i64);
        tracing::info!(%peer, "broker link closed");
    }
}

async fn read_forwards(broker: &Arc<Broker>, rd: &mut OwnedReadHalf) {
    loop {
        let body = match frame::read_raw(rd, &broker.settings.limits).await {
            Ok(b) => b,
            Err(e) => return count_read_error(broker, &e),
        };
        broker.metrics.frame("in", body.len() + 4);
        match frame::decode(&body, &broker.settings.limits) {
            Ok(Frame::Forward { from, target, key, bytes }) => {
                BrokerMetrics::hit(&broker.metrics.forwards, "in");
                match target {
                    Target::Topic(t) => broker.publish(from, t, key, bytes, Origin::Broker),
                    Target::Nodes(to) => broker.direct(from, &to, key, bytes, Origin::Broker).await,
                }
            }
            Ok(_) => {
                BrokerMetrics::hit(&broker.metrics.protocol_errors, "forbidden_frame");
                return;
            }
            Err(e) => return count_read_error(broker, &frame::ReadError::Wire(e)),
        }
    }
}

//! The broker's shared state and what it does with a message: who is logged in, the cache, delivery (with the
//! drill misbehaviour applied) and the limits on the way out. Connections live in [`super::session`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crema_engine::bls::PublicKey;

use super::cache::Cache;
use super::frame::{self, CacheKey, Frame, FrameLimits, Topic};
use super::links::Links;
use super::metrics::BrokerMetrics;
use super::misbehave::Liar;
use super::outbox::{Memory, Outbox, Pushed};
use super::routing::{self, Membership};
use crate::consensus::NodeId;

/// A logged-in node's connection.
#[derive(Clone)]
struct Session {
    conn: u64,
    outbox: Outbox,
}

/// Where a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A node logged in here: the message is also forwarded to the other brokers.
    Node,
    /// Another broker: delivered to this broker's nodes only, never forwarded again.
    Broker,
}

/// Everything the broker's tasks share.
pub struct Broker {
    /// What the configuration decided.
    pub settings: BrokerSettings,
    /// The metrics.
    pub metrics: BrokerMetrics,
    /// Links to the other brokers, with discovery.
    pub links: Option<Arc<Links>>,
    cache: Mutex<Cache>,
    sessions: Mutex<HashMap<NodeId, Session>>,
    next_conn: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here leaves the data consistent, so a panic elsewhere does not poison it for us.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a [`Broker`]'s configuration decides.
pub struct BrokerSettings {
    /// The broker's identifier.
    pub id: String,
    /// Every node's BLS key.
    pub keys: Vec<PublicKey>,
    /// The DA committee.
    pub members: Membership,
    /// The frame limits.
    pub limits: FrameLimits,
    /// The per-connection queue cap.
    pub queue_bytes: usize,
    /// The budget shared by every queue (node and broker links) and the cache.
    pub memory: Arc<Memory>,
    /// The cache's cap.
    pub cache_bytes: usize,
    /// The drill misbehaviour (honest when `None` inside).
    pub liar: Liar,
}

impl Broker {
    /// A broker with nobody logged in and an empty cache; with `links`, part of a mesh of brokers.
    pub fn new(settings: BrokerSettings, metrics: BrokerMetrics, links: Option<Arc<Links>>) -> Self {
        let cache = Mutex::new(Cache::new(settings.cache_bytes));
        Broker { settings, metrics, links, cache, sessions: Mutex::new(HashMap::new()), next_conn: AtomicU64::new(0) }
    }

    /// Records `node` as logged in on `outbox`, closing its previous connection if any; the connection's id.
    pub fn register(&self, node: NodeId, outbox: Outbox) -> u64 {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let old = {
            let mut s = lock(&self.sessions);
            let old = s.insert(node, Session { conn, outbox });
            self.metrics.connected.set(s.len() as i64);
            old
        };
        if let Some(old) = old {
            tracing::info!(node, "node logged in again: its previous connection is closed");
            old.outbox.close();
        }
        if let Some(links) = &self.links {
            links.node_arrived(node);
        }
        conn
    }

    /// Forgets `node`'s connection `conn` (not a newer one that replaced it).
    pub fn unregister(&self, node: NodeId, conn: u64) {
        let mut s = lock(&self.sessions);
        if s.get(&node).is_some_and(|x| x.conn == conn) {
            s.remove(&node);
            if let Some(links) = &self.links {
                links.node_left(node);
            }
        }
        self.metrics.connected.set(s.len() as i64);
    }

    /// The nodes logged in here.
    pub fn logged_in(&self) -> Vec<NodeId> {
        lock(&self.sessions).keys().copied().collect()
    }

    fn outboxes(&self, nodes: &[NodeId]) -> Vec<Outbox> {
        let s = lock(&self.sessions);
        nodes.iter().filter_map(|n| s.get(n).map(|x| x.outbox.clone())).collect()
    }

    /// Caches `message` under `key` when it fits the memory cap (counted when it does not).
    pub fn cache(&self, key: CacheKey, message: &[u8]) {
        let mut cache = lock(&self.cache);
        if !self.settings.memory.fits(message.len()) {
            BrokerMetrics::hit(&self.metrics.limits, "memory_cap");
            return;
        }
        cache.insert(key, message.into());
        self.settings.memory.set_cached(cache.bytes());
        self.metrics.cache_bytes.set(cache.bytes() as i64);
    }

    /// A topic message from `from`: to the topic's nodes here (the sender excluded) and, from a node, to every
    /// other broker.
    pub fn publish(&self, from: NodeId, topic: Topic, key: Option<CacheKey>, message: Vec<u8>, origin: Origin) {
        if let Some(k) = key {
            self.cache(k, &message);
        }
        if origin == Origin::Node
            && let Some(links) = &self.links
        {
            links.forward_topic(self, from, topic, key, &message);
        }
        let to = routing::topic_recipients(&self.settings.members, topic, Some(from), self.logged_in());
        self.deliver(from, message, &to);
    }

    /// A direct message from `from` to `to`: delivered to those here; from a node, the others go to their brokers.
    pub async fn direct(&self, from: NodeId, to: &[NodeId], key: Option<CacheKey>, message: Vec<u8>, origin: Origin) {
        if let Some(k) = key {
            self.cache(k, &message);
        }
        let (here, elsewhere) = {
            let s = lock(&self.sessions);
            routing::split_direct(to, |n| s.contains_key(&n))
        };
        if origin == Origin::Node
            && !elsewhere.is_empty()
            && let Some(links) = &self.links
        {
            links.forward_direct(self, from, &elsewhere, key, &message).await;
        }
        self.deliver(from, message, &here);
    }

    /// Delivers `message` from `from` to `to` (nodes logged in here): one encoding shared by all, with the drill
    /// misbehaviour applied.
    fn deliver(&self, from: NodeId, mut message: Vec<u8>, to: &[NodeId]) {
        if to.is_empty() {
            return;
        }
        if self.settings.liar.corrupt(&mut message) {
            BrokerMetrics::hit(&self.metrics.misbehaviour, "corrupt");
        }
        let forged = self
            .settings
            .liar
            .forge(from, &message, self.settings.members.len())
            .map(|(other, bytes)| Arc::<[u8]>::from(frame::encode(&Frame::Deliver { from: other, bytes })));
        let body: Arc<[u8]> = frame::encode(&Frame::Deliver { from, bytes: message }).into();
        for outbox in self.outboxes(to) {
            if self.settings.liar.drops() {
                BrokerMetrics::hit(&self.metrics.misbehaviour, "drop");
                continue;
            }
            self.send(&outbox, body.clone());
            if let Some(f) = &forged {
                BrokerMetrics::hit(&self.metrics.misbehaviour, "forge");
                self.send(&outbox, f.clone());
            }
        }
    }

    /// The answer to a fetch: the cached message (corrupted under the drill) or none.
    pub fn fetched(&self, id: u64, key: &CacheKey) -> Arc<[u8]> {
        let hit = lock(&self.cache).get(key);
        let bytes = match hit {
            Some(m) => {
                self.metrics.cache_hits.inc();
                let mut m = m.to_vec();
                if self.settings.liar.corrupt(&mut m) {
                    BrokerMetrics::hit(&self.metrics.misbehaviour, "corrupt");
                }
                Some(m)
            }
            None => {
                self.metrics.cache_misses.inc();
                None
            }
        };
        frame::encode(&Frame::Fetched { id, bytes }).into()
    }

    /// Queues `body` on `outbox`, applying the limits: a slow reader is disconnected, a frame over the memory cap
    /// dropped; each counted.
    pub fn send(&self, outbox: &Outbox, body: Arc<[u8]>) {
        if self.settings.liar.delay().is_some() {
            BrokerMetrics::hit(&self.metrics.misbehaviour, "delay");
        }
        match outbox.push(body) {
            Pushed::Queued | Pushed::Closed => {}
            Pushed::SlowReader => {
                BrokerMetrics::hit(&self.metrics.limits, "slow_reader");
                tracing::warn!("a reader let its queue fill: disconnected");
                outbox.close();
            }
            Pushed::MemoryCap => BrokerMetrics::hit(&self.metrics.limits, "memory_cap"),
        }
    }
}

//! Discovery in Redis: which brokers serve the network, where they listen, and which broker each node is logged in
//! to. Every entry has a short TTL and is refreshed by its broker's heartbeat, so a broker that dies disappears
//! within [`TTL`] and its nodes' entries with it.
//!
//! Keys, under a prefix naming the network (a hash of its BLS keys, so two networks may share one Redis):
//! - `crema:cdn:<net>:broker:<id>` → the broker's advertised `IP:PORT`;
//! - `crema:cdn:<net>:node:<index>` → the id of the broker the node is logged in to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use redis::aio::ConnectionManager;

use crate::consensus::NodeId;

/// How long an entry lives without a refresh.
pub const TTL: Duration = Duration::from_secs(5);
/// How often a broker refreshes its entries and looks for new brokers.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// A connection to the discovery service, for one network.
#[derive(Clone)]
pub struct Discovery {
    con: ConnectionManager,
    prefix: String,
}

impl Discovery {
    /// Connects to `url` (`redis://HOST:PORT`) for the network whose BLS keys hash to `network_id`.
    pub async fn connect(url: &str, network_id: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).with_context(|| format!("discovery URL {url}"))?;
        let con = tokio::time::timeout(Duration::from_secs(10), client.get_connection_manager())
            .await
            .with_context(|| format!("connecting to discovery at {url}: timed out"))?
            .with_context(|| format!("connecting to discovery at {url}"))?;
        Ok(Discovery { con, prefix: format!("crema:cdn:{network_id}:") })
    }

    fn broker_key(&self, id: &str) -> String {
        format!("{}broker:{id}", self.prefix)
    }

    fn node_key(&self, node: NodeId) -> String {
        format!("{}node:{node}", self.prefix)
    }

    async fn set(&self, key: String, value: String) -> redis::RedisResult<()> {
        let mut con = self.con.clone();
        redis::cmd("SET").arg(key).arg(value).arg("EX").arg(TTL.as_secs()).query_async(&mut con).await
    }

    /// Registers (or refreshes) broker `id` at `addr`.
    pub async fn register_broker(&self, id: &str, addr: SocketAddr) -> redis::RedisResult<()> {
        self.set(self.broker_key(id), addr.to_string()).await
    }

    /// Records (or refreshes) that `node` is logged in to broker `id`.
    pub async fn register_node(&self, node: NodeId, id: &str) -> redis::RedisResult<()> {
        self.set(self.node_key(node), id.to_string()).await
    }

    /// Refreshes every entry of `nodes` as logged in to broker `id`, in one round trip.
    pub async fn register_nodes(&self, nodes: &[NodeId], id: &str) -> redis::RedisResult<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for &n in nodes {
            pipe.cmd("SET").arg(self.node_key(n)).arg(id).arg("EX").arg(TTL.as_secs()).ignore();
        }
        let mut con = self.con.clone();
        pipe.query_async(&mut con).await
    }

    /// Forgets that `node` is logged in to broker `id` (not a newer entry naming another broker).
    pub async fn unregister_node(&self, node: NodeId, id: &str) -> redis::RedisResult<()> {
        // GET then DEL is not atomic: a node that moved in between loses its entry until its broker's next
        // heartbeat (at most HEARTBEAT), which only delays direct messages to it from other brokers.
        if self.node_broker(node).await?.as_deref() == Some(id) {
            let mut con = self.con.clone();
            redis::cmd("DEL").arg(self.node_key(node)).query_async::<()>(&mut con).await?;
        }
        Ok(())
    }

    /// Removes broker `id`'s own entry (on a clean stop).
    pub async fn unregister_broker(&self, id: &str) -> redis::RedisResult<()> {
        let mut con = self.con.clone();
        redis::cmd("DEL").arg(self.broker_key(id)).query_async(&mut con).await
    }

    /// The broker `node` is logged in to, if any.
    pub async fn node_broker(&self, node: NodeId) -> redis::RedisResult<Option<String>> {
        let mut con = self.con.clone();
        redis::cmd("GET").arg(self.node_key(node)).query_async(&mut con).await
    }

    /// Broker `id`'s address, if registered (an unparsable entry counts as absent).
    pub async fn broker_addr(&self, id: &str) -> redis::RedisResult<Option<SocketAddr>> {
        let mut con = self.con.clone();
        let v: Option<String> = redis::cmd("GET").arg(self.broker_key(id)).query_async(&mut con).await?;
        Ok(v.and_then(|a| a.parse().ok()))
    }

    /// Every registered broker and its address.
    pub async fn brokers(&self) -> redis::RedisResult<HashMap<String, SocketAddr>> {
        let mut con = self.con.clone();
        let pattern = format!("{}broker:*", self.prefix);
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        // SCAN, not KEYS: it does not block the server on a large keyspace.
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let mut out = HashMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        let addrs: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut con).await?;
        for (k, a) in keys.iter().zip(addrs) {
            let (Some(id), Some(addr)) = (k.strip_prefix(&format!("{}broker:", self.prefix)), a) else { continue };
            if let Ok(addr) = addr.parse() {
                out.insert(id.to_string(), addr);
            }
        }
        Ok(out)
    }
}

/// The network's identifier in discovery keys: 8 bytes of a hash of its BLS keys, hex.
pub fn network_id(keys: &[crema_engine::bls::PublicKey]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"crema/cdn-network/v1");
    for k in keys {
        h.update(&k.to_bytes());
    }
    hex::encode(&h.finalize().as_bytes()[..8])
}

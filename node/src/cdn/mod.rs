//! Cocoa, Tiramisu's untrusted CDN: the `crema cdn` broker and the protocol nodes speak to it.
//!
//! The leader uploads a block once and the broker fans it out, so the leader's egress per block is one block plus
//! its shares, not one block per node. The broker is never trusted: it authenticates who *connects* (a BLS login
//! against the stake table) but vouches for no message; nodes verify everything it delivers exactly as they verify
//! a peer's message, and fall back to libp2p when it is down, slow or lying.
//!
//! # The broker
//! One tokio process. A connection gets a [`frame::Frame::Challenge`]; a node answers with a login signed by its
//! BLS key within 5 s ([`login::check_login`]: its key in `network.toml`, a timestamp within 30 s of the broker's
//! clock), or is refused. A node logging in again replaces its old connection. Then:
//! - `Publish{Global}` goes to every logged-in node but the sender, `Publish{DaCommittee}` to the logged-in DA
//!   members but the sender, `Direct{to}` to the listed nodes; each as `Deliver{from: the sender's login}`,
//!   encoded once and shared by every recipient's queue.
//! - A message with a cache key is kept in a byte-capped cache (oldest evicted first); `Fetch{id, key}` is answered
//!   `Fetched{id, bytes}` (none when absent).
//! - Limits: a frame over the network's largest message is refused from its length alone; each connection's
//!   outgoing queue is capped in bytes (a reader that lets it fill is disconnected); all queues plus the cache are
//!   under one memory cap (a frame that would exceed it is dropped). Frames a node may not send close its connection.
//!
//! # Scale-out (`--discovery redis://HOST:PORT`)
//! Several brokers serve one network as a full mesh, found through Redis ([`discovery`], [`links`]):
//! ```text
//!   node0 node1          node2 node3
//!      \   /                \   /
//!    broker a ── one TCP ── broker b ── ... every pair linked once (the smaller id dials)
//!         \                   /
//!          └── Redis: broker → address, node → broker (TTL 5 s, heartbeat 1 s) ──┘
//! ```
//! A node's `Publish` is forwarded once to every other broker, which delivers it to its own nodes and never
//! forwards it again; a `Direct` to a node logged in elsewhere goes to that node's broker only. Forwards carry the
//! cache key, so any broker answers a `Fetch` for what it delivered. Limits: the mesh is one hop and all-to-all, so
//! each publish costs one copy per broker (fine for a handful of brokers, not hundreds); a broker's death is seen
//! after the TTL (nodes reconnect to another broker at once, the mesh forgets it within 5 s); a node that moved
//! may miss direct messages from other brokers for up to the location cache's 1 s; Redis is a single point of
//! trust for *brokers* (whoever may write to it may join the mesh) but not for nodes, which verify everything. With
//! no `--discovery` the broker runs alone.
//!
//! # Metrics (`--metrics ADDR`: `GET /metrics`, `GET /healthcheck`)
//! | metric | labels | what |
//! |---|---|---|
//! | `crema_cdn_logins_total` | `kind`: `ok`, `unknown_node`, `clock`, `bad_signature`, `timeout`, `bad_frame`, `not_a_login`, `no_discovery`, `unknown_broker`, `broker` | logins by result |
//! | `crema_cdn_connected_nodes` | | nodes logged in now |
//! | `crema_cdn_frames_total`, `crema_cdn_bytes_total` | `kind`: `in`, `out` | frames and their bytes |
//! | `crema_cdn_limit_hits_total` | `kind`: `frame_size`, `slow_reader`, `slow_link`, `memory_cap` | limits hit |
//! | `crema_cdn_protocol_errors_total` | `kind`: `bad_frame`, `forbidden_frame` | connections closed for a violation |
//! | `crema_cdn_cache_hits_total`, `crema_cdn_cache_misses_total` | | fetches answered or not |
//! | `crema_cdn_cache_bytes`, `crema_cdn_queued_bytes` | | memory held by the cache and the queues |
//! | `crema_cdn_forwards_total` | `kind`: `in`, `out`, `unroutable` (recipient nowhere), `no_link` | messages forwarded between brokers |
//! | `crema_cdn_broker_links` | | links to other brokers open now |
//! | `crema_cdn_misbehaviour_total` | `kind`: `corrupt`, `drop`, `forge`, `delay` | drill misbehaviour applied |
//!
//! # Files
//! - `frame.rs`: the length-prefixed frames between nodes and brokers, and between brokers.
//! - `login.rs`: the login signature and the cache keys (the node's side of the login is `crate::net::cocoa`).
//! - `server.rs`: configuration, listeners, the accept loop ([`serve`]).
//! - `session.rs`: one connection: the handshake, then the node's frames.
//! - `broker.rs`: the shared state: who is logged in, the cache, delivery.
//! - `routing.rs`: who receives a message (pure).
//! - `cache.rs`: the byte-capped cache.
//! - `outbox.rs`: per-connection bounded queues and the global memory budget.
//! - `misbehave.rs`: the drill misbehaviour.
//! - `discovery.rs`: broker and node registration in Redis.
//! - `links.rs`: the links between brokers and forwarding.
//! - `metrics.rs`: the Prometheus families and their endpoint.

pub mod broker;
pub mod cache;
pub mod discovery;
pub mod frame;
pub mod links;
pub mod login;
pub mod metrics;
pub mod misbehave;
pub mod outbox;
pub mod routing;
pub mod server;
pub mod session;

pub use server::{BoundBroker, BrokerConfig, serve};

/// Waits until `flag` turns true (or its sender is gone). The guard `wait_for` returns is dropped here, inside:
/// held across a `select!` it would make the broker's futures `!Send`.
pub(crate) async fn fired(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|f| *f).await;
}

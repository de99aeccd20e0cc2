//! The node's Prometheus metrics (`GET /metrics`), with `prometheus-client`: one registry, every family created
//! here, cheap handles (atomics) cloned into the tasks that count.
//!
//! Layers for byte counts: `consensus` (proposals, votes, certificates, requests), `mascarpone` (DA payloads),
//! `savoiardi` (VID shares), `sync` (decided ranges), `service` (payload/share retrieval, forwarded
//! transactions). `transport_bytes` splits what was sent by path: `p2p` (libp2p, one count per peer copy) and `cdn`
//! (one upload to the Cocoa broker, which fans it out).

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A label set naming one thing (a message kind, a layer, a reason).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// The name.
    pub kind: String,
}

/// Labels of byte counters: the DA layer and the direction.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Traffic {
    /// `consensus`, `mascarpone`, `savoiardi`, `sync`, `service`, `cdn`.
    pub layer: String,
    /// `sent` or `received`.
    pub direction: String,
}

/// Labels of sent-byte counters by path.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PathBytes {
    /// As in [`Traffic::layer`].
    pub layer: String,
    /// `p2p` or `cdn`.
    pub path: String,
}

/// Labels of engine timings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineOp {
    /// The operation (`disperse`, `verify_share`, `check_payload`, `rebuild_share`, `recover`).
    pub op: String,
    /// The backend that ran it.
    pub backend: String,
}

fn seconds_histogram() -> Histogram {
    // 1 ms .. ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Every metric of a node.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Views entered.
    pub views: Counter,
    /// The current view.
    pub view: Gauge,
    /// Blocks decided.
    pub decided_blocks: Counter,
    /// The highest decided height.
    pub decided_height: Gauge,
    /// Payload bytes of decided blocks.
    pub decided_bytes: Counter,
    /// Blocks decided through range sync.
    pub synced_blocks: Counter,
    /// Time between entering consecutive views.
    pub view_seconds: Histogram,
    /// Time from a transaction's arrival in this node's mempool to the decision of its block.
    pub submit_to_decide_seconds: Histogram,
    /// Transactions accepted by `POST /v0/submit` (or forwarded here).
    pub submitted: Counter,
    /// Transactions in the mempool.
    pub mempool_txs: Gauge,
    /// Bytes and messages by layer and direction.
    pub bytes: Family<Traffic, Counter>,
    /// Messages by layer and direction.
    pub messages: Family<Traffic, Counter>,
    /// Messages refused (undecodable, bad signature, bad certificate, bad share or payload), by kind.
    pub bad_messages: Family<Kind, Counter>,
    /// Retrieval steps taken after the first choice failed, by step.
    pub retrieval_fallbacks: Family<Kind, Counter>,
    /// Engine time per operation and backend.
    pub engine_seconds: Family<EngineOp, Histogram>,
    /// Equivocations seen, by kind.
    pub equivocations: Family<Kind, Counter>,
    /// Peers connected.
    pub peers: Gauge,
    /// Messages dropped because a queue was full, by queue.
    pub dropped: Family<Kind, Counter>,
    /// Bytes sent by layer and path (`p2p`, `cdn`).
    pub path_bytes: Family<PathBytes, Counter>,
    /// 1 while a session with a Cocoa broker is up.
    pub cdn_connected: Gauge,
    /// CDN dispersals resent over libp2p, by reason.
    pub cdn_fallbacks: Family<Kind, Counter>,
    /// Messages received twice (once per path) and dropped.
    pub duplicates: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered (prefix `crema_`).
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Arc::new(Registry::default()),
            views: Counter::default(),
            view: Gauge::default(),
            decided_blocks: Counter::default(),
            decided_height: Gauge::default(),
            decided_bytes: Counter::default(),
            synced_blocks: Counter::default(),
            view_seconds: seconds_histogram(),
            submit_to_decide_seconds: seconds_histogram(),
            submitted: Counter::default(),
            mempool_txs: Gauge::default(),
            bytes: Family::default(),
            messages: Family::default(),
            bad_messages: Family::default(),
            retrieval_fallbacks: Family::default(),
            engine_seconds: Family::new_with_constructor(seconds_histogram),
            equivocations: Family::default(),
            peers: Gauge::default(),
            dropped: Family::default(),
            path_bytes: Family::default(),
            cdn_connected: Gauge::default(),
            cdn_fallbacks: Family::default(),
            duplicates: Counter::default(),
        };
        let mut r = Registry::with_prefix("crema");
        r.register("views", "Views entered", m.views.clone());
        r.register("view", "The current view", m.view.clone());
        r.register("decided_blocks", "Blocks decided", m.decided_blocks.clone());
        r.register("decided_height", "Highest decided height", m.decided_height.clone());
        r.register("decided_payload_bytes", "Payload bytes of decided blocks", m.decided_bytes.clone());
        r.register("synced_blocks", "Blocks decided through range sync", m.synced_blocks.clone());
        r.register("view_seconds", "Time between consecutive views", m.view_seconds.clone());
        r.register(
            "submit_to_decide_seconds",
            "Time from a transaction's arrival in the mempool to its block's decision",
            m.submit_to_decide_seconds.clone(),
        );
        r.register("submitted_transactions", "Transactions accepted into the mempool", m.submitted.clone());
        r.register("mempool_transactions", "Transactions in the mempool", m.mempool_txs.clone());
        r.register("network_bytes", "Bytes by DA layer and direction", m.bytes.clone());
        r.register("network_messages", "Messages by DA layer and direction", m.messages.clone());
        r.register("bad_messages", "Messages refused, by kind", m.bad_messages.clone());
        r.register(
            "retrieval_fallbacks",
            "Retrieval steps after the first choice failed",
            m.retrieval_fallbacks.clone(),
        );
        r.register("engine_seconds", "Engine time per operation and backend", m.engine_seconds.clone());
        r.register("equivocations", "Equivocations seen, by kind", m.equivocations.clone());
        r.register("peers", "Peers connected", m.peers.clone());
        r.register("dropped_messages", "Messages dropped because a queue was full", m.dropped.clone());
        r.register("transport_bytes", "Bytes sent by layer and path (p2p, cdn)", m.path_bytes.clone());
        r.register("cdn_connected", "1 while a session with a Cocoa broker is up", m.cdn_connected.clone());
        r.register("cdn_fallbacks", "CDN dispersals resent over libp2p, by reason", m.cdn_fallbacks.clone());
        r.register("duplicate_messages", "Messages received on both paths, second copy dropped", m.duplicates.clone());
        m.registry = Arc::new(r);
        m
    }

    /// The text exposition format, for `GET /metrics`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Counts `bytes` of one message on `layer` in `direction` ("sent" or "received").
    pub fn traffic(&self, layer: &str, direction: &str, bytes: usize) {
        let t = Traffic { layer: layer.to_string(), direction: direction.to_string() };
        self.bytes.get_or_create(&t).inc_by(bytes as u64);
        self.messages.get_or_create(&t).inc();
    }

    /// Counts `bytes` sent on `layer` through `path` (`p2p` or `cdn`).
    pub fn traffic_path(&self, layer: &str, path: &str, bytes: usize) {
        let p = PathBytes { layer: layer.to_string(), path: path.to_string() };
        self.path_bytes.get_or_create(&p).inc_by(bytes as u64);
    }

    /// Counts a CDN dispersal resent over libp2p.
    pub fn cdn_fallback(&self, reason: &str) {
        self.cdn_fallbacks.get_or_create(&Kind { kind: reason.to_string() }).inc();
    }

    /// Counts a refused message.
    pub fn bad(&self, kind: &str) {
        self.bad_messages.get_or_create(&Kind { kind: kind.to_string() }).inc();
    }

    /// Counts a retrieval fallback step.
    pub fn fallback(&self, step: &str) {
        self.retrieval_fallbacks.get_or_create(&Kind { kind: step.to_string() }).inc();
    }

    /// The current value of one labelled counter (0 when never counted).
    pub fn count(family: &Family<Kind, Counter>, kind: &str) -> u64 {
        family.get(&Kind { kind: kind.to_string() }).map_or(0, |c| c.get())
    }

    /// Counts a dropped message on a full queue.
    pub fn drop_on(&self, queue: &str) {
        self.dropped.get_or_create(&Kind { kind: queue.to_string() }).inc();
    }

    /// Records an engine operation's duration.
    pub fn engine(&self, op: &str, backend: &str, took: Duration) {
        let labels = EngineOp { op: op.to_string(), backend: backend.to_string() };
        self.engine_seconds.get_or_create(&labels).observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_in_the_exposition() {
        let m = Metrics::new();
        m.traffic("mascarpone", "sent", 1000);
        m.bad("vote");
        m.decided_blocks.inc();
        m.engine("disperse", "cpu", Duration::from_millis(3));
        let text = m.render();
        assert!(text.contains("crema_network_bytes_total{layer=\"mascarpone\",direction=\"sent\"} 1000"), "{text}");
        assert!(text.contains("crema_bad_messages_total{kind=\"vote\"} 1"), "{text}");
        assert!(text.contains("crema_decided_blocks_total 1"), "{text}");
        assert!(text.contains("crema_engine_seconds_count{op=\"disperse\",backend=\"cpu\"} 1"), "{text}");
    }
}

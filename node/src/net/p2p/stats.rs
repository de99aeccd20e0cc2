//! Transport counters: what went out and came in per [`Class`], who is connected, and every message or
//! connection the transport dropped or refused (nothing is dropped without being counted here).
//!
//! The counters are atomics behind an `Arc`, shared by the sender handles, the swarm task and the codec; a
//! [`P2pStats`] is a plain snapshot of them for the metrics exporter and for tests.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::net::network::Class;

/// Messages and bytes of one [`Class`], in one direction.
#[derive(Default, Debug)]
pub(super) struct Flow {
    msgs: AtomicU64,
    bytes: AtomicU64,
}

impl Flow {
    fn add(&self, bytes: usize) {
        self.msgs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> FlowStats {
        FlowStats { msgs: self.msgs.load(Ordering::Relaxed), bytes: self.bytes.load(Ordering::Relaxed) }
    }
}

/// The live counters (see [`P2pStats`] for what each one means).
#[derive(Default, Debug)]
pub(super) struct Counters {
    sent: [Flow; 2],
    received: [Flow; 2],
    pub(super) peers_connected: AtomicU64,
    pub(super) gossip_peers: AtomicU64,
    pub(super) connections_refused: AtomicU64,
    pub(super) dropped_queue_full: AtomicU64,
    pub(super) dropped_inbound_full: AtomicU64,
    pub(super) dropped_over_size: AtomicU64,
    pub(super) dropped_unreachable: AtomicU64,
    pub(super) send_failures: AtomicU64,
    pub(super) frames_refused: AtomicU64,
    pub(super) gossip_fallbacks: AtomicU64,
}

fn slot(class: Class) -> usize {
    match class {
        Class::Small => 0,
        Class::Bulk => 1,
    }
}

/// Adds one to a counter.
pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// One message of `bytes` left for one peer (a push acknowledged) or for the topic (a gossip publish).
    pub(super) fn sent(&self, class: Class, bytes: usize) {
        self.sent[slot(class)].add(bytes);
    }

    /// One message of `bytes` arrived from a peer (before the inbound queue: drops there are counted apart).
    pub(super) fn received(&self, class: Class, bytes: usize) {
        self.received[slot(class)].add(bytes);
    }

    /// Sets a gauge.
    pub(super) fn set(gauge: &AtomicU64, value: usize) {
        gauge.store(value as u64, Ordering::Relaxed);
    }

    /// A snapshot of every counter.
    pub(super) fn snapshot(&self) -> P2pStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        P2pStats {
            sent_small: self.sent[0].snapshot(),
            sent_bulk: self.sent[1].snapshot(),
            received_small: self.received[0].snapshot(),
            received_bulk: self.received[1].snapshot(),
            peers_connected: load(&self.peers_connected),
            gossip_peers: load(&self.gossip_peers),
            connections_refused: load(&self.connections_refused),
            dropped_queue_full: load(&self.dropped_queue_full),
            dropped_inbound_full: load(&self.dropped_inbound_full),
            dropped_over_size: load(&self.dropped_over_size),
            dropped_unreachable: load(&self.dropped_unreachable),
            send_failures: load(&self.send_failures),
            frames_refused: load(&self.frames_refused),
            gossip_fallbacks: load(&self.gossip_fallbacks),
        }
    }
}

/// Messages and bytes of one class in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Messages.
    pub msgs: u64,
    /// Bytes of message (frame headers and protocol overhead excluded).
    pub bytes: u64,
}

/// A snapshot of the transport's counters. Counters only grow; `peers_connected` and `gossip_peers` are gauges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct P2pStats {
    /// Small messages sent: one per gossip publish, one per acknowledged point-to-point push.
    pub sent_small: FlowStats,
    /// Bulk messages sent: one per acknowledged push (a bulk broadcast to n peers counts n).
    pub sent_bulk: FlowStats,
    /// Small messages received, by gossip or pushed (the class byte of a push is the sender's claim).
    pub received_small: FlowStats,
    /// Bulk messages received.
    pub received_bulk: FlowStats,
    /// Peers (from the allowlist) with at least one open connection.
    pub peers_connected: u64,
    /// Connected peers subscribed to the gossip topic.
    pub gossip_peers: u64,
    /// Connections refused because the remote PeerId is not in the allowlist.
    pub connections_refused: u64,
    /// Messages dropped because the command queue to the swarm task, or the latency drill's delay line, was full.
    pub dropped_queue_full: u64,
    /// Messages received but dropped because the inbound queue (to the consumer) was full.
    pub dropped_inbound_full: u64,
    /// Messages this node refused to send because they exceed the frame limit.
    pub dropped_over_size: u64,
    /// Pushes dropped because the peer had too many in flight, and sends dropped because the peer was not
    /// connected (broadcasts go to the connected peers only).
    pub dropped_unreachable: u64,
    /// Pushes that failed on the wire (timeout, connection closed, refused by the peer).
    pub send_failures: u64,
    /// Inbound frames refused by the codec (over the size limit, malformed, truncated).
    pub frames_refused: u64,
    /// Small broadcasts (or parts of them) sent by push instead of gossip: too large for gossip, a repeat of a
    /// message gossip already carried, or peers not (yet) subscribed.
    pub gossip_fallbacks: u64,
}

//! When to dial each static peer: at start, then again with exponential backoff while it is disconnected (a peer
//! may start after us, restart, or refuse us). Pure bookkeeping over `Instant`s; the swarm task does the dialing.
//!
//! A connection that lived at least [`Backoff::max`] resets the backoff; one that closes sooner (a peer that
//! accepts the handshake and then drops us, e.g. because we are not in its allowlist) keeps doubling it, so a
//! refusing peer is not hammered.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

/// Redial delays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub initial: Duration,
    /// The longest delay; doubling stops here.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

#[derive(Debug)]
struct PeerDial {
    addr: Multiaddr,
    connections: u32,
    dialing: bool,
    /// When the current run of connections began (for the stability check).
    up_since: Option<Instant>,
    next_attempt: Instant,
    delay: Duration,
}

/// The redial schedule of every static peer.
#[derive(Debug)]
pub struct Dialer {
    backoff: Backoff,
    peers: HashMap<PeerId, PeerDial>,
}

impl Dialer {
    /// Every peer is due at once.
    pub fn new(peers: impl IntoIterator<Item = (PeerId, Multiaddr)>, backoff: Backoff, now: Instant) -> Self {
        let peers = peers
            .into_iter()
            .map(|(id, addr)| {
                let dial = PeerDial {
                    addr,
                    connections: 0,
                    dialing: false,
                    up_since: None,
                    next_attempt: now,
                    delay: backoff.initial,
                };
                (id, dial)
            })
            .collect();
        Dialer { backoff, peers }
    }

    /// The peers to dial now (disconnected, not being dialled, due); they are marked as being dialled.
    pub fn due(&mut self, now: Instant) -> Vec<(PeerId, Multiaddr)> {
        let mut out = Vec::new();
        for (id, p) in &mut self.peers {
            if p.connections == 0 && !p.dialing && p.next_attempt <= now {
                p.dialing = true;
                out.push((*id, p.addr.clone()));
            }
        }
        out
    }

    /// A connection to `peer` opened (dialled by either side).
    pub fn connected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.connections += 1;
            p.dialing = false;
            p.up_since.get_or_insert(now);
        }
    }

    /// A connection to `peer` closed; `remaining` are still open.
    pub fn disconnected(&mut self, peer: &PeerId, remaining: u32, now: Instant) {
        let backoff = self.backoff;
        if let Some(p) = self.peers.get_mut(peer) {
            p.connections = remaining;
            if remaining > 0 {
                return;
            }
            let stable = p.up_since.take().is_some_and(|t| now.duration_since(t) >= backoff.max);
            if stable {
                p.delay = backoff.initial;
            }
            Self::schedule(p, backoff, now);
        }
    }

    /// A dial of `peer` failed.
    pub fn dial_failed(&mut self, peer: &PeerId, now: Instant) {
        let backoff = self.backoff;
        if let Some(p) = self.peers.get_mut(peer) {
            p.dialing = false;
            if p.connections == 0 {
                Self::schedule(p, backoff, now);
            }
        }
    }

    fn schedule(p: &mut PeerDial, backoff: Backoff, now: Instant) {
        p.next_attempt = now + p.delay;
        p.delay = (p.delay * 2).min(backoff.max);
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    fn setup() -> (Dialer, PeerId, Instant) {
        let peer = Keypair::generate_ed25519().public().to_peer_id();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let now = Instant::now();
        let backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(400) };
        (Dialer::new([(peer, addr)], backoff, now), peer, now)
    }

    #[test]
    fn dials_at_start_once_then_backs_off_exponentially_up_to_the_cap() {
        let (mut d, peer, t0) = setup();
        assert_eq!(d.due(t0).len(), 1);
        assert!(d.due(t0).is_empty(), "not twice while a dial is pending");
        let mut t = t0;
        for delay in [100, 200, 400, 400] {
            d.dial_failed(&peer, t);
            let wait = Duration::from_millis(delay);
            assert!(d.due(t + wait - Duration::from_millis(1)).is_empty(), "too early for {delay} ms");
            assert_eq!(d.due(t + wait).len(), 1, "due after {delay} ms");
            t += wait;
        }
    }

    #[test]
    fn no_dial_while_connected_and_redial_after_close() {
        let (mut d, peer, t0) = setup();
        d.due(t0);
        d.dial_failed(&peer, t0);
        d.connected(&peer, t0); // the peer dialled us meanwhile
        assert!(d.due(t0 + Duration::from_secs(5)).is_empty());
        d.connected(&peer, t0);
        d.disconnected(&peer, 1, t0);
        assert!(d.due(t0 + Duration::from_secs(5)).is_empty(), "one connection still open");
        // Closed after 1 s (longer than the cap): stable, so the backoff starts again from the initial delay.
        let t1 = t0 + Duration::from_secs(1);
        d.disconnected(&peer, 0, t1);
        assert!(d.due(t1 + Duration::from_millis(99)).is_empty());
        assert_eq!(d.due(t1 + Duration::from_millis(100)).len(), 1);
    }

    #[test]
    fn short_lived_connections_keep_backing_off() {
        let (mut d, peer, t0) = setup();
        let mut t = t0;
        for delay in [100, 200, 400] {
            assert_eq!(d.due(t).len(), 1);
            d.connected(&peer, t);
            d.disconnected(&peer, 0, t + Duration::from_millis(1)); // refused right after the handshake
            t += Duration::from_millis(1);
            assert!(d.due(t + Duration::from_millis(delay - 1)).is_empty(), "backoff {delay} ms");
            t += Duration::from_millis(delay);
        }
    }

    #[test]
    fn unknown_peers_are_ignored() {
        let (mut d, _, t0) = setup();
        let stranger = Keypair::generate_ed25519().public().to_peer_id();
        d.connected(&stranger, t0);
        d.disconnected(&stranger, 0, t0);
        d.dial_failed(&stranger, t0);
        assert_eq!(d.due(t0).len(), 1, "only the configured peer");
    }
}

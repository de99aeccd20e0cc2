//! The static peer set: who may connect (the allowlist), where to dial them, and which node each PeerId is.

use std::collections::HashMap;

use libp2p::{Multiaddr, PeerId};

use super::P2pError;
use crate::consensus::NodeId;

/// A node of the network as the transport sees it (from the stake table, whose bindings were verified when it
/// was loaded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its index in the stake table.
    pub node: NodeId,
    /// Its libp2p identity, bound to its BLS key.
    pub peer_id: PeerId,
    /// Where to dial it.
    pub addr: Multiaddr,
}

/// Node index ⇄ PeerId, for the other nodes (this node's own entry, if listed, is checked and left out).
#[derive(Debug)]
pub struct Directory {
    me: NodeId,
    by_node: HashMap<NodeId, PeerId>,
    by_peer: HashMap<PeerId, NodeId>,
    addrs: Vec<(PeerId, Multiaddr)>,
}

impl Directory {
    /// The directory of node `me` (with libp2p identity `local`) over `peers`.
    pub fn new(me: NodeId, local: PeerId, peers: &[Peer]) -> Result<Self, P2pError> {
        let mut dir = Directory { me, by_node: HashMap::new(), by_peer: HashMap::new(), addrs: Vec::new() };
        for p in peers {
            if p.node == me || p.peer_id == local {
                if p.node != me || p.peer_id != local {
                    return Err(P2pError::SelfMismatch { node: p.node, peer_id: p.peer_id });
                }
                continue;
            }
            if dir.by_node.insert(p.node, p.peer_id).is_some() {
                return Err(P2pError::DuplicateNode(p.node));
            }
            if dir.by_peer.insert(p.peer_id, p.node).is_some() {
                return Err(P2pError::DuplicatePeer(p.peer_id));
            }
            dir.addrs.push((p.peer_id, p.addr.clone()));
        }
        Ok(dir)
    }

    /// This node's index.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// The node a peer is.
    pub fn node(&self, peer: &PeerId) -> Option<NodeId> {
        self.by_peer.get(peer).copied()
    }

    /// The peer a node is (`None` for this node and unknown ones).
    pub fn peer(&self, node: NodeId) -> Option<PeerId> {
        self.by_node.get(&node).copied()
    }

    /// Whether `node` is this node or one of its peers.
    pub fn knows(&self, node: NodeId) -> bool {
        node == self.me || self.by_node.contains_key(&node)
    }

    /// Every other node's PeerId and address, in configuration order.
    pub fn addrs(&self) -> &[(PeerId, Multiaddr)] {
        &self.addrs
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    fn id() -> PeerId {
        Keypair::generate_ed25519().public().to_peer_id()
    }

    fn peer(node: NodeId, peer_id: PeerId) -> Peer {
        Peer { node, peer_id, addr: "/ip4/127.0.0.1/tcp/1".parse().unwrap() }
    }

    #[test]
    fn maps_both_ways_and_leaves_self_out() {
        let (me, a, b) = (id(), id(), id());
        let dir = Directory::new(1, me, &[peer(0, a), peer(1, me), peer(2, b)]).unwrap();
        assert_eq!((dir.node(&a), dir.node(&b), dir.node(&me)), (Some(0), Some(2), None));
        assert_eq!((dir.peer(0), dir.peer(1), dir.peer(3)), (Some(a), None, None));
        assert!(dir.knows(1) && dir.knows(2) && !dir.knows(3));
        assert_eq!(dir.addrs().iter().map(|(p, _)| *p).collect::<Vec<_>>(), vec![a, b]);
    }

    #[test]
    fn refuses_inconsistent_tables() {
        let (me, a) = (id(), id());
        let err = |peers: &[Peer]| Directory::new(0, me, peers).unwrap_err();
        assert!(matches!(err(&[peer(0, a)]), P2pError::SelfMismatch { node: 0, .. }));
        assert!(matches!(err(&[peer(3, me)]), P2pError::SelfMismatch { node: 3, .. }));
        assert!(matches!(err(&[peer(1, a), peer(1, id())]), P2pError::DuplicateNode(1)));
        assert!(matches!(err(&[peer(1, a), peer(2, a)]), P2pError::DuplicatePeer(p) if p == a));
    }
}

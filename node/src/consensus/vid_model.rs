//! The stand-in for the engine's payload building and VID: deterministic payloads, a BLAKE3 commitment and one
//! 32-byte share per node. The real node replaces these with crema-engine's dispersal; consensus only needs a
//! commitment in the header and a yes/no per check, which it gets through [`super::types::DataRequest`].

use super::types::{Digest, NodeId, View};

/// The payload a leader proposes in a view (a real leader drains its mempool).
pub fn payload(view: View, leader: NodeId) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(b"crema/sim/payload");
    h.update(&view.to_le_bytes());
    h.update(&leader.to_le_bytes());
    h.finalize().as_bytes().to_vec()
}

/// The commitment to a payload.
pub fn commitment(payload: &[u8]) -> Digest {
    let mut h = blake3::Hasher::new();
    h.update(b"crema/sim/commit");
    h.update(payload);
    Digest(*h.finalize().as_bytes())
}

/// The share of node `index` for `commitment`: what "verifies against the commitment" means in the model.
pub fn share(commitment: &Digest, index: NodeId) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"crema/sim/share");
    h.update(&commitment.0);
    h.update(&index.to_le_bytes());
    *h.finalize().as_bytes()
}

/// How many shares rebuild a payload: the VID rate is 1/3, so any `⌊(n−1)/3⌋ + 1` shares suffice.
pub fn reconstruction_threshold(n: usize) -> usize {
    (n.saturating_sub(1)) / 3 + 1
}

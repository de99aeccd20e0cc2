//! Mascarpone in the node: a DA committee member checks a whole payload against the commitment its leader signed
//! (by recomputing the dispersal from the bytes), and rebuilds any node's share from a payload it stored.

use std::sync::Arc;

use crema_engine::Backend;
use crema_engine::vid::Vid;

use super::block::decode_payload;
use crate::consensus::{Digest, VidShare, View};

/// Whether `payload` decodes as a block of at most `max_bytes` and disperses to `commitment`.
pub fn payload_matches(
    vid: &Vid,
    backend: &dyn Backend,
    commitment: &Digest,
    payload: &[u8],
    max_bytes: usize,
) -> bool {
    let Ok(ns) = decode_payload(payload, max_bytes) else { return false };
    vid.commit_namespaced(backend, &ns).is_ok_and(|c| c == commitment.0)
}

/// Node `node`'s share of the block with `commitment`, rebuilt from the stored `payload` (dispersal is
/// deterministic); `None` if the payload does not disperse to that commitment.
pub fn rebuild_share(
    vid: &Vid,
    backend: &dyn Backend,
    payload: &[u8],
    max_bytes: usize,
    view: View,
    commitment: &Digest,
    node: usize,
) -> Option<VidShare> {
    let ns = decode_payload(payload, max_bytes).ok()?;
    let mut d = vid.disperse_namespaced(backend, &ns).ok()?;
    if d.commitment != commitment.0 || node >= d.shares.len() {
        return None;
    }
    let share = d.shares.swap_remove(node);
    Some(VidShare { view, commitment: *commitment, node: node as u16, common: Arc::new(d.common), share })
}

//! Savoiardi in the node: a block dispersed into the shares its leader sends, a node's share checked against the
//! signed commitment, and payloads (or one namespace) recovered from shares. The engine's [`Vid`] does the work; the
//! runtime calls these off the state-machine thread.

use std::sync::Arc;

use crema_engine::Backend;
use crema_engine::vid::{NamespaceId, Recovered, Vid, VidError, Weights};

use super::block::{Block, encode_payload};
use crate::consensus::{BuiltBlock, Config, Digest, VidShare};

/// The network's VID: its scheme and threshold over the consensus stake table (each node's stake is its number of
/// share units, so every stake must be at least 1 and the total at most 65 535).
pub fn network_vid(cfg: &Config) -> Result<Vid, VidError> {
    Vid::new(cfg.vid.scheme, Weights::from_stake(cfg.table.clone())?, Some(cfg.vid.threshold))
}

/// Disperses `block`: the payload for the DA committee, one share per node and the header fields the payload
/// determines.
pub fn build(vid: &Vid, backend: &dyn Backend, block: &Block, timestamp_ms: u64) -> Result<BuiltBlock, VidError> {
    let payload = block.to_payload();
    let d = vid.disperse_namespaced(backend, &payload)?;
    let table = vid.namespace_table(&d.common)?;
    let payload_len = payload.iter().map(|(_, b)| b.len() as u64).sum();
    Ok(BuiltBlock {
        timestamp_ms,
        payload_commitment: Digest(d.commitment),
        payload_len,
        namespaces: table.entries().len() as u32,
        ns_table_root: Digest(table.root()),
        payload: Arc::new(encode_payload(&payload)),
        common: Arc::new(d.common),
        shares: d.shares,
    })
}

/// Whether `share` is its node's correct share under its commitment.
pub fn share_verifies(vid: &Vid, backend: &dyn Backend, share: &VidShare) -> bool {
    vid.verify_share(backend, &share.commitment.0, &share.common, &share.share, share.node as usize).is_ok()
}

/// Rebuilds the payload from encoded namespaced shares (any source: each is checked on its own first).
pub fn recover(
    vid: &Vid,
    backend: &dyn Backend,
    commitment: &Digest,
    common: &[u8],
    shares: &[&[u8]],
) -> Result<Vec<(NamespaceId, Vec<u8>)>, VidError> {
    match vid.recover(backend, &commitment.0, common, shares)? {
        Recovered::Namespaced(p) => Ok(p.into_vec()),
        Recovered::Plain(_) => Err(VidError::NamespaceMismatch("a block is a namespaced dispersal".into())),
    }
}

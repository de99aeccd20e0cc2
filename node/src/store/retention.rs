//! Retention: the store keeps every decided header, but the shares and payloads only of the last `keep` decided
//! blocks, so disk use is bounded.
//!
//! Shares and payloads are indexed by (view, commitment) when stored. Views grow with heights along the decided
//! chain, so "more than `keep` blocks below the tip" is "at or below the view of the block at height
//! `tip - keep`"; and a view at or below that one that was never decided can never be now (every later decision
//! is above the tip). One range delete over the index therefore covers both. A commitment stored again under a
//! later view (an identical payload) keeps its record until that later view goes too.

use redb::{Database, ReadableTable, Table};

use super::tables::{BY_VIEW, HAS_PAYLOAD, HAS_SHARE, HEADERS, PAYLOADS, SHARES};
use super::{StoreError, begin_write, corrupt, records};
use crate::consensus::{CertScheme, Digest, View};

/// What one [`super::Store::prune`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Shares removed.
    pub shares: u64,
    /// Payloads removed.
    pub payloads: u64,
    /// Shares and payloads of views up to this one are gone (`None`: nothing was old enough).
    pub through_view: Option<View>,
}

/// Removes the shares and payloads of views at or below the view of the block `keep` below the tip.
pub(super) fn prune<C: CertScheme>(db: &Database, keep: u64) -> Result<PruneStats, StoreError> {
    let mut stats = PruneStats::default();
    let txn = begin_write(db)?;
    {
        let headers = txn.open_table(HEADERS)?;
        let Some(tip) = headers.last()?.map(|(k, _)| k.value()) else { return Ok(stats) };
        let Some(cutoff) = tip.checked_sub(keep).filter(|h| *h > 0) else { return Ok(stats) };
        // The block at the cutoff (or the highest stored below it, if heights have a gap).
        let Some(entry) = headers.range(..=cutoff)?.next_back() else { return Ok(stats) };
        let (k, v) = entry?;
        let height = k.value();
        let (header, _) = records::decode_decided::<C>(v.value(), height).map_err(corrupt("headers", height))?;
        let through = header.view;
        stats.through_view = Some(through);

        let mut index = txn.open_table(BY_VIEW)?;
        let mut doomed = Vec::new();
        for entry in index.range((0, &[0u8; 32])..=(through, &[0xffu8; 32]))? {
            let (k, v) = entry?;
            let (view, commitment) = k.value();
            doomed.push((view, *commitment, v.value()));
        }
        let mut shares = txn.open_table(SHARES)?;
        let mut payloads = txn.open_table(PAYLOADS)?;
        for (view, commitment, flags) in doomed {
            index.remove((view, &commitment))?;
            if flags & HAS_SHARE != 0 && remove_through(&mut shares, "shares", &commitment, through)? {
                stats.shares += 1;
            }
            if flags & HAS_PAYLOAD != 0 && remove_through(&mut payloads, "payloads", &commitment, through)? {
                stats.payloads += 1;
            }
        }
    }
    txn.commit()?;
    Ok(stats)
}

/// Removes the record under `commitment` if it was stored for a view at or below `through`.
fn remove_through(
    table: &mut Table<'_, &[u8; 32], &[u8]>,
    name: &'static str,
    commitment: &[u8; 32],
    through: View,
) -> Result<bool, StoreError> {
    let view = match table.get(commitment)? {
        Some(v) => records::record_view(v.value()).map_err(corrupt(name, Digest(*commitment).hex()))?,
        None => return Ok(false), // removed under an earlier view's index entry
    };
    if view > through {
        return Ok(false);
    }
    table.remove(commitment)?;
    Ok(true)
}

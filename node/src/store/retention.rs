//! Retention: the store keeps every decided header, but the shares and payloads only of the last `keep` decided
//! blocks, so disk use is bounded.
//!
//! Shares and payloads are indexed by (view, commitment) when stored. Views grow with heights along the decided
//! chain, so "more than `keep` blocks below the tip" is "at or below the view of the block at height
//! `tip - keep`"; and a view at or below that one that was never decided can never be now (every later decision
//! is above the tip). One range delete over the index therefore covers both. A commitment stored again under a
//! later view (an identical payload) keeps its record until that later view goes too.

use redb::{Database, ReadableTable, Table};

use super::blobs::Kind;
use super::tables::{BY_VIEW, HEADERS};
use super::{StoreError, begin_write, corrupt, records, ref_view};
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

/// A share or payload whose ref went: its file is to be removed once the transaction has committed.
pub(super) type Removed = (Kind, Digest, View);

/// Removes the shares and payloads of views at or below the view of the block `keep` below the tip; returns
/// what went, with the files to delete.
pub(super) fn prune<C: CertScheme>(db: &Database, keep: u64) -> Result<(PruneStats, Vec<Removed>), StoreError> {
    let mut stats = PruneStats::default();
    let mut removed = Vec::new();
    let txn = begin_write(db)?;
    {
        let headers = txn.open_table(HEADERS)?;
        let Some(tip) = headers.last()?.map(|(k, _)| k.value()) else { return Ok((stats, removed)) };
        let Some(cutoff) = tip.checked_sub(keep).filter(|h| *h > 0) else { return Ok((stats, removed)) };
        // The block at the cutoff (or the highest stored below it, if heights have a gap).
        let Some(entry) = headers.range(..=cutoff)?.next_back() else { return Ok((stats, removed)) };
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
        let mut shares = txn.open_table(Kind::Shares.table())?;
        let mut payloads = txn.open_table(Kind::Payloads.table())?;
        for (view, commitment, flags) in doomed {
            index.remove((view, &commitment))?;
            let commitment = Digest(commitment);
            for (kind, table, count) in
                [(Kind::Shares, &mut shares, &mut stats.shares), (Kind::Payloads, &mut payloads, &mut stats.payloads)]
            {
                if flags & kind.flag() != 0
                    && let Some(v) = remove_through(table, kind, &commitment, through)?
                {
                    *count += 1;
                    removed.push((kind, commitment, v));
                }
            }
        }
    }
    txn.commit()?;
    Ok((stats, removed))
}

/// Removes the ref under `commitment` if its record was stored for a view at or below `through`; returns that
/// view.
fn remove_through(
    table: &mut Table<'_, &[u8; 32], &[u8]>,
    kind: Kind,
    commitment: &Digest,
    through: View,
) -> Result<Option<View>, StoreError> {
    // None: removed under an earlier view's index entry.
    let Some(view) = ref_view(table, kind, commitment)? else { return Ok(None) };
    if view > through {
        return Ok(None);
    }
    table.remove(&commitment.0)?;
    Ok(Some(view))
}

//! The node's storage: one redb file holding the consensus safety state, the decided headers with their QCs and
//! commit proofs, and an index of this node's VID shares and the DA committee's payloads, whose bytes are files
//! beside it (`blobs.rs`), with retention for the bulky part.
//!
//! Every write is one redb transaction committed with [`Durability::Immediate`] (a share or payload file is
//! written and synced before the transaction naming it): when a `put_*` returns, the data is on disk, so a node
//! killed with SIGKILL at any moment reopens with everything a returned call stored (the runtime persists the
//! safety state before the vote it protects leaves). Headers are kept forever; shares and
//! payloads of blocks more than `keep` below the tip, and of views that can no longer be decided, go with
//! [`Store::prune`] (`retention.rs`).
//!
//! The API is blocking and takes `&self` (a redb [`Database`] is `Sync`; writers queue on redb's single write
//! lock): the async runtime calls it from `tokio::task::spawn_blocking` or a dedicated thread, never on an async
//! worker. Records are encoded by `records.rs` and decoded with limits: a damaged file is a
//! [`StoreError::Corrupt`] naming the table and key, never a panic.

mod blobs;
pub mod records;
mod retention;
mod tables;

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crema_engine::codec::WireError;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, WriteTransaction};

use crate::consensus::safety::two_chain_commits;
use crate::consensus::wire::MAX_SYNC_BLOCKS;
use crate::consensus::{CertScheme, CommitProof, DecidedRange, Digest, Header, PersistedState, Qc, VidShare, View};
use blobs::{Blobs, Kind};
pub use retention::PruneStats;
pub use tables::FORMAT_VERSION;
use tables::{BY_VIEW, HEADERS, PROOFS, SAFETY};

/// The page cache [`Store::open`] gives redb (the node's `storage.cache_bytes` default).
pub const DEFAULT_CACHE_BYTES: usize = 32 << 20;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created as a redb database.
    #[error("cannot open the store {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// redb's reason.
        #[source]
        source: redb::DatabaseError,
    },
    /// The file is a Crema store of another format version.
    #[error("the store {} has format version {found}; this build reads version {supported}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this build reads.
        supported: u64,
    },
    /// The file is a redb database but not a Crema store.
    #[error("{} is not a crema store: {reason}", path.display())]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// redb failed (I/O, a transaction, a table).
    #[error("store: {0}")]
    Db(#[from] redb::Error),
    /// A share or payload file could not be written, read or removed.
    #[error("store file {}: {source}", path.display())]
    Blob {
        /// The file (or its directory).
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A record does not decode, or does not match its key.
    #[error("corrupt record in table {table} at key {key}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The key, as text (a height, a view or a commitment in hex).
        key: String,
        /// What is wrong.
        reason: WireError,
    },
    /// The caller asked for something the store refuses to write (it would break an invariant).
    #[error("refused to store {what}: {reason}")]
    Refused {
        /// What was to be stored.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A decided header conflicts with the one stored at its height (or its parent with the one below): two
    /// decided chains, which consensus safety rules out, or a damaged file.
    #[error("decided header at height {height} conflicts with the stored chain")]
    Conflict {
        /// The height.
        height: u64,
    },
}

/// Every redb error type converts through [`redb::Error`].
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError, redb::SetDurabilityError);

/// The node's store, for certificates of scheme `C`. See the module documentation.
pub struct Store<C> {
    db: Database,
    blobs: Blobs,
    path: PathBuf,
    scheme: PhantomData<fn() -> C>,
}

impl<C> std::fmt::Debug for Store<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// A write transaction that is durable when its commit returns.
fn begin_write(db: &Database) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    // redb's default, set explicitly: safety depends on it (a vote leaves only after its state is on disk).
    txn.set_durability(Durability::Immediate)?;
    Ok(txn)
}

fn corrupt(table: &'static str, key: impl ToString) -> impl FnOnce(WireError) -> StoreError {
    move |reason| StoreError::Corrupt { table, key: key.to_string(), reason }
}

fn too_large(what: &'static str) -> impl FnOnce(records::OverLimit) -> StoreError {
    move |e| StoreError::Refused { what, reason: format!("{} bytes, over {}", e.len, records::MAX_BLOB_BYTES) }
}

impl<C: CertScheme> Store<C> {
    /// Opens the store at `path`, creating the file and its tables if there is none; refuses a file of another
    /// format version, or a redb file that is not a Crema store.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Store::open`] with a page cache of `cache_bytes` (`storage.cache_bytes`).
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
        tables::prepare(&db, path)?;
        let store = Store { db, blobs: Blobs::open(path)?, path: path.to_path_buf(), scheme: PhantomData };
        store.sweep()?;
        Ok(store)
    }

    /// Removes share and payload files no ref names (left by a crash between a file's write and its
    /// transaction); returns how many.
    fn sweep(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let mut removed = 0;
        for kind in Kind::ALL {
            let table = txn.open_table(kind.table())?;
            let referenced = |c: &Digest, view: View| {
                let stored = table.get(&c.0).ok().flatten();
                // A damaged ref keeps its files: reading it reports the damage, sweeping must not hide it.
                stored.is_some_and(|r| records::record_view(r.value()).map_or(true, |v| v == view))
            };
            removed += self.blobs.sweep(kind, referenced)?;
        }
        Ok(removed)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The safety state, if one was ever stored.
    pub fn safety(&self) -> Result<Option<PersistedState<C>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SAFETY)?;
        let Some(v) = table.get(())? else { return Ok(None) };
        records::decode_safety(v.value()).map(Some).map_err(corrupt("safety", "()"))
    }

    /// Stores the safety state; durable when it returns. Refuses a state whose last voted or proposed view is
    /// below the stored one: that would let the node vote or propose twice in a view.
    pub fn put_safety(&self, s: &PersistedState<C>) -> Result<(), StoreError> {
        let txn = begin_write(&self.db)?;
        {
            let mut table = txn.open_table(SAFETY)?;
            if let Some(old) = table.get(())? {
                let old: PersistedState<C> = records::decode_safety(old.value()).map_err(corrupt("safety", "()"))?;
                if s.last_voted_view < old.last_voted_view || s.last_proposed_view < old.last_proposed_view {
                    let reason = format!(
                        "views go back: voted {} -> {}, proposed {} -> {}",
                        old.last_voted_view, s.last_voted_view, old.last_proposed_view, s.last_proposed_view
                    );
                    return Err(StoreError::Refused { what: "safety state", reason });
                }
            }
            table.insert((), records::encode_safety(s).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Stores newly decided headers (consecutive, hash-linked, each with the QC certifying it) and the commit proof
    /// of the last one, in one transaction. Storing a stored header again is a no-op; a different header at a
    /// stored height, or a first header whose parent is not the stored header below it, is a
    /// [`StoreError::Conflict`].
    pub fn put_decided(&self, blocks: &[(Header, Qc<C>)], proof: &CommitProof<C>) -> Result<(), StoreError> {
        let refuse = |reason: &str| StoreError::Refused { what: "decided headers", reason: reason.to_string() };
        let (Some((first, _)), Some((last, _))) = (blocks.first(), blocks.last()) else {
            return Err(refuse("no headers"));
        };
        if first.height == 0 {
            return Err(refuse("genesis is not stored"));
        }
        let mut prev: Option<(u64, Digest)> = None;
        for (h, qc) in blocks {
            let hash = h.hash();
            if qc.view != h.view || qc.block != hash {
                return Err(refuse("a QC does not certify its header"));
            }
            if prev.is_some_and(|(height, parent)| h.height != height + 1 || h.parent != parent) {
                return Err(refuse("the headers are not one hash-linked chain"));
            }
            prev = Some((h.height, hash));
        }
        let last_hash = prev.map(|(_, hash)| hash).unwrap_or_default();
        if proof.child.parent != last_hash || Some(proof.child.height) != last.height.checked_add(1) {
            return Err(refuse("the commit proof is not for the last header"));
        }
        if proof.child_qc.view != proof.child.view || proof.child_qc.block != proof.child.hash() {
            return Err(refuse("the commit proof's QC does not certify its child"));
        }
        let txn = begin_write(&self.db)?;
        {
            let mut headers = txn.open_table(HEADERS)?;
            if let Some(below) = headers.get(first.height - 1)? {
                let (below, _) = records::decode_decided::<C>(below.value(), first.height - 1)
                    .map_err(corrupt("headers", first.height - 1))?;
                if below.hash() != first.parent {
                    return Err(StoreError::Conflict { height: first.height });
                }
            }
            for (h, qc) in blocks {
                if let Some(old) = headers.get(h.height)? {
                    let (old, _) =
                        records::decode_decided::<C>(old.value(), h.height).map_err(corrupt("headers", h.height))?;
                    if old != *h {
                        return Err(StoreError::Conflict { height: h.height });
                    }
                    continue;
                }
                headers.insert(h.height, records::encode_decided(h, qc).as_slice())?;
            }
            txn.open_table(PROOFS)?.insert(last.height, records::encode_proof(proof).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The highest decided height stored.
    pub fn tip(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(HEADERS)?;
        Ok(table.last()?.map(|(k, _)| k.value()))
    }

    /// The decided header at `height` and its QC.
    pub fn decided(&self, height: u64) -> Result<Option<(Header, Qc<C>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(HEADERS)?;
        let Some(v) = table.get(height)? else { return Ok(None) };
        records::decode_decided(v.value(), height).map(Some).map_err(corrupt("headers", height))
    }

    /// Consecutive decided headers from `from`, at most `max` (and at most [`MAX_SYNC_BLOCKS`]), ending at the
    /// highest height that has a commit proof: a stored one (the top of a decided batch), or the next stored
    /// header when it is from the next view (its QC then proves the two-chain commit). What range sync sends, and
    /// it passes `MessageVerifier` as a `SyncResponse`. `None` when `from` is not stored or no height in reach has
    /// a proof. A gap in the stored heights ends the range.
    pub fn range(&self, from: u64, max: usize) -> Result<Option<DecidedRange<C>>, StoreError> {
        let max = max.min(MAX_SYNC_BLOCKS) as u64;
        if max == 0 {
            return Ok(None);
        }
        let last = from.saturating_add(max - 1);
        let txn = self.db.begin_read()?;
        let headers = txn.open_table(HEADERS)?;
        let proofs = txn.open_table(PROOFS)?;
        // The headers in reach, and the one above them: it may prove the last one decided.
        let mut chain: Vec<(Header, Qc<C>)> = Vec::new();
        for entry in headers.range(from..=last.saturating_add(1))? {
            let (k, v) = entry?;
            let height = k.value();
            if from.checked_add(chain.len() as u64) != Some(height) {
                break;
            }
            chain.push(records::decode_decided(v.value(), height).map_err(corrupt("headers", height))?);
        }
        let in_reach = chain.len().min(max as usize);
        let Some(reach_end) = (in_reach as u64).checked_sub(1).map(|n| from + n) else { return Ok(None) };
        // The highest stored proof in reach, and the highest header in reach whose child is from the next view.
        let stored_top = match proofs.range(from..=reach_end)?.next_back() {
            Some(entry) => Some((entry?.0.value() - from) as usize),
            None => None,
        };
        let derived_top = (0..in_reach)
            .rev()
            .find(|&i| chain.get(i + 1).is_some_and(|(child, _)| two_chain_commits(chain[i].0.view, child.view)));
        let Some(top) = stored_top.max(derived_top) else { return Ok(None) };
        let proof = if stored_top == Some(top) {
            let height = from + top as u64;
            let Some(v) = proofs.get(height)? else { return Ok(None) }; // read in this same transaction just above
            records::decode_proof(v.value(), height).map_err(corrupt("proofs", height))?
        } else {
            let (child, child_qc) = chain[top + 1].clone();
            CommitProof { child, child_qc }
        };
        chain.truncate(top + 1);
        if proof.child.parent != chain[top].0.hash() {
            let reason = WireError::Invalid { what: "commit proof", reason: "not a child of the header below".into() };
            return Err(StoreError::Corrupt { table: "proofs", key: chain[top].0.height.to_string(), reason });
        }
        Ok(Some(DecidedRange { blocks: chain, proof }))
    }

    /// Stores this node's verified VID share, by its commitment. The same commitment stored again (an identical
    /// payload in a later view) keeps the record under the later view, so retention keeps it as long as the
    /// later view needs it.
    pub fn put_share(&self, share: &VidShare) -> Result<(), StoreError> {
        let record = records::share_record(share).map_err(too_large("vid share"))?;
        self.put_blob(Kind::Shares, share.view, &share.commitment, &record)
    }

    /// This node's VID share of the payload with `commitment`.
    pub fn share(&self, commitment: &Digest) -> Result<Option<VidShare>, StoreError> {
        let Some(bytes) = self.get_blob(Kind::Shares, commitment)? else { return Ok(None) };
        records::decode_share(&bytes, commitment).map(Some).map_err(corrupt("shares", commitment.hex()))
    }

    /// Whether this node holds its VID share of the payload with `commitment`: the ref only, without reading
    /// (and hashing) the file, for the per-block check that asks the DA committee for a missing share.
    pub fn has_share(&self, commitment: &Digest) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(ref_view(&txn.open_table(Kind::Shares.table())?, Kind::Shares, commitment)?.is_some())
    }

    /// Stores a DA payload received in `view`, by its commitment (the same rule for a repeat as
    /// [`Store::put_share`]).
    pub fn put_payload(&self, view: View, commitment: &Digest, payload: &[u8]) -> Result<(), StoreError> {
        let record = records::payload_record(view, payload).map_err(too_large("da payload"))?;
        self.put_blob(Kind::Payloads, view, commitment, &record)
    }

    /// The DA payload with `commitment`.
    pub fn payload(&self, commitment: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(bytes) = self.get_blob(Kind::Payloads, commitment)? else { return Ok(None) };
        let (_, payload) = records::decode_payload(&bytes).map_err(corrupt("payloads", commitment.hex()))?;
        Ok(Some(payload))
    }

    /// Removes the shares and payloads of blocks more than `keep_blocks` below the tip, and of undecided views
    /// at or below the view of the last block removed (they can never be decided now). Headers stay.
    pub fn prune(&self, keep_blocks: u64) -> Result<PruneStats, StoreError> {
        let (stats, removed) = retention::prune::<C>(&self.db, keep_blocks)?;
        // After the commit: a crash before these deletions leaves files the next open sweeps.
        for (kind, commitment, view) in removed {
            self.blobs.remove(kind, &commitment, view)?;
        }
        Ok(stats)
    }

    /// The record file `commitment`'s ref in `kind`'s table names, checked against the ref.
    fn get_blob(&self, kind: Kind, commitment: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        // Twice at most: a prune (or a later view's write) may remove the file between reading the ref and
        // opening it; the ref read again then says what is current.
        for _ in 0..2 {
            let r = {
                let txn = self.db.begin_read()?;
                let table = txn.open_table(kind.table())?;
                let Some(v) = table.get(&commitment.0)? else { return Ok(None) };
                records::decode_blob_ref(v.value()).map_err(corrupt(kind.name(), commitment.hex()))?
            };
            if let Some(bytes) = self.blobs.read(kind, commitment, &r)? {
                return Ok(Some(bytes));
            }
        }
        let reason = WireError::Invalid { what: "blob file", reason: "missing (its ref names it)".into() };
        Err(StoreError::Corrupt { table: kind.name(), key: commitment.hex(), reason })
    }

    /// Writes a share or payload record as a file and refers to it under `commitment`, indexing it under
    /// `view`, in one transaction; a stored record of a later view stays (only its index entry for `view` is
    /// added). The file is on disk before the transaction commits; a file no ref names any more goes after it.
    fn put_blob(
        &self,
        kind: Kind,
        view: View,
        commitment: &Digest,
        record: &records::Record<'_>,
    ) -> Result<(), StoreError> {
        // A later view's record already stored: only the index entry is new (no file to write).
        let later = {
            let txn = self.db.begin_read()?;
            ref_view(&txn.open_table(kind.table())?, kind, commitment)?.is_some_and(|v| v > view)
        };
        let new_ref = if later { None } else { Some(self.blobs.write(kind, commitment, view, record)?) };
        let txn = begin_write(&self.db)?;
        let mut stale = None;
        {
            let mut table = txn.open_table(kind.table())?;
            let old = ref_view(&table, kind, commitment)?;
            match new_ref {
                Some(r) if old.is_none_or(|v| v <= view) => {
                    table.insert(&commitment.0, records::encode_blob_ref(&r).as_slice())?;
                    stale = old.filter(|&v| v != view);
                }
                // Another writer stored a later view meanwhile: this file is not needed.
                Some(_) => stale = Some(view),
                None => {}
            }
            let mut index = txn.open_table(BY_VIEW)?;
            let flags = index.get((view, &commitment.0))?.map_or(0, |f| f.value());
            index.insert((view, &commitment.0), flags | kind.flag())?;
        }
        txn.commit()?;
        if let Some(v) = stale {
            self.blobs.remove(kind, commitment, v)?;
        }
        Ok(())
    }
}

/// The view of the blob ref stored under `commitment` in `kind`'s table (open for reading or writing).
pub(super) fn ref_view(
    table: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    kind: Kind,
    commitment: &Digest,
) -> Result<Option<View>, StoreError> {
    match table.get(&commitment.0)? {
        Some(v) => records::record_view(v.value()).map(Some).map_err(corrupt(kind.name(), commitment.hex())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;

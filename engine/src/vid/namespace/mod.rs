//! Namespaces: a payload as a list of rollups' data, dispersed so that a rollup can check and
//! rebuild its own namespace without touching the others.
//!
//! A [`NamespacedPayload`] is a list of `(id, bytes)`, ids unique ([`NamespaceId`] is a `u64`:
//! rollup chain ids are 64-bit, as EIP-155 chain ids are). Dispersal runs the inner scheme once
//! per namespace (so with [`Kzg`] every namespace gets its own blob range) and gets one
//! sub-commitment each. The [`NsTable`] lists `(id, length, sub-commitment)` in payload order;
//! a BLAKE3 Merkle tree over its rows gives a root, and the namespaced commitment hashes the
//! scheme tag, the row count and that root. [`NsCommon`] holds the table and every namespace's
//! common data; an [`NsShare`] holds one inner share per namespace for one node.
//!
//! A rollup needs only: the namespaced commitment (from the block header), a
//! [`NamespaceProof`] (its row and Merkle path, [`NsCommon::namespace`] cuts it), its
//! namespace's common data, and each node's inner share of its namespace —
//! [`Namespaced::verify_namespace_share`] and [`Namespaced::recover_namespace`] take exactly those.
//! Absence of a namespace is shown by the whole table (a few dozen bytes per row).
//!
//! The plain single-payload API ([`VidScheme`]) is a separate path, not a one-namespace list:
//! its commitment stays the inner scheme's own, so existing dispersals keep verifying.
//!
//! Costs: each namespace's common data repeats the weight table (self-contained per rollup);
//! with [`Kzg`] each namespace rounds up to whole blobs.

mod wire;

use std::collections::HashSet;

use rayon::prelude::*;

use super::avidm::{self, Avidm};
use super::kzg::{self, Kzg};
use super::wire::Codec;
use super::{Dispersal, SchemeKind, VidError, VidScheme};
use crate::backend::Backend;
use crate::merkle::{self, Hash, MerkleTree};

/// A rollup's namespace id.
pub type NamespaceId = u64;
/// Most namespaces one payload may have.
pub const MAX_NAMESPACES: usize = 1024;
/// The namespaced commitment (goes in the block header).
pub type NsCommitment = [u8; 32];

const COMMITMENT_CONTEXT: &str = "crema vid namespaced commitment v1";

/// A payload made of namespaces, in order, with unique ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacedPayload {
    namespaces: Vec<(NamespaceId, Vec<u8>)>,
}

impl NamespacedPayload {
    /// Validates the list: 1 to [`MAX_NAMESPACES`] namespaces, no id twice.
    pub fn new(namespaces: Vec<(NamespaceId, Vec<u8>)>) -> Result<Self, VidError> {
        check_ids(namespaces.iter().map(|(id, _)| *id), namespaces.len())?;
        Ok(Self { namespaces })
    }

    /// The bytes of namespace `id`.
    pub fn get(&self, id: NamespaceId) -> Option<&[u8]> {
        self.namespaces.iter().find(|(i, _)| *i == id).map(|(_, b)| b.as_slice())
    }

    /// The namespaces in order.
    pub fn iter(&self) -> impl Iterator<Item = (NamespaceId, &[u8])> {
        self.namespaces.iter().map(|(id, b)| (*id, b.as_slice()))
    }

    /// Number of namespaces (at least one).
    pub fn len(&self) -> usize {
        self.namespaces.len()
    }

    /// Always false: a namespaced payload has at least one namespace.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }

    /// The list itself.
    pub fn into_vec(self) -> Vec<(NamespaceId, Vec<u8>)> {
        self.namespaces
    }
}

fn check_ids(ids: impl Iterator<Item = NamespaceId>, count: usize) -> Result<(), VidError> {
    if count == 0 {
        return Err(VidError::InvalidNamespaces("no namespaces (disperse an empty block as a plain payload)".into()));
    }
    if count > MAX_NAMESPACES {
        return Err(VidError::InvalidNamespaces(format!("{count} namespaces, at most {MAX_NAMESPACES}")));
    }
    let mut seen = HashSet::with_capacity(count);
    for id in ids {
        if !seen.insert(id) {
            return Err(VidError::InvalidNamespaces(format!("namespace {id} appears twice")));
        }
    }
    Ok(())
}

/// One row of the namespace table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsEntry {
    /// The namespace id.
    pub id: NamespaceId,
    /// Its length in bytes.
    pub len: u64,
    /// The inner scheme's commitment to the namespace's dispersal.
    pub commitment: [u8; 32],
}

impl NsEntry {
    /// Canonical bytes (the Merkle leaf is their BLAKE3 hash).
    pub fn to_bytes(&self) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..16].copy_from_slice(&self.len.to_le_bytes());
        b[16..].copy_from_slice(&self.commitment);
        b
    }

    fn leaf(&self) -> Hash {
        *blake3::hash(&self.to_bytes()).as_bytes()
    }
}

/// The namespace table: one row per namespace, in payload order, ids unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsTable {
    entries: Vec<NsEntry>,
}

impl NsTable {
    /// Validates the rows: 1 to [`MAX_NAMESPACES`], no id twice.
    pub fn new(entries: Vec<NsEntry>) -> Result<Self, VidError> {
        check_ids(entries.iter().map(|e| e.id), entries.len())?;
        Ok(Self { entries })
    }

    /// The rows.
    pub fn entries(&self) -> &[NsEntry] {
        &self.entries
    }

    /// The row index of namespace `id`.
    pub fn position(&self, id: NamespaceId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }

    fn tree(&self) -> MerkleTree {
        // NsTable::new (the only constructor, decoders included) refuses an empty table.
        MerkleTree::from_leaf_hashes(self.entries.iter().map(NsEntry::leaf).collect()).expect("a table has rows")
    }

    /// The namespaced commitment of this table under `scheme`.
    pub fn commitment(&self, scheme: SchemeKind) -> NsCommitment {
        ns_commitment(scheme, self.entries.len(), &self.root())
    }

    /// The Merkle root over the rows (what a block header names beside the commitment).
    pub fn root(&self) -> Hash {
        self.tree().root()
    }

    /// The proof that row `index` is in the table.
    pub fn proof(&self, index: usize) -> Result<NamespaceProof, VidError> {
        let path = self.tree().proof(index)?;
        Ok(NamespaceProof { index: index as u32, count: self.entries.len() as u32, entry: self.entries[index], path })
    }
}

/// The namespaced commitment of a `count`-row table with Merkle root `root` under `scheme`: what a
/// header's payload commitment must equal, so a header's table root and row count are bound to it.
pub fn ns_commitment(scheme: SchemeKind, count: usize, root: &Hash) -> NsCommitment {
    let mut h = blake3::Hasher::new_derive_key(COMMITMENT_CONTEXT);
    h.update(&[scheme as u8]).update(&(count as u32).to_le_bytes()).update(root);
    *h.finalize().as_bytes()
}

/// A namespace's row with its Merkle path: all a rollup needs to tie its namespace to the
/// namespaced commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceProof {
    /// Row index in the table.
    pub index: u32,
    /// Rows in the table.
    pub count: u32,
    /// The row.
    pub entry: NsEntry,
    /// Sibling hashes from the row's leaf up to the root.
    pub path: Vec<Hash>,
}

impl NamespaceProof {
    /// Checks that the row is in the table committed by `commitment` under `scheme`.
    pub fn verify(&self, scheme: SchemeKind, commitment: &NsCommitment) -> Result<(), VidError> {
        let (index, count) = (self.index as usize, self.count as usize);
        let bad = |why: String| Err(VidError::NamespaceMismatch(why));
        if count == 0 || count > MAX_NAMESPACES || index >= count {
            return bad(format!("row {index} of {count} is not a table position"));
        }
        if self.path.len() != merkle::depth(count) {
            return bad(format!(
                "path of {} hashes, a {count}-row table needs {}",
                self.path.len(),
                merkle::depth(count)
            ));
        }
        let root = self.path.iter().enumerate().fold(self.entry.leaf(), |acc, (d, sibling)| {
            if (index >> d) & 1 == 0 { merkle::hash_node(&acc, sibling) } else { merkle::hash_node(sibling, &acc) }
        });
        if &ns_commitment(scheme, count, &root) != commitment {
            return bad(format!("namespace {} is not row {index} of the committed table", self.entry.id));
        }
        Ok(())
    }
}

/// The namespaced common data: the table and every namespace's inner common data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsCommon<M> {
    /// The inner scheme.
    pub scheme: SchemeKind,
    /// The namespace table.
    pub table: NsTable,
    /// Inner common data, one per row.
    pub commons: Vec<M>,
}

impl<M> NsCommon<M> {
    /// The namespaced commitment this common data hashes to.
    pub fn commitment(&self) -> NsCommitment {
        self.table.commitment(self.scheme)
    }

    /// The proof and inner common data a rollup needs for namespace `id`.
    pub fn namespace(&self, id: NamespaceId) -> Result<(NamespaceProof, &M), VidError> {
        let index = self.table.position(id).ok_or(VidError::NamespaceNotFound { id })?;
        let common = self.commons.get(index).ok_or_else(|| {
            VidError::NamespaceMismatch(format!(
                "{} rows but {} common data",
                self.table.entries.len(),
                self.commons.len()
            ))
        })?;
        Ok((self.table.proof(index)?, common))
    }
}

/// One node's namespaced share: its inner share of every namespace, in table order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsShare<T> {
    /// The node.
    pub node: u32,
    /// Inner shares, one per row.
    pub shares: Vec<T>,
}

/// What the namespace layer needs from a scheme beyond [`VidScheme`].
pub trait NamespaceScheme:
    VidScheme<Commitment = [u8; 32], Common: Codec + Send + Sync, Share: Codec + Clone + Send + Sync> + Sync
{
    /// The scheme's tag.
    const TAG: SchemeKind;
    /// The commitment `common` hashes to.
    fn common_commitment(common: &Self::Common) -> [u8; 32];
    /// The payload length `common` records.
    fn common_payload_len(common: &Self::Common) -> u64;
    /// The commitment [`VidScheme::disperse`] gives `payload`, computed without the shares where the scheme
    /// can (KZG: the blob commitments alone, no cell proofs).
    fn commit(&self, backend: &dyn Backend, payload: &[u8]) -> Result<[u8; 32], VidError> {
        Ok(self.disperse(backend, payload)?.commitment)
    }
}

impl NamespaceScheme for Avidm {
    const TAG: SchemeKind = SchemeKind::Avidm;
    fn common_commitment(common: &avidm::Common) -> [u8; 32] {
        common.commitment()
    }
    fn common_payload_len(common: &avidm::Common) -> u64 {
        common.payload_len
    }
}

impl NamespaceScheme for Kzg {
    const TAG: SchemeKind = SchemeKind::Kzg;
    fn common_commitment(common: &kzg::Common) -> [u8; 32] {
        common.commitment()
    }
    fn common_payload_len(common: &kzg::Common) -> u64 {
        common.payload_len
    }
    fn commit(&self, backend: &dyn Backend, payload: &[u8]) -> Result<[u8; 32], VidError> {
        Kzg::commit(self, backend, payload)
    }
}

/// The output of a namespaced dispersal.
pub type NsDispersal<S> = Dispersal<NsCommitment, NsCommon<<S as VidScheme>::Common>, NsShare<<S as VidScheme>::Share>>;

/// A scheme used namespace by namespace.
#[derive(Debug, Clone)]
pub struct Namespaced<S> {
    scheme: S,
}

impl<S: NamespaceScheme> Namespaced<S> {
    /// Wraps `scheme`.
    pub fn new(scheme: S) -> Self {
        Self { scheme }
    }

    /// The inner scheme.
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// Disperses every namespace with the inner scheme and commits to the table.
    pub fn disperse_namespaced(
        &self,
        backend: &dyn Backend,
        payload: &NamespacedPayload,
    ) -> Result<NsDispersal<S>, VidError> {
        let parts: Vec<_> = payload.namespaces.par_iter().map(|(_, b)| self.scheme.disperse(backend, b)).collect();
        let mut entries = Vec::with_capacity(parts.len());
        let mut commons = Vec::with_capacity(parts.len());
        let mut per_node: Vec<Vec<S::Share>> = Vec::new();
        for ((id, bytes), part) in payload.namespaces.iter().zip(parts) {
            let part = part?;
            entries.push(NsEntry { id: *id, len: bytes.len() as u64, commitment: part.commitment });
            commons.push(part.common);
            per_node.resize_with(part.shares.len(), Vec::new);
            for (node, share) in part.shares.into_iter().enumerate() {
                per_node[node].push(share);
            }
        }
        let common = NsCommon { scheme: S::TAG, table: NsTable::new(entries)?, commons };
        let shares = per_node.into_iter().enumerate().map(|(n, shares)| NsShare { node: n as u32, shares }).collect();
        Ok(Dispersal { commitment: common.commitment(), common, shares })
    }

    /// The commitment [`Namespaced::disperse_namespaced`] gives `payload`, without building shares: it names
    /// only the table rows (id, length, each namespace's commitment).
    pub fn commit_namespaced(
        &self,
        backend: &dyn Backend,
        payload: &NamespacedPayload,
    ) -> Result<NsCommitment, VidError> {
        let parts: Vec<_> = payload.namespaces.par_iter().map(|(_, b)| self.scheme.commit(backend, b)).collect();
        let mut entries = Vec::with_capacity(parts.len());
        for ((id, bytes), commitment) in payload.namespaces.iter().zip(parts) {
            entries.push(NsEntry { id: *id, len: bytes.len() as u64, commitment: commitment? });
        }
        Ok(NsTable::new(entries)?.commitment(S::TAG))
    }

    /// Checks the whole common data against the namespaced commitment.
    pub fn verify_common(&self, commitment: &NsCommitment, common: &NsCommon<S::Common>) -> Result<(), VidError> {
        if common.scheme != S::TAG {
            return Err(VidError::NamespaceMismatch(format!(
                "common data is for the {} scheme, not {}",
                common.scheme.name(),
                S::TAG.name()
            )));
        }
        if &common.commitment() != commitment {
            return Err(VidError::CommonMismatch);
        }
        if common.commons.len() != common.table.entries.len() {
            return Err(VidError::NamespaceMismatch(format!(
                "{} rows but {} common data",
                common.table.entries.len(),
                common.commons.len()
            )));
        }
        common.table.entries.iter().zip(&common.commons).try_for_each(|(e, c)| check_entry::<S>(e, c))
    }

    /// Checks node `node`'s share of every namespace.
    pub fn verify_share(
        &self,
        backend: &dyn Backend,
        commitment: &NsCommitment,
        common: &NsCommon<S::Common>,
        share: &NsShare<S::Share>,
        node: usize,
    ) -> Result<(), VidError> {
        self.verify_common(commitment, common)?;
        if share.node as usize != node {
            return Err(VidError::ShareNodeMismatch { claimed: share.node as usize, node });
        }
        if share.shares.len() != common.commons.len() {
            return Err(VidError::MalformedShare(format!(
                "{} namespace shares for {} namespaces",
                share.shares.len(),
                common.commons.len()
            )));
        }
        let rows = common.table.entries.par_iter().zip(&common.commons).zip(&share.shares);
        rows.try_for_each(|((e, c), s)| self.scheme.verify_share(backend, &e.commitment, c, s, node))
    }

    /// Checks node `node`'s share of one namespace, given that namespace's proof and common data.
    pub fn verify_namespace_share(
        &self,
        backend: &dyn Backend,
        commitment: &NsCommitment,
        proof: &NamespaceProof,
        ns_common: &S::Common,
        share: &S::Share,
        node: usize,
    ) -> Result<(), VidError> {
        proof.verify(S::TAG, commitment)?;
        check_entry::<S>(&proof.entry, ns_common)?;
        self.scheme.verify_share(backend, &proof.entry.commitment, ns_common, share, node)
    }

    /// Rebuilds one namespace from inner shares of that namespace (others are never touched).
    pub fn recover_namespace(
        &self,
        backend: &dyn Backend,
        commitment: &NsCommitment,
        proof: &NamespaceProof,
        ns_common: &S::Common,
        shares: &[S::Share],
    ) -> Result<Vec<u8>, VidError> {
        proof.verify(S::TAG, commitment)?;
        check_entry::<S>(&proof.entry, ns_common)?;
        self.scheme.recover(backend, &proof.entry.commitment, ns_common, shares)
    }

    /// Rebuilds every namespace (in parallel) from namespaced shares; shares with the wrong
    /// number of namespaces are left out.
    pub fn recover(
        &self,
        backend: &dyn Backend,
        commitment: &NsCommitment,
        common: &NsCommon<S::Common>,
        shares: &[NsShare<S::Share>],
    ) -> Result<NamespacedPayload, VidError> {
        self.verify_common(commitment, common)?;
        let rows = common.table.entries.len();
        let usable: Vec<&NsShare<S::Share>> = shares.iter().filter(|s| s.shares.len() == rows).collect();
        let parts = (0..rows)
            .into_par_iter()
            .map(|i| {
                // The inner API takes owned shares: copy this namespace's shares out.
                let inner: Vec<S::Share> = usable.iter().map(|s| s.shares[i].clone()).collect();
                let e = &common.table.entries[i];
                Ok((e.id, self.scheme.recover(backend, &e.commitment, &common.commons[i], &inner)?))
            })
            .collect::<Result<Vec<_>, VidError>>()?;
        NamespacedPayload::new(parts)
    }
}

/// A row must name the inner common data it is given, with the same length.
pub(crate) fn check_entry<S: NamespaceScheme>(entry: &NsEntry, common: &S::Common) -> Result<(), VidError> {
    if S::common_commitment(common) != entry.commitment {
        return Err(VidError::NamespaceMismatch(format!(
            "common data does not match the commitment of namespace {}",
            entry.id
        )));
    }
    if S::common_payload_len(common) != entry.len {
        return Err(VidError::NamespaceMismatch(format!(
            "namespace {} is {} bytes in the table but {} in its common data",
            entry.id,
            entry.len,
            S::common_payload_len(common)
        )));
    }
    Ok(())
}

//! [`Vid`]: a configured VID scheme on bytes — the front door the CLI, `crema bench` and the
//! node call, whichever scheme the operator picked.
//!
//! The typed API ([`VidScheme`], [`Avidm`], [`Kzg`], [`Namespaced`]) stays for callers who want
//! the objects; [`Vid`] takes and returns the canonical encodings ([`Codec`]), which is what a
//! node sends, stores and receives anyway, and hides the scheme behind [`SchemeKind`]. Plain and
//! namespaced dispersals are told apart by the tag of their common data, so checking and
//! recovery need no flag.

use super::kzg::Progress;
use super::namespace::{NamespaceScheme, NsCommon, NsShare};
use super::wire::{Codec, CommonKind, common_kind};
use super::{
    Avidm, Kzg, NamespaceId, NamespaceProof, Namespaced, NamespacedPayload, NsTable, SchemeKind, VidError, VidScheme,
    Weights, avidm, kzg,
};
use crate::backend::Backend;
use crate::stake::Fraction;

/// A dispersal in wire form: the commitment, the common data every verifier needs, and one
/// share per node (index = node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedDispersal {
    /// The 32-byte commitment (what a block header carries).
    pub commitment: [u8; 32],
    /// The encoded common data.
    pub common: Vec<u8>,
    /// The encoded shares, by node.
    pub shares: Vec<Vec<u8>>,
}

/// What a recovery rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// A plain dispersal's payload.
    Plain(Vec<u8>),
    /// A namespaced dispersal's namespaces.
    Namespaced(NamespacedPayload),
}

/// Whether a dispersal is of one payload or of namespaces, as its common data says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One payload.
    Plain,
    /// A list of namespaces, each dispersed on its own.
    Namespaced,
}

#[derive(Debug, Clone)]
enum Inner {
    Avidm(Avidm),
    Kzg(Kzg),
}

/// A VID scheme with its parameters (weights, threshold), working on encoded objects.
#[derive(Debug, Clone)]
pub struct Vid {
    inner: Inner,
    threshold: Fraction,
}

/// Runs `$body` with `$s` bound to the inner scheme and `S` to its type.
macro_rules! with_scheme {
    ($vid:expr, $s:ident => $body:expr) => {
        match &$vid.inner {
            Inner::Avidm($s) => $body,
            Inner::Kzg($s) => $body,
        }
    };
}

impl Vid {
    /// `kind` dispersing to `weights`, recoverable from `threshold` of the weight (the
    /// scheme's [`SchemeKind::default_threshold`] when `None`; refused below its minimum).
    pub fn new(kind: SchemeKind, weights: Weights, threshold: Option<Fraction>) -> Result<Self, VidError> {
        let threshold = threshold.unwrap_or(kind.default_threshold());
        kind.check_threshold(threshold)?;
        let inner = match kind {
            SchemeKind::Avidm => Inner::Avidm(Avidm::new(weights, threshold)),
            SchemeKind::Kzg => Inner::Kzg(Kzg::new(weights, threshold)?),
        };
        Ok(Self { inner, threshold })
    }

    /// The scheme that checks and rebuilds the dispersal whose common data is `common`, and its
    /// layout. Only the tag, the weights and the threshold are read from it here; every check
    /// against the commitment happens in the calls that follow.
    pub fn for_common(common: &[u8]) -> Result<(Self, Layout), VidError> {
        let (kind, layout) = match common_kind(common)? {
            CommonKind::Plain(k) => (k, Layout::Plain),
            CommonKind::Namespaced(k) => (k, Layout::Namespaced),
        };
        let vid = match (kind, layout) {
            (SchemeKind::Avidm, Layout::Plain) => Self::for_avidm(&avidm::Common::decode(common)?)?,
            (SchemeKind::Kzg, Layout::Plain) => Self::for_kzg(&kzg::Common::decode(common)?)?,
            (SchemeKind::Avidm, Layout::Namespaced) => Self::for_avidm(first(&NsCommon::decode(common)?)?)?,
            (SchemeKind::Kzg, Layout::Namespaced) => Self::for_kzg(first(&NsCommon::decode(common)?)?)?,
        };
        Ok((vid, layout))
    }

    fn for_avidm(c: &avidm::Common) -> Result<Self, VidError> {
        // k original units of the total: the fraction k/total reproduces exactly k.
        let threshold = Fraction::new(u64::from(c.original_count), c.weights.total())?;
        Self::new(SchemeKind::Avidm, c.weights.clone(), Some(threshold))
    }

    fn for_kzg(c: &kzg::Common) -> Result<Self, VidError> {
        Self::new(SchemeKind::Kzg, c.weights.clone(), None)
    }

    /// The scheme.
    pub fn kind(&self) -> SchemeKind {
        match self.inner {
            Inner::Avidm(_) => SchemeKind::Avidm,
            Inner::Kzg(_) => SchemeKind::Kzg,
        }
    }

    /// The weights shares are assigned by.
    pub fn weights(&self) -> &Weights {
        match &self.inner {
            Inner::Avidm(s) => s.weights(),
            Inner::Kzg(s) => s.weights(),
        }
    }

    /// The recovery threshold, as a fraction of the total weight.
    pub fn threshold(&self) -> Fraction {
        self.threshold
    }

    /// How many progress steps [`Vid::disperse`] reports for a payload of `len` bytes: blobs for kzg (each takes
    /// ~0.1 s of cell proofs), `None` for avidm (too fast to need progress).
    pub fn progress_steps(&self, len: usize) -> Option<usize> {
        match self.inner {
            Inner::Avidm(_) => None,
            Inner::Kzg(_) => Some(kzg::blob_count(len)),
        }
    }

    /// Disperses one payload; `progress` (kzg only: blobs proven so far) is called from worker
    /// threads.
    pub fn disperse(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
        progress: Option<Progress<'_>>,
    ) -> Result<EncodedDispersal, VidError> {
        match (&self.inner, progress) {
            (Inner::Kzg(s), Some(p)) => Ok(encode_dispersal(s.disperse_with_progress(backend, payload, p)?)),
            _ => with_scheme!(self, s => Ok(encode_dispersal(s.disperse(backend, payload)?))),
        }
    }

    /// Disperses each namespace on its own and commits to the namespace table.
    pub fn disperse_namespaced(
        &self,
        backend: &dyn Backend,
        payload: &NamespacedPayload,
    ) -> Result<EncodedDispersal, VidError> {
        with_scheme!(self, s => Ok(encode_dispersal(Namespaced::new(s.clone()).disperse_namespaced(backend, payload)?)))
    }

    /// The commitment [`Vid::disperse_namespaced`] gives `payload`, without building or encoding the shares:
    /// what a DA committee member recomputes to check a payload it was sent (a 5 MB block's shares are 12.5 MB
    /// of bytes it would only drop; under kzg it skips the cell proofs, most of a dispersal's cost).
    pub fn commit_namespaced(&self, backend: &dyn Backend, payload: &NamespacedPayload) -> Result<[u8; 32], VidError> {
        with_scheme!(self, s => Namespaced::new(s.clone()).commit_namespaced(backend, payload))
    }

    /// Checks node `node`'s encoded share against `commitment` and the encoded common data.
    pub fn verify_share(
        &self,
        backend: &dyn Backend,
        commitment: &[u8; 32],
        common: &[u8],
        share: &[u8],
        node: usize,
    ) -> Result<(), VidError> {
        with_scheme!(self, s => verify_share(s, backend, commitment, common, share, node))
    }

    /// Checks only namespace `id`'s part of node `node`'s namespaced share.
    pub fn verify_namespace_share(
        &self,
        backend: &dyn Backend,
        commitment: &[u8; 32],
        common: &[u8],
        share: &[u8],
        node: usize,
        id: NamespaceId,
    ) -> Result<(), VidError> {
        with_scheme!(self, s => verify_namespace_share(s, backend, commitment, common, share, node, id))
    }

    /// Rebuilds the payload (or every namespace) from encoded shares. Shares that do not decode
    /// or do not verify are left out; the rest must reach the threshold.
    pub fn recover(
        &self,
        backend: &dyn Backend,
        commitment: &[u8; 32],
        common: &[u8],
        shares: &[&[u8]],
    ) -> Result<Recovered, VidError> {
        with_scheme!(self, s => recover(s, backend, commitment, common, shares))
    }

    /// Rebuilds namespace `id` alone from encoded namespaced shares.
    pub fn recover_namespace(
        &self,
        backend: &dyn Backend,
        commitment: &[u8; 32],
        common: &[u8],
        shares: &[&[u8]],
        id: NamespaceId,
    ) -> Result<Vec<u8>, VidError> {
        with_scheme!(self, s => recover_namespace(s, backend, commitment, common, shares, id))
    }

    /// The namespace table of a namespaced dispersal's common data (not checked against a
    /// commitment here: callers compare [`NsTable::commitment`] with the one they trust).
    pub fn namespace_table(&self, common: &[u8]) -> Result<NsTable, VidError> {
        with_scheme!(self, s => namespace_table(s, common))
    }

    /// What a rollup needs to check namespace `id` against the block's commitment alone: the namespace's row
    /// with its Merkle path, and the namespace's own (encoded) common data. See [`verify_namespace`].
    pub fn namespace_proof(&self, common: &[u8], id: NamespaceId) -> Result<(NamespaceProof, Vec<u8>), VidError> {
        with_scheme!(self, s => namespace_proof(s, common, id))
    }

    /// One line on the layout of a dispersal with this common data (for people).
    pub fn describe(&self, common: &[u8]) -> Result<String, VidError> {
        let describe_avidm = |c: &avidm::Common| {
            format!("{} units of {} bytes, any {} units recover", c.weights.total(), c.unit_bytes, c.original_count)
        };
        let describe_kzg = |c: &kzg::Common| {
            let total = c.weights.total();
            format!(
                "{} blob(s) x {} cells, any {} of {total} weight units recover",
                c.blob_commitments.len(),
                crate::kzg::CELLS_PER_EXT_BLOB,
                Kzg::THRESHOLD.ceil_of(total)
            )
        };
        let rows = |lines: Vec<String>, table: &super::NsTable| {
            let rows = table.entries().iter().zip(lines);
            rows.map(|(e, l)| format!("namespace {}: {} bytes, {l}", e.id, e.len)).collect::<Vec<_>>().join("\n")
        };
        Ok(match common_kind(common)? {
            CommonKind::Plain(SchemeKind::Avidm) => describe_avidm(&avidm::Common::decode(common)?),
            CommonKind::Plain(SchemeKind::Kzg) => describe_kzg(&kzg::Common::decode(common)?),
            CommonKind::Namespaced(SchemeKind::Avidm) => {
                let c = NsCommon::<avidm::Common>::decode(common)?;
                rows(c.commons.iter().map(describe_avidm).collect(), &c.table)
            }
            CommonKind::Namespaced(SchemeKind::Kzg) => {
                let c = NsCommon::<kzg::Common>::decode(common)?;
                rows(c.commons.iter().map(describe_kzg).collect(), &c.table)
            }
        })
    }
}

fn namespace_table<S: NamespaceScheme>(_: &S, common: &[u8]) -> Result<NsTable, VidError> {
    if layout_of::<S>(common)? == Layout::Plain {
        return Err(VidError::NamespaceMismatch("a plain dispersal has no namespace table".into()));
    }
    Ok(NsCommon::<S::Common>::decode(common)?.table)
}

fn namespace_proof<S: NamespaceScheme>(
    _: &S,
    common: &[u8],
    id: NamespaceId,
) -> Result<(NamespaceProof, Vec<u8>), VidError> {
    if layout_of::<S>(common)? == Layout::Plain {
        return Err(VidError::NamespaceNotFound { id });
    }
    let common = NsCommon::<S::Common>::decode(common)?;
    let (proof, inner) = common.namespace(id)?;
    Ok((proof, inner.encode()))
}

/// Checks a rollup's namespace bytes against a block's namespaced `commitment` alone: the proof puts the
/// namespace's row in the committed table, the common data is the row's, and the bytes disperse (with the
/// parameters the common data records) to the row's commitment. What a rollup client runs on what it fetched.
pub fn verify_namespace(
    backend: &dyn Backend,
    scheme: SchemeKind,
    commitment: &[u8; 32],
    proof: &NamespaceProof,
    ns_common: &[u8],
    ns_bytes: &[u8],
) -> Result<(), VidError> {
    proof.verify(scheme, commitment)?;
    let recomputed = match scheme {
        SchemeKind::Avidm => {
            let c = avidm::Common::decode(ns_common)?;
            super::namespace::check_entry::<Avidm>(&proof.entry, &c)?;
            let vid = Vid::for_avidm(&c)?;
            vid.disperse(backend, ns_bytes, None)?.commitment
        }
        SchemeKind::Kzg => {
            let c = kzg::Common::decode(ns_common)?;
            super::namespace::check_entry::<Kzg>(&proof.entry, &c)?;
            Kzg::new(c.weights.clone(), Kzg::THRESHOLD)?.commit(backend, ns_bytes)?
        }
    };
    if recomputed != proof.entry.commitment {
        return Err(VidError::NamespaceMismatch(format!(
            "namespace {}'s bytes do not disperse to its committed row",
            proof.entry.id
        )));
    }
    Ok(())
}

fn first<M>(common: &NsCommon<M>) -> Result<&M, VidError> {
    common.commons.first().ok_or_else(|| VidError::MalformedShare("namespaced common data without namespaces".into()))
}

fn encode_dispersal<M: Codec, T: Codec>(d: super::Dispersal<[u8; 32], M, T>) -> EncodedDispersal {
    EncodedDispersal {
        commitment: d.commitment,
        common: d.common.encode(),
        shares: d.shares.iter().map(T::encode).collect(),
    }
}

/// The layout `common` says, refusing a common data object of another scheme than `S`.
fn layout_of<S: NamespaceScheme>(common: &[u8]) -> Result<Layout, VidError> {
    let (kind, layout) = match common_kind(common)? {
        CommonKind::Plain(k) => (k, Layout::Plain),
        CommonKind::Namespaced(k) => (k, Layout::Namespaced),
    };
    if kind != S::TAG {
        return Err(VidError::NamespaceMismatch(format!("common data is for the {kind} scheme, this is {}", S::TAG)));
    }
    Ok(layout)
}

fn verify_share<S: NamespaceScheme + Clone>(
    s: &S,
    backend: &dyn Backend,
    commitment: &[u8; 32],
    common: &[u8],
    share: &[u8],
    node: usize,
) -> Result<(), VidError> {
    match layout_of::<S>(common)? {
        Layout::Plain => {
            s.verify_share(backend, commitment, &S::Common::decode(common)?, &S::Share::decode(share)?, node)
        }
        Layout::Namespaced => {
            let (common, share) = (NsCommon::<S::Common>::decode(common)?, NsShare::<S::Share>::decode(share)?);
            Namespaced::new(s.clone()).verify_share(backend, commitment, &common, &share, node)
        }
    }
}

fn verify_namespace_share<S: NamespaceScheme + Clone>(
    s: &S,
    backend: &dyn Backend,
    commitment: &[u8; 32],
    common: &[u8],
    share: &[u8],
    node: usize,
    id: NamespaceId,
) -> Result<(), VidError> {
    if layout_of::<S>(common)? == Layout::Plain {
        return Err(VidError::NamespaceNotFound { id });
    }
    let (common, share) = (NsCommon::<S::Common>::decode(common)?, NsShare::<S::Share>::decode(share)?);
    let (proof, ns_common) = common.namespace(id)?;
    let inner = share.shares.get(proof.index as usize).ok_or_else(|| {
        VidError::MalformedShare(format!("no share of namespace {id} (row {} of {})", proof.index, share.shares.len()))
    })?;
    Namespaced::new(s.clone()).verify_namespace_share(backend, commitment, &proof, ns_common, inner, node)
}

/// Decodes what decodes; the rest is left out like a share that does not verify.
fn decodable<T: Codec>(shares: &[&[u8]]) -> Vec<T> {
    shares.iter().filter_map(|b| T::decode(b).ok()).collect()
}

fn recover<S: NamespaceScheme + Clone>(
    s: &S,
    backend: &dyn Backend,
    commitment: &[u8; 32],
    common: &[u8],
    shares: &[&[u8]],
) -> Result<Recovered, VidError> {
    match layout_of::<S>(common)? {
        Layout::Plain => {
            let common = S::Common::decode(common)?;
            Ok(Recovered::Plain(s.recover(backend, commitment, &common, &decodable(shares))?))
        }
        Layout::Namespaced => {
            let common = NsCommon::<S::Common>::decode(common)?;
            let shares = decodable::<NsShare<S::Share>>(shares);
            Ok(Recovered::Namespaced(Namespaced::new(s.clone()).recover(backend, commitment, &common, &shares)?))
        }
    }
}

fn recover_namespace<S: NamespaceScheme + Clone>(
    s: &S,
    backend: &dyn Backend,
    commitment: &[u8; 32],
    common: &[u8],
    shares: &[&[u8]],
    id: NamespaceId,
) -> Result<Vec<u8>, VidError> {
    if layout_of::<S>(common)? == Layout::Plain {
        return Err(VidError::NamespaceNotFound { id });
    }
    let common = NsCommon::<S::Common>::decode(common)?;
    let (proof, ns_common) = common.namespace(id)?;
    let row = proof.index as usize;
    let inner: Vec<S::Share> = decodable::<NsShare<S::Share>>(shares)
        .into_iter()
        .filter_map(|mut s| (row < s.shares.len()).then(|| s.shares.swap_remove(row)))
        .collect();
    Namespaced::new(s.clone()).recover_namespace(backend, commitment, &proof, ns_common, &inner)
}

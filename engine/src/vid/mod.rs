//! Savoiardi: verifiable information dispersal (VID).
//!
//! A payload is erasure-coded into stake-weighted shares: a node with weight `w` holds `w`
//! share units, any set of shares whose weight reaches the recovery threshold rebuilds the
//! payload, and every share is checkable on its own against one 32-byte commitment.
//!
//! Schemes implement [`VidScheme`]: [`avidm::Avidm`] (GF(2^16) + BLAKE3 Merkle, Espresso's
//! AvidM) is the default; [`kzg::Kzg`] (EIP-7594 cells with KZG proofs, threshold 1/2) makes
//! every share provably consistent on its own. [`Namespaced`] disperses a list of rollup
//! namespaces with either scheme, so a rollup can verify and recover its namespace alone. All
//! heavy work goes through a [`Backend`].
//!
//! **Start with [`Vid`]**: a scheme picked by [`SchemeKind`] (name, wire tag, default and least
//! thresholds live there), configured with [`Weights`] (the engine's stake model laid out as
//! share units) and a [`crate::stake::Fraction`] threshold, working on encoded objects — what a
//! node sends and stores. The typed API ([`VidScheme`], [`Avidm`], [`Kzg`], [`Namespaced`]) is
//! there for callers who want the objects themselves.

pub mod avidm;
mod bytes;
mod error;
pub mod kzg;
mod namespace;
mod scheme;
mod weights;
mod wire;

pub use avidm::Avidm;
pub use bytes::{EncodedDispersal, Layout, Recovered, Vid, verify_namespace};
pub use error::VidError;
pub use kzg::Kzg;
pub use namespace::{
    MAX_NAMESPACES, NamespaceId, NamespaceProof, NamespaceScheme, Namespaced, NamespacedPayload, NsCommitment,
    NsCommon, NsDispersal, NsEntry, NsShare, NsTable, ns_commitment,
};
pub use scheme::SchemeKind;
pub use weights::{MAX_UNITS, Weights};
pub use wire::{Codec, CommonKind, common_kind};

use crate::backend::Backend;

/// The output of a dispersal: what every node receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispersal<C, M, S> {
    /// The commitment every share is checked against (goes in the block header).
    pub commitment: C,
    /// Data every verifier needs beside its share (bound by the commitment).
    pub common: M,
    /// One share per node, in node order.
    pub shares: Vec<S>,
}

/// The [`Dispersal`] a scheme `S` produces.
pub type DispersalOf<S> = Dispersal<<S as VidScheme>::Commitment, <S as VidScheme>::Common, <S as VidScheme>::Share>;

/// A VID scheme. Stateless apart from its parameters; every method can run on any backend.
pub trait VidScheme {
    /// The commitment type.
    type Commitment;
    /// The common data type.
    type Common;
    /// The per-node share type.
    type Share;

    /// Encodes `payload` into one share per node.
    fn disperse(&self, backend: &dyn Backend, payload: &[u8]) -> Result<DispersalOf<Self>, VidError>;

    /// Checks that `share` is node `node`'s correct share under `commitment`.
    fn verify_share(
        &self,
        backend: &dyn Backend,
        commitment: &Self::Commitment,
        common: &Self::Common,
        share: &Self::Share,
        node: usize,
    ) -> Result<(), VidError>;

    /// Rebuilds the payload from shares. Shares that do not verify are left out; the rest
    /// must reach the recovery threshold.
    fn recover(
        &self,
        backend: &dyn Backend,
        commitment: &Self::Commitment,
        common: &Self::Common,
        shares: &[Self::Share],
    ) -> Result<Vec<u8>, VidError>;
}

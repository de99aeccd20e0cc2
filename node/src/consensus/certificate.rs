//! Certificates behind a trait, so consensus runs on cheap MACs in simulation and on BLS in production.
//!
//! A scheme signs individual votes and combines more than a threshold of stake's worth of them into one
//! certificate. The consensus code never looks inside signatures or certificates.

use std::fmt::Debug;
use std::sync::Arc;

use crema_engine::Backend;
use crema_engine::codec::{Reader, WireError, Writer};

use super::types::NodeId;
use crema_engine::stake::StakeTable;

/// Why a certificate or signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// A signer index is outside the stake table.
    #[error("signer {0} is not in the stake table")]
    UnknownSigner(NodeId),
    /// Signers are not strictly increasing (duplicates would count stake twice).
    #[error("signer list is not strictly increasing")]
    UnsortedSigners,
    /// The signers' stake does not reach the threshold.
    #[error("signers hold {have} stake, {need} needed")]
    BelowThreshold {
        /// Stake of the valid signers.
        have: u64,
        /// Stake required.
        need: u64,
    },
    /// A signature does not verify.
    #[error("bad signature from {0}")]
    BadSignature(NodeId),
    /// The certificate is malformed (lengths disagree).
    #[error("malformed certificate")]
    Malformed,
    /// The aggregate signature does not verify against the signers' keys.
    #[error("aggregate signature does not verify")]
    BadAggregate,
}

/// A signature and certificate scheme. Types are associated so the state machine is generic over the scheme;
/// the implementing type itself is a marker (keys live in [`CertScheme::SigningKey`] and
/// [`CertScheme::Verifier`]), which lets consensus data types derive `Clone`/`Eq` on it.
pub trait CertScheme: Clone + Debug + PartialEq + Eq + Send + Sync + 'static {
    /// One node's signature on one message.
    type Sig: Clone + Debug + PartialEq + Eq + Send + Sync;
    /// A combined certificate over one message.
    type Cert: Clone + Debug + PartialEq + Eq + Send + Sync;
    /// A node's secret signing key (held by that node only; cloned only to restart the node).
    type SigningKey: Clone + Send + Sync;
    /// What anyone needs to verify signatures and certificates (public keys); cheap to clone (shared), and
    /// shareable with a verification worker pool.
    type Verifier: Clone + Send + Sync;

    /// Signs `msg`.
    fn sign(key: &Self::SigningKey, msg: &[u8]) -> Self::Sig;
    /// Verifies one signature by `signer` on `msg`.
    fn verify_sig(verifier: &Self::Verifier, signer: NodeId, msg: &[u8], sig: &Self::Sig) -> bool;
    /// Combines signatures, all on one message, into a certificate. `sigs` must already be verified and sorted
    /// by signer.
    fn combine(verifier: &Self::Verifier, sigs: &[(NodeId, Self::Sig)]) -> Self::Cert;
    /// The signers of a certificate (unverified; used only to pick peers to fetch from).
    fn signers(cert: &Self::Cert) -> Vec<NodeId>;
    /// A certificate with no signers (only the genesis QC carries it).
    fn empty_cert() -> Self::Cert;
    /// Verifies `cert` on `msg` and that its signers hold at least `threshold` stake in `table`.
    fn verify_cert(
        verifier: &Self::Verifier,
        table: &StakeTable,
        msg: &[u8],
        cert: &Self::Cert,
        threshold: u64,
    ) -> Result<(), CertError>;

    /// Appends a signature's canonical bytes.
    fn write_sig(sig: &Self::Sig, w: &mut Writer);
    /// Reads a signature written by [`CertScheme::write_sig`]; a typed error, never a panic, on anything else.
    fn read_sig(r: &mut Reader<'_>) -> Result<Self::Sig, WireError>;
    /// Appends a certificate's canonical bytes.
    fn write_cert(cert: &Self::Cert, w: &mut Writer);
    /// Reads a certificate written by [`CertScheme::write_cert`] for a table of at most `max_signers` entries.
    fn read_cert(r: &mut Reader<'_>, max_signers: usize) -> Result<Self::Cert, WireError>;
}

/// A scheme the simulator can run: it can deal keys for a stake table from a seed.
pub trait SimScheme: CertScheme {
    /// Short name for reports.
    const NAME: &'static str;
    /// Deterministic keys for `n` nodes from `seed`, and the verifier for them (computing on `backend`).
    fn generate(n: usize, seed: u64, backend: &Arc<dyn Backend>) -> (Vec<Self::SigningKey>, Self::Verifier);
}

/// Collects verified votes on one message until they reach a stake threshold.
#[derive(Clone, Debug)]
pub struct Accumulator<S> {
    sigs: Vec<(NodeId, S)>,
    stake: u64,
    /// Set once a certificate has been formed, so it is formed only once.
    pub formed: bool,
}

impl<S: Clone> Default for Accumulator<S> {
    fn default() -> Self {
        Accumulator { sigs: Vec::new(), stake: 0, formed: false }
    }
}

impl<S: Clone> Accumulator<S> {
    /// Adds a verified vote; returns false for a repeated voter. Duplicates must not count stake twice.
    pub fn add(&mut self, voter: NodeId, stake: u64, sig: S) -> bool {
        if self.sigs.iter().any(|(v, _)| *v == voter) {
            return false;
        }
        self.sigs.push((voter, sig));
        self.stake += stake;
        true
    }

    /// Stake collected so far.
    pub fn stake(&self) -> u64 {
        self.stake
    }

    /// The votes sorted by signer, as [`CertScheme::combine`] expects.
    pub fn sorted(&self) -> Vec<(NodeId, S)> {
        let mut v = self.sigs.clone();
        v.sort_by_key(|(id, _)| *id);
        v
    }
}

//! The VID error type.

use thiserror::Error;

use crate::codec::WireError;
use crate::erasure::gf16::Gf16Error;
use crate::error::BackendError;
use crate::kzg::KzgError;
use crate::merkle::{Hash, MerkleError};
use crate::stake::StakeError;

/// Why a dispersal, a share check or a recovery failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VidError {
    /// The weights are unusable (empty, a zero weight, too many units).
    #[error("invalid weights: {0}")]
    InvalidWeights(String),
    /// The weights or the threshold are not a valid stake table or fraction.
    #[error(transparent)]
    Stake(#[from] StakeError),
    /// The scheme cannot promise recovery from this little weight (the KZG code has rate 1/2).
    #[error("the {scheme} scheme needs a threshold of at least {min_num}/{min_den}, got {num}/{den}")]
    ThresholdUnsupported {
        /// The scheme (`"kzg"`).
        scheme: &'static str,
        /// Numerator asked for.
        num: u64,
        /// Denominator asked for.
        den: u64,
        /// Numerator of the least threshold the scheme supports.
        min_num: u64,
        /// Denominator of the least threshold the scheme supports.
        min_den: u64,
    },
    /// A scheme name that names no scheme.
    #[error("unknown VID scheme {name:?}; expected avidm or kzg")]
    UnknownScheme {
        /// The name given.
        name: String,
    },
    /// The payload is larger than the scheme accepts.
    #[error("payload of {len} bytes exceeds the limit of {max}")]
    PayloadTooLarge {
        /// The payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The common data does not hash to the commitment.
    #[error("common data does not match the commitment")]
    CommonMismatch,
    /// A share claims to belong to another node, or to units the node does not own.
    #[error("share is for node {claimed} (units {first_unit}..), expected node {node} (units {expected_first}..)")]
    WrongNode {
        /// The node the share says it belongs to.
        claimed: usize,
        /// Its first unit index.
        first_unit: usize,
        /// The node being checked.
        node: usize,
        /// That node's first unit index.
        expected_first: usize,
    },
    /// A share says it belongs to another node than the one it is checked for.
    #[error("share says it is node {claimed}'s, checked as node {node}'s")]
    ShareNodeMismatch {
        /// The node the share names.
        claimed: usize,
        /// The node being checked.
        node: usize,
    },
    /// The node index is not in the weight table.
    #[error("node {node} out of range for {nodes} nodes")]
    NodeOutOfRange {
        /// The index.
        node: usize,
        /// The number of nodes.
        nodes: usize,
    },
    /// A share has the wrong number of units or a unit of the wrong size.
    #[error("malformed share: {0}")]
    MalformedShare(String),
    /// A unit's Merkle proof does not lead to the committed root.
    #[error("unit {unit} of the share fails its Merkle proof: {source}")]
    BadProof {
        /// The global unit index.
        unit: usize,
        /// The Merkle failure.
        source: MerkleError,
    },
    /// A KZG share's cell proofs do not verify against the blob commitments.
    #[error("cell proofs of node {node} do not verify against the blob commitments")]
    BadCellProofs {
        /// The node whose share failed.
        node: usize,
    },
    /// The committed data does not unpack to a framed payload: the disperser itself built it
    /// wrongly (every share can still verify). Deterministic: every recoverer sees the same.
    #[error("committed data is not a well-formed payload: {0}")]
    MalformedPayload(String),
    /// A blob rebuilt from verified cells commits to something else (a recovery bug: with
    /// verified cells this cannot happen unless KZG binding is broken).
    #[error("recovered blob {blob} does not match its commitment")]
    RecoveredCommitmentMismatch {
        /// The blob index.
        blob: usize,
    },
    /// A namespaced payload or table is unusable (empty, duplicate ids, too many namespaces).
    #[error("invalid namespaces: {0}")]
    InvalidNamespaces(String),
    /// No namespace with this id is in the table.
    #[error("namespace {id} is not in the namespace table")]
    NamespaceNotFound {
        /// The id asked for.
        id: u64,
    },
    /// A namespace proof, entry or per-namespace common data does not match the commitment.
    #[error("namespace check failed: {0}")]
    NamespaceMismatch(String),
    /// The verified shares do not reach the recovery threshold.
    #[error(
        "not enough weight to recover: {have} of {need} units verified ({missing} missing); {rejected} share(s) rejected"
    )]
    NotEnoughWeight {
        /// Weight units held by shares that verified.
        have: usize,
        /// Weight units needed.
        need: usize,
        /// `need - have`.
        missing: usize,
        /// Shares left out because they did not verify.
        rejected: usize,
    },
    /// The disperser encoded inconsistently: the decoded payload re-encodes to another root.
    /// The fields are the evidence a fraud proof needs (with the shares used).
    #[error(
        "inconsistent encoding: committed root {} but the decoded data re-encodes to {}",
        hex::encode(committed),
        hex::encode(recomputed)
    )]
    InconsistentEncoding {
        /// The root in the commitment.
        committed: Hash,
        /// The root of the re-encoded data.
        recomputed: Hash,
        /// The units the decoder used, in increasing order.
        units_used: Vec<u32>,
    },
    /// The erasure code refused the shape.
    #[error(transparent)]
    Code(#[from] Gf16Error),
    /// A backend primitive failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Merkle tree construction failed.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    /// A KZG call refused its input (malformed cells or proofs in a share, or a setup failure).
    #[error(transparent)]
    Kzg(#[from] KzgError),
    /// Bytes did not decode.
    #[error(transparent)]
    Wire(#[from] WireError),
}

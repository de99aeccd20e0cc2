//! The consensus vocabulary: identifiers, block headers, certificates, messages, inputs and actions.
//!
//! Everything here is plain data. The state machine in [`super::state`] turns one [`Input`] into a list of
//! [`Action`]s; the runtime (the simulator in `net::memory`, or the real node) carries the actions out. Messages
//! reach the state machine only through [`super::verify`], which checks every signature and certificate, so
//! nothing here says who *sent* a message: identity comes from signatures, data from commitments.

use std::sync::Arc;

use crema_engine::stake::Fraction;
use crema_engine::vid::SchemeKind;

use super::certificate::CertScheme;
use super::verify::Verified;

/// A node's index in the stake table.
pub type NodeId = u16;

/// A consensus view number. View 0 holds only the genesis block.
pub type View = u64;

/// A 32-byte digest (block hashes, payload commitments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The first bytes as hex, for logs and reports.
    pub fn short(&self) -> String {
        self.0[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// All 32 bytes as hex.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The VID scheme and recovery threshold a block's payload was dispersed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VidParams {
    /// The scheme.
    pub scheme: SchemeKind,
    /// The recovery threshold, as a fraction of the total stake.
    pub threshold: Fraction,
}

impl Default for VidParams {
    fn default() -> Self {
        VidParams { scheme: SchemeKind::Avidm, threshold: SchemeKind::Avidm.default_threshold() }
    }
}

/// A block header: what consensus orders. The payload travels through the DA layers, bound by its commitment.
///
/// The payload is a namespaced VID dispersal: every rollup's namespace is dispersed on its own, and the namespace
/// table (one row per namespace: id, length, the namespace's own commitment) is a Merkle tree whose root is
/// `ns_table_root`. `payload_commitment` is the namespaced VID commitment, which hashes the scheme, the row count and
/// that root, so a rollup checks its namespace against this header alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The view the block was proposed in.
    pub view: View,
    /// Height in the chain; genesis is 0 and each block is its parent's height plus one.
    pub height: u64,
    /// Hash of the parent header.
    pub parent: Digest,
    /// The proposing leader.
    pub proposer: NodeId,
    /// The leader's clock when it built the block (milliseconds since the Unix epoch); never below the parent's.
    pub timestamp_ms: u64,
    /// The namespaced VID commitment to the payload.
    pub payload_commitment: Digest,
    /// Payload bytes over all namespaces.
    pub payload_len: u64,
    /// Rows in the namespace table.
    pub namespaces: u32,
    /// Merkle root of the namespace table.
    pub ns_table_root: Digest,
    /// The VID scheme and threshold of the dispersal.
    pub vid: VidParams,
}

impl Header {
    /// The genesis header every node starts from.
    pub fn genesis() -> Self {
        Header {
            view: 0,
            height: 0,
            parent: Digest::default(),
            proposer: 0,
            timestamp_ms: 0,
            payload_commitment: Digest::default(),
            payload_len: 0,
            namespaces: 0,
            ns_table_root: Digest::default(),
            vid: VidParams::default(),
        }
    }

    /// The block hash: BLAKE3 over the header's canonical encoding, domain separated.
    pub fn hash(&self) -> Digest {
        let mut h = blake3::Hasher::new_derive_key("crema consensus header v2");
        h.update(&super::wire::encode_header(self));
        Digest(*h.finalize().as_bytes())
    }

    /// Whether the payload commitment is the namespaced commitment of the table this header names.
    pub fn commits_to_its_table(&self) -> bool {
        let expected =
            crema_engine::vid::ns_commitment(self.vid.scheme, self.namespaces as usize, &self.ns_table_root.0);
        expected == self.payload_commitment.0
    }
}

/// The bytes a quorum vote signs: the view and the block voted for.
pub fn vote_message(view: View, block: &Digest) -> Vec<u8> {
    signed_bytes(b"qc", view, &block.0)
}

/// The bytes a DA vote signs: the view and the payload commitment.
pub fn da_vote_message(view: View, commitment: &Digest) -> Vec<u8> {
    signed_bytes(b"da", view, &commitment.0)
}

/// The bytes a timeout vote signs: the view timed out and the view of the sender's highest QC. Signing the high-QC
/// view keeps a Byzantine leader from lowering it inside a timeout certificate.
pub fn timeout_message(view: View, high_qc_view: View) -> Vec<u8> {
    signed_bytes(b"to", view, &high_qc_view.to_le_bytes())
}

/// The bytes a leader signs for a quorum proposal.
pub fn proposal_message(header_hash: &Digest) -> Vec<u8> {
    signed_bytes(b"qp", 0, &header_hash.0)
}

/// The bytes a leader signs for a DA proposal: the view and the commitment the payload must recompute to.
pub fn da_proposal_message(view: View, commitment: &Digest) -> Vec<u8> {
    signed_bytes(b"dp", view, &commitment.0)
}

fn signed_bytes(tag: &[u8; 2], view: View, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + 2 + 8 + body.len());
    m.extend_from_slice(b"crema/v1");
    m.extend_from_slice(tag);
    m.extend_from_slice(&view.to_le_bytes());
    m.extend_from_slice(body);
    m
}

/// A quorum certificate: more than 2/3 of stake voted for `block` in `view`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qc<C: CertScheme> {
    /// The view of the certified block.
    pub view: View,
    /// The certified block's hash.
    pub block: Digest,
    /// The aggregate certificate over [`vote_message`].
    pub cert: C::Cert,
}

impl<C: CertScheme> Qc<C> {
    /// The genesis QC: accepted without signatures because every node starts from it.
    pub fn genesis() -> Self {
        Qc { view: 0, block: Header::genesis().hash(), cert: C::empty_cert() }
    }

    /// Whether this is the genesis QC.
    pub fn is_genesis(&self) -> bool {
        self.view == 0 && self.block == Header::genesis().hash()
    }
}

/// A DA certificate: more than 2/3 of the DA committee's stake stored the payload behind `commitment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaCert<C: CertScheme> {
    /// The view of the DA proposal.
    pub view: View,
    /// The payload commitment certified.
    pub commitment: Digest,
    /// The aggregate certificate over [`da_vote_message`].
    pub cert: C::Cert,
}

/// One node's timeout vote for a view, carrying its highest QC so the next leader can extend it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutVote<C: CertScheme> {
    /// The view that timed out.
    pub view: View,
    /// The sender's highest QC.
    pub high_qc: Qc<C>,
    /// The voter.
    pub voter: NodeId,
    /// Signature over [`timeout_message`].
    pub sig: C::Sig,
}

/// A timeout certificate: more than 2/3 of stake timed out in `view`. Each entry keeps its signer's high-QC view,
/// because the voting rule after a timeout needs the maximum of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tc<C: CertScheme> {
    /// The view that timed out.
    pub view: View,
    /// (signer, high-QC view, signature) for each timeout vote included, signers strictly increasing.
    pub votes: Vec<(NodeId, View, C::Sig)>,
}

impl<C: CertScheme> Tc<C> {
    /// The highest high-QC view among the certificate's votes.
    pub fn max_high_qc_view(&self) -> View {
        self.votes.iter().map(|v| v.1).max().unwrap_or(0)
    }
}

/// A leader's quorum proposal: the header, the QC it extends and, after a failed view, the timeout certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal<C: CertScheme> {
    /// The proposed header.
    pub header: Header,
    /// QC for the parent block (`header.parent == justify.block`).
    pub justify: Qc<C>,
    /// Present when the previous view ended in a timeout certificate instead of a QC.
    pub tc: Option<Tc<C>>,
    /// The leader's signature over [`proposal_message`].
    pub sig: C::Sig,
}

/// A quorum vote, sent to the next view's leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote<C: CertScheme> {
    /// View of the block voted for.
    pub view: View,
    /// The block voted for.
    pub block: Digest,
    /// The voter.
    pub voter: NodeId,
    /// Signature over [`vote_message`].
    pub sig: C::Sig,
}

/// A DA proposal: the whole payload for the DA committee, signed by the view's leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaProposal<C: CertScheme> {
    /// The view.
    pub view: View,
    /// The commitment the payload must recompute to.
    pub commitment: Digest,
    /// The encoded block payload (shared: one copy for every committee member).
    pub payload: Arc<Vec<u8>>,
    /// The leader's signature over [`da_proposal_message`].
    pub sig: C::Sig,
}

/// A DA vote, sent to the view's leader by a committee member that checked and stored the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaVote<C: CertScheme> {
    /// The view.
    pub view: View,
    /// The commitment voted for.
    pub commitment: Digest,
    /// The voter.
    pub voter: NodeId,
    /// Signature over [`da_vote_message`].
    pub sig: C::Sig,
}

/// One node's VID share of a block. Unsigned: it is checked against the commitment, and the commitment against
/// the leader's signed proposal, so it may come from anyone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VidShare {
    /// The view of the block.
    pub view: View,
    /// The payload commitment the share opens.
    pub commitment: Digest,
    /// The node whose share this is.
    pub node: NodeId,
    /// The encoded common data of the dispersal (the same for every node; shared).
    pub common: Arc<Vec<u8>>,
    /// The encoded share.
    pub share: Vec<u8>,
}

/// The proof that a header is decided: its child, proposed in the next view, and the QC on that child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitProof<C: CertScheme> {
    /// The decided header's child (its `parent` is the decided header, its view the next one).
    pub child: Header,
    /// The QC certifying the child.
    pub child_qc: Qc<C>,
}

/// A run of decided headers, each with the QC that certifies it, ending with the commit proof of the last one:
/// what range sync sends a lagging node. Checked before use (see [`super::verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecidedRange<C: CertScheme> {
    /// Consecutive decided headers, lowest first, each with its QC.
    pub blocks: Vec<(Header, Qc<C>)>,
    /// The proof that the last header is decided.
    pub proof: CommitProof<C>,
}

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<C: CertScheme> {
    /// Quorum proposal, broadcast by the view's leader.
    Proposal(Proposal<C>),
    /// Quorum vote, sent to the next view's leader.
    Vote(Vote<C>),
    /// DA proposal: the payload, sent to the DA committee by the view's leader.
    DaProposal(DaProposal<C>),
    /// DA vote, sent to the view's leader.
    DaVote(DaVote<C>),
    /// A DA certificate, broadcast by the view's leader.
    DaCertificate(DaCert<C>),
    /// A node's VID share (from the leader, or from a DA member that rebuilt it).
    VidShare(VidShare),
    /// A timeout vote, broadcast to everyone.
    Timeout(TimeoutVote<C>),
    /// View synchronisation after repeated timeouts: the sender's highest QC and latest TC, so lagging nodes catch up.
    ViewSync {
        /// Where to answer if the receiver is ahead (unauthenticated: only a reply address).
        sender: NodeId,
        /// The sender's highest QC.
        high_qc: Qc<C>,
        /// The sender's latest timeout certificate.
        tc: Option<Tc<C>>,
    },
    /// Ask a peer for the proposal of a block we lack (a missing parent). The requester is only where to answer.
    FetchRequest {
        /// Where to send the answer.
        requester: NodeId,
        /// The block wanted.
        block: Digest,
    },
    /// Reply to [`Message::FetchRequest`].
    FetchResponse(Proposal<C>),
    /// Ask for this node's own VID share of a block it has the proposal of but no share for.
    ShareRequest {
        /// The node whose share is wanted (and where to send it).
        requester: NodeId,
        /// The view of the block.
        view: View,
        /// The payload commitment.
        commitment: Digest,
    },
    /// Ask for decided headers from `from_height` on (range sync).
    SyncRequest {
        /// Where to send the answer.
        requester: NodeId,
        /// The first height wanted.
        from_height: u64,
    },
    /// Reply to [`Message::SyncRequest`].
    SyncResponse(DecidedRange<C>),
}

impl<C: CertScheme> Message<C> {
    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Proposal(_) => "proposal",
            Message::Vote(_) => "vote",
            Message::DaProposal(_) => "da_proposal",
            Message::DaVote(_) => "da_vote",
            Message::DaCertificate(_) => "da_certificate",
            Message::VidShare(_) => "vid_share",
            Message::Timeout(_) => "timeout",
            Message::ViewSync { .. } => "view_sync",
            Message::FetchRequest { .. } => "fetch_request",
            Message::FetchResponse(_) => "fetch_response",
            Message::ShareRequest { .. } => "share_request",
            Message::SyncRequest { .. } => "sync_request",
            Message::SyncResponse(_) => "sync_response",
        }
    }

    /// Whether the message carries bulk data (a payload, a share, a range of headers): transports send those
    /// point to point, and small messages by gossip.
    pub fn is_bulk(&self) -> bool {
        matches!(self, Message::DaProposal(_) | Message::VidShare(_) | Message::SyncResponse(_))
    }
}

/// A block the runtime built for this node to propose: the payload dispersed, and the header fields only the
/// payload determines. The answer to [`Action::BuildBlock`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBlock {
    /// The runtime's clock (ms since the Unix epoch); the core raises it to the parent's if the clock went back.
    pub timestamp_ms: u64,
    /// The namespaced VID commitment.
    pub payload_commitment: Digest,
    /// Payload bytes over all namespaces.
    pub payload_len: u64,
    /// Rows in the namespace table.
    pub namespaces: u32,
    /// Merkle root of the namespace table.
    pub ns_table_root: Digest,
    /// The encoded block payload, for the DA committee.
    pub payload: Arc<Vec<u8>>,
    /// The dispersal's encoded common data.
    pub common: Arc<Vec<u8>>,
    /// Every node's encoded share, by node index.
    pub shares: Vec<Vec<u8>>,
}

/// What a node receives: verified messages, timer expiries and the runtime's answers to its requests.
#[derive(Clone, Debug)]
pub enum Input<C: CertScheme> {
    /// A message whose signatures and certificates [`super::verify::MessageVerifier`] checked.
    Message(Verified<Message<C>>),
    /// A timer armed by [`Action::SetTimer`] expired.
    Timer {
        /// Which timer.
        kind: TimerKind,
        /// The view the timer was armed for.
        view: View,
    },
    /// The block asked for with [`Action::BuildBlock`].
    BlockReady {
        /// The view it was built for.
        view: View,
        /// The block.
        block: BuiltBlock,
    },
    /// The runtime checked data asked for with [`Action::RequestData`].
    DataChecked {
        /// The view of the proposal.
        view: View,
        /// The commitment checked against.
        commitment: Digest,
        /// Which check.
        kind: DataKind,
        /// Whether the data matched the commitment.
        ok: bool,
    },
}

/// The node's timers; each kind has one pending expiry at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The view timer: no progress by then means a timeout vote.
    View,
    /// The share timer: the proposal is here but this node's VID share is not; ask for it.
    Share,
}

/// The two data checks consensus needs from the DA engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// The full payload recomputes to its commitment (DA committee members, before a DA vote).
    Payload,
    /// This node's own VID share verifies against the commitment (every replica, before a quorum vote).
    Share,
}

/// Work the runtime must do for consensus and answer with [`Input::DataChecked`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataRequest {
    /// Recompute the payload's VID commitment; when it matches, store the payload (this node is on the DA committee).
    CheckPayload {
        /// The view.
        view: View,
        /// The commitment claimed.
        commitment: Digest,
        /// The payload bytes.
        payload: Arc<Vec<u8>>,
    },
    /// Verify this node's VID share; when it verifies, store it.
    VerifyShare(VidShare),
}

/// Safety state that must reach stable storage before the vote it protects is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistedState<C: CertScheme> {
    /// The highest view this node voted or timed out in; it never votes again at or below it.
    pub last_voted_view: View,
    /// The highest view this node proposed in; a restarted leader must not propose again in it (that would be
    /// an equivocation by an honest node).
    pub last_proposed_view: View,
    /// The highest QC seen (the lock of the two-chain rule).
    pub high_qc: Qc<C>,
    /// The last decided header (the root a restarted node builds on).
    pub decided: Header,
}

/// Proof that a node signed two different things for one view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Equivocation {
    /// A leader proposed two different blocks in one view.
    Proposal {
        /// The leader.
        leader: NodeId,
        /// The view.
        view: View,
        /// The two block hashes.
        blocks: (Digest, Digest),
    },
    /// A node voted for two different blocks in one view.
    Vote {
        /// The voter.
        voter: NodeId,
        /// The view.
        view: View,
        /// The two block hashes.
        blocks: (Digest, Digest),
    },
    /// A leader sent the DA committee two different payload commitments in one view.
    DaProposal {
        /// The leader.
        leader: NodeId,
        /// The view.
        view: View,
        /// The two commitments.
        commitments: (Digest, Digest),
    },
}

/// What the state machine asks its runtime to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<C: CertScheme> {
    /// Send a message to one node (possibly this one).
    Send {
        /// The recipient.
        to: NodeId,
        /// The message.
        msg: Message<C>,
    },
    /// Send a message to every node, this one included.
    Broadcast(Message<C>),
    /// (Re)arm a timer; an earlier timer of the same kind is cancelled.
    SetTimer {
        /// Which timer.
        kind: TimerKind,
        /// The view the timer guards.
        view: View,
        /// Milliseconds from now.
        after_ms: u64,
    },
    /// Write the safety state to stable storage before executing any later action.
    Persist(PersistedState<C>),
    /// Blocks became final, in height order: each with the QC that certifies it, and the proof for the last.
    Decide {
        /// The newly decided headers, lowest height first, with their QCs.
        blocks: Vec<(Header, Qc<C>)>,
        /// The proof that the last one is decided.
        proof: CommitProof<C>,
    },
    /// Build a block on `parent` for `view` (fill it from the mempool, disperse it) and answer with
    /// [`Input::BlockReady`].
    BuildBlock {
        /// The view to propose in.
        view: View,
        /// The parent header.
        parent: Header,
    },
    /// Ask the runtime to check data; it answers with [`Input::DataChecked`].
    RequestData(DataRequest),
    /// Send `to` its own VID share of the block with `commitment` if this node can (the leader kept the dispersal,
    /// or a DA member rebuilds it from the stored payload); otherwise do nothing.
    ServeShare {
        /// The node whose share is wanted.
        to: NodeId,
        /// The view of the block.
        view: View,
        /// The payload commitment.
        commitment: Digest,
    },
    /// Send `to` a [`Message::SyncResponse`] with decided headers from `from_height` on, from this node's store,
    /// if it has them.
    ServeSync {
        /// The requester.
        to: NodeId,
        /// The first height wanted.
        from_height: u64,
    },
    /// Evidence of equivocation, for the slashing and logging layers.
    Evidence(Equivocation),
}

//! The consensus vocabulary: identifiers, block headers, certificates, messages, inputs and actions.
//!
//! Everything here is plain data. The state machine in [`super::state`] turns one [`Input`] into a list of
//! [`Action`]s; the runtime (the simulator in `net::memory`, or the real node) carries the actions out.

use super::certificate::CertScheme;

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
}

/// A block header: what consensus orders. The payload itself travels through DA and VID, bound by its commitment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The view the block was proposed in.
    pub view: View,
    /// Height in the chain; genesis is 0 and each block is its parent's height plus one.
    pub height: u64,
    /// Hash of the parent header.
    pub parent: Digest,
    /// Commitment to the payload (the VID commitment).
    pub payload_commitment: Digest,
    /// The proposing leader.
    pub proposer: NodeId,
}

impl Header {
    /// The genesis header every node starts from.
    pub fn genesis() -> Self {
        Header { view: 0, height: 0, parent: Digest::default(), payload_commitment: Digest::default(), proposer: 0 }
    }

    /// The block hash: BLAKE3 over every field, domain separated.
    pub fn hash(&self) -> Digest {
        let mut h = blake3::Hasher::new();
        h.update(b"crema/header/v1");
        h.update(&self.view.to_le_bytes());
        h.update(&self.height.to_le_bytes());
        h.update(&self.parent.0);
        h.update(&self.payload_commitment.0);
        h.update(&self.proposer.to_le_bytes());
        Digest(*h.finalize().as_bytes())
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

/// The bytes a leader signs for a DA proposal.
pub fn da_proposal_message(view: View, commitment: &Digest) -> Vec<u8> {
    signed_bytes(b"dp", view, &commitment.0)
}

fn signed_bytes(tag: &[u8; 2], view: View, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(2 + 8 + body.len());
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
    /// The sender.
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
    /// (signer, high-QC view, signature) for each timeout vote included.
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

/// A VID share as the simulator models it: the share bytes for one node index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VidShare {
    /// The receiving node's index.
    pub index: NodeId,
    /// The share's bytes (the real engine would carry a Merkle or KZG opening).
    pub bytes: [u8; 32],
}

/// Messages between nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<C: CertScheme> {
    /// Quorum proposal, broadcast by the view's leader.
    Proposal(Proposal<C>),
    /// Quorum vote, sent to the next view's leader.
    Vote {
        /// View of the block voted for.
        view: View,
        /// The block voted for.
        block: Digest,
        /// The voter.
        voter: NodeId,
        /// Signature over [`vote_message`].
        sig: C::Sig,
    },
    /// DA proposal: the payload, sent to the DA committee by the view's leader.
    DaProposal {
        /// The view.
        view: View,
        /// The payload's commitment.
        commitment: Digest,
        /// The payload bytes.
        payload: Vec<u8>,
        /// The leader's signature over [`da_proposal_message`].
        sig: C::Sig,
    },
    /// DA vote, sent to the view's leader by a committee member that stored the payload.
    DaVote {
        /// The view.
        view: View,
        /// The commitment voted for.
        commitment: Digest,
        /// The voter.
        voter: NodeId,
        /// Signature over [`da_vote_message`].
        sig: C::Sig,
    },
    /// A DA certificate, broadcast by the view's leader.
    DaCertificate(DaCert<C>),
    /// A node's VID share, sent by the view's leader.
    VidShare {
        /// The view.
        view: View,
        /// The commitment the share opens.
        commitment: Digest,
        /// The share.
        share: VidShare,
    },
    /// A timeout vote, broadcast to everyone.
    Timeout(TimeoutVote<C>),
    /// View synchronisation after repeated timeouts: the sender's highest QC and latest TC, so lagging nodes catch up.
    ViewSync {
        /// The sender's highest QC.
        high_qc: Qc<C>,
        /// The sender's latest timeout certificate.
        tc: Option<Tc<C>>,
    },
    /// Ask a peer for the proposal of a block we lack (a missing parent).
    FetchRequest {
        /// The block wanted.
        block: Digest,
    },
    /// Reply to [`Message::FetchRequest`].
    FetchResponse(Proposal<C>),
}

/// What a node receives: messages, timer expiry and the engine's answers to [`DataRequest`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<C: CertScheme> {
    /// A message from a peer (or from itself: broadcasts loop back).
    Message {
        /// The transport-authenticated sender.
        from: NodeId,
        /// The message.
        msg: Message<C>,
    },
    /// The view timer armed by [`Action::SetTimer`] expired.
    Timeout {
        /// The view the timer was armed for.
        view: View,
    },
    /// The engine checked data asked for with [`Action::RequestData`].
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

/// The two data checks consensus needs from the DA engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// The full payload matches its commitment (DA committee members, before a DA vote).
    Payload,
    /// This node's own VID share verifies against the commitment (every replica, before a quorum vote).
    Share,
}

/// Work the engine must do for consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataRequest {
    /// Check and store a DA payload; answer with [`Input::DataChecked`] of kind [`DataKind::Payload`].
    CheckPayload {
        /// The view.
        view: View,
        /// The commitment claimed.
        commitment: Digest,
        /// The payload bytes.
        payload: Vec<u8>,
    },
    /// Verify this node's VID share; answer with [`Input::DataChecked`] of kind [`DataKind::Share`].
    VerifyShare {
        /// The view.
        view: View,
        /// The commitment claimed.
        commitment: Digest,
        /// The share.
        share: VidShare,
    },
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
    /// (Re)arm the single view timer; an earlier timer is cancelled.
    SetTimer {
        /// The view the timer guards.
        view: View,
        /// Milliseconds from now.
        after_ms: u64,
    },
    /// Write the safety state to stable storage before executing any later action.
    Persist(PersistedState<C>),
    /// Blocks became final, in height order.
    Decide {
        /// The newly decided headers, lowest height first.
        blocks: Vec<Header>,
    },
    /// Ask the engine to check data; it answers with [`Input::DataChecked`].
    RequestData(DataRequest),
    /// Evidence of equivocation, for the slashing and logging layers.
    Evidence(Equivocation),
}

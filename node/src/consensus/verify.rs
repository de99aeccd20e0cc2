//! Verification before the state machine: every signature and certificate in a message is checked here, with no
//! node state, so a runtime can run it on a worker pool and the core only ever sees a [`Verified`] message.
//!
//! Identity comes from signatures, never from the transport: a proposal must be signed by the view's leader, a
//! vote by its voter, a DA proposal by the view's leader; certificates carry more than 2/3 of their table's stake.
//! A VID share carries no signature: it is checked against the payload commitment, which the leader signed (see
//! `vid_share.rs`). A range of decided headers is accepted only with the commit proof of its last header and a
//! valid QC on every header. What this module cannot judge without state (is the view current, is this a second
//! proposal for the view) is the core's job.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::certificate::{CertError, CertScheme};
use super::leader::Membership;
use super::safety::two_chain_commits;
use super::state::Config;
use super::types::{
    DecidedRange, Message, NodeId, Proposal, Qc, Tc, da_proposal_message, da_vote_message, proposal_message,
    timeout_message, vote_message,
};
use super::wire::{MAX_SYNC_BLOCKS, WireLimits};
use crema_engine::codec::WireError;

/// Verified QCs remembered so the same certificate (it arrives in proposals, timeout votes and view-sync
/// messages) costs its pairing once.
const QC_CACHE: usize = 256;

/// Why a message (or an input) was rejected. Byzantine input ends here: counted, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// A certificate failed to verify.
    #[error("certificate: {0}")]
    Cert(#[from] CertError),
    /// A signature failed to verify.
    #[error("bad signature from {0}")]
    BadSignature(NodeId),
    /// The signer is not entitled to sign this (not the view's leader, no stake, not in the table).
    #[error("node {0} is not entitled to sign this")]
    WrongSigner(NodeId),
    /// The message is internally inconsistent.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message's view is outside the window this node accepts.
    #[error("view {0} outside the accepted window")]
    OutOfWindow(u64),
}

/// Why received bytes did not become an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The bytes are not a message (or are over a size limit).
    #[error("undecodable message: {0}")]
    Wire(#[from] WireError),
    /// The message decoded but a signature, certificate or structural check failed.
    #[error("rejected {kind}: {reason}")]
    Rejected {
        /// The message kind.
        kind: &'static str,
        /// Why.
        reason: Reject,
    },
}

/// A value whose signatures and certificates were checked by [`MessageVerifier`]; nothing else can make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    /// The verified value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// The verified value, by value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Checks messages against the network's configuration and public keys. Shareable across threads (`&self`).
pub struct MessageVerifier<C: CertScheme> {
    cfg: Config,
    limits: WireLimits,
    keys: C::Verifier,
    qcs: Mutex<QcCache<C>>,
}

struct QcCache<C: CertScheme> {
    map: HashMap<(u64, [u8; 32]), C::Cert>,
    order: VecDeque<(u64, [u8; 32])>,
}

impl<C: CertScheme> std::fmt::Debug for MessageVerifier<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageVerifier").field("nodes", &self.cfg.table.len()).finish()
    }
}

impl<C: CertScheme> MessageVerifier<C> {
    /// A verifier for the network `cfg` with public keys `keys`.
    pub fn new(cfg: Config, keys: C::Verifier) -> Self {
        let limits = WireLimits::for_network(cfg.table.len(), cfg.max_block_bytes as usize);
        MessageVerifier { cfg, limits, keys, qcs: Mutex::new(QcCache { map: HashMap::new(), order: VecDeque::new() }) }
    }

    /// The size limits messages are decoded under.
    pub fn limits(&self) -> &WireLimits {
        &self.limits
    }

    /// Decodes received bytes under the network's limits and verifies the message: the one way bytes from any
    /// transport become an input.
    pub fn ingest(&self, bytes: &[u8]) -> Result<Verified<Message<C>>, IngestError> {
        let msg = super::wire::decode::<C>(bytes, &self.limits)?;
        let kind = msg.kind();
        self.verify(msg).map_err(|reason| IngestError::Rejected { kind, reason })
    }

    /// The configuration messages are checked against.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Checks every signature and certificate in `msg`.
    pub fn verify(&self, msg: Message<C>) -> Result<Verified<Message<C>>, Reject> {
        match &msg {
            Message::Proposal(p) | Message::FetchResponse(p) => self.proposal(p)?,
            Message::Vote(v) => {
                self.staked(v.voter)?;
                self.sig(v.voter, &vote_message(v.view, &v.block), &v.sig)?;
            }
            Message::DaProposal(d) => {
                let leader = self.cfg.table.leader(d.view);
                self.sig(leader, &da_proposal_message(d.view, &d.commitment), &d.sig)?;
            }
            Message::DaVote(v) => {
                if self.cfg.da_table.node_stake(v.voter).unwrap_or(0) == 0 {
                    return Err(Reject::WrongSigner(v.voter));
                }
                self.sig(v.voter, &da_vote_message(v.view, &v.commitment), &v.sig)?;
            }
            Message::DaCertificate(c) => {
                let msg = da_vote_message(c.view, &c.commitment);
                C::verify_cert(&self.keys, &self.cfg.da_table, &msg, &c.cert, self.cfg.da_table.quorum())?;
            }
            Message::VidShare(s) => self.member(s.node)?,
            Message::Timeout(t) => {
                self.staked(t.voter)?;
                if t.high_qc.view >= t.view {
                    return Err(Reject::Malformed("timeout high QC not below its view"));
                }
                self.sig(t.voter, &timeout_message(t.view, t.high_qc.view), &t.sig)?;
                self.qc(&t.high_qc)?;
            }
            Message::ViewSync { sender, high_qc, tc } => {
                self.member(*sender)?;
                self.qc(high_qc)?;
                if let Some(tc) = tc {
                    self.tc(tc)?;
                }
            }
            Message::FetchRequest { requester, .. }
            | Message::ShareRequest { requester, .. }
            | Message::SyncRequest { requester, .. } => self.member(*requester)?,
            Message::SyncResponse(range) => self.range(range)?,
        }
        Ok(Verified(msg))
    }

    fn member(&self, id: NodeId) -> Result<(), Reject> {
        if (id as usize) < self.cfg.table.len() { Ok(()) } else { Err(Reject::WrongSigner(id)) }
    }

    fn staked(&self, id: NodeId) -> Result<(), Reject> {
        if self.cfg.table.node_stake(id).unwrap_or(0) > 0 { Ok(()) } else { Err(Reject::WrongSigner(id)) }
    }

    fn sig(&self, signer: NodeId, msg: &[u8], sig: &C::Sig) -> Result<(), Reject> {
        if C::verify_sig(&self.keys, signer, msg, sig) { Ok(()) } else { Err(Reject::BadSignature(signer)) }
    }

    /// A proposal: leader-signed, well-formed, on the network's VID parameters, with a valid justify and TC.
    fn proposal(&self, p: &Proposal<C>) -> Result<(), Reject> {
        let h = &p.header;
        if h.view == 0 || h.height == 0 {
            return Err(Reject::Malformed("proposal in view 0"));
        }
        if self.cfg.table.leader(h.view) != h.proposer {
            return Err(Reject::WrongSigner(h.proposer));
        }
        if h.parent != p.justify.block || p.justify.view >= h.view {
            return Err(Reject::Malformed("justify does not certify the parent"));
        }
        if let Some(tc) = &p.tc
            && tc.view.checked_add(1) != Some(h.view)
        {
            return Err(Reject::Malformed("TC not for the previous view"));
        }
        if h.vid != self.cfg.vid {
            return Err(Reject::Malformed("header names other VID parameters than the network's"));
        }
        if h.payload_len > self.cfg.max_block_bytes {
            return Err(Reject::Malformed("payload longer than the network's maximum block size"));
        }
        if !h.commits_to_its_table() {
            return Err(Reject::Malformed("payload commitment is not the commitment of the header's table"));
        }
        self.sig(h.proposer, &proposal_message(&h.hash()), &p.sig)?;
        self.qc(&p.justify)?;
        if let Some(tc) = &p.tc {
            self.tc(tc)?;
        }
        Ok(())
    }

    /// Verifies a QC (the genesis QC is accepted as is), through the cache.
    pub fn qc(&self, qc: &Qc<C>) -> Result<(), Reject> {
        if qc.is_genesis() {
            return Ok(());
        }
        if qc.view == 0 {
            return Err(Reject::Malformed("non-genesis QC in view 0"));
        }
        let key = (qc.view, qc.block.0);
        if self.cache().map.get(&key).is_some_and(|c| *c == qc.cert) {
            return Ok(());
        }
        let msg = vote_message(qc.view, &qc.block);
        C::verify_cert(&self.keys, &self.cfg.table, &msg, &qc.cert, self.cfg.table.quorum())?;
        let mut cache = self.cache();
        if cache.map.insert(key, qc.cert.clone()).is_none() {
            cache.order.push_back(key);
        }
        while cache.order.len() > QC_CACHE {
            if let Some(old) = cache.order.pop_front() {
                cache.map.remove(&old);
            }
        }
        Ok(())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, QcCache<C>> {
        // A panic while holding the lock leaves only a half-updated cache of already-verified QCs behind.
        self.qcs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verifies a timeout certificate: distinct signers, enough stake, each high-QC view below the TC's view, and
    /// every signature on its own (view, high-QC view) message.
    pub fn tc(&self, tc: &Tc<C>) -> Result<(), Reject> {
        if tc.view == 0 {
            return Err(Reject::Malformed("TC for view 0"));
        }
        if tc.votes.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(CertError::UnsortedSigners.into());
        }
        let mut have = 0u64;
        for (signer, hqc_view, _) in &tc.votes {
            have = have.saturating_add(self.cfg.table.node_stake(*signer).ok_or(CertError::UnknownSigner(*signer))?);
            if *hqc_view >= tc.view {
                return Err(Reject::Malformed("TC high QC not below its view"));
            }
        }
        let need = self.cfg.table.quorum();
        if have < need {
            return Err(CertError::BelowThreshold { have, need }.into());
        }
        for (signer, hqc_view, sig) in &tc.votes {
            self.sig(*signer, &timeout_message(tc.view, *hqc_view), sig)?;
        }
        Ok(())
    }

    /// A decided range: consecutive, hash-linked headers, each certified by its QC, the last one proven decided by
    /// a QC on its child from the next view (the two-chain commit rule).
    fn range(&self, range: &DecidedRange<C>) -> Result<(), Reject> {
        let (Some((first, _)), Some((last, last_qc))) = (range.blocks.first(), range.blocks.last()) else {
            return Err(Reject::Malformed("empty decided range"));
        };
        if range.blocks.len() > MAX_SYNC_BLOCKS || first.height == 0 {
            return Err(Reject::Malformed("decided range too long or starting at genesis"));
        }
        let mut prev: Option<(u64, super::types::Digest, u64)> = None;
        for (h, qc) in &range.blocks {
            let hash = h.hash();
            if qc.block != hash || qc.view != h.view {
                return Err(Reject::Malformed("a QC in the range certifies another block"));
            }
            if let Some((height, parent_hash, view)) = prev
                && (h.height != height + 1 || h.parent != parent_hash || h.view <= view)
            {
                return Err(Reject::Malformed("the range is not one hash-linked chain"));
            }
            prev = Some((h.height, hash, h.view));
        }
        let child = &range.proof.child;
        let child_hash = child.hash();
        if child.parent != last_qc.block || !two_chain_commits(last.view, child.view) {
            return Err(Reject::Malformed("the commit proof is not a child from the next view"));
        }
        if range.proof.child_qc.block != child_hash || range.proof.child_qc.view != child.view {
            return Err(Reject::Malformed("the commit proof's QC certifies another block"));
        }
        for (_, qc) in &range.blocks {
            self.qc(qc)?;
        }
        self.qc(&range.proof.child_qc)
    }
}

//! The node state machine: `handle(input) -> Vec<Action>`, with no I/O, clock or randomness.
//!
//! This file holds the state, the dispatcher, view changes and certificate checks; the handlers live in
//! `proposal.rs` (quorum proposals, block tree, commit), `quorum_vote.rs` (the vote and QC formation),
//! `da_vote.rs` (DA proposals, DA votes and certificates), `vid_share.rs` (this node's VID share) and
//! `timeout.rs` (timeouts, timeout certificates, view sync).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::certificate::{Accumulator, CertError, CertScheme};
use super::leader::Membership;
use super::safety::{CommitRule, VoteRule};
use super::types::{
    Action, DataKind, Digest, Header, Input, Message, NodeId, PersistedState, Proposal, Qc, Tc, TimeoutVote, View,
    timeout_message, vote_message,
};
use crema_engine::stake::StakeTable;

/// Static configuration shared by all nodes of a network.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stake for quorum votes, timeouts and leader election.
    pub table: StakeTable,
    /// The DA committee, indexed like `table`; zero stake means "not a member".
    pub da_table: StakeTable,
    /// The view timer before any backoff, in milliseconds.
    pub base_timeout_ms: u64,
    /// The timer doubles per consecutive failed view, up to `2^max_backoff` times the base.
    pub max_backoff: u32,
    /// Votes and data for views further than this ahead of the current view are dropped (flood guard).
    pub max_views_ahead: View,
    /// The commit rule; anything but the default is for checker tests.
    pub commit_rule: CommitRule,
    /// The voting rule; anything but the default is for checker tests.
    pub vote_rule: VoteRule,
}

impl Config {
    /// A configuration where every node is in the DA committee, with the given base timeout.
    pub fn new(table: StakeTable, base_timeout_ms: u64) -> Self {
        Config {
            da_table: table.clone(),
            table,
            base_timeout_ms,
            max_backoff: 4,
            max_views_ahead: 64,
            commit_rule: CommitRule::TwoChain,
            vote_rule: VoteRule::Safe,
        }
    }
}

/// Why an input was rejected. Byzantine input ends here: counted, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// A certificate failed to verify.
    #[error("certificate: {0}")]
    Cert(#[from] CertError),
    /// A signature failed to verify.
    #[error("bad signature from {0}")]
    BadSignature(NodeId),
    /// The sender is not who the message needs (e.g. not the view's leader).
    #[error("sender {0} is not entitled to send this")]
    WrongSender(NodeId),
    /// The message is internally inconsistent.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message's view is outside the window this node accepts.
    #[error("view {0} outside the accepted window")]
    OutOfWindow(View),
}

/// Counters a runtime may report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Inputs rejected as invalid.
    pub rejected: u64,
    /// Blocks decided.
    pub decided: u64,
    /// Equivocations detected.
    pub equivocations: u64,
}

/// One consensus node. Drive it with [`Node::start`] once, then [`Node::handle`] per input.
pub struct Node<C: CertScheme> {
    pub(super) id: NodeId,
    pub(super) cfg: Config,
    pub(super) key: C::SigningKey,
    pub(super) verifier: C::Verifier,
    /// The current view.
    pub(super) view: View,
    /// Highest view voted or timed out in (persisted).
    pub(super) last_voted_view: View,
    /// Highest QC seen (persisted).
    pub(super) high_qc: Qc<C>,
    /// Latest timeout certificate seen.
    pub(super) last_tc: Option<Tc<C>>,
    /// Whether this node timed out in the current view, and how often the timer expired in it.
    pub(super) timed_out: bool,
    pub(super) expiries: u32,
    /// Consecutive views that ended in a timeout certificate (drives the timer backoff).
    pub(super) backoff: u32,
    /// Our timeout vote in the current view, re-sent on repeated expiry.
    pub(super) my_timeout: Option<TimeoutVote<C>>,
    /// Last decided header (persisted) and its hash.
    pub(super) root: Header,
    pub(super) root_hash: Digest,
    /// Block tree: every header whose ancestry reaches the root, with its proposal (kept to serve fetches).
    pub(super) blocks: HashMap<Digest, Header>,
    pub(super) proposals: HashMap<Digest, Proposal<C>>,
    /// First valid proposal seen per view: the only one this node will vote for.
    pub(super) by_view: BTreeMap<View, Digest>,
    /// Proposals waiting for a missing parent, keyed by that parent.
    pub(super) orphans: HashMap<Digest, Vec<Proposal<C>>>,
    pub(super) orphan_count: usize,
    /// Data state per (view, commitment).
    pub(super) da_proposals: BTreeMap<View, Digest>,
    pub(super) da_certs: HashSet<(View, Digest)>,
    pub(super) payload_ok: HashSet<(View, Digest)>,
    pub(super) share_ok: HashSet<(View, Digest)>,
    pub(super) share_requested: HashSet<View>,
    pub(super) da_voted_view: View,
    /// Vote collection (as a leader) and equivocation tracking.
    pub(super) votes: BTreeMap<(View, Digest), Accumulator<C::Sig>>,
    pub(super) vote_seen: BTreeMap<(View, NodeId), Digest>,
    pub(super) da_votes: BTreeMap<(View, Digest), Accumulator<C::Sig>>,
    pub(super) timeouts: BTreeMap<View, Accumulator<(View, C::Sig)>>,
    /// QCs already verified, by (view, block), with the exact certificate checked: the same QC arrives in
    /// proposals, timeout votes and view-sync messages, and a BLS check costs pairings.
    pub(super) qc_cache: HashMap<(View, Digest), C::Cert>,
    /// Highest view for which this node sent a peer a view-sync reply (rate limit).
    pub(super) synced: HashMap<NodeId, View>,
    pub(super) proposed_view: View,
    pub(super) stats: NodeStats,
    pub(super) out: Vec<Action<C>>,
}

impl<C: CertScheme> Node<C> {
    /// A fresh node at genesis.
    pub fn new(id: NodeId, cfg: Config, key: C::SigningKey, verifier: C::Verifier) -> Self {
        let genesis = Header::genesis();
        let ps = PersistedState { last_voted_view: 0, last_proposed_view: 0, high_qc: Qc::genesis(), decided: genesis };
        Self::restore(id, cfg, key, verifier, ps)
    }

    /// A node restarted from its persisted safety state (after a crash).
    pub fn restore(id: NodeId, cfg: Config, key: C::SigningKey, verifier: C::Verifier, ps: PersistedState<C>) -> Self {
        let root_hash = ps.decided.hash();
        let mut blocks = HashMap::new();
        blocks.insert(root_hash, ps.decided.clone());
        Node {
            id,
            cfg,
            key,
            verifier,
            view: 0,
            last_voted_view: ps.last_voted_view,
            high_qc: ps.high_qc,
            last_tc: None,
            timed_out: false,
            expiries: 0,
            backoff: 0,
            my_timeout: None,
            root: ps.decided,
            root_hash,
            blocks,
            proposals: HashMap::new(),
            by_view: BTreeMap::new(),
            orphans: HashMap::new(),
            orphan_count: 0,
            da_proposals: BTreeMap::new(),
            da_certs: HashSet::new(),
            payload_ok: HashSet::new(),
            share_ok: HashSet::new(),
            share_requested: HashSet::new(),
            da_voted_view: 0,
            votes: BTreeMap::new(),
            vote_seen: BTreeMap::new(),
            da_votes: BTreeMap::new(),
            timeouts: BTreeMap::new(),
            qc_cache: HashMap::new(),
            synced: HashMap::new(),
            proposed_view: ps.last_proposed_view,
            stats: NodeStats::default(),
            out: Vec::new(),
        }
    }

    /// Enters the first view: at genesis view 1; after a restart the view after the persisted high QC (or the
    /// last voted view, whichever is later). Peers' certificates then pull the node forward.
    pub fn start(&mut self) -> Vec<Action<C>> {
        let v = (self.high_qc.view + 1).max(self.last_voted_view).max(1);
        self.enter_view(v, false);
        std::mem::take(&mut self.out)
    }

    /// Handles one input and returns the actions to carry out, in order.
    pub fn handle(&mut self, input: Input<C>) -> Vec<Action<C>> {
        let result = match input {
            Input::Message { from, msg } => self.on_message(from, msg),
            Input::Timeout { view } => {
                self.on_timer(view);
                Ok(())
            }
            Input::DataChecked { view, commitment, kind, ok } => {
                match kind {
                    DataKind::Payload => self.on_payload_checked(view, commitment, ok),
                    DataKind::Share => self.on_share_checked(view, commitment, ok),
                }
                Ok(())
            }
        };
        if result.is_err() {
            self.stats.rejected += 1;
        }
        std::mem::take(&mut self.out)
    }

    fn on_message(&mut self, from: NodeId, msg: Message<C>) -> Result<(), Reject> {
        if self.cfg.table.node_stake(from).is_none() {
            return Err(Reject::WrongSender(from));
        }
        match msg {
            Message::Proposal(p) => self.on_proposal(from, p),
            Message::Vote { view, block, voter, sig } => self.on_vote(from, view, block, voter, sig),
            Message::DaProposal { view, commitment, payload, sig } => {
                self.on_da_proposal(from, view, commitment, payload, sig)
            }
            Message::DaVote { view, commitment, voter, sig } => self.on_da_vote(from, view, commitment, voter, sig),
            Message::DaCertificate(c) => self.on_da_cert(c),
            Message::VidShare { view, commitment, share } => self.on_vid_share(from, view, commitment, share),
            Message::Timeout(tv) => self.on_timeout_vote(from, tv),
            Message::ViewSync { high_qc, tc } => self.on_view_sync(from, high_qc, tc),
            Message::FetchRequest { block } => {
                self.on_fetch_request(from, block);
                Ok(())
            }
            Message::FetchResponse(p) => self.on_proposal(from, p),
        }
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The highest QC seen.
    pub fn high_qc(&self) -> &Qc<C> {
        &self.high_qc
    }

    /// The last decided header.
    pub fn decided(&self) -> &Header {
        &self.root
    }

    /// Counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The leader of `view`.
    pub fn leader(&self, view: View) -> NodeId {
        self.cfg.table.leader(view)
    }

    /// The state to persist now.
    pub(super) fn persisted(&self) -> PersistedState<C> {
        PersistedState {
            last_voted_view: self.last_voted_view,
            last_proposed_view: self.proposed_view,
            high_qc: self.high_qc.clone(),
            decided: self.root.clone(),
        }
    }

    /// Timer length: the base, doubled per consecutive failed view and per expiry in this view, capped.
    pub(super) fn timer_ms(&self) -> u64 {
        let exp = (self.backoff + self.expiries).min(self.cfg.max_backoff);
        self.cfg.base_timeout_ms << exp
    }

    /// Moves to view `v` (never backwards): arms the timer, proposes if leader, votes if a proposal is waiting.
    pub(super) fn enter_view(&mut self, v: View, by_tc: bool) {
        if v <= self.view {
            return;
        }
        self.view = v;
        self.timed_out = false;
        self.expiries = 0;
        self.my_timeout = None;
        self.backoff = if by_tc { (self.backoff + 1).min(self.cfg.max_backoff) } else { 0 };
        self.out.push(Action::SetTimer { view: v, after_ms: self.timer_ms() });
        self.garbage_collect();
        self.try_propose();
        self.try_vote();
    }

    /// Drops per-view state the node can no longer use; keeps memory bounded under floods.
    fn garbage_collect(&mut self) {
        let keep = self.view.saturating_sub(1);
        self.votes = self.votes.split_off(&(keep, Digest::default()));
        self.vote_seen = self.vote_seen.split_off(&(keep, 0));
        self.da_votes = self.da_votes.split_off(&(keep, Digest::default()));
        self.timeouts = self.timeouts.split_off(&keep);
        self.da_proposals = self.da_proposals.split_off(&keep);
        self.da_certs.retain(|(v, _)| *v >= keep);
        self.payload_ok.retain(|(v, _)| *v >= keep);
        self.share_ok.retain(|(v, _)| *v >= keep);
        self.share_requested.retain(|v| *v >= keep);
        let recent = self.view.saturating_sub(16);
        self.qc_cache.retain(|(v, _), _| *v >= recent);
        self.by_view = self.by_view.split_off(&self.view.saturating_sub(1024));
        // Orphans whose parent never came (or that fell below the root) would otherwise pin the buffer full.
        let (root_height, view) = (self.root.height, self.view);
        self.orphans.retain(|_, ps| {
            ps.retain(|p| p.header.height > root_height && p.header.view + 256 > view);
            !ps.is_empty()
        });
        self.orphan_count = self.orphans.values().map(Vec::len).sum();
    }

    /// Whether `view` is within the window of views this node buffers state for.
    pub(super) fn in_window(&self, view: View) -> bool {
        view.saturating_add(1) >= self.view && view <= self.view.saturating_add(self.cfg.max_views_ahead)
    }

    /// Verifies a QC (the genesis QC is accepted as is).
    pub(super) fn verify_qc(&mut self, qc: &Qc<C>) -> Result<(), Reject> {
        if qc.is_genesis() {
            return Ok(());
        }
        if qc.view == 0 {
            return Err(Reject::Malformed("non-genesis QC in view 0"));
        }
        if self.qc_cache.get(&(qc.view, qc.block)).is_some_and(|c| *c == qc.cert) {
            return Ok(());
        }
        let msg = vote_message(qc.view, &qc.block);
        C::verify_cert(&self.verifier, &self.cfg.table, &msg, &qc.cert, self.cfg.table.quorum())?;
        self.qc_cache.insert((qc.view, qc.block), qc.cert.clone());
        Ok(())
    }

    /// Verifies a timeout certificate: distinct signers, enough stake, each high-QC view below the TC's view, and
    /// every signature on its own (view, high-QC view) message.
    pub(super) fn verify_tc(&self, tc: &Tc<C>) -> Result<(), Reject> {
        if tc.view == 0 {
            return Err(Reject::Malformed("TC for view 0"));
        }
        if tc.votes.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(CertError::UnsortedSigners.into());
        }
        let mut have = 0u64;
        for (signer, hqc_view, _) in &tc.votes {
            have += self.cfg.table.node_stake(*signer).ok_or(CertError::UnknownSigner(*signer))?;
            if *hqc_view >= tc.view {
                return Err(Reject::Malformed("TC high QC not below its view"));
            }
        }
        let need = self.cfg.table.quorum();
        if have < need {
            return Err(CertError::BelowThreshold { have, need }.into());
        }
        for (signer, hqc_view, sig) in &tc.votes {
            if !C::verify_sig(&self.verifier, *signer, &timeout_message(tc.view, *hqc_view), sig) {
                return Err(Reject::BadSignature(*signer));
            }
        }
        Ok(())
    }

    /// Takes a verified QC into account: raises the high QC, checks the commit rule, advances the view.
    pub(super) fn observe_qc(&mut self, qc: &Qc<C>) {
        if qc.view > self.high_qc.view {
            self.high_qc = qc.clone();
            if !self.blocks.contains_key(&qc.block) && qc.view > self.root.view {
                self.fetch_from_signers(qc);
            }
        }
        self.try_commit(qc);
        if qc.view.saturating_add(1) > self.view {
            self.enter_view(qc.view.saturating_add(1), false);
        }
    }

    /// Takes a verified TC into account: remembers it and advances to the following view.
    pub(super) fn observe_tc(&mut self, tc: &Tc<C>) {
        if self.last_tc.as_ref().is_none_or(|t| tc.view > t.view) {
            self.last_tc = Some(tc.clone());
        }
        if tc.view.saturating_add(1) > self.view {
            self.enter_view(tc.view.saturating_add(1), true);
        }
    }
}

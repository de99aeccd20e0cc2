//! The node state machine: `handle(input) -> Vec<Action>`, with no I/O, clock or randomness.
//!
//! This file holds the configuration, the state, the dispatcher, view changes and pruning; the handlers live in
//! `proposal.rs` (building and proposing a block, validating proposals, the block tree, the commit rule),
//! `quorum_vote.rs` (the vote and QC formation), `da_vote.rs` (Mascarpone: DA proposals, votes, certificates),
//! `vid_share.rs` (Savoiardi: this node's share, held until its commitment is signed, asked for when missing),
//! `timeout.rs` (timeouts, timeout certificates, view sync) and `catch_up.rs` (range sync of decided headers).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crema_engine::stake::StakeTable;

use super::certificate::{Accumulator, CertScheme};
use super::leader::Membership;
use super::safety::{CommitRule, VoteRule};
use super::types::{
    Action, DataKind, Digest, Header, Input, Message, NodeId, PersistedState, Proposal, Qc, Tc, TimeoutVote, TimerKind,
    VidParams, VidShare, View,
};
use super::verify::Reject;

/// Static configuration shared by all nodes of a network.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stake for quorum votes, timeouts, leader election and VID share units.
    pub table: StakeTable,
    /// The DA committee, indexed like `table`; zero stake means "not a member".
    pub da_table: StakeTable,
    /// The VID scheme and threshold every block is dispersed with.
    pub vid: VidParams,
    /// Largest block payload accepted, in bytes.
    pub max_block_bytes: u64,
    /// The view timer before any backoff, in milliseconds.
    pub base_timeout_ms: u64,
    /// The timer doubles per consecutive failed view, up to `2^max_backoff` times the base.
    pub max_backoff: u32,
    /// Votes and data for views further than this ahead of the current view are dropped (flood guard).
    pub max_views_ahead: View,
    /// How long after the proposal a node without its VID share asks for it, in milliseconds.
    pub share_request_ms: u64,
    /// The commit rule; anything but the default is for checker tests.
    pub commit_rule: CommitRule,
    /// The voting rule; anything but the default is for checker tests.
    pub vote_rule: VoteRule,
}

impl Config {
    /// A configuration where every node is in the DA committee, with the given base timeout and the default VID
    /// parameters (avidm, threshold 1/3).
    pub fn new(table: StakeTable, base_timeout_ms: u64) -> Self {
        Config {
            da_table: table.clone(),
            table,
            vid: VidParams::default(),
            max_block_bytes: 10 << 20,
            base_timeout_ms,
            max_backoff: 4,
            max_views_ahead: 64,
            share_request_ms: (base_timeout_ms / 4).max(1),
            commit_rule: CommitRule::TwoChain,
            vote_rule: VoteRule::Safe,
        }
    }

    /// Whether `node` sits on the DA committee (non-zero stake in [`Config::da_table`]).
    pub fn is_da_member(&self, node: NodeId) -> bool {
        self.da_table.node_stake(node).unwrap_or(0) > 0
    }

    /// The DA committee's members other than `me`, in index order.
    pub fn da_members_except(&self, me: NodeId) -> Vec<NodeId> {
        (0..self.table.len() as NodeId).filter(|&i| i != me && self.is_da_member(i)).collect()
    }
}

/// Counters a runtime may report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Inputs rejected as invalid.
    pub rejected: u64,
    /// Blocks decided (by the commit rule or by range sync).
    pub decided: u64,
    /// Blocks decided through range sync.
    pub synced: u64,
    /// Equivocations detected.
    pub equivocations: u64,
    /// VID shares that failed verification.
    pub bad_shares: u64,
    /// Shares dropped because the per-view hold was full.
    pub dropped_shares: u64,
    /// Share requests sent for a missing share.
    pub share_requests: u64,
    /// DA payloads that did not recompute to their commitment.
    pub bad_payloads: u64,
}

/// Most proposals buffered while waiting for their parents (flood guard).
pub(super) const MAX_ORPHANS: usize = 256;
/// Decided proposals kept in memory below the root, to serve a peer's parent fetches; older ones are in the
/// runtime's store and reach peers by range sync.
pub(super) const RETAIN_BLOCKS: u64 = 64;
/// Views of first-proposal records kept below the current view.
pub(super) const RETAIN_VIEWS: View = 256;

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
    /// Block tree: every header whose ancestry reaches the root, and the decided ones of the last
    /// [`RETAIN_BLOCKS`], with their proposals (to serve fetches and prove decisions).
    pub(super) blocks: HashMap<Digest, Header>,
    pub(super) proposals: HashMap<Digest, Proposal<C>>,
    /// First valid proposal seen per view: the only one this node will vote for.
    pub(super) by_view: BTreeMap<View, Digest>,
    /// Proposals waiting for a missing parent, keyed by that parent.
    pub(super) orphans: HashMap<Digest, Vec<Proposal<C>>>,
    pub(super) orphan_count: usize,
    /// The view of the block this node asked its runtime to build, while it is being built.
    pub(super) building: Option<View>,
    /// Mascarpone: the first signed DA proposal per view, payload checks in flight and passed, this node's last
    /// DA vote, DA certificates seen.
    pub(super) da_proposals: BTreeMap<View, Digest>,
    pub(super) payload_checking: HashSet<(View, Digest)>,
    /// Other copies of a payload that arrived while one was being checked (a relay may have altered the first):
    /// checked in turn if it fails, at most [`super::MAX_HELD_PER_VIEW`] per (view, commitment).
    pub(super) payload_spares: BTreeMap<(View, Digest), Vec<Arc<Vec<u8>>>>,
    pub(super) payload_ok: HashSet<(View, Digest)>,
    pub(super) da_voted_view: View,
    pub(super) da_certs: HashSet<(View, Digest)>,
    /// Savoiardi: verified shares, one check in flight per (view, commitment), shares held until their commitment is
    /// signed (bounded per view), and share requests sent in the current view.
    pub(super) share_ok: HashSet<(View, Digest)>,
    pub(super) share_checking: HashSet<(View, Digest)>,
    pub(super) held_shares: BTreeMap<View, Vec<VidShare>>,
    /// Checks started for shares of views already left, by view (bounded per view; pruned with `by_view`).
    pub(super) late_share_checks: BTreeMap<View, u8>,
    pub(super) share_asks: u32,
    /// Vote collection (as a leader) and equivocation tracking.
    pub(super) votes: BTreeMap<(View, Digest), Accumulator<C::Sig>>,
    pub(super) vote_seen: BTreeMap<(View, NodeId), Digest>,
    pub(super) da_votes: BTreeMap<(View, Digest), Accumulator<C::Sig>>,
    pub(super) timeouts: BTreeMap<View, Accumulator<(View, C::Sig)>>,
    /// Highest view for which this node sent a peer a view-sync reply (rate limit).
    pub(super) synced: HashMap<NodeId, View>,
    /// Range sync: the highest height a verified certificate showed exists, and the view a sync was last asked in.
    pub(super) sync_target: u64,
    pub(super) sync_asked_view: Option<View>,
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
            building: None,
            da_proposals: BTreeMap::new(),
            payload_checking: HashSet::new(),
            payload_spares: BTreeMap::new(),
            payload_ok: HashSet::new(),
            da_voted_view: 0,
            da_certs: HashSet::new(),
            share_ok: HashSet::new(),
            share_checking: HashSet::new(),
            held_shares: BTreeMap::new(),
            late_share_checks: BTreeMap::new(),
            share_asks: 0,
            votes: BTreeMap::new(),
            vote_seen: BTreeMap::new(),
            da_votes: BTreeMap::new(),
            timeouts: BTreeMap::new(),
            synced: HashMap::new(),
            sync_target: 0,
            sync_asked_view: None,
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
            Input::Message(msg) => self.on_message(msg.into_inner()),
            Input::Timer { kind: TimerKind::View, view } => {
                self.on_timer(view);
                Ok(())
            }
            Input::Timer { kind: TimerKind::Share, view } => {
                self.on_share_timer(view);
                Ok(())
            }
            Input::BlockReady { view, block } => self.on_block_ready(view, block),
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

    fn on_message(&mut self, msg: Message<C>) -> Result<(), Reject> {
        match msg {
            Message::Proposal(p) | Message::FetchResponse(p) => self.on_proposal(p),
            Message::Vote(v) => self.on_vote(v),
            Message::DaProposal(d) => self.on_da_proposal(d),
            Message::DaVote(v) => self.on_da_vote(v),
            Message::DaCertificate(c) => self.on_da_cert(c),
            Message::VidShare(s) => self.on_vid_share(s),
            Message::Timeout(tv) => self.on_timeout_vote(tv),
            Message::ViewSync { sender, high_qc, tc } => self.on_view_sync(sender, high_qc, tc),
            Message::FetchRequest { requester, block } => {
                self.on_fetch_request(requester, block);
                Ok(())
            }
            Message::ShareRequest { requester, view, commitment } => self.on_share_request(requester, view, commitment),
            Message::SyncRequest { requester, from_height } => {
                self.on_sync_request(requester, from_height);
                Ok(())
            }
            Message::SyncResponse(range) => self.on_sync_response(range),
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

    /// Entries held in the node's maps and buffers: what its memory grows with. Bounded whatever the run length
    /// (the simulator checks it over 100,000 views).
    pub fn footprint(&self) -> usize {
        self.blocks.len()
            + self.proposals.len()
            + self.by_view.len()
            + self.orphan_count
            + self.da_proposals.len()
            + self.payload_checking.len()
            + self.payload_spares.values().map(Vec::len).sum::<usize>()
            + self.payload_ok.len()
            + self.da_certs.len()
            + self.share_ok.len()
            + self.share_checking.len()
            + self.held_shares.values().map(Vec::len).sum::<usize>()
            + self.late_share_checks.len()
            + self.votes.len()
            + self.vote_seen.len()
            + self.da_votes.len()
            + self.timeouts.len()
            + self.synced.len()
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
        self.share_asks = 0;
        self.my_timeout = None;
        self.backoff = if by_tc { (self.backoff + 1).min(self.cfg.max_backoff) } else { 0 };
        self.out.push(Action::SetTimer { kind: TimerKind::View, view: v, after_ms: self.timer_ms() });
        self.garbage_collect();
        self.try_propose();
        self.arm_share_timer();
        self.try_vote();
    }

    /// Drops state the node can no longer use: keeps memory bounded under floods and over any run length.
    fn garbage_collect(&mut self) {
        let keep = self.view.saturating_sub(1);
        self.votes = self.votes.split_off(&(keep, Digest::default()));
        self.vote_seen = self.vote_seen.split_off(&(keep, 0));
        self.da_votes = self.da_votes.split_off(&(keep, Digest::default()));
        self.timeouts = self.timeouts.split_off(&keep);
        self.da_proposals = self.da_proposals.split_off(&keep);
        self.held_shares = self.held_shares.split_off(&keep);
        self.payload_spares = self.payload_spares.split_off(&(keep, Digest::default()));
        for set in [&mut self.da_certs, &mut self.payload_checking, &mut self.payload_ok] {
            set.retain(|(v, _)| *v >= keep);
        }
        for set in [&mut self.share_ok, &mut self.share_checking] {
            set.retain(|(v, _)| *v >= keep);
        }
        self.by_view = self.by_view.split_off(&self.view.saturating_sub(RETAIN_VIEWS));
        self.late_share_checks = self.late_share_checks.split_off(&self.view.saturating_sub(RETAIN_VIEWS));
        // Orphans whose parent never came (or that fell below the root) would otherwise pin the buffer full.
        let (root_height, view) = (self.root.height, self.view);
        self.orphans.retain(|_, ps| {
            ps.retain(|p| p.header.height > root_height && p.header.view + 256 > view);
            !ps.is_empty()
        });
        self.orphan_count = self.orphans.values().map(Vec::len).sum();
        self.prune_decided();
    }

    /// Forgets decided proposals more than [`RETAIN_BLOCKS`] below the root, and forks below the root.
    pub(super) fn prune_decided(&mut self) {
        let floor = self.root.height.saturating_sub(RETAIN_BLOCKS);
        let root_hash = self.root_hash;
        let root_height = self.root.height;
        self.proposals.retain(|_, p| p.header.height >= floor);
        self.blocks.retain(|h, b| b.height >= root_height || *h == root_hash);
    }

    /// Whether `view` is within the window of views this node buffers state for.
    pub(super) fn in_window(&self, view: View) -> bool {
        view.saturating_add(1) >= self.view && view <= self.view.saturating_add(self.cfg.max_views_ahead)
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

//! Quorum proposals: building and proposing a block as leader, taking in verified proposals, the block tree,
//! fetching missing parents, and the commit rule.

use super::catch_up::SYNC_GAP;
use super::certificate::CertScheme;
use super::leader::Membership;
use super::safety::{CommitRule, two_chain_commits};
use super::state::{MAX_ORPHANS, Node};
use super::types::{
    Action, BuiltBlock, CommitProof, DaProposal, Digest, Equivocation, Header, Message, NodeId, Proposal, Qc, VidShare,
    View, da_proposal_message, proposal_message,
};
use super::verify::Reject;

/// Most ancestors returned in one fetch response, so a lagging node catches up in few round trips.
const FETCH_BATCH: usize = 32;

impl<C: CertScheme> Node<C> {
    /// Whether this node may propose in `view` now: it leads it, has not proposed in it, holds a QC or TC for the
    /// previous view, and has the parent in its tree.
    fn may_propose(&self, v: View) -> bool {
        let after_qc = self.high_qc.view + 1 == v;
        let after_tc = self.last_tc.as_ref().is_some_and(|t| t.view + 1 == v);
        self.leader(v) == self.id
            && self.proposed_view < v
            && (after_qc || after_tc)
            && self.blocks.contains_key(&self.high_qc.block)
    }

    /// As leader of the current view, asks the runtime for a block (once per view).
    pub(super) fn try_propose(&mut self) {
        let v = self.view;
        if !self.may_propose(v) || self.building == Some(v) {
            return;
        }
        let Some(parent) = self.blocks.get(&self.high_qc.block).cloned() else { return };
        self.building = Some(v);
        self.out.push(Action::BuildBlock { view: v, parent });
    }

    /// The runtime built the block: sign and send the DA proposal to the committee, each node its VID share, and
    /// the quorum proposal to everyone. A block for a view already left is dropped.
    pub(super) fn on_block_ready(&mut self, view: View, block: BuiltBlock) -> Result<(), Reject> {
        if self.building == Some(view) {
            self.building = None;
        }
        if view != self.view || !self.may_propose(view) {
            return Ok(());
        }
        if block.shares.len() != self.cfg.table.len() {
            return Err(Reject::Malformed("built block has not one share per node"));
        }
        // The payload does not depend on the parent: the current high QC is the parent, even if it moved on.
        let Some(parent) = self.blocks.get(&self.high_qc.block).cloned() else { return Ok(()) };
        let header = Header {
            view,
            height: parent.height + 1,
            parent: self.high_qc.block,
            proposer: self.id,
            timestamp_ms: block.timestamp_ms.max(parent.timestamp_ms),
            payload_commitment: block.payload_commitment,
            payload_len: block.payload_len,
            namespaces: block.namespaces,
            ns_table_root: block.ns_table_root,
            vid: self.cfg.vid,
        };
        self.proposed_view = view;
        self.out.push(Action::Persist(self.persisted()));
        let commitment = header.payload_commitment;
        let after_qc = self.high_qc.view + 1 == view;
        let tc = if after_qc { None } else { self.last_tc.clone() };
        let sig = C::sign(&self.key, &proposal_message(&header.hash()));
        let da_sig = C::sign(&self.key, &da_proposal_message(view, &commitment));
        let da = DaProposal { view, commitment, payload: block.payload, sig: da_sig };
        for to in 0..self.cfg.table.len() as NodeId {
            if self.cfg.is_da_member(to) {
                self.out.push(Action::Send { to, msg: Message::DaProposal(da.clone()) });
            }
        }
        for (to, share) in block.shares.into_iter().enumerate() {
            let node = to as NodeId;
            let msg = Message::VidShare(VidShare { view, commitment, node, common: block.common.clone(), share });
            self.out.push(Action::Send { to: node, msg });
        }
        let justify = self.high_qc.clone();
        self.out.push(Action::Broadcast(Message::Proposal(Proposal { header, justify, tc, sig })));
        Ok(())
    }

    /// A verified proposal (fresh or fetched): records it, processes its certificates and votes if it can.
    pub(super) fn on_proposal(&mut self, p: Proposal<C>) -> Result<(), Reject> {
        let hash = p.header.hash();
        if self.proposals.contains_key(&hash) || hash == self.root_hash {
            return Ok(());
        }
        // Equivocation: a second, different, validly signed proposal for a view. Keep voting only for the first.
        let (view, proposer) = (p.header.view, p.header.proposer);
        match self.by_view.get(&view) {
            Some(first) if *first != hash => {
                self.stats.equivocations += 1;
                let ev = Equivocation::Proposal { leader: proposer, view, blocks: (*first, hash) };
                self.out.push(Action::Evidence(ev));
            }
            Some(_) => {}
            None if self.in_window(view) => {
                self.by_view.insert(view, hash);
                self.release_held_shares(view, p.header.payload_commitment);
            }
            None => {}
        }
        let justify = p.justify.clone();
        let tc = p.tc.clone();
        self.add_block(p);
        self.observe_qc(&justify);
        if let Some(tc) = &tc {
            self.observe_tc(tc);
        }
        self.arm_share_timer();
        self.try_vote();
        Ok(())
    }

    /// Inserts a proposal into the block tree if its parent is there, else parks it and fetches the parent (or asks
    /// for a range sync when the gap is long). Inserting may release parked descendants.
    fn add_block(&mut self, p: Proposal<C>) {
        if p.header.height <= self.root.height {
            return; // At or below the decided root: a stale fork or an ancestor we no longer need.
        }
        let parent = p.header.parent;
        if !self.blocks.contains_key(&parent) {
            self.note_height(p.header.height);
            if self.orphan_count < MAX_ORPHANS {
                self.orphan_count += 1;
                let proposer = p.header.proposer;
                // A long gap is range sync's job (`note_height` asked for it): fetching parent by parent as well
                // would race it (32 blocks per round trip) and leave which path catches the node up to timing.
                let short_gap = p.header.height <= self.root.height + SYNC_GAP;
                self.orphans.entry(parent).or_default().push(p);
                if short_gap {
                    let msg = Message::FetchRequest { requester: self.id, block: parent };
                    self.out.push(Action::Send { to: proposer, msg });
                }
            }
            return;
        }
        self.insert_chain(p);
    }

    /// Inserts `p` (whose parent is in the tree) and every parked descendant that now connects. A block must
    /// extend its parent by one height, in a later view, at no earlier a timestamp.
    pub(super) fn insert_chain(&mut self, p: Proposal<C>) {
        let mut ready = vec![p];
        while let Some(p) = ready.pop() {
            let hash = p.header.hash();
            if self.blocks.contains_key(&hash) {
                continue;
            }
            let h = &p.header;
            let fits = self
                .blocks
                .get(&h.parent)
                .is_some_and(|ph| ph.height + 1 == h.height && ph.view < h.view && ph.timestamp_ms <= h.timestamp_ms);
            if !fits {
                self.stats.rejected += 1;
                continue;
            }
            self.blocks.insert(hash, p.header.clone());
            let justify = p.justify.clone();
            self.proposals.insert(hash, p);
            if let Some(children) = self.orphans.remove(&hash) {
                self.orphan_count -= children.len();
                ready.extend(children);
            }
            self.try_commit(&justify);
        }
        let high = self.high_qc.clone();
        self.try_commit(&high);
        self.try_propose();
    }

    /// Serves a fetch: the block's proposal and up to [`FETCH_BATCH`] - 1 ancestors, oldest first.
    pub(super) fn on_fetch_request(&mut self, requester: NodeId, block: Digest) {
        if requester == self.id {
            return;
        }
        let mut chain = Vec::new();
        let mut cur = block;
        while chain.len() < FETCH_BATCH {
            let Some(p) = self.proposals.get(&cur) else { break };
            chain.push(p.clone());
            cur = p.header.parent;
        }
        for p in chain.into_iter().rev() {
            self.out.push(Action::Send { to: requester, msg: Message::FetchResponse(p) });
        }
    }

    /// Asks some of a QC's signers for its block: more than a third of stake among them, so one is honest.
    pub(super) fn fetch_from_signers(&mut self, qc: &Qc<C>) {
        let mut stake = 0;
        for s in C::signers(&qc.cert) {
            if s == self.id {
                continue;
            }
            stake += self.cfg.table.node_stake(s).unwrap_or(0);
            self.out.push(Action::Send { to: s, msg: Message::FetchRequest { requester: self.id, block: qc.block } });
            if stake >= self.cfg.table.one_third() {
                break;
            }
        }
        // A QC far above the root means a long gap: fetching parent by parent would take many round trips.
        self.note_height(self.root.height + qc.view.saturating_sub(self.root.view));
    }

    /// Applies the commit rule to a verified QC. Under [`CommitRule::TwoChain`] the QC's block `B'` and its parent
    /// `B` must be in consecutive views, and then `B` (with its undecided ancestors) is decided.
    pub(super) fn try_commit(&mut self, qc: &Qc<C>) {
        let Some(certified) = self.blocks.get(&qc.block).cloned() else { return };
        let target = match self.cfg.commit_rule {
            CommitRule::TwoChain => {
                let Some(parent) = self.blocks.get(&certified.parent) else { return };
                if !two_chain_commits(parent.view, certified.view) {
                    return;
                }
                certified.parent
            }
            CommitRule::UnsafeOneChain => qc.block,
        };
        let Some(target_header) = self.blocks.get(&target).cloned() else { return };
        if target_header.height <= self.root.height {
            return;
        }
        // Walk back to the root; a branch that does not reach it conflicts with what was decided: never decide it.
        // Each block's QC is its child's justify; the last one's is the certified block's justify.
        let mut chain = Vec::new();
        let mut cur = target;
        let mut child_justify = match self.cfg.commit_rule {
            CommitRule::TwoChain => self.proposals.get(&qc.block).map(|p| p.justify.clone()),
            CommitRule::UnsafeOneChain => Some(qc.clone()),
        };
        while cur != self.root_hash {
            let Some(h) = self.blocks.get(&cur) else { return };
            if h.height <= self.root.height {
                return;
            }
            let Some(qc_of_cur) = child_justify.take().filter(|q| q.block == cur) else { return };
            chain.push((h.clone(), qc_of_cur));
            child_justify = self.proposals.get(&cur).map(|p| p.justify.clone());
            cur = h.parent;
        }
        chain.reverse();
        let proof = CommitProof { child: certified, child_qc: qc.clone() };
        self.decide(chain, proof);
    }

    /// Makes `chain` (starting right above the root) decided: the new root, persisted.
    pub(super) fn decide(&mut self, chain: Vec<(Header, Qc<C>)>, proof: CommitProof<C>) {
        let Some((last, _)) = chain.last() else { return };
        self.root = last.clone();
        self.root_hash = last.hash();
        self.stats.decided += chain.len() as u64;
        self.out.push(Action::Decide { blocks: chain, proof });
        self.out.push(Action::Persist(self.persisted()));
        self.prune_decided();
    }
}

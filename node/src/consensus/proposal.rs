//! Quorum proposals: proposing as leader, validating, the block tree, fetching missing parents, and the commit rule.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::safety::{CommitRule, two_chain_commits};
use super::state::{Node, Reject};
use super::types::{
    Action, Digest, Equivocation, Header, Message, NodeId, Proposal, VidShare, da_proposal_message, proposal_message,
};
use super::vid_model;

/// Most proposals buffered while waiting for their parents (flood guard).
const MAX_ORPHANS: usize = 256;
/// Most ancestors returned in one fetch response, so a lagging node catches up in few round trips.
const FETCH_BATCH: usize = 32;

impl<C: CertScheme> Node<C> {
    /// Proposes in the current view if this node leads it and holds a QC or TC for the previous view.
    pub(super) fn try_propose(&mut self) {
        let v = self.view;
        if self.leader(v) != self.id || self.proposed_view >= v {
            return;
        }
        let after_qc = self.high_qc.view + 1 == v;
        let after_tc = self.last_tc.as_ref().is_some_and(|t| t.view + 1 == v);
        if !after_qc && !after_tc {
            return;
        }
        // The parent must be in the tree to know its height; otherwise retry once a fetch brings it in.
        let Some(parent) = self.blocks.get(&self.high_qc.block) else { return };
        let payload = vid_model::payload(v, self.id);
        let commitment = vid_model::commitment(&payload);
        let header = Header {
            view: v,
            height: parent.height + 1,
            parent: self.high_qc.block,
            payload_commitment: commitment,
            proposer: self.id,
        };
        self.proposed_view = v;
        self.out.push(Action::Persist(self.persisted()));
        let tc = if after_qc { None } else { self.last_tc.clone() };
        let sig = C::sign(&self.key, &proposal_message(&header.hash()));
        let da_sig = C::sign(&self.key, &da_proposal_message(v, &commitment));
        for to in 0..self.cfg.table.len() as NodeId {
            if self.cfg.da_table.node_stake(to).unwrap_or(0) > 0 {
                let msg = Message::DaProposal { view: v, commitment, payload: payload.clone(), sig: da_sig.clone() };
                self.out.push(Action::Send { to, msg });
            }
        }
        for to in 0..self.cfg.table.len() as NodeId {
            let share = VidShare { index: to, bytes: vid_model::share(&commitment, to) };
            self.out.push(Action::Send { to, msg: Message::VidShare { view: v, commitment, share } });
        }
        let justify = self.high_qc.clone();
        self.out.push(Action::Broadcast(Message::Proposal(Proposal { header, justify, tc, sig })));
    }

    /// Validates a proposal (fresh or fetched), records it, processes its certificates and votes if it can.
    pub(super) fn on_proposal(&mut self, from: NodeId, p: Proposal<C>) -> Result<(), Reject> {
        let hash = p.header.hash();
        if self.proposals.contains_key(&hash) || hash == self.root_hash {
            return Ok(());
        }
        let h = &p.header;
        if h.view == 0 || h.height == 0 {
            return Err(Reject::Malformed("proposal in view 0"));
        }
        if self.leader(h.view) != h.proposer {
            return Err(Reject::WrongSender(h.proposer));
        }
        if h.parent != p.justify.block || p.justify.view >= h.view {
            return Err(Reject::Malformed("justify does not certify the parent"));
        }
        if let Some(tc) = &p.tc
            && tc.view.checked_add(1) != Some(h.view)
        {
            return Err(Reject::Malformed("TC not for the previous view"));
        }
        if !C::verify_sig(&self.verifier, h.proposer, &proposal_message(&hash), &p.sig) {
            return Err(Reject::BadSignature(h.proposer));
        }
        self.verify_qc(&p.justify)?;
        if let Some(tc) = &p.tc {
            self.verify_tc(tc)?;
        }
        // Equivocation: a second, different, validly signed proposal for a view. Keep voting only for the first.
        let view = h.view;
        match self.by_view.get(&view) {
            Some(first) if *first != hash => {
                self.stats.equivocations += 1;
                let ev = Equivocation::Proposal { leader: h.proposer, view, blocks: (*first, hash) };
                self.out.push(Action::Evidence(ev));
            }
            Some(_) => {}
            None => {
                self.by_view.insert(view, hash);
            }
        }
        let justify = p.justify.clone();
        let tc = p.tc.clone();
        self.add_block(from, p);
        self.observe_qc(&justify);
        if let Some(tc) = &tc {
            self.observe_tc(tc);
        }
        self.try_vote();
        Ok(())
    }

    /// Inserts a validated proposal into the block tree if its parent is there, else parks it and fetches the
    /// parent. Inserting may release parked descendants.
    fn add_block(&mut self, from: NodeId, p: Proposal<C>) {
        if p.header.height <= self.root.height {
            return; // At or below the decided root: a stale fork or an ancestor we no longer need.
        }
        let parent = p.header.parent;
        match self.blocks.get(&parent) {
            Some(ph) => {
                if ph.height + 1 != p.header.height || ph.view >= p.header.view {
                    self.stats.rejected += 1;
                    return;
                }
            }
            None => {
                if self.orphan_count < MAX_ORPHANS {
                    self.orphan_count += 1;
                    self.orphans.entry(parent).or_default().push(p);
                    self.out.push(Action::Send { to: from, msg: Message::FetchRequest { block: parent } });
                }
                return;
            }
        }
        let mut ready = vec![p];
        while let Some(p) = ready.pop() {
            let hash = p.header.hash();
            if self.blocks.contains_key(&hash) {
                continue;
            }
            self.blocks.insert(hash, p.header.clone());
            let justify = p.justify.clone();
            self.proposals.insert(hash, p);
            if let Some(children) = self.orphans.remove(&hash) {
                self.orphan_count -= children.len();
                ready.extend(children.into_iter().filter(|c| c.header.height == self.blocks[&hash].height + 1));
            }
            self.try_commit(&justify);
        }
        let high = self.high_qc.clone();
        self.try_commit(&high);
        self.try_propose();
    }

    /// Serves a fetch: the block's proposal and up to [`FETCH_BATCH`] - 1 ancestors, oldest first.
    pub(super) fn on_fetch_request(&mut self, from: NodeId, block: Digest) {
        let mut chain = Vec::new();
        let mut cur = block;
        while chain.len() < FETCH_BATCH {
            let Some(p) = self.proposals.get(&cur) else { break };
            chain.push(p.clone());
            cur = p.header.parent;
        }
        for p in chain.into_iter().rev() {
            self.out.push(Action::Send { to: from, msg: Message::FetchResponse(p) });
        }
    }

    /// Asks some of a QC's signers for its block: more than a third of stake among them, so one is honest.
    pub(super) fn fetch_from_signers(&mut self, qc: &super::types::Qc<C>) {
        let mut stake = 0;
        for s in C::signers(&qc.cert) {
            if s == self.id {
                continue;
            }
            stake += self.cfg.table.node_stake(s).unwrap_or(0);
            self.out.push(Action::Send { to: s, msg: Message::FetchRequest { block: qc.block } });
            if stake >= self.cfg.table.one_third() {
                break;
            }
        }
    }

    /// Applies the commit rule to a verified QC. Under [`CommitRule::TwoChain`] the QC's block `B'` and its parent
    /// `B` must be in consecutive views, and then `B` (with its undecided ancestors) is decided.
    pub(super) fn try_commit(&mut self, qc: &super::types::Qc<C>) {
        let Some(certified) = self.blocks.get(&qc.block) else { return };
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
        let Some(target_header) = self.blocks.get(&target) else { return };
        if target_header.height <= self.root.height {
            return;
        }
        // Walk back to the root; a branch that does not reach it conflicts with what was decided: never decide it.
        let mut chain = Vec::new();
        let mut cur = target;
        while cur != self.root_hash {
            let Some(h) = self.blocks.get(&cur) else { return };
            if h.height <= self.root.height {
                return;
            }
            chain.push(h.clone());
            cur = h.parent;
        }
        chain.reverse();
        self.root = target_header.clone();
        self.root_hash = target;
        self.stats.decided += chain.len() as u64;
        self.out.push(Action::Decide { blocks: chain });
        self.out.push(Action::Persist(self.persisted()));
        let root_height = self.root.height;
        let root_hash = self.root_hash;
        // Forget forks below the root; the decided chain stays so lagging peers can fetch it.
        self.blocks.retain(|h, b| b.height >= root_height || *h == root_hash);
    }
}

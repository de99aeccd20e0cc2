//! The quorum vote: a replica votes for the view's proposal once its data gates are open, and the next leader
//! collects the votes into a QC.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::safety::{VoteRule, safe_to_vote};
use super::state::Node;
use super::types::{Action, Equivocation, Message, Qc, Vote, vote_message};
use super::verify::Reject;

impl<C: CertScheme> Node<C> {
    /// Votes for the current view's proposal once every gate is open: the proposal is in the block tree, its DA
    /// certificate is held, this node's own VID share verified, and the safety rule allows it. The safety state is
    /// persisted *before* the vote leaves.
    pub(super) fn try_vote(&mut self) {
        let v = self.view;
        if self.last_voted_view >= v {
            return;
        }
        let Some(hash) = self.by_view.get(&v).copied() else { return };
        let Some(p) = self.proposals.get(&hash) else { return };
        let c = p.header.payload_commitment;
        if !self.da_certs.contains(&(v, c)) || !self.share_ok.contains(&(v, c)) {
            return;
        }
        let tc = p.tc.as_ref().map(|t| (t.view, t.max_high_qc_view()));
        let broken = self.cfg.vote_rule == VoteRule::UnsafeAnyJustify;
        if !broken && !safe_to_vote(v, p.justify.view, tc, self.last_voted_view) {
            return;
        }
        self.last_voted_view = v;
        self.out.push(Action::Persist(self.persisted()));
        let sig = C::sign(&self.key, &vote_message(v, &hash));
        let msg = Message::Vote(Vote { view: v, block: hash, voter: self.id, sig });
        self.out.push(Action::Send { to: self.leader(v + 1), msg });
    }

    /// A verified quorum vote, collected by the next view's leader into a QC.
    pub(super) fn on_vote(&mut self, vote: Vote<C>) -> Result<(), Reject> {
        let Vote { view, block, voter, sig } = vote;
        if !self.in_window(view) || self.leader(view + 1) != self.id {
            return Err(Reject::OutOfWindow(view));
        }
        let stake = self.cfg.table.node_stake(voter).unwrap_or(0);
        match self.vote_seen.get(&(view, voter)) {
            Some(first) if *first != block => {
                self.stats.equivocations += 1;
                let ev = Equivocation::Vote { voter, view, blocks: (*first, block) };
                self.out.push(Action::Evidence(ev));
                return Ok(());
            }
            Some(_) => return Ok(()),
            None => {
                self.vote_seen.insert((view, voter), block);
            }
        }
        let acc = self.votes.entry((view, block)).or_default();
        acc.add(voter, stake, sig);
        if acc.stake() >= self.cfg.table.quorum() && !acc.formed {
            acc.formed = true;
            let qc = Qc { view, block, cert: C::combine(&self.verifier, &acc.sorted()) };
            self.observe_qc(&qc);
        }
        Ok(())
    }
}

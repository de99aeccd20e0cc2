//! Votes: DA proposals and votes, DA certificates, VID shares, and the gated quorum vote.

use super::certificate::CertScheme;
use super::safety::{VoteRule, safe_to_vote};
use super::state::{Node, Reject};
use super::types::{
    Action, DaCert, DataRequest, Digest, Equivocation, Message, NodeId, Qc, VidShare, View, da_proposal_message,
    da_vote_message, vote_message,
};

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
        let msg = Message::Vote { view: v, block: hash, voter: self.id, sig };
        self.out.push(Action::Send { to: self.leader(v + 1), msg });
    }

    /// A quorum vote, collected by the next view's leader into a QC.
    pub(super) fn on_vote(
        &mut self,
        from: NodeId,
        view: View,
        block: Digest,
        voter: NodeId,
        sig: C::Sig,
    ) -> Result<(), Reject> {
        if voter != from {
            return Err(Reject::WrongSender(from));
        }
        if !self.in_window(view) || self.leader(view + 1) != self.id {
            return Err(Reject::OutOfWindow(view));
        }
        let stake = self.cfg.table.stake(voter).unwrap_or(0);
        if stake == 0 {
            return Err(Reject::WrongSender(voter));
        }
        if !C::verify_sig(&self.verifier, voter, &vote_message(view, &block), &sig) {
            return Err(Reject::BadSignature(voter));
        }
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

    /// A DA proposal from the view's leader: ask the engine to check and store the payload.
    pub(super) fn on_da_proposal(
        &mut self,
        from: NodeId,
        view: View,
        commitment: Digest,
        payload: Vec<u8>,
        sig: C::Sig,
    ) -> Result<(), Reject> {
        if self.cfg.da_table.stake(self.id).unwrap_or(0) == 0 {
            return Ok(()); // Not a committee member.
        }
        if from != self.leader(view) {
            return Err(Reject::WrongSender(from));
        }
        if !self.in_window(view) {
            return Err(Reject::OutOfWindow(view));
        }
        if !C::verify_sig(&self.verifier, from, &da_proposal_message(view, &commitment), &sig) {
            return Err(Reject::BadSignature(from));
        }
        if self.da_proposals.contains_key(&view) {
            return Ok(()); // One DA proposal per view; a second one (equivocation) gets no DA vote.
        }
        self.da_proposals.insert(view, commitment);
        self.out.push(Action::RequestData(DataRequest::CheckPayload { view, commitment, payload }));
        Ok(())
    }

    /// The engine's verdict on a DA payload: a good one earns the leader our DA vote.
    pub(super) fn on_payload_checked(&mut self, view: View, commitment: Digest, ok: bool) {
        if !ok || self.da_proposals.get(&view) != Some(&commitment) || self.da_voted_view >= view {
            return;
        }
        self.da_voted_view = view;
        self.payload_ok.insert((view, commitment));
        let sig = C::sign(&self.key, &da_vote_message(view, &commitment));
        let msg = Message::DaVote { view, commitment, voter: self.id, sig };
        self.out.push(Action::Send { to: self.leader(view), msg });
    }

    /// A DA vote, collected by the view's leader into a DA certificate which it broadcasts.
    pub(super) fn on_da_vote(
        &mut self,
        from: NodeId,
        view: View,
        commitment: Digest,
        voter: NodeId,
        sig: C::Sig,
    ) -> Result<(), Reject> {
        if voter != from {
            return Err(Reject::WrongSender(from));
        }
        if self.leader(view) != self.id || !self.in_window(view) {
            return Err(Reject::OutOfWindow(view));
        }
        let stake = self.cfg.da_table.stake(voter).unwrap_or(0);
        if stake == 0 {
            return Err(Reject::WrongSender(voter));
        }
        if !C::verify_sig(&self.verifier, voter, &da_vote_message(view, &commitment), &sig) {
            return Err(Reject::BadSignature(voter));
        }
        let acc = self.da_votes.entry((view, commitment)).or_default();
        acc.add(voter, stake, sig);
        if acc.stake() >= self.cfg.da_table.quorum() && !acc.formed {
            acc.formed = true;
            let cert = DaCert { view, commitment, cert: C::combine(&self.verifier, &acc.sorted()) };
            self.out.push(Action::Broadcast(Message::DaCertificate(cert)));
        }
        Ok(())
    }

    /// A DA certificate: verified against the committee's stake, then it may open the vote gate.
    pub(super) fn on_da_cert(&mut self, c: DaCert<C>) -> Result<(), Reject> {
        if !self.in_window(c.view) {
            return Err(Reject::OutOfWindow(c.view));
        }
        if self.da_certs.contains(&(c.view, c.commitment)) {
            return Ok(());
        }
        let msg = da_vote_message(c.view, &c.commitment);
        C::verify_cert(&self.verifier, &self.cfg.da_table, &msg, &c.cert, self.cfg.da_table.quorum())?;
        self.da_certs.insert((c.view, c.commitment));
        self.try_vote();
        Ok(())
    }

    /// This node's VID share from the view's leader: ask the engine to verify it (once per view).
    pub(super) fn on_vid_share(
        &mut self,
        from: NodeId,
        view: View,
        commitment: Digest,
        share: VidShare,
    ) -> Result<(), Reject> {
        if from != self.leader(view) || share.index != self.id {
            return Err(Reject::WrongSender(from));
        }
        if !self.in_window(view) {
            return Err(Reject::OutOfWindow(view));
        }
        if !self.share_requested.insert(view) {
            return Ok(());
        }
        self.out.push(Action::RequestData(DataRequest::VerifyShare { view, commitment, share }));
        Ok(())
    }

    /// The engine's verdict on our VID share.
    pub(super) fn on_share_checked(&mut self, view: View, commitment: Digest, ok: bool) {
        if ok && self.in_window(view) {
            self.share_ok.insert((view, commitment));
            self.try_vote();
        }
    }
}

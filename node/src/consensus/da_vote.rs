//! Mascarpone: the DA proposal to the committee, the members' payload check and DA vote, and the DA certificate
//! the leader forms and every node checks before its quorum vote.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::state::{Node, Reject};
use super::types::{Action, DaCert, DataRequest, Digest, Message, NodeId, View, da_proposal_message, da_vote_message};

impl<C: CertScheme> Node<C> {
    /// A DA proposal from the view's leader: ask the engine to check and store the payload.
    pub(super) fn on_da_proposal(
        &mut self,
        from: NodeId,
        view: View,
        commitment: Digest,
        payload: Vec<u8>,
        sig: C::Sig,
    ) -> Result<(), Reject> {
        if self.cfg.da_table.node_stake(self.id).unwrap_or(0) == 0 {
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
        let stake = self.cfg.da_table.node_stake(voter).unwrap_or(0);
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
}

//! Mascarpone: the DA proposal to the committee, the members' payload check and DA vote, and the DA certificate
//! the leader forms and every node checks before its quorum vote.
//!
//! The DA proposal is signed by the view's leader over (view, commitment), so it may arrive through any relay; a
//! relay that swaps the payload only makes the payload check fail, and the next copy is checked. The first signed
//! commitment per view is the only one a member votes for; a second one is equivocation evidence.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::state::Node;
use super::types::{
    Action, DaCert, DaProposal, DaVote, DataRequest, Digest, Equivocation, Message, View, da_vote_message,
};
use super::verify::Reject;
use super::vid_share::MAX_HELD_PER_VIEW;

impl<C: CertScheme> Node<C> {
    /// A verified DA proposal: a committee member asks the runtime to recompute the commitment from the payload.
    pub(super) fn on_da_proposal(&mut self, d: DaProposal<C>) -> Result<(), Reject> {
        if self.cfg.da_table.node_stake(self.id).unwrap_or(0) == 0 {
            return Ok(()); // Not a committee member.
        }
        if !self.in_window(d.view) {
            return Err(Reject::OutOfWindow(d.view));
        }
        let (view, commitment) = (d.view, d.commitment);
        match self.da_proposals.get(&view) {
            Some(first) if *first != commitment => {
                self.stats.equivocations += 1;
                let leader = self.leader(view);
                let ev = Equivocation::DaProposal { leader, view, commitments: (*first, commitment) };
                self.out.push(Action::Evidence(ev));
                return Ok(()); // One DA proposal per view: a second one gets no DA vote.
            }
            Some(_) => {}
            None => {
                self.da_proposals.insert(view, commitment);
                self.release_held_shares(view, commitment);
            }
        }
        let key = (view, commitment);
        if self.payload_ok.contains(&key) {
            return Ok(()); // Already checked.
        }
        if !self.payload_checking.insert(key) {
            // A check of another copy is running, and that copy may be an altered one (the signature covers the
            // commitment, not the bytes): keep this one to check if that fails. Bounded; later copies beyond the
            // bound are dropped (the leader's resend recovers from a flood).
            let spares = self.payload_spares.entry(key).or_default();
            let (room, fresh) =
                (spares.len() < MAX_HELD_PER_VIEW, !spares.iter().any(|p| p.as_slice() == d.payload.as_slice()));
            if room && fresh {
                spares.push(d.payload);
            }
            return Ok(());
        }
        self.out.push(Action::RequestData(DataRequest::CheckPayload { view, commitment, payload: d.payload }));
        Ok(())
    }

    /// The runtime's verdict on a DA payload: a good one earns the leader our DA vote; after a bad one (a relay
    /// may have swapped it) the next copy is checked.
    pub(super) fn on_payload_checked(&mut self, view: View, commitment: Digest, ok: bool) {
        let key = (view, commitment);
        self.payload_checking.remove(&key);
        if !ok {
            self.stats.bad_payloads += 1;
            // The next copy that arrived meanwhile, if any.
            let next = self.payload_spares.get_mut(&key).and_then(|s| (!s.is_empty()).then(|| s.remove(0)));
            if let Some(payload) = next {
                self.payload_checking.insert(key);
                self.out.push(Action::RequestData(DataRequest::CheckPayload { view, commitment, payload }));
            }
            return;
        }
        self.payload_spares.remove(&key);
        if self.da_proposals.get(&view) != Some(&commitment) || self.da_voted_view >= view {
            return;
        }
        self.da_voted_view = view;
        self.payload_ok.insert((view, commitment));
        let sig = C::sign(&self.key, &da_vote_message(view, &commitment));
        let msg = Message::DaVote(DaVote { view, commitment, voter: self.id, sig });
        self.out.push(Action::Send { to: self.leader(view), msg });
    }

    /// A verified DA vote, collected by the view's leader into a DA certificate which it broadcasts.
    pub(super) fn on_da_vote(&mut self, vote: DaVote<C>) -> Result<(), Reject> {
        let DaVote { view, commitment, voter, sig } = vote;
        if self.leader(view) != self.id || !self.in_window(view) {
            return Err(Reject::OutOfWindow(view));
        }
        let stake = self.cfg.da_table.node_stake(voter).unwrap_or(0);
        let acc = self.da_votes.entry((view, commitment)).or_default();
        acc.add(voter, stake, sig);
        if acc.stake() >= self.cfg.da_table.quorum() && !acc.formed {
            acc.formed = true;
            let cert = DaCert { view, commitment, cert: C::combine(&self.verifier, &acc.sorted()) };
            self.out.push(Action::Broadcast(Message::DaCertificate(cert)));
        }
        Ok(())
    }

    /// A verified DA certificate: it may open the vote gate, and it vouches for the commitment a held share opens.
    pub(super) fn on_da_cert(&mut self, c: DaCert<C>) -> Result<(), Reject> {
        if !self.in_window(c.view) {
            return Err(Reject::OutOfWindow(c.view));
        }
        if !self.da_certs.insert((c.view, c.commitment)) {
            return Ok(());
        }
        self.release_held_shares(c.view, c.commitment);
        self.try_vote();
        Ok(())
    }
}

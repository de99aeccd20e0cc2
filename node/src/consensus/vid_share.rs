//! Savoiardi: this node's VID share of each block, checked by the runtime before the quorum vote.
//!
//! A share is unsigned: what makes it trustworthy is that it verifies against the payload commitment, and the
//! commitment is trustworthy once the leader's signed proposal (or DA proposal, or a DA certificate) names it. So a
//! share whose commitment is already vouched for is checked at once; one that arrives first is *held*, at most
//! [`MAX_HELD_PER_VIEW`] per view, until its commitment is vouched for. State is keyed by (view, commitment):
//! a forged share for a wrong commitment never takes the real one's place, and after a share fails its check the
//! next candidate is tried. A node that has the proposal but no share after [`super::Config::share_request_ms`] asks
//! the leader, then the DA committee (whose members rebuild shares from the payload they stored).

use super::certificate::CertScheme;
use super::state::{Node, RETAIN_VIEWS};
use super::types::{Action, DataRequest, Digest, Message, NodeId, TimerKind, VidShare, View};
use super::verify::Reject;

/// Shares held per view while their commitment is not yet vouched for.
pub const MAX_HELD_PER_VIEW: usize = 4;

impl<C: CertScheme> Node<C> {
    /// Whether a signed message (proposal, DA proposal, DA certificate) vouches for `commitment` in `view`.
    fn vouched(&self, view: View, commitment: &Digest) -> bool {
        let proposed = self.by_view.get(&view).and_then(|h| self.proposals.get(h));
        proposed.is_some_and(|p| p.header.payload_commitment == *commitment)
            || self.da_proposals.get(&view) == Some(commitment)
            || self.da_certs.contains(&(view, *commitment))
    }

    /// A VID share for this node, from anyone: checked now if its commitment is vouched for, else held.
    pub(super) fn on_vid_share(&mut self, s: VidShare) -> Result<(), Reject> {
        if s.node != self.id {
            return Ok(()); // Someone else's share: not ours to check.
        }
        if !self.in_window(s.view) {
            return self.on_late_share(s);
        }
        let key = (s.view, s.commitment);
        if self.share_ok.contains(&key) {
            return Ok(());
        }
        if self.vouched(s.view, &s.commitment) && !self.share_checking.contains(&key) {
            self.check_share(s);
            return Ok(());
        }
        let held = self.held_shares.entry(s.view).or_default();
        if held.iter().any(|h| h.commitment == s.commitment && h.share == s.share) {
            return Ok(()); // The same copy again.
        }
        if held.len() >= MAX_HELD_PER_VIEW {
            self.stats.dropped_shares += 1;
            return Ok(()); // The share request after the delay recovers from a flood.
        }
        held.push(s);
        Ok(())
    }

    /// A share for a view already left: no vote depends on it any more, but the node must hold its share of every
    /// block (for retrieval by others). Checked — and stored by the runtime — when its commitment is the known
    /// proposal's, at most [`MAX_HELD_PER_VIEW`] times per view (a flood of copies costs a bounded amount of work).
    fn on_late_share(&mut self, s: VidShare) -> Result<(), Reject> {
        if s.view.saturating_add(RETAIN_VIEWS) < self.view {
            return Err(Reject::OutOfWindow(s.view));
        }
        // Vouched for by the proposal we saw for that view, by a decided proposal we keep, or a block we hold.
        let proposed = self.by_view.get(&s.view).and_then(|h| self.proposals.get(h));
        let vouched = proposed.is_some_and(|p| p.header.payload_commitment == s.commitment)
            || self.proposals.values().any(|p| p.header.view == s.view && p.header.payload_commitment == s.commitment)
            || self.blocks.values().any(|h| h.view == s.view && h.payload_commitment == s.commitment);
        if !vouched {
            return Err(Reject::OutOfWindow(s.view));
        }
        let checks = self.late_share_checks.entry(s.view).or_insert(0);
        if usize::from(*checks) >= MAX_HELD_PER_VIEW {
            self.stats.dropped_shares += 1;
            return Ok(());
        }
        *checks += 1;
        self.out.push(Action::RequestData(DataRequest::VerifyShare(s)));
        Ok(())
    }

    fn check_share(&mut self, s: VidShare) {
        self.share_checking.insert((s.view, s.commitment));
        self.out.push(Action::RequestData(DataRequest::VerifyShare(s)));
    }

    /// A signed message vouched for `commitment` in `view`: check a held share for it, if there is one.
    pub(super) fn release_held_shares(&mut self, view: View, commitment: Digest) {
        let key = (view, commitment);
        if self.share_ok.contains(&key) || self.share_checking.contains(&key) {
            return;
        }
        let Some(held) = self.held_shares.get_mut(&view) else { return };
        if let Some(i) = held.iter().position(|h| h.commitment == commitment) {
            let s = held.swap_remove(i);
            self.check_share(s);
        }
    }

    /// The runtime's verdict on our share: a good one opens the vote gate; after a bad one the next held
    /// candidate for the same commitment is checked.
    pub(super) fn on_share_checked(&mut self, view: View, commitment: Digest, ok: bool) {
        self.share_checking.remove(&(view, commitment));
        if !self.in_window(view) {
            return;
        }
        if ok {
            self.share_ok.insert((view, commitment));
            self.try_vote();
        } else {
            self.stats.bad_shares += 1;
            self.release_held_shares(view, commitment);
            // No held candidate left: ask for the share (the timer was not armed while this one was checked).
            if view == self.view && !self.share_checking.contains(&(view, commitment)) {
                self.arm_share_timer();
            }
        }
    }

    /// The current view's proposal is here: if our share is not, arm the share timer.
    pub(super) fn arm_share_timer(&mut self) {
        if let Some(c) = self.missing_share(self.view)
            && self.share_asks == 0
            && !self.share_checking.contains(&(self.view, c))
        {
            let after_ms = self.cfg.share_request_ms;
            self.out.push(Action::SetTimer { kind: TimerKind::Share, view: self.view, after_ms });
        }
    }

    /// The commitment of `view`'s proposal when this node has the proposal but not a verified share for it.
    fn missing_share(&self, view: View) -> Option<Digest> {
        let p = self.by_view.get(&view).and_then(|h| self.proposals.get(h))?;
        let c = p.header.payload_commitment;
        (!self.share_ok.contains(&(view, c))).then_some(c)
    }

    /// The share timer expired: ask the leader first, then every DA committee member; back off each time.
    pub(super) fn on_share_timer(&mut self, view: View) {
        if view != self.view {
            return;
        }
        let Some(commitment) = self.missing_share(view) else { return };
        let ask = Message::ShareRequest { requester: self.id, view, commitment };
        let leader = self.leader(view);
        let targets: Vec<NodeId> =
            if self.share_asks == 0 { vec![leader] } else { self.cfg.da_members_except(self.id) };
        for to in targets {
            self.stats.share_requests += 1;
            self.out.push(Action::Send { to, msg: ask.clone() });
        }
        self.share_asks += 1;
        let after_ms = self.cfg.share_request_ms << self.share_asks.min(4);
        self.out.push(Action::SetTimer { kind: TimerKind::Share, view, after_ms });
    }

    /// A peer asks for its share: the runtime serves it if this node can (it dispersed the block, or stored the
    /// payload as a DA member).
    pub(super) fn on_share_request(&mut self, requester: NodeId, view: View, commitment: Digest) -> Result<(), Reject> {
        if requester == self.id {
            return Ok(());
        }
        // Late requests too (within the retained views): a node must get its share of a block decided without it.
        if view.saturating_add(RETAIN_VIEWS) < self.view || !self.in_window(view.max(self.view)) {
            return Err(Reject::OutOfWindow(view));
        }
        self.out.push(Action::ServeShare { to: requester, view, commitment });
        Ok(())
    }
}

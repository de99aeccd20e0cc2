//! Timeouts, timeout certificates and view synchronisation.
//!
//! A node whose view timer expires broadcasts a timeout vote carrying its highest QC; more than 2/3 of stake of
//! them form a timeout certificate (TC) that moves everyone to the next view. More than 1/3 of stake timing out
//! makes a node join them, since at least one honest node gave up on the view.
//!
//! View sync: a TC assumes the timeout votes reach everyone. After a partition, or for a node that restarted, they
//! may not have. So when the timer expires *again* in a view the node already timed out in, it broadcasts a
//! [`Message::ViewSync`] with its highest QC and latest TC (and re-sends its timeout vote), and any node that sees
//! a peer behind it replies with its own certificates. Certificates are self-verifying, so a lagging node jumps
//! straight to the newest view anyone can prove, instead of replaying the views it missed. This is the
//! certificate-forwarding synchroniser of Jolteon and HotStuff-2, not HotShot's three-phase view-sync protocol.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::state::Node;
use super::types::{Action, Message, NodeId, Qc, Tc, TimeoutVote, TimerKind, View, timeout_message};
use super::verify::Reject;

impl<C: CertScheme> Node<C> {
    /// The view timer expired.
    pub(super) fn on_timer(&mut self, view: View) {
        if view != self.view {
            return; // A timer for a view we already left.
        }
        if !self.timed_out {
            self.send_timeout();
        } else {
            let sync = Message::ViewSync { sender: self.id, high_qc: self.high_qc.clone(), tc: self.last_tc.clone() };
            self.out.push(Action::Broadcast(sync));
            if let Some(tv) = self.my_timeout.clone() {
                self.out.push(Action::Broadcast(Message::Timeout(tv)));
            }
            // Still stuck: maybe far behind the others' decisions.
            self.request_sync_if_behind(true);
        }
        self.expiries += 1;
        self.out.push(Action::SetTimer { kind: TimerKind::View, view, after_ms: self.timer_ms() });
    }

    /// Gives up on the current view: no more voting in it (persisted first), then the timeout vote.
    fn send_timeout(&mut self) {
        let view = self.view;
        self.timed_out = true;
        self.last_voted_view = self.last_voted_view.max(view);
        self.out.push(Action::Persist(self.persisted()));
        let sig = C::sign(&self.key, &timeout_message(view, self.high_qc.view));
        let tv = TimeoutVote { view, high_qc: self.high_qc.clone(), voter: self.id, sig };
        self.my_timeout = Some(tv.clone());
        self.out.push(Action::Broadcast(Message::Timeout(tv)));
    }

    /// A verified timeout vote.
    pub(super) fn on_timeout_vote(&mut self, tv: TimeoutVote<C>) -> Result<(), Reject> {
        if tv.view > self.view.saturating_add(self.cfg.max_views_ahead) {
            return Err(Reject::OutOfWindow(tv.view));
        }
        if tv.view < self.view {
            // The voter is behind: help it catch up, once per view of theirs.
            self.reply_sync(tv.voter, tv.view);
            return Ok(());
        }
        let stake = self.cfg.table.node_stake(tv.voter).unwrap_or(0);
        self.observe_qc(&tv.high_qc);
        if tv.view < self.view {
            return Ok(());
        }
        let acc = self.timeouts.entry(tv.view).or_default();
        acc.add(tv.voter, stake, (tv.high_qc.view, tv.sig));
        let (have, formed) = (acc.stake(), acc.formed);
        if tv.view == self.view && !self.timed_out && have >= self.cfg.table.one_third() {
            self.send_timeout();
        }
        if have >= self.cfg.table.quorum() && !formed {
            let Some(acc) = self.timeouts.get_mut(&tv.view) else { return Ok(()) };
            acc.formed = true;
            let votes = acc.sorted().into_iter().map(|(id, (hv, sig))| (id, hv, sig)).collect();
            let tc = Tc { view: tv.view, votes };
            self.observe_tc(&tc);
        }
        Ok(())
    }

    /// A verified view-sync message: adopt any newer certificate, and answer a sender that is behind.
    pub(super) fn on_view_sync(&mut self, sender: NodeId, high_qc: Qc<C>, tc: Option<Tc<C>>) -> Result<(), Reject> {
        let their_view = high_qc.view.max(tc.as_ref().map_or(0, |t| t.view)).saturating_add(1);
        if high_qc.view > self.high_qc.view || high_qc.view.saturating_add(1) > self.view {
            self.observe_qc(&high_qc);
        }
        if let Some(tc) = tc
            && tc.view.saturating_add(1) > self.view
        {
            self.observe_tc(&tc);
        }
        if their_view < self.view {
            self.reply_sync(sender, their_view);
        }
        Ok(())
    }

    /// Sends a lagging peer our certificates, at most once per view of theirs (no ping-pong, no amplification).
    fn reply_sync(&mut self, to: NodeId, their_view: View) {
        if to == self.id || self.synced.get(&to).is_some_and(|v| *v >= their_view) {
            return;
        }
        self.synced.insert(to, their_view);
        let msg = Message::ViewSync { sender: self.id, high_qc: self.high_qc.clone(), tc: self.last_tc.clone() };
        self.out.push(Action::Send { to, msg });
    }
}

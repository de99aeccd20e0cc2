//! Catch-up by range sync: a node that finds itself far behind (a proposal or QC far above its decided root)
//! asks peers for decided headers from its root up, and accepts a range only as [`super::verify`] checked it: every
//! header certified by its QC, the whole range hash-linked, the last header proven decided by a QC on its child
//! from the next view. The range must also extend this node's own decided root. A peer therefore cannot feed a
//! false chain; at worst it sends nothing, and another peer is asked.
//!
//! Short gaps are filled by fetching parents (`proposal.rs`); ranges serve the long ones, and they come from the
//! runtime's store ([`Action::ServeSync`]), so the core keeps only a bounded window of decided blocks in memory.

use super::certificate::CertScheme;
use super::leader::Membership;
use super::state::Node;
use super::types::{Action, DecidedRange, Message, NodeId};
use super::verify::Reject;

/// Blocks behind the highest known height before a node asks for a range instead of fetching parents.
pub const SYNC_GAP: u64 = 8;

impl<C: CertScheme> Node<C> {
    /// A verified message showed that height `h` exists; ask for a range if that leaves us far behind.
    pub(super) fn note_height(&mut self, h: u64) {
        self.sync_target = self.sync_target.max(h);
        self.request_sync_if_behind(false);
    }

    /// Asks peers holding more than a third of the stake for decided headers above our root, at most once per
    /// view; `stuck` asks even for a short gap (the view timer expired twice).
    pub(super) fn request_sync_if_behind(&mut self, stuck: bool) {
        let gap = self.sync_target.saturating_sub(self.root.height);
        if (gap <= SYNC_GAP && !(stuck && gap > 0)) || self.sync_asked_view == Some(self.view) {
            return;
        }
        self.sync_asked_view = Some(self.view);
        let n = self.cfg.table.len();
        let msg = Message::SyncRequest { requester: self.id, from_height: self.root.height + 1 };
        let mut stake = 0;
        // Start at a view-dependent node so repeated requests spread over the peers.
        for k in 0..n {
            let to = ((self.view as usize + k) % n) as NodeId;
            if to == self.id {
                continue;
            }
            stake += self.cfg.table.node_stake(to).unwrap_or(0);
            self.out.push(Action::Send { to, msg: msg.clone() });
            if stake >= self.cfg.table.one_third() {
                break;
            }
        }
    }

    /// A peer asks for decided headers: the runtime answers from its store if it has them.
    pub(super) fn on_sync_request(&mut self, requester: NodeId, from_height: u64) {
        if requester != self.id && from_height <= self.root.height {
            self.out.push(Action::ServeSync { to: requester, from_height });
        }
    }

    /// A verified range of decided headers: decide the part above our root, if it extends our root.
    pub(super) fn on_sync_response(&mut self, range: DecidedRange<C>) -> Result<(), Reject> {
        let next = self.root.height + 1;
        let Some(start) = range.blocks.iter().position(|(h, _)| h.height == next) else {
            return Ok(()); // Nothing new for us, or it starts above our root: cannot link it.
        };
        if range.blocks[start].0.parent != self.root_hash {
            return Err(Reject::Malformed("decided range does not extend our decided root"));
        }
        let DecidedRange { mut blocks, proof } = range;
        let chain = blocks.split_off(start);
        let decided = chain.len() as u64;
        let child = proof.child.clone();
        let child_qc = proof.child_qc.clone();
        self.decide(chain, proof);
        self.stats.synced += decided;
        // The commit proof's child sits right above the new root: keep its header so QCs on it can commit.
        let child_hash = child.hash();
        self.blocks.insert(child_hash, child);
        self.note_height(self.root.height + 1);
        self.adopt_orphans(self.root_hash);
        self.adopt_orphans(child_hash);
        self.observe_qc(&child_qc);
        // More to fetch: ask again now, not in the next view.
        self.sync_asked_view = None;
        self.request_sync_if_behind(false);
        Ok(())
    }

    /// Moves proposals parked on `parent` into the tree, now that `parent` is in it.
    fn adopt_orphans(&mut self, parent: super::types::Digest) {
        if let Some(children) = self.orphans.remove(&parent) {
            self.orphan_count -= children.len();
            for p in children {
                if p.header.height > self.root.height {
                    self.insert_chain(p);
                }
            }
        }
    }
}

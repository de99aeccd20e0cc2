//! The checkers every simulation runs: safety, liveness and availability.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crema_engine::Backend;
use crema_engine::stake::Fraction;
use crema_engine::vid::Vid;

use crate::consensus::{Digest, Header, NodeId, View};
use crate::da::savoiardi;

/// Decided heights between a block's decision and its availability check (its shares are all in by then).
const AVAILABILITY_LAG: u64 = 64;

/// A property violation found in a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two honest nodes (or one node twice) decided different blocks at one height, or a chain is not a prefix.
    Safety(String),
    /// An honest node did not decide within the bound after GST.
    Liveness(String),
    /// A decided block lacks a DA certificate or enough verified shares to rebuild it.
    Availability(String),
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Safety(s) => write!(f, "safety: {s}"),
            Violation::Liveness(s) => write!(f, "liveness: {s}"),
            Violation::Availability(s) => write!(f, "availability: {s}"),
        }
    }
}

/// A dispersal's common data and the shares honest nodes verified of it, by node.
type HonestShares = (Arc<Vec<u8>>, BTreeMap<NodeId, Vec<u8>>);

/// Collects decisions and data facts during a run, then judges them.
#[derive(Debug, Default)]
pub struct Checker {
    /// Per honest node: height -> decided block hash.
    per_node: HashMap<NodeId, BTreeMap<u64, Digest>>,
    /// The first decision seen at each height (by any honest node), with its parent.
    canonical: BTreeMap<u64, (Digest, Digest, Digest)>,
    /// Commitments for which a valid DA certificate was sent by someone.
    da_certified: HashSet<Digest>,
    /// Commitment -> the common data and the shares honest nodes verified (their own), by node.
    shares: HashMap<Digest, HonestShares>,
    /// Commitments whose full payload an honest DA member checked and holds.
    payloads_held: HashSet<Digest>,
    /// Decided blocks whose honest shares fell short of the scheme's threshold, available through the DA committee.
    pub available_by_da_only: u64,
    /// Heights whose availability was checked (and whose shares were dropped).
    checked_upto: u64,
    /// Messages honest nodes could not decode or verify.
    pub rejected_messages: u64,
    /// Per honest node: the node's view at its first decision after GST.
    first_after_gst: HashMap<NodeId, View>,
    /// Per honest node: blocks decided after GST.
    decided_after_gst: HashMap<NodeId, u64>,
    /// Violations found so far.
    pub violations: Vec<Violation>,
}

impl Checker {
    /// Records an honest node's decision of `blocks` while at `view`.
    pub fn decide(&mut self, node: NodeId, blocks: &[Header], view: View, after_gst: bool) {
        for h in blocks {
            let hash = h.hash();
            let mine = self.per_node.entry(node).or_default();
            if let Some(prev) = mine.get(&h.height) {
                if *prev != hash {
                    self.violations.push(Violation::Safety(format!(
                        "node {node} decided {} then {} at height {}",
                        prev.short(),
                        hash.short(),
                        h.height
                    )));
                }
                continue; // A restarted node may re-decide what it decided before the crash.
            }
            // Decided chains must be contiguous and linked: each block's parent is the block below it.
            if let Some(below) = mine.get(&(h.height - 1)) {
                if *below != h.parent {
                    self.violations.push(Violation::Safety(format!(
                        "node {node}: block at height {} does not extend its decided parent",
                        h.height
                    )));
                }
            } else if h.height > 1 && mine.range(..h.height).next_back().is_some() {
                self.violations.push(Violation::Safety(format!("node {node}: gap below height {}", h.height)));
            }
            mine.insert(h.height, hash);
            match self.canonical.get(&h.height) {
                Some((other, _, _)) if *other != hash => self.violations.push(Violation::Safety(format!(
                    "height {}: node {node} decided {}, another honest node {}",
                    h.height,
                    hash.short(),
                    other.short()
                ))),
                Some(_) => {}
                None => {
                    self.canonical.insert(h.height, (hash, h.parent, h.payload_commitment));
                }
            }
            if after_gst {
                self.first_after_gst.entry(node).or_insert(view);
                *self.decided_after_gst.entry(node).or_default() += 1;
            }
        }
    }

    /// Records that a valid DA certificate for `commitment` was sent.
    pub fn da_certified(&mut self, commitment: Digest) {
        self.da_certified.insert(commitment);
    }

    /// Records that honest `node` verified its own share for `commitment`.
    pub fn share_verified(&mut self, node: NodeId, commitment: Digest, common: &Arc<Vec<u8>>, share: &[u8]) {
        let entry = self.shares.entry(commitment).or_insert_with(|| (common.clone(), BTreeMap::new()));
        entry.1.insert(node, share.to_vec());
    }

    /// Records that honest DA member checked `commitment`'s full payload and holds it.
    pub fn payload_held(&mut self, commitment: Digest) {
        self.payloads_held.insert(commitment);
    }

    /// Availability of every decided height up to `upto`: a DA certificate was formed for it, and the payload
    /// rebuilds (really: a VID recovery) from the shares honest nodes verified. Their shares are dropped after.
    ///
    /// That holds for a threshold of at most a third of the stake: a QC's voters hold more than two thirds, so the
    /// honest ones among them more than a third. The kzg scheme's rate-1/2 code needs half, which the honest
    /// voters of a QC need not hold when the leader and the faulty nodes collude (split dispersal: the honest
    /// nodes given a bad share do not vote, the faulty ones do). Such a block's availability rests on the DA
    /// committee (Mascarpone); the checker then asks that an honest DA member checked and holds the payload.
    pub fn check_available(&mut self, upto: u64, vid: &Vid, backend: &dyn Backend) {
        let heights: Vec<u64> = self.canonical.range(self.checked_upto + 1..=upto).map(|(h, _)| *h).collect();
        for height in heights {
            let (hash, _, commitment) = self.canonical[&height];
            if !self.da_certified.contains(&commitment) {
                self.violations.push(Violation::Availability(format!(
                    "height {height} block {} has no DA certificate",
                    hash.short()
                )));
            }
            let Some((common, shares)) = self.shares.remove(&commitment) else {
                self.violations
                    .push(Violation::Availability(format!("height {height}: no honest node verified a share")));
                continue;
            };
            let refs: Vec<&[u8]> = shares.values().map(Vec::as_slice).collect();
            if let Err(e) = savoiardi::recover(vid, backend, &commitment, &common, &refs) {
                let above_a_third = !Fraction::ONE_THIRD.at_least(vid.threshold());
                if above_a_third && self.payloads_held.contains(&commitment) {
                    self.available_by_da_only += 1;
                } else {
                    self.violations.push(Violation::Availability(format!(
                        "height {height}: the {} shares honest nodes verified do not rebuild the payload: {e}",
                        shares.len()
                    )));
                }
            }
            self.payloads_held.remove(&commitment);
            self.checked_upto = height;
        }
        // Shares of blocks that were never decided (forks, failed views) are dropped with the checked heights.
        let live: HashSet<Digest> = self.canonical.range(self.checked_upto + 1..).map(|(_, c)| c.2).collect();
        if self.shares.len() > 4 * AVAILABILITY_LAG as usize {
            self.shares.retain(|c, _| live.contains(c));
        }
        if self.payloads_held.len() > 4 * AVAILABILITY_LAG as usize {
            self.payloads_held.retain(|c| live.contains(c));
        }
    }

    /// Checks heights far enough below the top that all their shares are in.
    pub fn check_settled(&mut self, vid: &Vid, backend: &dyn Backend) {
        let settled = self.max_height().saturating_sub(AVAILABILITY_LAG);
        if settled > self.checked_upto {
            self.check_available(settled, vid, backend);
        }
    }

    /// Blocks `node` decided after GST.
    pub fn decided_after_gst(&self, node: NodeId) -> u64 {
        self.decided_after_gst.get(&node).copied().unwrap_or(0)
    }

    /// The highest height any honest node decided.
    pub fn max_height(&self) -> u64 {
        self.canonical.keys().next_back().copied().unwrap_or(0)
    }

    /// Final judgement. `live` are the honest nodes expected to decide after GST; `gst_view` the highest honest
    /// view at GST; `bound` the number of views they get; every decided payload must rebuild from honest shares
    /// with `vid`. Returns the views to recover (worst node), if all did.
    pub fn finish(
        &mut self,
        live: &[NodeId],
        gst_view: View,
        bound: View,
        vid: &Vid,
        backend: &dyn Backend,
    ) -> Option<View> {
        self.check_available(self.max_height(), vid, backend);
        let mut worst = 0;
        for n in live {
            match self.first_after_gst.get(n) {
                Some(v) => {
                    let took = v.saturating_sub(gst_view);
                    if took > bound {
                        self.violations.push(Violation::Liveness(format!(
                            "node {n} first decided after GST {took} views later (bound {bound})"
                        )));
                    }
                    worst = worst.max(took);
                }
                None => {
                    self.violations.push(Violation::Liveness(format!("node {n} decided nothing after GST")));
                    return None;
                }
            }
        }
        Some(worst)
    }
}

//! Consensus on top of the engine's one stake model ([`StakeTable`]): the quorum thresholds by name, and
//! stake-weighted deterministic leader election.

use crema_engine::stake::{Fraction, StakeTable};

use super::types::{NodeId, View};

/// What consensus asks of a stake table, in its own vocabulary.
pub trait Membership {
    /// A node's stake, or `None` for an id outside the table (a Byzantine sender may claim anything).
    fn node_stake(&self, id: NodeId) -> Option<u64>;
    /// The least stake strictly more than two thirds of the total: the QC, DA and TC threshold.
    fn quorum(&self) -> u64;
    /// The least stake strictly more than one third: any such set contains an honest node.
    fn one_third(&self) -> u64;
    /// The leader of `view`: a node drawn with probability proportional to stake, from a hash of the view alone,
    /// so every node computes the same leader with no communication. Zero-stake entries never lead.
    fn leader(&self, view: View) -> NodeId;
}

impl Membership for StakeTable {
    fn node_stake(&self, id: NodeId) -> Option<u64> {
        self.stake(id as usize)
    }

    fn quorum(&self) -> u64 {
        self.more_than(Fraction::TWO_THIRDS)
    }

    fn one_third(&self) -> u64 {
        self.more_than(Fraction::ONE_THIRD)
    }

    fn leader(&self, view: View) -> NodeId {
        // The total is never zero, so r is a unit of the table and has an owner; entries are at most
        // 65 535, so the index fits a NodeId.
        let r = splitmix64(view ^ 0x6372_656d_615f_6c64) % self.total();
        self.owner(r).unwrap_or(0) as NodeId
    }
}

/// SplitMix64: a cheap, well-mixed 64-bit hash; leader election needs determinism and spread, not secrecy.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_strictly_more_than_fractions() {
        let t = StakeTable::equal(4).unwrap();
        assert_eq!((t.quorum(), t.one_third()), (3, 2));
        assert_eq!(StakeTable::equal(3).unwrap().quorum(), 3);
        let t = StakeTable::equal(10).unwrap();
        assert_eq!((t.quorum(), t.one_third()), (7, 4));
    }

    #[test]
    fn leader_election_follows_stake() {
        let t = StakeTable::new(vec![1, 0, 3]).unwrap();
        let mut counts = [0u32; 3];
        for v in 0..40_000 {
            counts[t.leader(v) as usize] += 1;
        }
        assert_eq!(counts[1], 0, "zero stake never leads");
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((2.7..3.3).contains(&ratio), "ratio {ratio}");
        assert_eq!(t.leader(17), t.leader(17));
        let tail = StakeTable::new(vec![2, 0]).unwrap();
        assert!((0..1000).all(|v| tail.leader(v) == 0), "a zero-stake last entry never leads");
    }
}

//! The stake table, quorum thresholds and stake-weighted deterministic leader election.

use super::types::{NodeId, View};

/// Stake per node, indexed by [`NodeId`]. Fixed for the life of a simulation (no epochs yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeTable {
    stakes: Vec<u64>,
    total: u64,
    /// `cumulative[i]` is the stake of nodes `0..=i`; leader election binary-searches it.
    cumulative: Vec<u64>,
}

impl StakeTable {
    /// A table from per-node stakes. Zero-stake nodes are allowed (they never lead and their votes add nothing).
    ///
    /// # Panics
    /// If the table is empty, has more than `u16::MAX` entries, or its total stake is zero: that is a
    /// configuration error, never network input.
    pub fn new(stakes: Vec<u64>) -> Self {
        assert!(!stakes.is_empty() && stakes.len() <= NodeId::MAX as usize, "stake table size");
        let mut cumulative = Vec::with_capacity(stakes.len());
        let mut total = 0u64;
        for s in &stakes {
            total = total.checked_add(*s).expect("total stake overflows u64");
            cumulative.push(total);
        }
        assert!(total > 0, "total stake is zero");
        StakeTable { stakes, total, cumulative }
    }

    /// `n` nodes with stake 1 each.
    pub fn equal(n: usize) -> Self {
        Self::new(vec![1; n])
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.stakes.len()
    }

    /// Whether the table is empty (never true: [`StakeTable::new`] refuses it).
    pub fn is_empty(&self) -> bool {
        self.stakes.is_empty()
    }

    /// A node's stake, or `None` for an index outside the table (a Byzantine sender may claim anything).
    pub fn stake(&self, id: NodeId) -> Option<u64> {
        self.stakes.get(id as usize).copied()
    }

    /// Total stake.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The least stake that is strictly more than two thirds of the total: the QC, DA and TC threshold.
    pub fn quorum(&self) -> u64 {
        (self.total as u128 * 2 / 3) as u64 + 1
    }

    /// The least stake that is strictly more than one third: any such set contains an honest node.
    pub fn one_third(&self) -> u64 {
        self.total / 3 + 1
    }

    /// The leader of `view`: a node drawn with probability proportional to stake, from a hash of the view alone,
    /// so every node computes the same leader with no communication.
    pub fn leader(&self, view: View) -> NodeId {
        let r = splitmix64(view ^ 0x6372_656d_615f_6c64) % self.total;
        // First index whose cumulative stake exceeds r.
        self.cumulative.partition_point(|&c| c <= r) as NodeId
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
        let t = StakeTable::equal(4);
        assert_eq!(t.quorum(), 3);
        assert_eq!(t.one_third(), 2);
        let t = StakeTable::equal(3);
        assert_eq!(t.quorum(), 3);
        let t = StakeTable::equal(10);
        assert_eq!(t.quorum(), 7);
        assert_eq!(t.one_third(), 4);
    }

    #[test]
    fn leader_election_follows_stake() {
        let t = StakeTable::new(vec![1, 0, 3]);
        let mut counts = [0u32; 3];
        for v in 0..40_000 {
            counts[t.leader(v) as usize] += 1;
        }
        assert_eq!(counts[1], 0, "zero stake never leads");
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((2.7..3.3).contains(&ratio), "ratio {ratio}");
        assert_eq!(t.leader(17), t.leader(17));
    }
}

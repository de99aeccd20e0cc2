//! VID share units: a [`StakeTable`] whose stakes are share-unit counts the erasure code can carry.
//!
//! The stake model itself (tables, exact thresholds) is [`crate::stake`]; this file adds only
//! what dispersal needs on top of it: every node owns at least one unit, and the units add up
//! to at most [`MAX_UNITS`] (Leopard codes at most 65 536 shards).

use super::VidError;
use crate::stake::StakeTable;

/// Most weight units a dispersal may have: Leopard codes at most 65536 shards.
pub const MAX_UNITS: u64 = 65_535;

/// Per-node share-unit counts: node `i` owns the units `offset(i) .. offset(i) + weight(i)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    table: StakeTable,
}

impl Weights {
    /// Validates the weights: at least one node, none zero, at most [`MAX_UNITS`] in total.
    pub fn new(weights: Vec<u32>) -> Result<Self, VidError> {
        if weights.len() as u64 > MAX_UNITS {
            return Err(VidError::InvalidWeights(format!("{} nodes, at most {MAX_UNITS} supported", weights.len())));
        }
        Self::from_stake(StakeTable::new(weights.into_iter().map(u64::from).collect())?)
    }

    /// `n` nodes of weight 1 each; `n` is checked before anything is allocated.
    pub fn equal(n: usize) -> Result<Self, VidError> {
        if n as u64 > MAX_UNITS {
            return Err(VidError::InvalidWeights(format!("{n} nodes, at most {MAX_UNITS} supported")));
        }
        Self::from_stake(StakeTable::equal(n as u64)?)
    }

    /// Uses a stake table's stakes as unit counts, if the code can carry them.
    pub fn from_stake(table: StakeTable) -> Result<Self, VidError> {
        if let Some(i) = table.stakes().iter().position(|&w| w == 0) {
            return Err(VidError::InvalidWeights(format!("node {i} has weight 0")));
        }
        if table.total() > MAX_UNITS {
            return Err(VidError::InvalidWeights(format!(
                "{} units in total, at most {MAX_UNITS} supported",
                table.total()
            )));
        }
        Ok(Self { table })
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.table.len()
    }

    /// Total weight (= share units, at most [`MAX_UNITS`]).
    pub fn total(&self) -> u64 {
        self.table.total()
    }

    /// Weight of `node` (fits u32: the total is at most [`MAX_UNITS`]).
    pub fn weight(&self, node: usize) -> Result<u32, VidError> {
        let w = self.table.stake(node).ok_or(VidError::NodeOutOfRange { node, nodes: self.nodes() })?;
        Ok(w as u32)
    }

    /// First unit of `node`.
    pub fn offset(&self, node: usize) -> Result<u64, VidError> {
        self.table.offset(node).ok_or(VidError::NodeOutOfRange { node, nodes: self.nodes() })
    }

    /// The weights as unit counts, by node.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.table.stakes().iter().map(|&w| w as u32)
    }

    /// The underlying stake table.
    pub fn stake_table(&self) -> &StakeTable {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_validate_and_lay_out_units() {
        let w = Weights::new(vec![2, 1, 3]).unwrap();
        assert_eq!((w.total(), w.offset(2).unwrap(), w.weight(1).unwrap()), (6, 3, 1));
        assert!(w.offset(3).is_err());
        assert!(Weights::new(vec![]).is_err());
        assert!(Weights::new(vec![1, 0]).is_err());
        assert!(Weights::new(vec![40_000, 40_000]).is_err());
        // Refused before allocating (this once allocated until the kernel killed the process).
        assert!(Weights::equal(100_000_000_000).is_err());
        assert!(Weights::equal(usize::MAX).is_err());
        assert_eq!(Weights::equal(MAX_UNITS as usize).unwrap().total(), MAX_UNITS);
    }
}

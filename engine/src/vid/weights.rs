//! Stake weights and recovery thresholds.

use super::VidError;

/// Most weight units a dispersal may have: Leopard codes at most 65536 shards.
pub const MAX_UNITS: u64 = 65_535;

/// A fraction `num/den` in (0, 1], compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    num: u64,
    den: u64,
}

impl Fraction {
    /// One third: any honest third of the weight rebuilds the payload (the default).
    pub const ONE_THIRD: Fraction = Fraction { num: 1, den: 3 };
    /// One half: the rate of the KZG scheme's 2x extension (its fixed threshold).
    pub const ONE_HALF: Fraction = Fraction { num: 1, den: 2 };

    /// Builds `num/den`, refusing anything outside (0, 1].
    pub fn new(num: u64, den: u64) -> Result<Self, VidError> {
        if num == 0 || den == 0 || num > den {
            return Err(VidError::InvalidThreshold { num, den });
        }
        Ok(Self { num, den })
    }

    /// Parses `"1/3"` (or `"1"`).
    pub fn parse(s: &str) -> Result<Self, VidError> {
        let bad = || VidError::InvalidThreshold { num: 0, den: 0 };
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        Self::new(n.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?)
    }

    /// `ceil(total · num / den)`: the least integer weight reaching the fraction of `total`.
    pub fn ceil_of(&self, total: u64) -> u64 {
        ((total as u128 * self.num as u128).div_ceil(self.den as u128)) as u64
    }

    /// Whether `self ≥ other`, compared exactly.
    pub fn at_least(&self, other: Fraction) -> bool {
        self.num as u128 * other.den as u128 >= other.num as u128 * self.den as u128
    }

    /// Numerator.
    pub fn num(&self) -> u64 {
        self.num
    }

    /// Denominator.
    pub fn den(&self) -> u64 {
        self.den
    }
}

/// Per-node weights: node `i` owns the share units `offset(i) .. offset(i) + weight(i)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    weights: Vec<u32>,
    offsets: Vec<u64>,
    total: u64,
}

impl Weights {
    /// Validates the weights: at least one node, none zero, at most [`MAX_UNITS`] in total.
    pub fn new(weights: Vec<u32>) -> Result<Self, VidError> {
        if weights.is_empty() {
            return Err(VidError::InvalidWeights("no nodes".into()));
        }
        if let Some(i) = weights.iter().position(|&w| w == 0) {
            return Err(VidError::InvalidWeights(format!("node {i} has weight 0")));
        }
        let mut offsets = Vec::with_capacity(weights.len());
        let mut total = 0u64;
        for &w in &weights {
            offsets.push(total);
            total += w as u64;
        }
        if total > MAX_UNITS {
            return Err(VidError::InvalidWeights(format!("{total} units in total, at most {MAX_UNITS} supported")));
        }
        Ok(Self { weights, offsets, total })
    }

    /// `n` nodes of weight 1 each.
    pub fn equal(n: usize) -> Result<Self, VidError> {
        Self::new(vec![1; n])
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.weights.len()
    }

    /// Total weight (= share units).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Weight of `node`.
    pub fn weight(&self, node: usize) -> Result<u32, VidError> {
        self.weights.get(node).copied().ok_or(VidError::NodeOutOfRange { node, nodes: self.nodes() })
    }

    /// First unit of `node`.
    pub fn offset(&self, node: usize) -> Result<u64, VidError> {
        self.offsets.get(node).copied().ok_or(VidError::NodeOutOfRange { node, nodes: self.nodes() })
    }

    /// The raw weights.
    pub fn as_slice(&self) -> &[u32] {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_up_and_reject_nonsense() {
        assert_eq!(Fraction::ONE_THIRD.ceil_of(1000), 334);
        assert_eq!(Fraction::ONE_THIRD.ceil_of(3), 1);
        assert_eq!(Fraction::parse("1/2").unwrap().ceil_of(7), 4);
        assert_eq!(Fraction::parse("1").unwrap().ceil_of(7), 7);
        assert!(Fraction::parse("2/4").unwrap().at_least(Fraction::ONE_HALF));
        assert!(Fraction::parse("2/3").unwrap().at_least(Fraction::ONE_HALF));
        assert!(!Fraction::ONE_THIRD.at_least(Fraction::ONE_HALF));
        for bad in ["0/3", "4/3", "1/0", "x", "1/"] {
            assert!(Fraction::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weights_validate_and_lay_out_units() {
        let w = Weights::new(vec![2, 1, 3]).unwrap();
        assert_eq!((w.total(), w.offset(2).unwrap(), w.weight(1).unwrap()), (6, 3, 1));
        assert!(w.offset(3).is_err());
        assert!(Weights::new(vec![]).is_err());
        assert!(Weights::new(vec![1, 0]).is_err());
        assert!(Weights::new(vec![40_000, 40_000]).is_err());
    }
}

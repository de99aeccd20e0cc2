//! Stake: the one model of "who weighs how much" that certificates, VID share assignment and
//! consensus quorums all use.
//!
//! A [`StakeTable`] is a list of non-negative stakes (an entry of zero stake is allowed: a
//! committee table lists every node and gives non-members zero). A [`Fraction`] is an exact
//! threshold in (0, 1]. Two questions are asked of them, and both are answered exactly (in
//! 128-bit integers, never floats):
//!
//! - **more than** a fraction ([`StakeTable::exceeds`], [`StakeTable::more_than`]): BFT
//!   certificates need signed stake strictly above 2/3 of the total (QC, DA and timeout
//!   certificates), or above 1/3 to be sure an honest party is among the signers;
//! - **at least** a fraction ([`StakeTable::reaches`], [`Fraction::ceil_of`]): VID recovery
//!   needs shares carrying at least the threshold of the total weight.
//!
//! VID lays a table out as consecutive share units ([`StakeTable::offset`]); leader selection
//! is the consensus layer's, built on top of a table.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Most entries a table may have: node indices are 16-bit on the wire (signer bitmaps,
/// consensus node ids), and VID codes at most 65 535 units.
pub const MAX_ENTRIES: usize = 65_535;

/// Why a stake table or a fraction was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StakeError {
    /// A table needs at least one entry.
    #[error("the stake table is empty")]
    Empty,
    /// More entries than [`MAX_ENTRIES`].
    #[error("{len} stake entries, at most {max} supported")]
    TooManyEntries {
        /// Entries asked for.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The stakes add up to more than `u64::MAX`.
    #[error("total stake overflows 64 bits at entry {index}")]
    TotalOverflow {
        /// The first entry whose stake no longer fits.
        index: usize,
    },
    /// Every entry has zero stake: no threshold could ever be met.
    #[error("the total stake is zero")]
    ZeroTotal,
    /// A threshold outside (0, 1].
    #[error("invalid threshold {num}/{den}: must be a fraction in (0, 1]")]
    InvalidFraction {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// A threshold that is not written `N/D` or `N`.
    #[error("cannot read threshold {0:?}: expected a fraction such as 1/3")]
    UnreadableFraction(String),
}

/// A fraction `num/den` in (0, 1], compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: u64,
    den: u64,
}

impl Fraction {
    /// One third: VID recovery from any honest third of the weight (avidm's default); "more
    /// than a third" contains an honest party.
    pub const ONE_THIRD: Fraction = Fraction { num: 1, den: 3 };
    /// One half: the rate of the KZG scheme's 2x extension (its fixed threshold).
    pub const ONE_HALF: Fraction = Fraction { num: 1, den: 2 };
    /// Two thirds: the BFT quorum is more than this.
    pub const TWO_THIRDS: Fraction = Fraction { num: 2, den: 3 };

    /// Builds `num/den`, refusing anything outside (0, 1].
    pub fn new(num: u64, den: u64) -> Result<Self, StakeError> {
        if num == 0 || den == 0 || num > den {
            return Err(StakeError::InvalidFraction { num, den });
        }
        Ok(Self { num, den })
    }

    /// `ceil(total · num / den)`: the least integer weight that reaches the fraction of `total`.
    pub fn ceil_of(&self, total: u64) -> u64 {
        // total · num / den ≤ total, so the result fits u64.
        (u128::from(total) * u128::from(self.num)).div_ceil(u128::from(self.den)) as u64
    }

    /// The least integer weight strictly more than the fraction of `total`.
    pub fn least_above(&self, total: u64) -> u64 {
        // floor(total · num / den) + 1; at most total + 1, which fits u128 and is clamped below
        // (only `num == den` reaches it, and then no weight can be "more than all").
        let floor = u128::from(total) * u128::from(self.num) / u128::from(self.den);
        u64::try_from(floor + 1).unwrap_or(u64::MAX)
    }

    /// True iff `part > total · num / den`, computed exactly.
    pub fn exceeded_by(&self, part: u64, total: u64) -> bool {
        u128::from(part) * u128::from(self.den) > u128::from(total) * u128::from(self.num)
    }

    /// True iff `part ≥ total · num / den`, computed exactly.
    pub fn reached_by(&self, part: u64, total: u64) -> bool {
        u128::from(part) * u128::from(self.den) >= u128::from(total) * u128::from(self.num)
    }

    /// Whether `self ≥ other`, compared exactly.
    pub fn at_least(&self, other: Fraction) -> bool {
        u128::from(self.num) * u128::from(other.den) >= u128::from(other.num) * u128::from(self.den)
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

impl FromStr for Fraction {
    type Err = StakeError;

    /// Parses `"1/3"` (or `"1"`).
    fn from_str(s: &str) -> Result<Self, StakeError> {
        let bad = || StakeError::UnreadableFraction(s.to_string());
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        Self::new(n.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?)
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Stakes by entry index (a node, a committee member). Entry `i` owns the consecutive units
/// `offset(i) .. offset(i) + stake(i)` when the table is laid out as VID share units.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StakeTable {
    stakes: Vec<u64>,
    /// `offsets[i]` = the stake of entries `0..i`.
    offsets: Vec<u64>,
    total: u64,
}

impl StakeTable {
    /// Validates `stakes`: 1 to [`MAX_ENTRIES`] entries, a non-zero total that fits 64 bits.
    /// Zero entries are allowed (they never reach a threshold alone and own no VID unit).
    pub fn new(stakes: Vec<u64>) -> Result<Self, StakeError> {
        check_len(stakes.len() as u64)?;
        let mut offsets = Vec::with_capacity(stakes.len());
        let mut total = 0u64;
        for (index, &s) in stakes.iter().enumerate() {
            offsets.push(total);
            total = total.checked_add(s).ok_or(StakeError::TotalOverflow { index })?;
        }
        if total == 0 {
            return Err(StakeError::ZeroTotal);
        }
        Ok(Self { stakes, offsets, total })
    }

    /// `n` entries of stake 1 each; `n` is checked before anything is allocated.
    pub fn equal(n: u64) -> Result<Self, StakeError> {
        check_len(n)?;
        Self::new(vec![1; n as usize])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.stakes.len()
    }

    /// Always false: a table has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.stakes.is_empty()
    }

    /// The stake of entry `i`, or `None` outside the table (an index from the network may be anything).
    pub fn stake(&self, i: usize) -> Option<u64> {
        self.stakes.get(i).copied()
    }

    /// The first share unit of entry `i` (the stake of the entries before it).
    pub fn offset(&self, i: usize) -> Option<u64> {
        self.offsets.get(i).copied()
    }

    /// The entry that owns share unit `unit` (`offset(i) ≤ unit < offset(i) + stake(i)`), or
    /// `None` past the total. Zero-stake entries own nothing. O(log n).
    pub fn owner(&self, unit: u64) -> Option<usize> {
        if unit >= self.total {
            return None;
        }
        // The last entry starting at or before `unit`: zero-stake entries start where the next
        // entry does, so the last of equal offsets is the one with stake.
        Some(self.offsets.partition_point(|&o| o <= unit) - 1)
    }

    /// Sum of all stakes (never zero).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The stakes, by entry.
    pub fn stakes(&self) -> &[u64] {
        &self.stakes
    }

    /// Whether `stake` is strictly more than `fraction` of the total (certificates, quorums).
    pub fn exceeds(&self, stake: u64, fraction: Fraction) -> bool {
        fraction.exceeded_by(stake, self.total)
    }

    /// Whether `stake` is at least `fraction` of the total (VID recovery thresholds).
    pub fn reaches(&self, stake: u64, fraction: Fraction) -> bool {
        fraction.reached_by(stake, self.total)
    }

    /// The least stake strictly more than `fraction` of the total: the QC/DA/TC quorum for
    /// [`Fraction::TWO_THIRDS`], "contains an honest party" for [`Fraction::ONE_THIRD`].
    pub fn more_than(&self, fraction: Fraction) -> u64 {
        fraction.least_above(self.total)
    }

    /// The stake of the entries `indices` (each counted once per occurrence: callers that
    /// take indices from the network deduplicate first, e.g. through a signer bitmap);
    /// `None` if an index is outside the table.
    pub fn sum(&self, indices: impl IntoIterator<Item = usize>) -> Option<u64> {
        // Any sub-multiset of distinct entries sums to at most the total; repeats could
        // overflow, so the sum saturates rather than wraps.
        indices.into_iter().try_fold(0u64, |acc, i| Some(acc.saturating_add(self.stake(i)?)))
    }
}

fn check_len(n: u64) -> Result<(), StakeError> {
    if n == 0 {
        return Err(StakeError::Empty);
    }
    if n > MAX_ENTRIES as u64 {
        return Err(StakeError::TooManyEntries { len: n, max: MAX_ENTRIES });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frac(s: &str) -> Fraction {
        s.parse().unwrap()
    }

    #[test]
    fn fractions_round_and_compare_exactly() {
        assert_eq!(Fraction::ONE_THIRD.ceil_of(1000), 334);
        assert_eq!(Fraction::ONE_THIRD.ceil_of(3), 1);
        assert_eq!(frac("1/2").ceil_of(7), 4);
        assert_eq!(frac("1").ceil_of(7), 7);
        assert!(frac("2/4").at_least(Fraction::ONE_HALF));
        assert!(frac("2/3").at_least(Fraction::ONE_HALF));
        assert!(!Fraction::ONE_THIRD.at_least(Fraction::ONE_HALF));
        assert!(Fraction::TWO_THIRDS.exceeded_by(3, 4));
        assert!(!Fraction::TWO_THIRDS.exceeded_by(2, 3), "2 is not more than 2/3 of 3");
        assert!(Fraction::TWO_THIRDS.reached_by(2, 3));
        assert!(!frac("7/10").exceeded_by(70, 100), "70 is not > 70");
        assert_eq!(frac("1").least_above(u64::MAX), u64::MAX, "clamped, never wraps");
        for bad in ["0/3", "4/3", "1/0", "x", "1/", ""] {
            assert!(bad.parse::<Fraction>().is_err(), "{bad}");
        }
        assert_eq!(Fraction::new(3, 2), Err(StakeError::InvalidFraction { num: 3, den: 2 }));
        assert_eq!(frac("2/3").to_string(), "2/3");
    }

    #[test]
    fn quorums_are_strictly_more_than_the_fraction() {
        let q = |n| StakeTable::equal(n).unwrap().more_than(Fraction::TWO_THIRDS);
        assert_eq!((q(3), q(4), q(10)), (3, 3, 7));
        let third = |n| StakeTable::equal(n).unwrap().more_than(Fraction::ONE_THIRD);
        assert_eq!((third(4), third(10)), (2, 4));
        let t = StakeTable::new(vec![u64::MAX / 2, u64::MAX / 2]).unwrap();
        assert!(t.exceeds(t.more_than(Fraction::TWO_THIRDS), Fraction::TWO_THIRDS));
        assert!(!t.exceeds(t.more_than(Fraction::TWO_THIRDS) - 1, Fraction::TWO_THIRDS));
    }

    #[test]
    fn tables_validate_and_lay_out_units() {
        let t = StakeTable::new(vec![2, 1, 3]).unwrap();
        assert_eq!((t.total(), t.offset(2), t.stake(1), t.offset(3)), (6, Some(3), Some(1), None));
        assert_eq!(t.sum([0, 2]), Some(5));
        assert_eq!(t.sum([0, 3]), None);
        let owners: Vec<_> = (0..7).map(|u| t.owner(u)).collect();
        assert_eq!(owners, [Some(0), Some(0), Some(1), Some(2), Some(2), Some(2), None]);
        let gaps = StakeTable::new(vec![0, 1, 0, 0, 2, 0]).unwrap();
        assert_eq!((0..4).map(|u| gaps.owner(u)).collect::<Vec<_>>(), [Some(1), Some(4), Some(4), None]);
        assert_eq!(StakeTable::new(vec![]), Err(StakeError::Empty));
        assert_eq!(StakeTable::new(vec![0, 0]), Err(StakeError::ZeroTotal));
        assert!(StakeTable::new(vec![0, 5]).is_ok(), "zero entries are non-members");
        assert_eq!(StakeTable::new(vec![u64::MAX, 1]), Err(StakeError::TotalOverflow { index: 1 }));
        // Checked before allocating: neither allocates 10^11 entries nor overflows capacity.
        assert!(matches!(StakeTable::equal(100_000_000_000), Err(StakeError::TooManyEntries { .. })));
        assert!(matches!(StakeTable::equal(u64::MAX), Err(StakeError::TooManyEntries { .. })));
        assert_eq!(StakeTable::equal(0), Err(StakeError::Empty));
    }
}

//! The stake table certificates are checked against, and stake thresholds.

use std::collections::HashMap;

use super::error::BlsError;
use super::keys::PublicKey;
use super::pop::pop_verify;
use super::sig::Signature;
use crate::field::G1Affine;

/// A fraction of total stake, `num / den` with `0 <= num <= den`, `den > 0`. A certificate
/// needs signed stake strictly greater than `total · num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    num: u64,
    den: u64,
}

impl Threshold {
    /// The BFT quorum: more than two thirds of the stake.
    pub const TWO_THIRDS: Threshold = Threshold { num: 2, den: 3 };
    /// More than one third of the stake (enough to include one honest party).
    pub const ONE_THIRD: Threshold = Threshold { num: 1, den: 3 };

    /// `num / den`; rejects a zero denominator and fractions above one.
    pub fn new(num: u64, den: u64) -> Result<Self, BlsError> {
        if den == 0 || num > den {
            return Err(BlsError::BadThreshold { num, den });
        }
        Ok(Self { num, den })
    }

    /// True iff `signed > total · num / den`, computed exactly (`signed · den > total · num`).
    /// Both stakes are at most `u64::MAX` (the table enforces it), so the products fit u128.
    pub fn is_exceeded_by(&self, signed: u64, total: u64) -> bool {
        u128::from(signed) * u128::from(self.den) > u128::from(total) * u128::from(self.num)
    }
}

/// Public keys with stakes. Keys enter only with a valid proof of possession, so aggregating
/// keys of one table is safe against rogue-key attacks. Keys are unique; the total stake fits
/// in a u64.
#[derive(Debug, Clone, Default)]
pub struct StakeTable {
    keys: Vec<PublicKey>,
    /// The key points, contiguous, so certificate checks gather them cache-friendly.
    points: Vec<G1Affine>,
    stakes: Vec<u64>,
    total: u64,
    index: HashMap<[u8; 48], usize>,
}

impl StakeTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `pk` with `stake` after checking its proof of possession; returns its index.
    /// Rejects a bad PoP, a duplicate key, a zero stake and a total above `u64::MAX`.
    pub fn insert(&mut self, pk: PublicKey, stake: u64, pop: &Signature) -> Result<usize, BlsError> {
        let index = self.keys.len();
        if let Some(&first) = self.index.get(&pk.to_bytes()) {
            return Err(BlsError::DuplicateKey { index, first });
        }
        if stake == 0 {
            return Err(BlsError::InvalidStake { index, reason: "stake is zero" });
        }
        let total =
            self.total.checked_add(stake).ok_or(BlsError::InvalidStake { index, reason: "total stake exceeds u64" })?;
        if !pop_verify(&pk, pop)? {
            return Err(BlsError::BadProofOfPossession { index });
        }
        self.index.insert(pk.to_bytes(), index);
        self.keys.push(pk);
        self.points.push(*pk.point());
        self.stakes.push(stake);
        self.total = total;
        Ok(index)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Sum of all stakes.
    pub fn total_stake(&self) -> u64 {
        self.total
    }

    /// The key of entry `i`.
    pub fn public_key(&self, i: usize) -> Option<&PublicKey> {
        self.keys.get(i)
    }

    /// The stake of entry `i`.
    pub fn stake(&self, i: usize) -> Option<u64> {
        self.stakes.get(i).copied()
    }

    /// The index of `pk`, if it is in the table.
    pub fn index_of(&self, pk: &PublicKey) -> Option<usize> {
        self.index.get(&pk.to_bytes()).copied()
    }

    pub(crate) fn points(&self) -> &[G1Affine] {
        &self.points
    }

    pub(crate) fn stakes(&self) -> &[u64] {
        &self.stakes
    }
}

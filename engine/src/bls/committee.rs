//! Who may sign certificates: registered public keys ([`KeyTable`]) paired with their stakes
//! ([`Committee`], over the engine's one stake model, [`crate::stake::StakeTable`]).
//!
//! Keys enter a [`KeyTable`] only with a valid proof of possession, so aggregating keys of one
//! table is safe against rogue-key attacks. One key table can back several committees: a
//! network's consensus committee and its DA committee share the keys and differ in stakes
//! (non-members of the DA committee have stake zero).

use std::collections::HashMap;
use std::sync::Arc;

use super::error::BlsError;
use super::keys::PublicKey;
use super::pop::pop_verify;
use super::sig::Signature;
use crate::field::G1Affine;
use crate::stake::StakeTable;

#[derive(Debug, Clone, Default)]
struct Keys {
    keys: Vec<PublicKey>,
    /// The key points, contiguous, so certificate checks gather them cache-friendly.
    points: Vec<G1Affine>,
    index: HashMap<[u8; 48], usize>,
}

/// Public keys, each registered with a valid proof of possession, unique, in index order.
/// Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    inner: Arc<Keys>,
}

impl KeyTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `pk` after checking its proof of possession; returns its index. Rejects a bad
    /// PoP and a duplicate key.
    pub fn insert(&mut self, pk: PublicKey, pop: &Signature) -> Result<usize, BlsError> {
        let index = self.inner.keys.len();
        if let Some(&first) = self.inner.index.get(&pk.to_bytes()) {
            return Err(BlsError::DuplicateKey { index, first });
        }
        if !pop_verify(&pk, pop)? {
            return Err(BlsError::BadProofOfPossession { index });
        }
        let keys = Arc::make_mut(&mut self.inner);
        keys.index.insert(pk.to_bytes(), index);
        keys.keys.push(pk);
        keys.points.push(*pk.point());
        Ok(index)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.inner.keys.len()
    }

    /// True when the table has no keys.
    pub fn is_empty(&self) -> bool {
        self.inner.keys.is_empty()
    }

    /// The key of entry `i`.
    pub fn public_key(&self, i: usize) -> Option<&PublicKey> {
        self.inner.keys.get(i)
    }

    /// The index of `pk`, if it is in the table.
    pub fn index_of(&self, pk: &PublicKey) -> Option<usize> {
        self.inner.index.get(&pk.to_bytes()).copied()
    }

    pub(crate) fn points(&self) -> &[G1Affine] {
        &self.inner.points
    }
}

/// A signing committee: registered keys with their stakes, entry for entry.
#[derive(Debug, Clone)]
pub struct Committee {
    keys: KeyTable,
    stake: StakeTable,
}

impl Committee {
    /// Pairs `keys` with `stake`; both must list the same entries.
    pub fn new(keys: KeyTable, stake: StakeTable) -> Result<Self, BlsError> {
        if keys.len() != stake.len() {
            return Err(BlsError::CommitteeMismatch { keys: keys.len(), stakes: stake.len() });
        }
        Ok(Self { keys, stake })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a stake table has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys.
    pub fn keys(&self) -> &KeyTable {
        &self.keys
    }

    /// The stakes.
    pub fn stake(&self) -> &StakeTable {
        &self.stake
    }
}

//! BLAKE3 binary Merkle trees and inclusion proofs.
//!
//! Leaves are `BLAKE3(data)` (computed through [`Backend::merkle_leaves`], so the GPU can hash
//! many at once). An inner node is `BLAKE3-derive-key("crema merkle node v1", left ‖ right)`,
//! so a node can never be confused with a leaf. The leaf level is padded with all-zero hashes
//! to a power of two; the depth is therefore fixed by the leaf count, which every verifier
//! knows from the commitment, and a proof of the wrong depth is rejected.

use thiserror::Error;

use crate::backend::Backend;
use crate::error::BackendError;

/// A 32-byte BLAKE3 digest.
pub type Hash = [u8; 32];

const NODE_CONTEXT: &str = "crema merkle node v1";

/// Why a Merkle proof or tree could not be built or checked.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MerkleError {
    /// A tree needs at least one leaf.
    #[error("a Merkle tree needs at least one leaf")]
    Empty,
    /// The leaf index is outside the tree.
    #[error("leaf index {index} out of range for {leaves} leaves")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of leaves.
        leaves: usize,
    },
    /// The proof has the wrong number of siblings for a tree of this size.
    #[error("proof has {got} siblings, a tree of {leaves} leaves needs {expected}")]
    WrongDepth {
        /// Siblings in the proof.
        got: usize,
        /// Siblings required.
        expected: usize,
        /// The number of leaves.
        leaves: usize,
    },
    /// The proof does not lead to the root.
    #[error("proof does not match the root")]
    RootMismatch,
    /// Hashing the leaves failed on the backend.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Hashes two children into their parent.
pub fn hash_node(left: &Hash, right: &Hash) -> Hash {
    let mut h = blake3::Hasher::new_derive_key(NODE_CONTEXT);
    h.update(left);
    h.update(right);
    *h.finalize().as_bytes()
}

/// The number of siblings in a proof for a tree of `leaves` leaves.
pub fn depth(leaves: usize) -> usize {
    leaves.max(1).next_power_of_two().trailing_zeros() as usize
}

/// A complete tree: every level kept, so proofs are cheap to cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    leaves: usize,
    /// `levels[0]` is the padded leaf level; the last level is `[root]`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree over `chunks`, hashing the leaves on `backend`.
    pub fn build(backend: &dyn Backend, chunks: &[&[u8]]) -> Result<Self, MerkleError> {
        Self::from_leaf_hashes(backend.merkle_leaves(chunks)?)
    }

    /// Builds the tree over already-hashed leaves.
    pub fn from_leaf_hashes(mut level: Vec<Hash>) -> Result<Self, MerkleError> {
        if level.is_empty() {
            return Err(MerkleError::Empty);
        }
        let leaves = level.len();
        level.resize(leaves.next_power_of_two(), [0u8; 32]);
        // `levels` starts with one (non-empty, power-of-two) level and only grows: `last()` is
        // always there, and every level has at least one hash.
        let mut levels = vec![level];
        while levels.last().expect("non-empty").len() > 1 {
            let prev = levels.last().expect("non-empty");
            let next = prev.chunks_exact(2).map(|p| hash_node(&p[0], &p[1])).collect();
            levels.push(next);
        }
        Ok(Self { leaves, levels })
    }

    /// The root hash (the commitment).
    pub fn root(&self) -> Hash {
        // A tree is only built by `from_leaf_hashes`, which refuses zero leaves.
        self.levels.last().expect("non-empty")[0]
    }

    /// The number of (unpadded) leaves.
    pub fn leaves(&self) -> usize {
        self.leaves
    }

    /// The sibling path from leaf `index` up to (not including) the root.
    pub fn proof(&self, index: usize) -> Result<Vec<Hash>, MerkleError> {
        if index >= self.leaves {
            return Err(MerkleError::IndexOutOfRange { index, leaves: self.leaves });
        }
        Ok(self.levels[..self.levels.len() - 1].iter().enumerate().map(|(d, level)| level[(index >> d) ^ 1]).collect())
    }
}

/// Checks that `leaf` (a leaf hash) sits at `index` of a `leaves`-leaf tree with `root`.
pub fn verify(root: &Hash, leaves: usize, index: usize, leaf: &Hash, proof: &[Hash]) -> Result<(), MerkleError> {
    if index >= leaves {
        return Err(MerkleError::IndexOutOfRange { index, leaves });
    }
    let expected = depth(leaves);
    if proof.len() != expected {
        return Err(MerkleError::WrongDepth { got: proof.len(), expected, leaves });
    }
    let mut acc = *leaf;
    for (d, sibling) in proof.iter().enumerate() {
        acc = if (index >> d) & 1 == 0 { hash_node(&acc, sibling) } else { hash_node(sibling, &acc) };
    }
    if &acc == root { Ok(()) } else { Err(MerkleError::RootMismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;

    #[test]
    fn every_proof_verifies_and_tampering_fails() {
        for n in [1usize, 2, 3, 5, 8, 33] {
            let data: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i + 1]).collect();
            let chunks: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            let tree = MerkleTree::build(&Cpu::new(), &chunks).unwrap();
            for (i, chunk) in chunks.iter().enumerate() {
                let leaf = *blake3::hash(chunk).as_bytes();
                let proof = tree.proof(i).unwrap();
                verify(&tree.root(), n, i, &leaf, &proof).unwrap();
                let mut bad = leaf;
                bad[0] ^= 1;
                assert_eq!(verify(&tree.root(), n, i, &bad, &proof), Err(MerkleError::RootMismatch));
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(verify(&tree.root(), n, other, &leaf, &tree.proof(other).unwrap()).is_err());
                }
            }
            assert!(matches!(tree.proof(n), Err(MerkleError::IndexOutOfRange { .. })));
        }
    }

    #[test]
    fn wrong_depth_is_rejected() {
        let chunks: Vec<&[u8]> = vec![b"a", b"b", b"c"];
        let tree = MerkleTree::build(&Cpu::new(), &chunks).unwrap();
        let mut proof = tree.proof(0).unwrap();
        proof.push([0; 32]);
        assert!(matches!(
            verify(&tree.root(), 3, 0, blake3::hash(b"a").as_bytes(), &proof),
            Err(MerkleError::WrongDepth { .. })
        ));
        assert_eq!(MerkleTree::from_leaf_hashes(vec![]), Err(MerkleError::Empty));
    }
}

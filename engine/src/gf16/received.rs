//! [`Gf16Received`]: the shards of one codeword that a decode or a reconstruction is given,
//! with the code's shape — the one argument of [`Backend::gf16_decode`] and
//! [`Backend::gf16_reconstruct`].
//!
//! [`Backend::gf16_decode`]: crate::backend::Backend::gf16_decode
//! [`Backend::gf16_reconstruct`]: crate::backend::Backend::gf16_reconstruct

use std::fmt;

/// The received shards of one `original_count : recovery_count` codeword: originals as
/// `(index, bytes)` with `index < original_count`, recovery shards as `(index, bytes)` with
/// `index < recovery_count` (counted from the first recovery shard), in any order.
///
/// Nothing is checked when it is built: the decoder validates it (counts, indices, duplicates,
/// one even shard size, enough shards) and refuses a bad one with a typed error.
#[derive(Clone, PartialEq, Eq)]
pub struct Gf16Received<'a> {
    /// Original (data) shards of the code.
    pub original_count: usize,
    /// Recovery shards of the code.
    pub recovery_count: usize,
    /// The originals received, `(index, bytes)`.
    pub original: Vec<(usize, &'a [u8])>,
    /// The recovery shards received, `(index, bytes)`, index 0 being the first recovery shard.
    pub recovery: Vec<(usize, &'a [u8])>,
}

impl<'a> Gf16Received<'a> {
    /// The shards `original` and `recovery` of an `original_count : recovery_count` codeword.
    pub fn new(
        original_count: usize,
        recovery_count: usize,
        original: Vec<(usize, &'a [u8])>,
        recovery: Vec<(usize, &'a [u8])>,
    ) -> Self {
        Self { original_count, recovery_count, original, recovery }
    }

    /// The shards given by codeword position: position `p < original_count` is original `p`,
    /// any other is recovery shard `p − original_count` (a position past the codeword stays out
    /// of range, for the decoder to refuse).
    pub fn from_codeword(
        original_count: usize,
        recovery_count: usize,
        shards: impl IntoIterator<Item = (usize, &'a [u8])>,
    ) -> Self {
        let (mut original, mut recovery) = (Vec::new(), Vec::new());
        for (p, s) in shards {
            match p.checked_sub(original_count) {
                None => original.push((p, s)),
                Some(j) => recovery.push((j, s)),
            }
        }
        Self { original_count, recovery_count, original, recovery }
    }

    /// Shards received, originals and recovery together.
    pub fn len(&self) -> usize {
        self.original.len() + self.recovery.len()
    }

    /// True when no shard was received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Gf16Received<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shards are large; show the shape and the indices.
        let indices = |v: &[(usize, &[u8])]| v.iter().map(|(i, _)| *i).collect::<Vec<_>>();
        f.debug_struct("Gf16Received")
            .field("original_count", &self.original_count)
            .field("recovery_count", &self.recovery_count)
            .field("original", &indices(&self.original))
            .field("recovery", &indices(&self.recovery))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codeword_positions_split_into_originals_and_recovery() {
        let s = [0u8; 2];
        let r = Gf16Received::from_codeword(3, 2, [(4, &s[..]), (0, &s), (3, &s), (2, &s), (9, &s)]);
        assert_eq!(r.original.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(r.recovery.iter().map(|(j, _)| *j).collect::<Vec<_>>(), vec![1, 0, 6]);
        assert_eq!((r.len(), r.is_empty()), (5, false));
        assert_eq!(
            format!("{r:?}"),
            "Gf16Received { original_count: 3, recovery_count: 2, original: [0, 2], recovery: [1, 0, 6] }"
        );
    }
}

//! The opt-in checksummed layer of [`Gf16Code`]: the whole codeword as [`Shard`]s, each with
//! its index and a checksum, and a decode that leaves corrupted shards out.
//!
//! It is built on the plain [`Gf16Code::encode`] / [`Gf16Code::decode`] and costs what they do
//! plus a copy of the originals into their shards and one BLAKE3 pass over every shard (spread
//! over the cores for big codewords).

use std::borrow::Cow;

use rayon::prelude::*;

use super::{Gf16Code, Gf16Error, Shard};
use crate::backend::Backend;

/// Checksum bytes below which one thread does all the checksums.
const PAR_CHECKSUM_MIN_BYTES: usize = 256 << 10;

/// Minimum shards per rayon task when checksumming `count` shards of `bytes` each: one big
/// task per thread (measured: fine-grained tasks lost to one thread on the loaded machine,
/// every hand-off can wait a scheduler slice), or everything in one task for small codewords.
fn checksum_task_len(count: usize, bytes: usize) -> usize {
    if count * bytes < PAR_CHECKSUM_MIN_BYTES { count.max(1) } else { count.div_ceil(rayon::current_num_threads()) }
}

impl Gf16Code {
    /// Encodes the data shards into the whole codeword as checksummed shards:
    /// `original_count` shards carrying the data (indices `0..k`, copies of `original`) followed
    /// by `recovery_count` recovery shards (indices `k..k+m`).
    pub fn encode_shards(&self, backend: &dyn Backend, original: &[&[u8]]) -> Result<Vec<Shard>, Gf16Error> {
        let recovery = self.encode(backend, original)?;
        let shards: Vec<Vec<u8>> = original.iter().map(|s| s.to_vec()).chain(recovery).collect();
        // Checksums cost about as much as the encode itself at small counts: spread them over
        // the cores. Indices fit in u32: supported codes have at most 65536 + 32768 shards.
        Ok(shards
            .into_par_iter()
            .with_min_len(checksum_task_len(self.total_count(), self.shard_bytes()))
            .enumerate()
            .map(|(i, bytes)| Shard::new(i as u32, bytes))
            .collect())
    }

    /// Checks one received shard on its own: checksum, index within the codeword, size.
    pub fn check_shard(&self, shard: &Shard) -> Result<(), Gf16Error> {
        if !shard.is_intact() {
            return Err(Gf16Error::Integrity { index: shard.index });
        }
        let (index, total) = (shard.index as usize, self.total_count());
        if index >= total {
            return Err(Gf16Error::IndexOutOfRange { index, total });
        }
        if shard.bytes.len() != self.shard_bytes() {
            return Err(Gf16Error::WrongShardSize { index, got: shard.bytes.len(), expected: self.shard_bytes() });
        }
        Ok(())
    }

    /// Restores the `original_count` data shards from any `original_count` intact shards of
    /// the codeword, in any order, as [`Gf16Code::decode`] does. Shards failing their checksum
    /// are left out (and named in [`Gf16Error::TooFewShards`] if what remains is not enough).
    pub fn decode_shards<'a>(
        &self,
        backend: &dyn Backend,
        shards: &'a [Shard],
    ) -> Result<Vec<Cow<'a, [u8]>>, Gf16Error> {
        let intact: Vec<bool> = shards
            .par_iter()
            .with_min_len(checksum_task_len(shards.len(), self.shard_bytes()))
            .map(Shard::is_intact)
            .collect();
        let corrupted = shards.iter().zip(&intact).filter(|(_, ok)| !**ok).map(|(s, _)| s.index).collect();
        let given = shards.iter().zip(&intact).filter(|(_, ok)| **ok).map(|(s, _)| (s.index as usize, &s.bytes[..]));
        self.restore(backend, given, corrupted)
    }
}

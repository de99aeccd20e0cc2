//! Shard bytes <-> device rows, and the split of shards into column ranges per job.
//!
//! Leopard never mixes different 64-byte block positions of a shard (every symbol column is
//! its own codeword), so any cut at a multiple of 64 bytes gives independent jobs whose outputs
//! concatenate to the whole. On the device a row is the range's blocks, 16 words each, in
//! reed-solomon-simd's own layout (32 low bytes, then 32 high bytes); a final partial block of
//! `t` bytes, whose halves are `t/2` low then `t/2` high bytes, is spread to the two halves of
//! a full block, as reed-solomon-simd's `Shards::insert` does, and gathered back on the way out.

use crate::error::GpuError;

/// One column range of every shard: what one job works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Columns {
    /// First byte of the range in every shard (a multiple of 64).
    pub(super) start: usize,
    /// Bytes of every shard in the range (the last range may end in a partial block).
    pub(super) bytes: usize,
    /// u32 words per device row: 16 per 64-byte block, the partial block padded.
    pub(super) stride: usize,
    /// Column groups (4 symbols, 8 bytes) the kernels process per row.
    pub(super) groups: usize,
}

impl Columns {
    fn new(start: usize, bytes: usize) -> Self {
        // A partial block of t bytes holds t/2 symbols: ceil(t/8) groups of 4, as full blocks.
        Self { start, bytes, stride: bytes.div_ceil(64) * 16, groups: bytes.div_ceil(8) }
    }

    /// Cuts shards of `shard_bytes` into ranges whose largest buffer (`max_rows` rows) stays
    /// within `limit` bytes.
    pub(super) fn split(
        shard_bytes: usize,
        max_rows: usize,
        limit: u64,
        op: &'static str,
    ) -> Result<Vec<Self>, GpuError> {
        let row_block = (max_rows.max(1) * 64) as u64;
        let blocks_per_job = (limit / row_block) as usize;
        if blocks_per_job == 0 {
            return Err(GpuError::TooLarge { op, bytes: row_block, limit });
        }
        let step = blocks_per_job * 64;
        Ok((0..shard_bytes).step_by(step).map(|start| Self::new(start, step.min(shard_bytes - start))).collect())
    }

    /// The range of every shard as device rows, one after the other.
    pub(super) fn pack<'a>(&self, shards: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u32> {
        let mut words = vec![0u32; shards.len() * self.stride];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        for (row, shard) in bytes.chunks_exact_mut(self.stride * 4).zip(shards) {
            let src = &shard[self.start..self.start + self.bytes];
            let full = src.len() / 64 * 64;
            row[..full].copy_from_slice(&src[..full]);
            if full < src.len() {
                let (lo, hi) = src[full..].split_at((src.len() - full) / 2);
                row[full..full + lo.len()].copy_from_slice(lo);
                row[full + 32..full + 32 + hi.len()].copy_from_slice(hi);
            }
        }
        words
    }

    /// Appends the range of each device row in `words` to the shard of the same index in `out`.
    pub(super) fn unpack(&self, words: &[u32], out: &mut [Vec<u8>]) {
        let bytes: &[u8] = bytemuck::cast_slice(words);
        for (row, shard) in bytes.chunks_exact(self.stride * 4).zip(out) {
            let full = self.bytes / 64 * 64;
            let half = (self.bytes - full) / 2;
            shard.extend_from_slice(&row[..full]);
            if half > 0 {
                shard.extend_from_slice(&row[full..full + half]);
                shard.extend_from_slice(&row[full + 32..full + 32 + half]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cut_at_blocks_and_cover_the_shard() {
        // 1000-byte shards, 100 rows, room for 3 blocks of 100 rows per buffer.
        let ranges = Columns::split(1000, 100, 3 * 64 * 100 + 5, "t").unwrap();
        assert_eq!(
            ranges.iter().map(|c| (c.start, c.bytes)).collect::<Vec<_>>(),
            [(0, 192), (192, 192), (384, 192), (576, 192), (768, 192), (960, 40)]
        );
        assert_eq!((ranges[5].stride, ranges[5].groups), (16, 5));
        assert!(Columns::split(64, 100, 64 * 99, "t").is_err());
    }

    #[test]
    fn pack_then_unpack_is_the_identity_on_every_tail() {
        for len in [2usize, 8, 62, 64, 66, 100, 128, 1000] {
            let shards: Vec<Vec<u8>> = (0..3).map(|s| (0..len).map(|i| (i * 7 + s * 13) as u8).collect()).collect();
            for cols in Columns::split(len, 3, 3 * 128, "t").unwrap() {
                let words = cols.pack(shards.iter().map(Vec::as_slice));
                let mut out = vec![Vec::new(); 3];
                cols.unpack(&words, &mut out);
                for (o, s) in out.iter().zip(&shards) {
                    assert_eq!(o[..], s[cols.start..cols.start + cols.bytes], "len {len} at {}", cols.start);
                }
            }
        }
        // reed-solomon-simd's tail layout: a 4-byte shard is symbols (b0 | b2 << 8, b1 | b3 << 8).
        let words = Columns::new(0, 4).pack([&[1u8, 2, 3, 4][..]].into_iter());
        assert_eq!((words[0], words[8]), (0x0201, 0x0403));
    }
}

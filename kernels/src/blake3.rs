//! `GpuContext::blake3_many`: BLAKE3 of many inputs at once (Merkle leaves).

use crate::context::GpuContext;
use crate::error::GpuError;

const OP: &str = "blake3_many";
const WORKGROUP: usize = 64;

impl GpuContext {
    /// The BLAKE3 hash of every input, identical to the `blake3` crate. Inputs are packed into
    /// batches that fit the adapter's storage-binding and dispatch limits.
    pub fn blake3_many(&self, inputs: &[&[u8]]) -> Result<Vec<[u8; 32]>, GpuError> {
        let limit = self.adapter().max_storage_binding;
        let max_groups = self.adapter().max_workgroups_per_dim as usize;
        let mut out = Vec::with_capacity(inputs.len());
        let mut start = 0;
        while start < inputs.len() {
            // Grow the batch while its packed words fit one binding (and its digests another).
            let (mut end, mut words) = (start, 0u64);
            while end < inputs.len() {
                let w = inputs[end].len().div_ceil(4) as u64;
                if w * 4 > limit {
                    return Err(GpuError::TooLarge { op: OP, bytes: inputs[end].len() as u64, limit });
                }
                if (words + w) * 4 > limit || ((end - start + 1) * 32) as u64 > limit {
                    break;
                }
                words += w;
                end += 1;
            }
            out.extend(self.blake3_batch(&inputs[start..end], words as usize, max_groups)?);
            start = end;
        }
        Ok(out)
    }

    fn blake3_batch(&self, inputs: &[&[u8]], words: usize, max_groups: usize) -> Result<Vec<[u8; 32]>, GpuError> {
        let mut data = vec![0u32; words];
        let mut spans = Vec::with_capacity(inputs.len() * 2);
        let mut at = 0usize;
        for input in inputs {
            spans.extend([at as u32, input.len() as u32]);
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut data[at..at + input.len().div_ceil(4)]);
            dst[..input.len()].copy_from_slice(input);
            at += input.len().div_ceil(4);
        }
        // A 2-D grid: rows of at most `max_groups` workgroups.
        let groups = inputs.len().div_ceil(WORKGROUP).max(1);
        let (x, y) = (groups.min(max_groups), groups.div_ceil(max_groups));
        let params = [inputs.len() as u32, (x * WORKGROUP) as u32, 0, 0];
        let words = self.run(
            OP,
            &self.blake3,
            &[&self.storage("blake3 data", &data), &self.storage("blake3 spans", &spans)],
            &self.uniform("blake3 params", &params),
            inputs.len() * 8,
            (x as u32, y as u32),
        )?;
        Ok(words
            .chunks_exact(8)
            .map(|d| {
                let mut h = [0u8; 32];
                h.copy_from_slice(bytemuck::cast_slice(d));
                h
            })
            .collect())
    }
}

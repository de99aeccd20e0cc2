//! `GpuContext::blake3_many`: BLAKE3 of many inputs at once (Merkle leaves).

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::spec::{Access, KernelSpec};

const OP: &str = "blake3_many";
const WORKGROUP: usize = 64;

/// The BLAKE3 family's kernels.
pub(crate) const KERNELS: &[KernelSpec] = &[KernelSpec {
    name: "blake3_many",
    file: "blake3.wgsl",
    source: || include_str!("../wgsl/blake3.wgsl").to_string(),
    entry: "blake3_many",
    storage: &[Access::Read, Access::Read, Access::ReadWrite],
}];

impl GpuContext {
    /// The BLAKE3 hash of every input, identical to the `blake3` crate. Inputs are packed into
    /// batches that fit the adapter's storage-binding and dispatch limits.
    pub fn blake3_many(&self, inputs: &[&[u8]]) -> Result<Vec<[u8; 32]>, GpuError> {
        let limit = self.adapter().max_storage_binding;
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
            out.extend(self.blake3_batch(&inputs[start..end], words as usize)?);
            start = end;
        }
        Ok(out)
    }

    fn blake3_batch(&self, inputs: &[&[u8]], words: usize) -> Result<Vec<[u8; 32]>, GpuError> {
        let mut data = vec![0u32; words];
        let mut spans = Vec::with_capacity(inputs.len() * 2);
        let mut at = 0usize;
        for input in inputs {
            spans.extend([at as u32, input.len() as u32]);
            let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut data[at..at + input.len().div_ceil(4)]);
            dst[..input.len()].copy_from_slice(input);
            at += input.len().div_ceil(4);
        }
        let grid = self.grid(inputs.len().div_ceil(WORKGROUP));
        let mut job = self.job(OP);
        let data = job.upload("blake3 data", &data);
        let spans = job.upload("blake3 spans", &spans);
        let digests = job.zeroed("blake3 digests", inputs.len() * 8);
        job.dispatch(OP, &[&data, &spans, &digests], &[inputs.len() as u32, grid[0] * WORKGROUP as u32], grid);
        job.read(&digests, inputs.len() * 8);
        let words = job.finish()?.remove(0);
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

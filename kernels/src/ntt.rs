//! [`GpuContext::ntt`]: batched radix-2 NTTs over Fr (`wgsl/ntt.wgsl`).
//!
//! The caller owns the field arithmetic on the host (the engine uses arkworks) and hands over
//! the tables — twiddles, coset powers, output scales — as Montgomery words under exact keys;
//! they are built once and stay resident (see `resident.rs`). A transform is
//! `max(1, ⌈log₂ n / 8⌉)` dispatches of one submission: 256-element tiles run up to 8
//! butterfly stages in workgroup memory per pass.

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::field::{FR_WORDS, fr_module};
use crate::resident::Kind;
use crate::spec::{Access, KernelSpec};

const OP: &str = "ntt";
/// Elements per workgroup tile (8 stages per pass); 8 KiB of workgroup memory.
const TILE: usize = 256;
const TILE_BITS: u32 = 8;

/// The NTT family's kernels.
pub(crate) const KERNELS: &[KernelSpec] = &[KernelSpec {
    name: "ntt_pass",
    file: "field.wgsl+ntt.wgsl (Fr)",
    source: || fr_module(include_str!("../wgsl/ntt.wgsl")),
    entry: "ntt_pass",
    storage: &[Access::Read, Access::ReadWrite, Access::Read, Access::Read, Access::Read],
}];

/// A table of Fr elements (Montgomery words, [`FR_WORDS`](crate::FR_WORDS) per element) kept
/// on the device under `key`; `build` runs only when it is not resident yet. Keys must be
/// exact: two different tables must never share one.
pub struct FrTable<'a> {
    /// The exact identity of the table (e.g. size, direction, coset offset limbs).
    pub key: Vec<u32>,
    /// Computes the table's words.
    pub build: &'a dyn Fn() -> Vec<u32>,
}

impl std::fmt::Debug for FrTable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrTable").field("key", &self.key).finish_non_exhaustive()
    }
}

/// How a transform scales its outputs.
#[derive(Debug)]
pub enum OutputScale<'a> {
    /// Not at all (forward transforms).
    None,
    /// Every output times one constant (1/n for a plain inverse), Montgomery words.
    Constant([u32; FR_WORDS]),
    /// Output `j` times `table[j]` (1/n · c^-j for an inverse on a coset).
    Table(FrTable<'a>),
}

/// One batched transform: vectors of `size` (a power of two, ≤ 2^26) elements in natural order.
#[derive(Debug)]
pub struct NttSpec<'a> {
    /// Elements per vector.
    pub size: usize,
    /// `ω^i` for `i < size/2` (ω⁻¹ powers for an inverse transform).
    pub twiddles: FrTable<'a>,
    /// Input `j` times `table[j]` before the transform (coset powers `c^j`), if any.
    pub input_scale: Option<FrTable<'a>>,
    /// The output scale.
    pub output_scale: OutputScale<'a>,
}

impl GpuContext {
    /// Transforms every vector of `values` (Montgomery words, [`FR_WORDS`](crate::FR_WORDS)
    /// per element, vectors one after the other) in place:
    /// `out_i = post_i · Σ_j pre_j · x_j · ω^(i·j)`.
    pub fn ntt(&self, values: &mut [u32], spec: &NttSpec<'_>) -> Result<(), GpuError> {
        let n = spec.size;
        if !n.is_power_of_two() || n > 1 << 26 || !values.len().is_multiple_of(n * FR_WORDS) {
            return Err(GpuError::Kernel {
                op: OP,
                reason: format!("{} words is not a whole number of vectors of {n} elements", values.len()),
            });
        }
        let limit = self.adapter().max_storage_binding as usize;
        let bytes = n * FR_WORDS * 4;
        if bytes > limit {
            return Err(GpuError::TooLarge { op: OP, bytes: bytes as u64, limit: limit as u64 });
        }
        let tw = self.resident_table(Kind::Twiddles, &spec.twiddles.key, spec.twiddles.build);
        let pre = spec.input_scale.as_ref().map(|t| self.resident_table(Kind::Scale, &t.key, t.build));
        let post = match &spec.output_scale {
            OutputScale::Table(t) => Some(self.resident_table(Kind::Scale, &t.key, t.build)),
            _ => None,
        };
        // Whole vectors per batch, as many as one binding holds.
        let per_batch = (limit / bytes).max(1) * n * FR_WORDS;
        for chunk in values.chunks_mut(per_batch) {
            self.ntt_batch(chunk, spec, &tw, pre.as_deref(), post.as_deref())?;
        }
        Ok(())
    }

    fn ntt_batch(
        &self,
        values: &mut [u32],
        spec: &NttSpec<'_>,
        twiddles: &wgpu::Buffer,
        pre: Option<&wgpu::Buffer>,
        post: Option<&wgpu::Buffer>,
    ) -> Result<(), GpuError> {
        let total = values.len() / FR_WORDS;
        let log_n = spec.size.trailing_zeros();
        // Limb-major on the device: limb k of element e at k·total + e.
        let mut soa = vec![0u32; values.len()];
        for (e, x) in values.chunks_exact(FR_WORDS).enumerate() {
            for (k, &w) in x.iter().enumerate() {
                soa[k * total + e] = w;
            }
        }
        let konst = match spec.output_scale {
            OutputScale::Constant(c) => c,
            _ => [0; FR_WORDS],
        };
        let post_mode = match spec.output_scale {
            OutputScale::None => 0,
            OutputScale::Constant(_) => 1,
            OutputScale::Table(_) => 2,
        };
        let grid = self.grid(total.div_ceil(TILE));
        let mut job = self.job(OP);
        let src = job.upload("ntt input", &soa);
        let data = job.zeroed("ntt data", values.len());
        let none = job.upload("no scale", &[0]);
        let (mut done, mut first) = (0u32, true);
        loop {
            let l = (log_n - done).min(TILE_BITS);
            let last = done + l == log_n;
            let mut params = vec![
                total as u32,
                log_n,
                1 << done,
                l,
                u32::from(first),
                u32::from(first && pre.is_some()),
                if last { post_mode } else { 0 },
                grid[0],
            ];
            params.extend(konst);
            let bindings = [&src, &data, twiddles, pre.unwrap_or(&none), post.unwrap_or(&none)];
            job.dispatch("ntt_pass", &bindings, &params, grid);
            done += l;
            first = false;
            if last {
                break;
            }
        }
        job.read(&data, values.len());
        let out = job.finish()?.remove(0);
        for (e, x) in values.chunks_exact_mut(FR_WORDS).enumerate() {
            for (k, w) in x.iter_mut().enumerate() {
                *w = out[k * total + e];
            }
        }
        Ok(())
    }
}

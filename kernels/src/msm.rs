//! [`GpuContext::msm_g1`] and [`GpuContext::msm_g1_many`]: batched Pippenger MSMs over G1.
//!
//! Scalars (canonical, 8 words each) are cut on the host into signed c-bit digits
//! (`[−2^(c−1), 2^(c−1)]`, so `2^(c−1)` buckets per window) and counting-sorted by bucket into
//! a list of signed point indices. On the device, one submission then runs:
//! 1. bucket accumulation: the reduction tree of `reduce.wgsl` in indexed mode (any bucket
//!    size, including every point in one bucket — all-equal scalars — costs `log₁₆` levels);
//! 2. bucket reduction `Σ b·B_b`: segments of 32 buckets per invocation
//!    (`msm_bucket_sums`), then a reduction tree over each set's segments;
//! 3. window combination: Horner over the windows (`msm_combine`), for variable bases.
//!
//! Resident bases ([`MsmBases::resident`]) get a fixed-base table `2^(c·w)·Pᵢ` built once on
//! the device (`msm_table`) and kept under their id: then every window of a vector shares one
//! bucket set and there is no window combination (≈ 1.5× fewer additions, no serial Horner).
//! [`GpuContext::msm_g1_many`] over resident bases (FK20: 128 MSMs of 64 points) keeps one
//! table for the whole list of base sets, so all its MSMs run in the same dispatches.

use std::sync::Arc;

use crate::context::GpuContext;
use crate::curve::{Curve, FAN_IN, plan};
use crate::error::GpuError;
use crate::field::{FR_WORDS, G1_WORDS, g1_module};
use crate::resident::Kind;
use crate::spec::{Access, KernelSpec};

const OP: &str = "msm_g1";
const MSM: &str = include_str!("../wgsl/msm.wgsl");
const AUX: &[Access] = &[Access::Read, Access::ReadWrite];
/// Buckets per `msm_bucket_sums` invocation.
const SEGMENT: usize = 32;
/// Bytes of one projective point.
const POINT_BYTES: usize = G1_WORDS * 4;

/// The MSM family's kernels (bucket accumulation is `g1_reduce`).
pub(crate) const KERNELS: &[KernelSpec] = &[
    KernelSpec {
        name: "msm_bucket_sums",
        file: "field.wgsl+curve.wgsl+msm.wgsl (G1)",
        source: || g1_module(MSM),
        entry: "msm_bucket_sums",
        storage: AUX,
    },
    KernelSpec {
        name: "msm_combine",
        file: "field.wgsl+curve.wgsl+msm.wgsl (G1)",
        source: || g1_module(MSM),
        entry: "msm_combine",
        storage: AUX,
    },
    KernelSpec {
        name: "msm_table",
        file: "field.wgsl+curve.wgsl+msm.wgsl (G1)",
        source: || g1_module(MSM),
        entry: "msm_table",
        storage: AUX,
    },
];

/// A set of G1 bases as the engine hands them over.
pub struct MsmBases<'a> {
    /// A process-unique id (the engine's `G1Bases::id`): resident tables are cached under it.
    pub id: u64,
    /// Number of bases.
    pub len: usize,
    /// Long-lived bases: build a fixed-base table once and keep it on the device.
    pub resident: bool,
    /// The bases as projective points ([`G1_WORDS`](crate::G1_WORDS) words each); called only
    /// when the device does not hold them (or their table) already.
    pub points: &'a dyn Fn() -> Vec<u32>,
}

impl std::fmt::Debug for MsmBases<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsmBases")
            .field("id", &self.id)
            .field("len", &self.len)
            .field("resident", &self.resident)
            .finish()
    }
}

/// Windows of c-bit signed digits for scalars below 2^255: the top digit must absorb a carry.
fn windows(c: u32) -> usize {
    255usize.div_ceil(c as usize) + usize::from(255 % c == 0)
}

/// The window minimising (estimated additions) `n·W + 2.2·2^(c−1)` for a fixed-base table
/// (2.2: a bucket reduction is ~2 additions per bucket plus the segment corrections).
fn fixed_window(n: usize) -> u32 {
    (4..=16u32).min_by_key(|&c| 10 * n * windows(c) + 22 * (1usize << (c - 1))).expect("non-empty range")
}

/// The window minimising `n·W + W·2.2·2^(c−1) + c·W` (variable bases: W bucket sets and a
/// Horner combination per vector).
fn variable_window(n: usize) -> u32 {
    (1..=16u32)
        .min_by_key(|&c| {
            let w = windows(c);
            10 * n * w + 22 * w * (1usize << (c - 1)) + 10 * c as usize * w
        })
        .expect("non-empty range")
}

/// Bit `i` of a canonical scalar (8 little-endian words); 0 past the top.
fn bits(s: &[u32], at: usize, c: u32) -> u32 {
    let (word, shift) = (at / 32, at % 32);
    let lo = u64::from(s.get(word).copied().unwrap_or(0));
    let hi = u64::from(s.get(word + 1).copied().unwrap_or(0));
    (((lo | (hi << 32)) >> shift) & ((1u64 << c) - 1)) as u32
}

/// The signed c-bit digits of a scalar `< 2^255`, least significant first.
fn digits(s: &[u32], c: u32, out: &mut Vec<i32>) {
    let half = 1i32 << (c - 1);
    let mut carry = 0i32;
    for w in 0..windows(c) {
        let mut d = bits(s, w * c as usize, c) as i32 + carry;
        carry = 0;
        if d > half {
            d -= 1 << c;
            carry = 1;
        }
        out.push(d);
    }
    debug_assert_eq!(carry, 0);
}

/// Points of one MSM run: where each vector's scalars find their points.
#[derive(Clone, Copy)]
struct Layout {
    c: u32,
    /// Fixed-base table (point of scalar i, window w at `offset + i·W + w`; one bucket set per
    /// vector) or plain bases (point `offset + i`; one set per window, combined by Horner).
    fixed: bool,
}

impl Layout {
    fn sets_per_vector(self) -> usize {
        if self.fixed { 1 } else { windows(self.c) }
    }

    /// Device bytes a vector of `len` scalars needs at most in any one buffer.
    fn bytes(self, len: usize) -> usize {
        let entries = len * windows(self.c);
        let buckets = self.sets_per_vector() << (self.c - 1);
        (entries * 4).max((entries / FAN_IN + buckets + 1) * POINT_BYTES)
    }
}

impl GpuContext {
    /// Batched MSM over one set of bases: for each scalar vector (canonical scalars,
    /// [`FR_WORDS`](crate::FR_WORDS) words each, at most `bases.len` of them; missing scalars
    /// are zero) returns `Σ sᵢ·Pᵢ` as one projective point ([`G1_WORDS`](crate::G1_WORDS) words).
    pub fn msm_g1(&self, bases: &MsmBases<'_>, scalars: &[&[u32]]) -> Result<Vec<u32>, GpuError> {
        let vectors = check_scalars(bases.len, scalars)?;
        if vectors.is_empty() {
            return Ok(Vec::new());
        }
        let limit = self.adapter().max_storage_binding as usize;
        let n = bases.len.max(1);
        let c = fixed_window(n);
        let fixed = Layout { c, fixed: true };
        if bases.resident && n * windows(c) * POINT_BYTES <= limit && fixed.bytes(1) <= limit {
            let key = [bases.id as u32, (bases.id >> 32) as u32, c];
            let table = self.table(&key, c, bases.len, bases.points)?;
            let jobs: Vec<(usize, &[u32])> = vectors.iter().map(|s| (0, *s)).collect();
            return self.msm_vectors(&table, fixed, &jobs);
        }
        // Variable bases: uploaded per call, cut into chunks that fit one binding.
        let longest = vectors.iter().map(|s| s.len() / FR_WORDS).max().unwrap_or(0);
        let mut layout = Layout { c: variable_window(longest.max(1)), fixed: false };
        // Small bindings (never below WebGPU's 128 MiB on real adapters; tests lower it) need
        // fewer buckets.
        while layout.c > 1 && layout.bytes(1) > limit {
            layout.c -= 1;
        }
        if layout.bytes(1) > limit {
            return Err(GpuError::TooLarge { op: OP, bytes: layout.bytes(1) as u64, limit: limit as u64 });
        }
        let points = (bases.points)();
        if points.len() != bases.len * G1_WORDS {
            return Err(bad_bases(points.len(), bases.len));
        }
        let chunk = (limit / POINT_BYTES).max(1);
        if longest <= chunk {
            let buffer = self.resident("msm bases", &points[..longest * G1_WORDS]);
            let jobs: Vec<(usize, &[u32])> = vectors.iter().map(|s| (0, *s)).collect();
            return self.msm_vectors(&buffer, layout, &jobs);
        }
        let mut partials = Vec::new();
        let pieces = longest.div_ceil(chunk);
        for k in 0..pieces {
            let (a, b) = (k * chunk, ((k + 1) * chunk).min(longest));
            let buffer = self.resident("msm bases", &points[a * G1_WORDS..b * G1_WORDS]);
            let jobs: Vec<(usize, &[u32])> =
                vectors.iter().map(|s| (0, &s[(a * FR_WORDS).min(s.len())..(b * FR_WORDS).min(s.len())])).collect();
            partials.push(self.msm_vectors(&buffer, layout, &jobs)?);
        }
        // Partial sums of vector v sit at partials[k][v]: regroup by vector and add.
        let regrouped: Vec<u32> = (0..vectors.len())
            .flat_map(|v| partials.iter().flat_map(move |p| p[v * G1_WORDS..(v + 1) * G1_WORDS].iter().copied()))
            .collect();
        self.sum_g1(&regrouped, &vec![pieces; vectors.len()])
    }

    /// Many MSMs, each over its own bases (FK20). When every base set is resident they share
    /// one fixed-base table (kept under the list of ids) and run in the same dispatches;
    /// otherwise they run one by one through [`GpuContext::msm_g1`].
    pub fn msm_g1_many(&self, jobs: &[(MsmBases<'_>, &[u32])]) -> Result<Vec<u32>, GpuError> {
        for (b, s) in jobs {
            check_scalars(b.len, &[s])?;
        }
        let total: usize = jobs.iter().map(|(b, _)| b.len).sum();
        let longest = jobs.iter().map(|(b, _)| b.len).max().unwrap_or(0).max(1);
        let c = fixed_window(longest);
        let limit = self.adapter().max_storage_binding as usize;
        let fits = total * windows(c) * POINT_BYTES <= limit && Layout { c, fixed: true }.bytes(1) <= limit;
        if jobs.len() < 2 || !fits || !jobs.iter().all(|(b, _)| b.resident) {
            let mut out = Vec::with_capacity(jobs.len() * G1_WORDS);
            for (b, s) in jobs {
                out.extend(self.msm_g1(b, &[s])?);
            }
            return Ok(out);
        }
        let mut key = vec![c];
        jobs.iter().for_each(|(b, _)| key.extend([b.id as u32, (b.id >> 32) as u32]));
        let all = || jobs.iter().flat_map(|(b, _)| (b.points)()).collect::<Vec<u32>>();
        let table = self.table(&key, c, total, &all)?;
        let mut offset = 0;
        let vectors: Vec<(usize, &[u32])> = jobs
            .iter()
            .map(|(b, s)| {
                let v = (offset, *s);
                offset += b.len * windows(c);
                v
            })
            .collect();
        self.msm_vectors(&table, Layout { c, fixed: true }, &vectors)
    }

    /// The fixed-base table under `key`, built on the device on first use.
    fn table(
        &self,
        key: &[u32],
        c: u32,
        n: usize,
        points: &dyn Fn() -> Vec<u32>,
    ) -> Result<Arc<wgpu::Buffer>, GpuError> {
        self.algebra.get_or_build(Kind::MsmTable, key, || {
            let words = points();
            if words.len() != n * G1_WORDS {
                return Err(bad_bases(words.len(), n));
            }
            let w = windows(c);
            let mut job = self.job("msm table");
            let bases = job.upload("msm bases", &words);
            let table = job.zeroed("msm table", n * w * G1_WORDS);
            let grid = self.grid(n.div_ceil(64));
            job.dispatch("msm_table", &[&bases, &table], &[n as u32, grid[0] * 64, w as u32, c, 0], grid);
            job.finish()?;
            Ok(table)
        })
    }

    /// Runs `(point offset, scalars)` vectors over `points`: long vectors are cut into pieces,
    /// pieces are batched so every buffer fits one binding, and cut vectors are summed again.
    fn msm_vectors(
        &self,
        points: &wgpu::Buffer,
        layout: Layout,
        vectors: &[(usize, &[u32])],
    ) -> Result<Vec<u32>, GpuError> {
        let limit = self.adapter().max_storage_binding as usize;
        let step = if layout.fixed { windows(layout.c) } else { 1 };
        // The longest piece that fits alone.
        let mut max_len = 1usize << 20;
        while max_len > 1 && layout.bytes(max_len) > limit {
            max_len /= 2;
        }
        let mut pieces: Vec<(usize, &[u32])> = Vec::new();
        let mut counts = Vec::with_capacity(vectors.len());
        for &(offset, s) in vectors {
            let chunks: Vec<&[u32]> = if s.is_empty() { vec![s] } else { s.chunks(max_len * FR_WORDS).collect() };
            counts.push(chunks.len());
            for (k, chunk) in chunks.into_iter().enumerate() {
                pieces.push((offset + k * max_len * step, chunk));
            }
        }
        let mut out = Vec::with_capacity(pieces.len() * G1_WORDS);
        let mut start = 0;
        while start < pieces.len() {
            let (mut end, mut bytes) = (start, 0usize);
            while end < pieces.len() && (end == start || bytes + layout.bytes(pieces[end].1.len() / FR_WORDS) <= limit)
            {
                bytes += layout.bytes(pieces[end].1.len() / FR_WORDS);
                end += 1;
            }
            out.extend(self.msm_run(points, layout, &pieces[start..end])?);
            start = end;
        }
        if counts.iter().all(|&k| k == 1) {
            return Ok(out);
        }
        self.sum_g1(&out, &counts)
    }

    /// One submission: bucket accumulation, bucket reduction, window combination.
    fn msm_run(
        &self,
        points: &wgpu::Buffer,
        layout: Layout,
        vectors: &[(usize, &[u32])],
    ) -> Result<Vec<u32>, GpuError> {
        let (c, w) = (layout.c, windows(layout.c));
        let m = 1usize << (c - 1);
        let spv = layout.sets_per_vector();
        let sets = vectors.len() * spv;
        // Digits, then a counting sort of (signed point index) by bucket.
        let mut digs = Vec::new();
        let mut counts = vec![0usize; sets * m];
        for (v, (_, s)) in vectors.iter().enumerate() {
            let at = digs.len();
            s.chunks_exact(FR_WORDS).for_each(|x| digits(x, c, &mut digs));
            for (k, &d) in digs[at..].iter().enumerate() {
                if d != 0 {
                    let set = v * spv + if layout.fixed { 0 } else { k % w };
                    counts[set * m + d.unsigned_abs() as usize - 1] += 1;
                }
            }
        }
        let mut next: Vec<usize> = counts
            .iter()
            .scan(0usize, |acc, &n| {
                let at = *acc;
                *acc += n;
                Some(at)
            })
            .collect();
        let mut entries = vec![0u32; counts.iter().sum()];
        let mut k = 0;
        for (v, (offset, s)) in vectors.iter().enumerate() {
            for i in 0..s.len() / FR_WORDS {
                for win in 0..w {
                    let d = digs[k];
                    k += 1;
                    if d == 0 {
                        continue;
                    }
                    let (set, point) =
                        if layout.fixed { (v, offset + i * w + win) } else { (v * spv + win, offset + i) };
                    let bucket = set * m + d.unsigned_abs() as usize - 1;
                    entries[next[bucket]] = point as u32 | (u32::from(d < 0) << 31);
                    next[bucket] += 1;
                }
            }
        }
        let mut job = self.job(OP);
        let idx = job.upload("msm entries", &entries);
        let buckets = self.record_reduce(&mut job, Curve::G1, points, Some(&idx), &plan(&counts, FAN_IN));
        let (len, segs) = (SEGMENT.min(m), m / SEGMENT.min(m));
        let seg_sums = job.zeroed("msm segment sums", sets * segs * G1_WORDS);
        let grid = self.grid((sets * segs).div_ceil(64));
        let params = [(sets * segs) as u32, grid[0] * 64, m as u32, len as u32, segs as u32];
        job.dispatch("msm_bucket_sums", &[&buckets, &seg_sums], &params, grid);
        let set_sums = self.record_reduce(&mut job, Curve::G1, &seg_sums, None, &plan(&vec![segs; sets], FAN_IN));
        let result = if layout.fixed {
            set_sums
        } else {
            let out = job.zeroed("msm results", vectors.len() * G1_WORDS);
            let grid = self.grid(vectors.len().div_ceil(64));
            job.dispatch(
                "msm_combine",
                &[&set_sums, &out],
                &[vectors.len() as u32, grid[0] * 64, w as u32, c, 0],
                grid,
            );
            out
        };
        job.read(&result, vectors.len() * G1_WORDS);
        Ok(job.finish()?.remove(0))
    }
}

fn bad_bases(words: usize, bases: usize) -> GpuError {
    GpuError::Kernel { op: OP, reason: format!("{words} words of bases for {bases} points of {G1_WORDS} words") }
}

/// Checks shapes and that every scalar is below 2^255 (the digit recoding's range; the engine
/// passes canonical scalars < r). Returns the vectors.
fn check_scalars<'s>(bases: usize, scalars: &[&'s [u32]]) -> Result<Vec<&'s [u32]>, GpuError> {
    for s in scalars {
        if s.len() % FR_WORDS != 0 || s.len() / FR_WORDS > bases {
            return Err(GpuError::Kernel { op: OP, reason: format!("{} scalar words for {bases} bases", s.len()) });
        }
        if s.chunks_exact(FR_WORDS).any(|x| x[FR_WORDS - 1] >> 31 != 0) {
            return Err(GpuError::Kernel { op: OP, reason: "a scalar is not below 2^255".into() });
        }
    }
    Ok(scalars.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(d: &[i32], c: u32) -> i128 {
        // Fits for the test scalars below (< 2^120).
        d.iter().rev().fold(0i128, |acc, &x| acc * (1i128 << c) + i128::from(x))
    }

    #[test]
    fn signed_digits_recompose_the_scalar() {
        for c in 1..=16 {
            for x in [0u128, 1, 2, 127, 128, 129, 255, 256, 0xffff_ffff, (1 << 100) - 1, 0x1234_5678_9abc_def0_1111] {
                let s: Vec<u32> = (0..8).map(|i| if i < 4 { (x >> (32 * i)) as u32 } else { 0 }).collect();
                let mut d = Vec::new();
                digits(&s, c, &mut d);
                assert_eq!(d.len(), windows(c));
                assert!(d.iter().all(|&x| x.unsigned_abs() <= 1 << (c - 1)), "c = {c}");
                assert_eq!(value(&d, c), x as i128, "c = {c}, x = {x}");
            }
        }
        // r − 1 (all limbs busy): the top digit absorbs the carry without a new window.
        let r1 = [0u32, 0xffffffff, 0xfffe5bfe, 0x53bda402, 0x09a1d805, 0x3339d808, 0x299d7d48, 0x73eda753];
        for c in 1..=16 {
            let mut d = Vec::new();
            digits(&r1, c, &mut d);
            assert!(d.iter().all(|&x| x.unsigned_abs() <= 1 << (c - 1)));
        }
    }

    #[test]
    fn windows_fit_the_choices_made() {
        assert_eq!(fixed_window(64), 8);
        assert_eq!(fixed_window(4096), 13);
        assert_eq!(windows(8), 32);
        assert_eq!(windows(13), 20);
        assert_eq!(windows(5), 52);
        assert!(variable_window(1) <= 3);
    }
}

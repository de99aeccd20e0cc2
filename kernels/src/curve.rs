//! G1 and G2 point sums ([`GpuContext::sum_g1`], [`GpuContext::sum_g2`]) and the segmented
//! reduction they share with the MSM's bucket accumulation.
//!
//! Points are projective `(X : Y : Z)` (x = X/Z, y = Y/Z; identity `(0 : 1 : 0)`) with
//! Montgomery-form coordinates, point after point (X, Y, Z; an Fp2 coordinate is c0 then c1).
//! Sums use the complete Renes–Costello–Batina addition, so doubling, cancellation and the
//! identity need no special case anywhere.

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::field::{FP_MODULUS, G1_WORDS, G2_WORDS, g1_module, g2_module, r_mod};
use crate::job::Job;
use crate::spec::{Access, KernelSpec};

const REDUCE: &str = include_str!("../wgsl/reduce.wgsl");
const REDUCE_STORAGE: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::ReadWrite];

/// Longest task of the reduction tree: each invocation adds up to this many points, and each
/// level divides the number of partial sums by it. 32 keeps 2k invocations busy for a
/// 64k-point group, needs 4 levels for 2^20 points, and finishes typical MSM buckets (~20
/// points) in one level.
pub(crate) const FAN_IN: usize = 32;

/// The curve families' kernels.
pub(crate) const KERNELS: &[KernelSpec] = &[
    KernelSpec {
        name: "g1_reduce",
        file: "field.wgsl+curve.wgsl+reduce.wgsl (G1)",
        source: || g1_module(REDUCE),
        entry: "reduce",
        storage: REDUCE_STORAGE,
    },
    KernelSpec {
        name: "g2_reduce",
        file: "field.wgsl+fp2.wgsl+curve.wgsl+reduce.wgsl (G2)",
        source: || g2_module(REDUCE),
        entry: "reduce",
        storage: REDUCE_STORAGE,
    },
];

/// A curve group the kernels handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    G1,
    G2,
}

impl Curve {
    /// Words per projective point.
    pub(crate) fn words(self) -> usize {
        match self {
            Self::G1 => G1_WORDS,
            Self::G2 => G2_WORDS,
        }
    }

    fn reduce_kernel(self) -> &'static str {
        match self {
            Self::G1 => "g1_reduce",
            Self::G2 => "g2_reduce",
        }
    }

    /// The identity `(0 : 1 : 0)` in Montgomery form.
    pub(crate) fn identity(self) -> Vec<u32> {
        let mut p = vec![0u32; self.words()];
        let f = self.words() / 3;
        p[f..f + FP_MODULUS.len()].copy_from_slice(&r_mod(&FP_MODULUS));
        p
    }
}

/// Marks a task's output as final (segment index) rather than a partial sum.
const FINAL: u32 = 1 << 31;

/// A reduction tree. Every task is `(start, len, out)` over its level's input; `out` is a
/// segment index with [`FINAL`] set when the task completes its segment (written to the result
/// buffer), else the index of a partial sum (read by the next level). Level 0 reads the
/// inputs, level `l` the partial sums of level `l − 1`. Within a level, tasks are sorted by
/// decreasing length so that invocations running side by side (a SIMD group, a warp) do about
/// the same number of additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) tasks: Vec<u32>,
    /// `(first task, task count, partial sums written)` per level.
    pub(crate) levels: Vec<(usize, usize, usize)>,
    pub(crate) segments: usize,
}

/// Plans the reduction of consecutive segments of `seg_lens` inputs (an empty segment gives
/// the identity) with at most `fan_in` inputs per task.
pub(crate) fn plan(seg_lens: &[usize], fan_in: usize) -> Plan {
    debug_assert!(fan_in >= 2 && seg_lens.len() < FINAL as usize);
    let mut tasks = Vec::new();
    let mut levels = Vec::new();
    // Segments still open: (segment, first input, inputs).
    let mut open: Vec<(usize, usize, usize)> = Vec::with_capacity(seg_lens.len());
    let mut at = 0;
    for (seg, &len) in seg_lens.iter().enumerate() {
        open.push((seg, at, len));
        at += len;
    }
    loop {
        let mut level: Vec<[u32; 3]> = Vec::new();
        let mut next = Vec::new();
        let mut partials = 0usize;
        for &(seg, start, len) in &open {
            let chunks = len.div_ceil(fan_in).max(1);
            if chunks == 1 {
                level.push([start as u32, len as u32, FINAL | seg as u32]);
                continue;
            }
            next.push((seg, partials, chunks));
            for c in 0..chunks {
                level.push([(start + c * fan_in) as u32, (len - c * fan_in).min(fan_in) as u32, partials as u32]);
                partials += 1;
            }
        }
        level.sort_by_key(|t| std::cmp::Reverse(t[1]));
        levels.push((tasks.len() / 3, level.len(), partials));
        tasks.extend(level.iter().flatten());
        if next.is_empty() {
            return Plan { tasks, levels, segments: seg_lens.len() };
        }
        open = next;
    }
}

/// A batch of a sum too big for one binding: points `start..end`, cut into pieces of whole or
/// partial groups.
#[derive(Debug, PartialEq, Eq)]
struct Batch {
    start: usize,
    end: usize,
    /// Piece sizes, in order.
    lens: Vec<usize>,
    /// The group each piece belongs to.
    owners: Vec<usize>,
}

/// Cuts consecutive groups into batches of at most `max` (points + pieces): a group may be
/// split across batches; an empty group is one empty piece.
fn cut(group_lens: &[usize], max: usize) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut cur = Batch { start: 0, end: 0, lens: Vec::new(), owners: Vec::new() };
    let mut used = 0usize;
    for (g, &len) in group_lens.iter().enumerate() {
        let mut left = len;
        loop {
            if used + 1 >= max {
                let next = Batch { start: cur.end, end: cur.end, lens: Vec::new(), owners: Vec::new() };
                batches.push(std::mem::replace(&mut cur, next));
                used = 0;
            }
            let take = left.min(max - used - 1);
            cur.lens.push(take);
            cur.owners.push(g);
            cur.end += take;
            used += take + 1;
            left -= take;
            if left == 0 {
                break;
            }
            used = max; // the group continues in the next batch
        }
    }
    if !cur.lens.is_empty() || batches.is_empty() {
        batches.push(cur);
    }
    batches
}

impl GpuContext {
    /// Records the levels of `plan` into `job`: level 0 reduces `src` (through the signed
    /// entries `idx` when given), each later level the partial sums of the one before. Returns
    /// the buffer with one point per segment.
    pub(crate) fn record_reduce(
        &self,
        job: &mut Job<'_>,
        curve: Curve,
        src: &wgpu::Buffer,
        idx: Option<&wgpu::Buffer>,
        plan: &Plan,
    ) -> wgpu::Buffer {
        let tasks = job.upload("reduce tasks", &plan.tasks);
        let none = job.upload("no entries", &[0]);
        let out = job.zeroed("reduce results", plan.segments * curve.words());
        let mut src = src.clone();
        for (level, &(first, count, partials)) in plan.levels.iter().enumerate() {
            let dst = job.zeroed("reduce partials", partials * curve.words());
            let grid = self.grid(count.div_ceil(64));
            let entries = if level == 0 { idx } else { None };
            let params = [count as u32, u32::from(entries.is_some()), grid[0] * 64, first as u32];
            job.dispatch(curve.reduce_kernel(), &[&src, &tasks, entries.unwrap_or(&none), &dst, &out], &params, grid);
            src = dst;
        }
        out
    }

    /// Sums each group of G1 points: `points` holds the groups one after the other
    /// ([`G1_WORDS`](crate::G1_WORDS) words per projective point), `group_lens` their sizes.
    /// Returns one projective point per group (the identity for an empty group), coordinates
    /// fully reduced.
    pub fn sum_g1(&self, points: &[u32], group_lens: &[usize]) -> Result<Vec<u32>, GpuError> {
        self.sum_points("sum_g1", Curve::G1, points, group_lens)
    }

    /// Sums each group of G2 points ([`G2_WORDS`](crate::G2_WORDS) words per point); as
    /// [`GpuContext::sum_g1`].
    pub fn sum_g2(&self, points: &[u32], group_lens: &[usize]) -> Result<Vec<u32>, GpuError> {
        self.sum_points("sum_g2", Curve::G2, points, group_lens)
    }

    fn sum_points(
        &self,
        op: &'static str,
        curve: Curve,
        points: &[u32],
        group_lens: &[usize],
    ) -> Result<Vec<u32>, GpuError> {
        let w = curve.words();
        let total: usize = group_lens.iter().sum();
        if points.len() != total * w {
            return Err(GpuError::Kernel {
                op,
                reason: format!("{} words for {total} points of {w} words", points.len()),
            });
        }
        // A batch's inputs and its first level's outputs (≤ points + groups) must each fit one
        // storage binding; bigger inputs are cut into batches whose partial sums are summed again.
        let max = (self.adapter().max_storage_binding as usize / (4 * w)).max(2 * FAN_IN);
        let batches = cut(group_lens, max);
        if let [only] = batches.as_slice() {
            return self.sum_batch(op, curve, points, &only.lens);
        }
        let mut partials = Vec::new();
        let mut pieces = vec![0usize; group_lens.len()];
        for b in &batches {
            partials.extend(self.sum_batch(op, curve, &points[b.start * w..b.end * w], &b.lens)?);
            b.owners.iter().for_each(|&g| pieces[g] += 1);
        }
        if pieces.iter().all(|&k| k == 1) {
            return Ok(partials);
        }
        self.sum_points(op, curve, &partials, &pieces)
    }

    fn sum_batch(
        &self,
        op: &'static str,
        curve: Curve,
        points: &[u32],
        group_lens: &[usize],
    ) -> Result<Vec<u32>, GpuError> {
        if group_lens.is_empty() {
            return Ok(Vec::new());
        }
        if points.is_empty() {
            // Only empty groups: nothing to add.
            return Ok(curve.identity().repeat(group_lens.len()));
        }
        let plan = plan(group_lens, FAN_IN);
        let mut job = self.job(op);
        let src = job.upload("points", points);
        let sums = self.record_reduce(&mut job, curve, &src, None, &plan);
        job.read(&sums, group_lens.len() * curve.words());
        Ok(job.finish()?.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_reduce_every_segment_to_one_task() {
        let p = plan(&[0, 1, 16, 17, 300], 16);
        // Level 0: 1 + 1 + 1 + 2 + 19 tasks, longest first; segments 3 and 4 leave 2 and 19
        // partials; level 1 finishes 3 and leaves 2 partials of 4; level 2 finishes 4.
        assert_eq!(p.levels, vec![(0, 24, 21), (24, 3, 2), (27, 1, 0)]);
        assert_eq!(p.segments, 5);
        let level0: Vec<&[u32]> = p.tasks[..72].chunks(3).collect();
        assert_eq!(level0[0], &[1, 16, FINAL | 2]);
        assert_eq!(level0[1], &[17, 16, 0]);
        assert!(level0.contains(&&[0, 0, FINAL][..]) && level0.contains(&&[0, 1, FINAL | 1][..]));
        assert!(level0.contains(&&[33, 1, 1][..]) && level0.contains(&&[34 + 18 * 16, 12, 20][..]));
        assert_eq!(&p.tasks[72..81], &[2, 16, 0, 18, 3, 1, 0, 2, FINAL | 3]);
        assert_eq!(&p.tasks[81..], &[0, 2, FINAL | 4]);
        assert_eq!(plan(&[5, 5], 16).levels, vec![(0, 2, 0)]);
    }

    #[test]
    fn big_sums_are_cut_into_batches_that_fit() {
        let b = cut(&[3, 0, 25, 2], 10);
        let lens: Vec<Vec<usize>> = b.iter().map(|b| b.lens.clone()).collect();
        assert_eq!(lens, vec![vec![3, 0, 4], vec![9], vec![9], vec![3, 2]]);
        let owners: Vec<Vec<usize>> = b.iter().map(|b| b.owners.clone()).collect();
        assert_eq!(owners, vec![vec![0, 1, 2], vec![2], vec![2], vec![2, 3]]);
        assert_eq!((b[3].start, b[3].end), (25, 30));
        for b in &b {
            assert!(b.lens.iter().sum::<usize>() + b.lens.len() <= 10);
        }
        assert_eq!(cut(&[4, 4], 10).len(), 1);
    }
}

//! G1 and G2 point sums ([`GpuContext::sum_g1`], [`GpuContext::sum_g2`]) and the segmented
//! reduction they share with the MSM's bucket accumulation.
//!
//! Points are projective `(X : Y : Z)` (x = X/Z, y = Y/Z; identity `(0 : 1 : 0)`) with
//! Montgomery-form coordinates, point after point (X, Y, Z; an Fp2 coordinate is c0 then c1).
//! Sums use the complete Renes–Costello–Batina addition, so doubling, cancellation and the
//! identity need no special case anywhere.

use crate::context::{Access, GpuContext, KernelSpec};
use crate::error::GpuError;
use crate::field::{FP_MODULUS, G1_WORDS, G2_WORDS, g1_module, g2_module, r_mod};
use crate::job::Job;

const REDUCE: &str = include_str!("../wgsl/reduce.wgsl");
const REDUCE_STORAGE: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite];

/// Longest task of the reduction tree: each invocation adds up to this many points, and each
/// level divides the number of partial sums by it. 16 keeps ≥ 4k invocations busy for a
/// 64k-point group while a 2^20-point group still needs only 5 levels.
pub(crate) const FAN_IN: usize = 16;

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

/// A reduction tree: the tasks `(start, len)` of every level, concatenated, and where each
/// level's tasks sit in that list. Level 0 reads the inputs; level `l` reads level `l − 1`'s
/// outputs; the last level has exactly one task per segment, in segment order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) tasks: Vec<u32>,
    /// `(first task, task count)` per level.
    pub(crate) levels: Vec<(usize, usize)>,
}

/// Plans the reduction of consecutive segments of `seg_lens` inputs (an empty segment gives
/// the identity) with at most `fan_in` inputs per task.
pub(crate) fn plan(seg_lens: &[usize], fan_in: usize) -> Plan {
    debug_assert!(fan_in >= 2);
    let mut tasks = Vec::new();
    let mut levels = Vec::new();
    let mut lens = seg_lens.to_vec();
    loop {
        let first = tasks.len() / 2;
        let mut start = 0usize;
        let mut next = Vec::with_capacity(lens.len());
        for &len in &lens {
            let chunks = len.div_ceil(fan_in).max(1);
            for c in 0..chunks {
                let s = c * fan_in;
                tasks.extend([(start + s) as u32, (len - s).min(fan_in) as u32]);
            }
            start += len;
            next.push(chunks);
        }
        levels.push((first, tasks.len() / 2 - first));
        if next.iter().all(|&c| c == 1) {
            return Plan { tasks, levels };
        }
        lens = next;
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
    /// entries `idx` when given), each later level the one before. Returns the buffer with one
    /// point per segment.
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
        let mut src = src.clone();
        for (level, &(first, count)) in plan.levels.iter().enumerate() {
            let dst = job.zeroed("reduce level", count * curve.words());
            let grid = self.grid(count.div_ceil(64));
            let entries = if level == 0 { idx } else { None };
            let params = [count as u32, u32::from(entries.is_some()), grid[0] * 64, first as u32];
            job.dispatch(curve.reduce_kernel(), &[&src, &tasks, entries.unwrap_or(&none), &dst], &params, grid);
            src = dst;
        }
        src
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
        // Level 0: 1 + 1 + 1 + 2 + 19 tasks; level 1 reduces 17's two and 300's nineteen;
        // level 2 reduces 300's two.
        assert_eq!(p.levels, vec![(0, 24), (24, 6), (30, 5)]);
        assert_eq!(&p.tasks[..8], &[0, 0, 0, 1, 1, 16, 17, 16]);
        assert_eq!(&p.tasks[8..10], &[33, 1]);
        // The last level: one task per segment, in order.
        let last: Vec<u32> = p.tasks[60..].to_vec();
        assert_eq!(last, vec![0, 1, 1, 1, 2, 1, 3, 1, 4, 2]);
        assert_eq!(plan(&[5, 5], 16).levels, vec![(0, 2)]);
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

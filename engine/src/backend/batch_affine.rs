//! Batch-affine bucket accumulation: many independent `bucket += ±point` additions done in
//! affine coordinates, with one field inversion shared by a whole batch (Montgomery's trick).
//!
//! An affine addition costs one inversion plus 2M + 1S; batching turns the inversion into
//! ~3M per addition, so each costs ≈ 5.5 field multiplications against ≈ 10 for the usual
//! mixed (affine + Jacobian) addition. This is the inner loop of bucket-method MSMs.
//!
//! Two additions into the same bucket cannot share a batch (the second needs the first's
//! result). Instead of queueing them (which degrades badly when many scalars share a digit),
//! a conflicting addition goes into a per-bucket Jacobian overflow accumulator, merged back
//! when the buckets are read out: random inputs rarely conflict, adversarial ones cost no more
//! than mixed additions.

use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{AdditiveGroup, Field, One, Zero};

use crate::field::{Fq, G1Affine, G1Projective};

/// Most additions per shared inversion (the batch's scratch stays in L1/L2).
const MAX_BATCH: usize = 1024;

/// The batch size for `buckets` buckets. An inversion costs ≈ 330 multiplications (measured
/// here: 12 µs against 37 ns per multiplication), amortised as `330/B` per addition, while a
/// batch of `B` makes ≈ `B/2N` of additions conflict and fall back to ≈ 9 multiplications
/// more; `B = √(2N·330/9)` balances the two.
fn batch_size(buckets: usize) -> usize {
    (((2 * buckets * 330 / 9) as f64).sqrt() as usize).clamp(16, MAX_BATCH)
}

/// Entry flag: subtract the point instead of adding it.
pub(crate) const NEGATE: u64 = 1 << 63;

/// Packs a reference to `tables[table][index]` (optionally negated) into an entry.
#[inline]
pub(crate) fn entry(table: usize, index: usize, negate: bool) -> u64 {
    debug_assert!(table < 1 << 16 && index < 1 << 40);
    ((table as u64) << 40) | index as u64 | if negate { NEGATE } else { 0 }
}

#[derive(Clone, Copy)]
enum Kind {
    /// Bucket was empty: it becomes the point.
    Set,
    /// Point is the identity: the bucket stays.
    Keep,
    /// Point is the bucket's negation: the bucket empties.
    Cancel,
    /// Point equals the bucket: tangent rule.
    Double,
    /// The general chord rule.
    Add,
}

/// How `q + p` will be computed, and the denominator its slope needs (1 when none).
#[inline]
fn classify(q: &G1Affine, p: &G1Affine) -> (Kind, Fq) {
    if q.is_zero() {
        (Kind::Set, Fq::one())
    } else if p.is_zero() {
        (Kind::Keep, Fq::one())
    } else if same(&q.x, &p.x) {
        if same(&q.y, &p.y) && !q.y.is_zero() { (Kind::Double, q.y.double()) } else { (Kind::Cancel, Fq::one()) }
    } else {
        (Kind::Add, p.x - q.x)
    }
}

/// Field equality on the limbs (the derived `==` compiles to a `memcmp` call here).
#[inline(always)]
fn same(a: &Fq, b: &Fq) -> bool {
    let (a, b) = ((a.0).0, (b.0).0);
    (0..6).fold(0u64, |acc, i| acc | (a[i] ^ b[i])) == 0
}

/// `q + p` given the inverse of [`classify`]'s denominator.
#[inline]
fn finish_one(q: &G1Affine, p: &G1Affine, kind: Kind, d_inv: &Fq) -> G1Affine {
    match kind {
        Kind::Set => *p,
        Kind::Keep => *q,
        Kind::Cancel => G1Affine::identity(),
        Kind::Double => {
            let x2 = q.x.square();
            let lambda = (x2.double() + x2) * d_inv;
            let x3 = lambda.square() - q.x.double();
            G1Affine::new_unchecked(x3, lambda * (q.x - x3) - q.y)
        }
        Kind::Add => {
            let lambda = (p.y - q.y) * d_inv;
            let x3 = lambda.square() - q.x - p.x;
            G1Affine::new_unchecked(x3, lambda * (q.x - x3) - q.y)
        }
    }
}

/// Replaces every (nonzero) element by its inverse: Montgomery's trick, one inversion.
fn batch_invert(values: &mut [Fq], prefix: &mut Vec<Fq>) {
    prefix.clear();
    let mut acc = Fq::one();
    for d in values.iter() {
        prefix.push(acc);
        acc *= d;
    }
    let mut inv = acc.inverse().expect("denominators are nonzero by construction");
    for (d, before) in values.iter_mut().zip(prefix.iter()).rev() {
        let d_inv = inv * before;
        inv *= *d;
        *d = d_inv;
    }
}

/// Affine buckets being filled from points of one or more tables.
pub(crate) struct Accumulator<'t> {
    tables: &'t [&'t [G1Affine]],
    batch_size: usize,
    buckets: Vec<G1Affine>,
    overflow: Vec<G1Projective>,
    overflowed: Vec<u32>,
    busy: Vec<u64>,
    batch: Vec<(u32, G1Affine, Kind)>,
    denominators: Vec<Fq>,
    prefix: Vec<Fq>,
}

impl<'t> Accumulator<'t> {
    /// `bucket_count` empty buckets over points from `tables`.
    pub(crate) fn new(tables: &'t [&'t [G1Affine]], bucket_count: usize) -> Self {
        let batch_size = batch_size(bucket_count);
        Self {
            tables,
            batch_size,
            buckets: vec![G1Affine::identity(); bucket_count],
            overflow: Vec::new(),
            overflowed: Vec::new(),
            busy: vec![0; bucket_count.div_ceil(64)],
            batch: Vec::with_capacity(batch_size),
            denominators: Vec::with_capacity(batch_size),
            prefix: Vec::with_capacity(batch_size),
        }
    }

    #[inline]
    fn point(&self, entry: u64) -> G1Affine {
        let table = ((entry & !NEGATE) >> 40) as usize;
        let p = self.tables[table][(entry & ((1 << 40) - 1)) as usize];
        if entry & NEGATE != 0 { -p } else { p }
    }

    /// Queues `bucket += point(entry)`. Callers should spread consecutive additions over many
    /// buckets (interleave independent MSMs) to keep conflicts rare.
    #[inline]
    pub(crate) fn add(&mut self, bucket: usize, entry: u64) {
        let p = self.point(entry);
        if p.is_zero() {
            return;
        }
        let (word, bit) = (bucket / 64, 1u64 << (bucket % 64));
        if self.busy[word] & bit != 0 {
            // Already in this batch: rare for random inputs, see the module docs.
            if self.overflow.is_empty() {
                self.overflow = vec![G1Projective::zero(); self.buckets.len()];
            }
            if self.overflow[bucket].is_zero() {
                self.overflowed.push(bucket as u32);
            }
            self.overflow[bucket] += p;
            return;
        }
        self.busy[word] |= bit;
        let (kind, denominator) = classify(&self.buckets[bucket], &p);
        self.batch.push((bucket as u32, p, kind));
        self.denominators.push(denominator);
        if self.batch.len() == self.batch_size {
            self.flush();
        }
    }

    /// Runs the queued batch: one inversion, then each addition's chord or tangent.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        batch_invert(&mut self.denominators, &mut self.prefix);
        for ((bucket, p, kind), d_inv) in self.batch.iter().zip(&self.denominators) {
            let q = &mut self.buckets[*bucket as usize];
            *q = finish_one(q, p, *kind, d_inv);
            self.busy[*bucket as usize / 64] &= !(1u64 << (bucket % 64));
        }
        self.batch.clear();
        self.denominators.clear();
    }

    /// Finishes every queued addition and returns the buckets (affine, identity when empty).
    pub(crate) fn finish(mut self) -> Vec<G1Affine> {
        self.flush();
        if !self.overflowed.is_empty() {
            let merged: Vec<G1Projective> =
                self.overflowed.iter().map(|&b| self.overflow[b as usize] + self.buckets[b as usize]).collect();
            for (&b, p) in self.overflowed.iter().zip(G1Projective::normalize_batch(&merged)) {
                self.buckets[b as usize] = p;
            }
        }
        self.buckets
    }
}

/// `(Σ_j (j + 1)·buckets[j], Σ_j buckets[j])` by the running-sum method (2 additions per
/// bucket; the plain sum is the running sum's final value).
pub(crate) fn weighted_sum(buckets: &[G1Affine]) -> (G1Projective, G1Projective) {
    let mut running = G1Projective::zero();
    let mut total = G1Projective::zero();
    for b in buckets.iter().rev() {
        running += b;
        total += running;
    }
    (total, running)
}

/// Chains below which a batch-affine running sum loses to the projective one (the shared
/// inversion is amortised over too few additions).
const MIN_CHAINS: usize = 64;

/// [`weighted_sum`] of every group of `group_len` consecutive buckets, with
/// the running sums in batch-affine form: each group is cut into segments, and the running
/// sums of all segments of all groups advance in lockstep, so each step's additions share one
/// inversion. Segment `s` (length `L`) contributes `W_s + s·L·S_s`, where `W_s`, `S_s` are its
/// own weighted and plain sums.
pub(crate) fn weighted_sums(buckets: &[G1Affine], group_len: usize) -> Vec<(G1Projective, G1Projective)> {
    let groups = buckets.len() / group_len;
    debug_assert!(group_len > 0 && groups * group_len == buckets.len());
    let mut segments = 1;
    while groups * segments < 4 * MIN_CHAINS && group_len.is_multiple_of(segments * 2) && segments * 8 <= group_len {
        segments *= 2;
    }
    if groups * segments < MIN_CHAINS {
        return buckets.chunks(group_len).map(weighted_sum).collect();
    }
    let len = group_len / segments;
    let chains = groups * segments;
    // Chain c covers buckets c·len .. (c+1)·len: groups are contiguous, so segments are too.
    let mut running = vec![G1Affine::identity(); chains];
    let mut total = vec![G1Affine::identity(); chains];
    let mut scratch = PairScratch::default();
    for i in (0..len).rev() {
        scratch.add_assign(&mut running, |c| buckets[c * len + i]);
        scratch.add_assign(&mut total, |c| running[c]);
    }
    (0..groups)
        .map(|g| {
            let (w, s) = (&total[g * segments..(g + 1) * segments], &running[g * segments..(g + 1) * segments]);
            let weighted: G1Projective = w.iter().map(|p| p.into_group()).sum();
            // Σ_s s·S_s by a running sum over the segments, then · len.
            let (mut shifted, plain) = (G1Projective::zero(), s.iter().map(|p| p.into_group()).sum());
            let mut acc = G1Projective::zero();
            for p in s.iter().skip(1).rev() {
                acc += p;
                shifted += acc;
            }
            (weighted + shifted.mul_bigint([len as u64]), plain)
        })
        .collect()
}

/// Doubles every point in place (affine, one shared inversion); identities stay identities.
pub(crate) fn double_all(points: &mut [G1Affine], denominators: &mut Vec<Fq>, prefix: &mut Vec<Fq>) {
    denominators.clear();
    denominators.extend(points.iter().map(|p| if p.is_zero() || p.y.is_zero() { Fq::one() } else { p.y.double() }));
    batch_invert(denominators, prefix);
    for (p, d_inv) in points.iter_mut().zip(denominators.iter()) {
        if p.is_zero() || p.y.is_zero() {
            // y = 0 would be a point of order 2: none exists in the prime-order subgroup.
            *p = G1Affine::identity();
            continue;
        }
        *p = finish_one(p, p, Kind::Double, d_inv);
    }
}

/// Scratch for [`PairScratch::add_assign`].
#[derive(Default)]
struct PairScratch {
    kinds: Vec<Kind>,
    denominators: Vec<Fq>,
    prefix: Vec<Fq>,
}

impl PairScratch {
    /// `acc[c] += addend(c)` for every c, in affine coordinates with one shared inversion.
    fn add_assign(&mut self, acc: &mut [G1Affine], addend: impl Fn(usize) -> G1Affine) {
        self.kinds.clear();
        self.denominators.clear();
        for (c, q) in acc.iter().enumerate() {
            let p = addend(c);
            let (kind, d) = classify(q, &p);
            self.kinds.push(kind);
            self.denominators.push(d);
        }
        batch_invert(&mut self.denominators, &mut self.prefix);
        for (c, q) in acc.iter_mut().enumerate() {
            let p = addend(c);
            *q = finish_one(q, &p, self.kinds[c], &self.denominators[c]);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AdditiveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};

    fn naive(tables: &[&[G1Affine]], buckets: usize, adds: &[(usize, u64)]) -> Vec<G1Affine> {
        let mut out = vec![G1Projective::zero(); buckets];
        for &(b, e) in adds {
            let p = tables[((e & !NEGATE) >> 40) as usize][(e & ((1 << 40) - 1)) as usize];
            out[b] += if e & NEGATE != 0 { -p } else { p };
        }
        G1Projective::normalize_batch(&out)
    }

    #[test]
    fn matches_projective_sums_with_doublings_cancellations_and_conflicts() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let g = G1Projective::generator();
        let mut t0: Vec<G1Affine> = (0..50).map(|_| (g * crate::field::Fr::rand(&mut r)).into_affine()).collect();
        t0.push(G1Affine::identity());
        let t1: Vec<G1Affine> = vec![t0[0], t0[1]]; // the same points again: doublings across tables
        let tables: [&[G1Affine]; 2] = [&t0, &t1];
        let mut adds = Vec::new();
        for _ in 0..5000 {
            let table = r.gen_range(0..2);
            let index = r.gen_range(0..tables[table].len());
            adds.push((r.gen_range(0..7), entry(table, index, r.r#gen())));
        }
        // P + P, P + (−P), identity, and one bucket hammered far beyond a batch.
        adds.extend([(7, entry(0, 0, false)), (7, entry(1, 0, false)), (8, entry(0, 2, false))]);
        adds.extend([(8, entry(0, 2, true)), (9, entry(0, 50, false))]);
        adds.extend((0..2000).map(|i| (10, entry(0, i % 3, false))));
        let mut acc = Accumulator::new(&tables, 11);
        for &(b, e) in &adds {
            acc.add(b, e);
        }
        let got = acc.finish();
        assert_eq!(got, naive(&tables, 11, &adds));
        assert!(got[8].is_zero() && got[9].is_zero());
        assert_eq!(got[7], t0[0].into_group().double().into_affine());
    }

    #[test]
    fn segmented_weighted_sums_match_the_plain_running_sum() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let g = G1Projective::generator();
        for (groups, len) in [(1, 2048), (3, 96), (64, 128), (128, 128), (2, 7)] {
            let mut b: Vec<G1Affine> =
                (0..groups * len).map(|_| (g * crate::field::Fr::rand(&mut r)).into_affine()).collect();
            b[1] = G1Affine::identity();
            b[2] = b[3];
            let got = weighted_sums(&b, len);
            let want: Vec<_> = b.chunks(len).map(weighted_sum).collect();
            assert_eq!(got, want, "{groups} groups of {len}");
        }
    }

    #[test]
    fn double_all_doubles_and_keeps_identities() {
        let g = G1Projective::generator();
        let mut points = vec![g.into_affine(), G1Affine::identity(), (g * crate::field::Fr::from(5u64)).into_affine()];
        double_all(&mut points, &mut Vec::new(), &mut Vec::new());
        assert_eq!(points[0], g.double().into_affine());
        assert!(points[1].is_zero());
        assert_eq!(points[2], (g * crate::field::Fr::from(10u64)).into_affine());
    }

    #[test]
    fn weighted_sum_weights_bucket_j_by_j_plus_one() {
        let g = G1Projective::generator().into_affine();
        let buckets = vec![g, G1Affine::identity(), g];
        let (weighted, plain) = weighted_sum(&buckets);
        assert_eq!(weighted, G1Projective::generator() * crate::field::Fr::from(4u64));
        assert_eq!(plain, G1Projective::generator().double());
    }
}

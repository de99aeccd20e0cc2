//! The gpu backend's algebra ops (sums, NTT, MSM): arkworks values in, `crema-kernels` words
//! through the device, arkworks values out.

use ark_ff::{Field, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use crema_kernels::{FR_WORDS, FrTable, G1_WORDS, G2_WORDS, GpuContext, MsmBases, NttSpec, OutputScale};
use rayon::prelude::*;

use super::convert::{fr_from, g1_from, g2_from, push_fr, push_fr_canonical, push_g1, push_g2};
use super::device;
use crate::backend::{Direction, G1Bases, check_msm_shape, check_ntt_shape};
use crate::error::BackendError;
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};

fn fr_words(values: impl IntoIterator<Item = Fr>) -> Vec<u32> {
    let mut out = Vec::new();
    values.into_iter().for_each(|x| push_fr(&x, &mut out));
    out
}

/// `x, x·r, x·r², …` (n terms).
fn powers(x: Fr, r: Fr, n: usize) -> impl Iterator<Item = Fr> {
    std::iter::successors(Some(x), move |p| Some(*p * r)).take(n)
}

/// `Backend::ntt` on the device. The tables (twiddles from arkworks' own domain generator, so
/// the transform is exactly the CPU's; coset powers; 1/n) are computed here with arkworks and
/// stay resident on the device under exact keys (size, direction, coset limbs).
pub(super) fn ntt(
    ctx: &GpuContext,
    values: &mut [Fr],
    size: usize,
    direction: Direction,
    coset: Option<Fr>,
) -> Result<(), BackendError> {
    const OP: &str = "ntt";
    check_ntt_shape(values, size)?;
    if coset.is_some_and(|c| c.is_zero()) {
        return Err(BackendError::invalid(OP, "coset offset is zero"));
    }
    if values.is_empty() {
        return Ok(());
    }
    let domain = Radix2EvaluationDomain::<Fr>::new(size).expect("size checked against two-adicity");
    let log = size.trailing_zeros();
    let inverse = direction == Direction::Inverse;
    let omega = if inverse { domain.group_gen_inv() } else { domain.group_gen() };
    let twiddles = || fr_words(powers(Fr::ONE, omega, size / 2));
    let mut c_key: Vec<u32> = Vec::new();
    if let Some(c) = coset {
        push_fr(&c, &mut c_key);
    }
    let c = coset.unwrap_or(Fr::ONE);
    let c_inv = c.inverse().expect("nonzero");
    let pre_build = || fr_words(powers(Fr::ONE, c, size));
    let post_build = || fr_words(powers(domain.size_inv(), c_inv, size));
    let spec = NttSpec {
        size,
        twiddles: FrTable { key: vec![log, u32::from(inverse)], build: &twiddles },
        input_scale: (!inverse && coset.is_some())
            .then(|| FrTable { key: [&[0, log][..], &c_key].concat(), build: &pre_build }),
        output_scale: match (inverse, coset) {
            (false, _) => OutputScale::None,
            (true, None) => {
                let mut k = [0u32; FR_WORDS];
                k.copy_from_slice(&fr_words([domain.size_inv()]));
                OutputScale::Constant(k)
            }
            (true, Some(_)) => {
                OutputScale::Table(FrTable { key: [&[1, log][..], &c_key].concat(), build: &post_build })
            }
        },
    };
    let mut words = fr_words(values.iter().copied());
    ctx.ntt(&mut words, &spec).map_err(|e| device(OP, e))?;
    for (x, w) in values.iter_mut().zip(words.chunks_exact(FR_WORDS)) {
        *x = fr_from(OP, w)?;
    }
    Ok(())
}

/// `Backend::sum_g1` on the device.
pub(super) fn sum_g1(ctx: &GpuContext, groups: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
    const OP: &str = "sum_g1";
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let mut words = Vec::with_capacity(lens.iter().sum::<usize>() * G1_WORDS);
    groups.iter().flat_map(|g| g.iter()).for_each(|p| push_g1(p, &mut words));
    let out = ctx.sum_g1(&words, &lens).map_err(|e| device(OP, e))?;
    out.chunks_exact(G1_WORDS).map(|w| g1_from(OP, w)).collect()
}

/// `Backend::sum_g2` on the device.
pub(super) fn sum_g2(ctx: &GpuContext, groups: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
    const OP: &str = "sum_g2";
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let mut words = Vec::with_capacity(lens.iter().sum::<usize>() * G2_WORDS);
    groups.iter().flat_map(|g| g.iter()).for_each(|p| push_g2(p, &mut words));
    let out = ctx.sum_g2(&words, &lens).map_err(|e| device(OP, e))?;
    out.chunks_exact(G2_WORDS).map(|w| g2_from(OP, w)).collect()
}

fn g1_words(points: &[G1Affine]) -> Vec<u32> {
    let mut out = Vec::with_capacity(points.len() * G1_WORDS);
    points.iter().for_each(|p| push_g1(p, &mut out));
    out
}

fn scalar_words(s: &[Fr]) -> Vec<u32> {
    let mut out = Vec::with_capacity(s.len() * FR_WORDS);
    s.iter().for_each(|x| push_fr_canonical(x, &mut out));
    out
}

fn points_from(op: &'static str, words: &[u32]) -> Result<Vec<G1Projective>, BackendError> {
    words.chunks_exact(G1_WORDS).map(|w| g1_from(op, w)).collect()
}

/// `Backend::msm_g1` on the device. Bases cross only when the device does not hold them (or
/// their fixed-base table, for resident bases) yet; scalars cross as canonical integers.
pub(super) fn msm_g1(ctx: &GpuContext, bases: &G1Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
    const OP: &str = "msm_g1";
    check_msm_shape(bases, scalars)?;
    if scalars.is_empty() {
        return Ok(Vec::new());
    }
    let words = || g1_words(bases.points());
    let b = MsmBases { id: bases.id(), len: bases.len(), resident: bases.is_resident(), points: &words };
    let sw: Vec<Vec<u32>> = scalars.par_iter().map(|s| scalar_words(s)).collect();
    let refs: Vec<&[u32]> = sw.iter().map(Vec::as_slice).collect();
    points_from(OP, &ctx.msm_g1(&b, &refs).map_err(|e| device(OP, e))?)
}

/// `Backend::msm_g1_many` on the device: all resident jobs (FK20) in the same dispatches.
pub(super) fn msm_g1_many(ctx: &GpuContext, jobs: &[(&G1Bases, &[Fr])]) -> Result<Vec<G1Projective>, BackendError> {
    const OP: &str = "msm_g1_many";
    for (b, s) in jobs {
        check_msm_shape(b, &[s])?;
    }
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let words: Vec<_> = jobs.iter().map(|(b, _)| move || g1_words(b.points())).collect();
    let sw: Vec<Vec<u32>> = jobs.par_iter().map(|(_, s)| scalar_words(s)).collect();
    let kjobs: Vec<(MsmBases<'_>, &[u32])> = jobs
        .iter()
        .zip(&words)
        .zip(&sw)
        .map(|(((b, _), w), s)| {
            (MsmBases { id: b.id(), len: b.len(), resident: b.is_resident(), points: w }, s.as_slice())
        })
        .collect();
    points_from(OP, &ctx.msm_g1_many(&kjobs).map_err(|e| device(OP, e))?)
}

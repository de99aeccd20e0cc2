//! The gpu backend's algebra ops (sums, NTT, MSM): arkworks values in, `crema-kernels` words
//! through the device, arkworks values out.

use crema_kernels::{G1_WORDS, G2_WORDS, GpuContext};

use super::convert::{g1_from, g2_from, push_g1, push_g2};
use super::device;
use crate::error::BackendError;
use crate::field::{G1Affine, G1Projective, G2Affine, G2Projective};

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

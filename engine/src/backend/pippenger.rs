//! Variable-base MSM (Pippenger's bucket method) for the CPU backend, for bases that are not
//! resident: batch-affine bucket additions ([`super::batch_affine`]), every window's buckets in
//! one accumulator, windows split across cores.
//!
//! Written here rather than taken from arkworks: ark-ec 0.6's `msm_unchecked` builds a new rayon
//! thread pool on every call (threads created and torn down per MSM, and blocking `install`s
//! nested inside the caller's parallel work, which overflowed worker stacks in the KZG VID
//! path), and its bucket additions are mixed Jacobian ones (≈ 2× the field work of ours).

use ark_ec::AdditiveGroup;
use ark_ff::Zero;
use rayon::prelude::*;

use super::batch_affine::{Accumulator, entry, weighted_sums};
use super::fixed_base::signed_digits;
use crate::field::{Fr, G1Affine, G1Projective};

/// Bits the signed windows must cover (r < 2^255; see `fixed_base`).
const SCALAR_BITS: usize = 256;
/// Most windows a scalar can have (`⌈256/c⌉` at the smallest width, 4).
const MAX_WINDOWS: usize = SCALAR_BITS / 4;

/// The window width minimising `W(c)·(n + 2^c)`: one addition per point and window, plus the
/// running sums over `2^{c-1}` buckets per window.
fn window_for(n: usize) -> usize {
    (4..=16).min_by_key(|&c| SCALAR_BITS.div_ceil(c) * (n + (1 << c))).expect("non-empty range")
}

/// `Σ sᵢ·Pᵢ` over `bases[..scalars.len()]`.
pub(crate) fn msm(bases: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    let n = scalars.len();
    if n == 0 {
        return G1Projective::zero();
    }
    let c = window_for(n);
    let windows = SCALAR_BITS.div_ceil(c);
    // Very few points: splitting the windows across threads costs more than it saves.
    let parts = if n < 16 { 1 } else { rayon::current_num_threads().clamp(1, windows) };
    let sums: Vec<G1Projective> = (0..parts)
        .into_par_iter()
        .flat_map_iter(|p| {
            window_sums(&bases[..n], scalars, c, windows, p * windows / parts..(p + 1) * windows / parts)
        })
        .collect();
    // Horner from the top window: acc = acc·2^c + S_w.
    let mut acc = G1Projective::zero();
    for s in sums.iter().rev() {
        for _ in 0..c {
            acc.double_in_place();
        }
        acc += s;
    }
    acc
}

/// `S_w = Σᵢ dᵢ,w·Pᵢ` for every window `w` in `range` (the signed digits `dᵢ,w` of width `c`).
fn window_sums(
    bases: &[G1Affine],
    scalars: &[Fr],
    c: usize,
    windows: usize,
    range: std::ops::Range<usize>,
) -> Vec<G1Projective> {
    let half = 1 << (c - 1);
    let tables = [bases];
    let mut acc = Accumulator::new(&tables, range.len() * half);
    let mut digits = [0i32; MAX_WINDOWS];
    for (i, s) in scalars.iter().enumerate() {
        signed_digits(s, c, &mut digits[..windows]);
        for (k, &d) in digits[range.clone()].iter().enumerate() {
            if d != 0 {
                acc.add(k * half + d.unsigned_abs() as usize - 1, entry(0, i, d < 0));
            }
        }
    }
    weighted_sums(&acc.finish(), half).into_iter().map(|(weighted, _)| weighted).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::{Field, UniformRand};
    use rand::SeedableRng;

    #[test]
    fn matches_arkworks_at_many_sizes_with_edge_scalars_and_bases() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let mut bases: Vec<G1Affine> = (0..1100).map(|_| G1Projective::rand(&mut r).into_affine()).collect();
        bases[3] = bases[2];
        bases[5] = -bases[4];
        bases[6] = G1Affine::identity();
        let mut scalars: Vec<Fr> = (0..1100).map(|_| Fr::rand(&mut r)).collect();
        scalars[0] = -Fr::ONE;
        scalars[1] = Fr::ZERO;
        scalars[4] = scalars[5];
        for n in [0usize, 1, 2, 7, 63, 64, 65, 300, 1100] {
            let want = G1Projective::msm_unchecked(&bases[..n], &scalars[..n]).into_affine();
            assert_eq!(msm(&bases, &scalars[..n]).into_affine(), want, "n = {n}");
        }
    }

    #[test]
    fn window_width_grows_with_size() {
        assert!(window_for(64) <= 6);
        assert!((9..=11).contains(&window_for(4096)));
        assert!(window_for(1 << 20) >= 14);
    }
}

//! Point sums through the kernels' own API: batches cut at a (test-lowered) storage binding
//! limit give the same sums as one batch, and match arkworks.

use ark_bls12_381::{Fq, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{BigInt, Field, PrimeField, UniformRand, Zero};
use crema_kernels::{G1_WORDS, GpuContext};
use rand::SeedableRng;

fn push_fq(x: &Fq, out: &mut Vec<u32>) {
    x.0.0.iter().for_each(|w| out.extend([*w as u32, (*w >> 32) as u32]));
}

fn fq(w: &[u32]) -> Fq {
    let mut b = BigInt::<6>::zero();
    for (i, x) in b.0.iter_mut().enumerate() {
        *x = u64::from(w[2 * i]) | (u64::from(w[2 * i + 1]) << 32);
    }
    assert!(b < Fq::MODULUS);
    Fq::new_unchecked(b)
}

fn words(points: &[G1Affine]) -> Vec<u32> {
    let mut out = Vec::new();
    for p in points {
        let (x, y, z) = p.xy().map_or((Fq::zero(), Fq::ONE, Fq::zero()), |(x, y)| (x, y, Fq::ONE));
        [x, y, z].iter().for_each(|c| push_fq(c, &mut out));
    }
    out
}

/// Homogeneous (X : Y : Z) words to an affine point.
fn affine(w: &[u32]) -> G1Affine {
    let (x, y, z) = (fq(&w[..12]), fq(&w[12..24]), fq(&w[24..36]));
    if z.is_zero() {
        return G1Affine::identity();
    }
    let zi = z.inverse().unwrap();
    G1Affine::new(x * zi, y * zi)
}

#[test]
fn sums_cut_at_the_binding_limit_match_arkworks() {
    let ctx = match GpuContext::new() {
        Ok(c) => c,
        Err(e) => return crema_kernels::skip_gpu_test(e),
    };
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let g = G1Projective::rand(&mut r);
    let lens = [0usize, 1, 300, 5, 0, 1000, 64, 2];
    let groups: Vec<Vec<G1Affine>> = lens
        .iter()
        .map(|&n| {
            G1Projective::normalize_batch(
                &(0..n as u64).map(|i| g * ark_bls12_381::Fr::from(i * i + 1)).collect::<Vec<_>>(),
            )
        })
        .collect();
    let all: Vec<G1Affine> = groups.concat();
    let want: Vec<G1Affine> =
        groups.iter().map(|grp| grp.iter().fold(G1Projective::zero(), |a, p| a + p).into_affine()).collect();
    let w = words(&all);
    let whole = ctx.sum_g1(&w, &lens).unwrap();
    // 100 points per binding: the big groups span many batches and a second round.
    let small = GpuContext::new().unwrap().with_storage_binding_limit((100 * G1_WORDS * 4) as u64);
    let cut = small.sum_g1(&w, &lens).unwrap();
    for (i, want) in want.iter().enumerate() {
        assert_eq!(affine(&whole[i * G1_WORDS..(i + 1) * G1_WORDS]), *want, "group {i} (one batch)");
        assert_eq!(affine(&cut[i * G1_WORDS..(i + 1) * G1_WORDS]), *want, "group {i} (cut)");
    }
    assert_eq!(G1Projective::generator().into_affine(), G1Affine::generator());
}

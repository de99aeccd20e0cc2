//! Fr, Fp and Fp2 arithmetic on the GPU against arkworks, limb for limb (Montgomery form both
//! sides), on random operands and the edge values 0, 1, 2, p − 1, p − 2, R mod p, 2^k.

use ark_bls12_381::{Fq, Fq2, Fr};
use ark_ff::{BigInteger, Field, PrimeField, UniformRand};
use crema_kernels::{GpuContext, TestField};
use rand::SeedableRng;

fn gpu() -> Option<GpuContext> {
    match GpuContext::with_test_kernels() {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            crema_kernels::skip_gpu_test(e);
            None
        }
    }
}

fn limbs<const N: usize>(b: &ark_ff::BigInt<N>) -> Vec<u32> {
    b.0.iter().flat_map(|w| [*w as u32, (*w >> 32) as u32]).collect()
}

fn from_limbs<const N: usize>(w: &[u32]) -> ark_ff::BigInt<N> {
    let mut b = ark_ff::BigInt::<N>::zero();
    for (i, x) in b.0.iter_mut().enumerate() {
        *x = u64::from(w[2 * i]) | (u64::from(w[2 * i + 1]) << 32);
    }
    b
}

/// Edge values of a prime field plus random ones; every pair (a, b) of edges is tried.
fn operands<F: PrimeField>(seed: u64, random: usize) -> Vec<F> {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v = vec![F::ZERO, F::ONE, F::from(2u64), -F::ONE, -F::from(2u64), F::from(12u64)];
    // R mod p as a value (its Montgomery form is R^2), and powers of two near the top.
    let r_bits = F::MODULUS_BIT_SIZE.div_ceil(32) as u64 * 32;
    v.push(F::from(2u64).pow([r_bits]));
    for k in [31u64, 32, 63, 64, 254, 255, 380, 383] {
        if k < F::MODULUS_BIT_SIZE as u64 {
            v.push(F::from(2u64).pow([k]));
        }
    }
    // The largest value with all limbs but the top one saturated below p.
    v.push(-F::from(u64::MAX));
    v.extend((0..random).map(|_| F::rand(&mut r)));
    v
}

/// Runs the field test kernel on all pairs and checks each result against `ops`.
fn check<F: PrimeField<BigInt = ark_ff::BigInt<N>>, const N: usize>(
    ctx: &GpuContext,
    field: TestField,
    seed: u64,
    b3: F,
    to: impl Fn(&F) -> ark_ff::BigInt<N>,
    of: impl Fn(ark_ff::BigInt<N>) -> F,
) {
    let xs: Vec<F> = operands(seed, 200);
    let pairs: Vec<(F, F)> = xs.iter().flat_map(|a| xs.iter().take(24).map(move |b| (*a, *b))).collect();
    let words: Vec<u32> = pairs.iter().flat_map(|(a, b)| [limbs(&to(a)), limbs(&to(b))].concat()).collect();
    let out = ctx.field_test_ops(field, &words).unwrap();
    let w = field.words();
    for (i, (a, b)) in pairs.iter().enumerate() {
        let got = |k: usize| of(from_limbs(&out[(5 * i + k) * w..(5 * i + k + 1) * w]));
        let want = [*a + b, *a - b, *a * b, -*a, *a * b3];
        for (k, name) in ["add", "sub", "mul", "neg", "mul_b3"].iter().enumerate() {
            let g = got(k);
            assert_eq!(g, want[k], "{field:?} {name} of {a} and {b}");
            // Fully reduced: the limbs are those arkworks holds (the value < p).
            assert!(to(&g) < F::MODULUS, "{field:?} {name} not reduced");
        }
    }
}

#[test]
fn fr_matches_arkworks() {
    let Some(ctx) = gpu() else { return };
    check::<Fr, 4>(&ctx, TestField::Fr, 1, Fr::from(12u64), |x| x.0, Fr::new_unchecked);
}

#[test]
fn fp_matches_arkworks() {
    let Some(ctx) = gpu() else { return };
    check::<Fq, 6>(&ctx, TestField::Fp, 2, Fq::from(12u64), |x| x.0, Fq::new_unchecked);
}

#[test]
fn fp2_matches_arkworks() {
    let Some(ctx) = gpu() else { return };
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let edges: Vec<Fq> = operands(4, 0);
    let mut xs: Vec<Fq2> = edges.iter().flat_map(|a| edges.iter().take(6).map(|b| Fq2::new(*a, *b))).collect();
    xs.extend((0..60).map(|_| Fq2::rand(&mut r)));
    let pairs: Vec<(Fq2, Fq2)> = xs.iter().flat_map(|a| xs.iter().take(12).map(move |b| (*a, *b))).collect();
    let enc = |x: &Fq2| [limbs(&x.c0.0), limbs(&x.c1.0)].concat();
    let dec = |w: &[u32]| Fq2::new(Fq::new_unchecked(from_limbs(&w[..12])), Fq::new_unchecked(from_limbs(&w[12..])));
    let words: Vec<u32> = pairs.iter().flat_map(|(a, b)| [enc(a), enc(b)].concat()).collect();
    let out = ctx.field_test_ops(TestField::Fp2, &words).unwrap();
    let b3 = Fq2::new(Fq::from(12u64), Fq::from(12u64));
    for (i, (a, b)) in pairs.iter().enumerate() {
        let want = [*a + b, *a - b, *a * b, -*a, *a * b3];
        for (k, name) in ["add", "sub", "mul", "neg", "mul_b3"].iter().enumerate() {
            let g = dec(&out[(5 * i + k) * 24..(5 * i + k + 1) * 24]);
            assert_eq!(g, want[k], "Fp2 {name} of {a} and {b}");
            assert!(g.c0.0 < Fq::MODULUS && g.c1.0 < Fq::MODULUS, "Fp2 {name} not reduced");
        }
    }
}

#[test]
fn montgomery_one_is_arkworks_one() {
    // The template's R mod p must be arkworks' ONE (its Montgomery form of 1).
    assert_eq!(
        limbs(&Fr::ONE.0),
        [0xfffffffe, 1, 0x00034802, 0x5884b7fa, 0xecbc4ff5, 0x998c4fef, 0xacc5056f, 0x1824b159]
    );
    assert_eq!(limbs(&Fq::ONE.0)[..2], [0x0002fffd, 0x76090000]);
    assert!(Fr::MODULUS.to_bytes_le().len() == 32);
}

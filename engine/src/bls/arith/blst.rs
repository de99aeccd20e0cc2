//! The blst arithmetic: supranational's blst, the BLS12-381 library Ethereum clients run, for
//! hash to G2, scalar multiplication and pairings (the cpu and gpu backends' choice).
//!
//! blst is C and assembly behind a thin FFI; each call below is wrapped where it is used, on
//! values that live on the Rust side for the whole call. Field elements cross in canonical
//! form (six little-endian u64 limbs), so neither library's internal representation matters.

use std::ptr;
use std::sync::LazyLock;

use rayon::prelude::*;

use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use blst::{
    MultiPoint, blst_fp, blst_fp_from_uint64, blst_fp2, blst_fp6, blst_fp12, blst_fp12_conjugate, blst_fp12_is_one,
    blst_hash_to_g2, blst_miller_loop_lines, blst_miller_loop_n, blst_p1, blst_p1_add_or_double, blst_p1_affine,
    blst_p1_affine_generator, blst_p1_affine_is_inf, blst_p1_cneg, blst_p1_from_affine, blst_p1_mult,
    blst_p1_to_affine, blst_p1s_add, blst_p2, blst_p2_add_or_double, blst_p2_affine, blst_p2_affine_is_inf,
    blst_p2_from_affine, blst_p2_mult, blst_p2_to_affine, blst_p2s_add, blst_precompute_lines, blst_uint64_from_fp,
};

use super::Arith;
use crate::bls::error::BlsError;
use crate::field::{Fq, Fq2, Fr, G1Affine, G2Affine};

/// blst's BLS12-381.
pub(crate) struct Blst;

/// Line coefficients blst precomputes for one G2 point (68 `blst_fp6`, per its header).
const LINES: usize = 68;

/// An arkworks base-field element in blst's form.
fn fp(x: &Fq) -> blst_fp {
    let limbs: [u64; 6] = x.into_bigint().0;
    let mut out = blst_fp::default();
    // SAFETY: `out` is a live blst_fp and `limbs` holds the six limbs the call reads.
    unsafe { blst_fp_from_uint64(&mut out, limbs.as_ptr()) };
    out
}

/// A blst base-field element in arkworks' form.
fn fq(x: &blst_fp) -> Fq {
    let mut limbs = [0u64; 6];
    // SAFETY: `limbs` has room for the six limbs the call writes; `x` is a live blst_fp.
    unsafe { blst_uint64_from_fp(limbs.as_mut_ptr(), x) };
    // blst keeps its field elements reduced, so the canonical value is below p.
    Fq::from_bigint(BigInt(limbs)).expect("blst field elements are reduced modulo p")
}

fn fp2(x: &Fq2) -> blst_fp2 {
    blst_fp2 { fp: [fp(&x.c0), fp(&x.c1)] }
}

fn fq2(x: &blst_fp2) -> Fq2 {
    Fq2::new(fq(&x.fp[0]), fq(&x.fp[1]))
}

fn p1_affine(p: &blst_p1) -> blst_p1_affine {
    let mut out = blst_p1_affine::default();
    // SAFETY: both pointers are to live values of the types the call expects.
    unsafe { blst_p1_to_affine(&mut out, p) };
    out
}

fn p2_affine(p: &blst_p2) -> blst_p2_affine {
    let mut out = blst_p2_affine::default();
    // SAFETY: both pointers are to live values of the types the call expects.
    unsafe { blst_p2_to_affine(&mut out, p) };
    out
}

fn p1(p: &blst_p1_affine) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: both pointers are to live values of the types the call expects.
    unsafe { blst_p1_from_affine(&mut out, p) };
    out
}

fn p2(p: &blst_p2_affine) -> blst_p2 {
    let mut out = blst_p2::default();
    // SAFETY: both pointers are to live values of the types the call expects.
    unsafe { blst_p2_from_affine(&mut out, p) };
    out
}

fn g1_is_inf(p: &blst_p1_affine) -> bool {
    // SAFETY: `p` is a live blst_p1_affine.
    unsafe { blst_p1_affine_is_inf(p) }
}

fn g2_is_inf(p: &blst_p2_affine) -> bool {
    // SAFETY: `p` is a live blst_p2_affine.
    unsafe { blst_p2_affine_is_inf(p) }
}

impl Arith for Blst {
    type G1 = blst_p1_affine;
    type G2 = blst_p2_affine;
    type Ml = blst_fp12;
    type Gt = blst_fp12;

    fn g1(p: &G1Affine) -> blst_p1_affine {
        // blst writes infinity as (0, 0).
        if p.is_zero() { blst_p1_affine::default() } else { blst_p1_affine { x: fp(&p.x), y: fp(&p.y) } }
    }

    fn g2(p: &G2Affine) -> blst_p2_affine {
        if p.is_zero() { blst_p2_affine::default() } else { blst_p2_affine { x: fp2(&p.x), y: fp2(&p.y) } }
    }

    #[cfg(test)]
    fn g1_out(p: &blst_p1_affine) -> G1Affine {
        g1_out(p)
    }

    fn g2_out(p: &blst_p2_affine) -> G2Affine {
        if g2_is_inf(p) {
            return G2Affine::identity();
        }
        // blst computed the point from subgroup points, so it is on the curve and in G2.
        G2Affine::new_unchecked(fq2(&p.x), fq2(&p.y))
    }

    fn neg_g1_generator() -> blst_p1_affine {
        static NEG_G1: LazyLock<blst_p1_affine> = LazyLock::new(|| {
            // SAFETY: blst returns a pointer to its static generator.
            let mut g = p1(unsafe { &*blst_p1_affine_generator() });
            // SAFETY: `g` is a live blst_p1.
            unsafe { blst_p1_cneg(&mut g, true) };
            p1_affine(&g)
        });
        *NEG_G1
    }

    fn hash_to_g2(msg: &[u8], dst: &[u8]) -> Result<blst_p2_affine, BlsError> {
        let mut out = blst_p2::default();
        // SAFETY: each pointer comes with its slice's length; the augmentation is empty (null
        // with length 0, which blst never reads).
        unsafe { blst_hash_to_g2(&mut out, msg.as_ptr(), msg.len(), dst.as_ptr(), dst.len(), ptr::null(), 0) };
        Ok(p2_affine(&out))
    }

    fn mul_g2_secret(p: &blst_p2_affine, k: &Fr) -> blst_p2_affine {
        let mut scalar = [0u8; 32];
        for (bytes, limb) in scalar.chunks_exact_mut(8).zip(k.into_bigint().0) {
            bytes.copy_from_slice(&limb.to_le_bytes());
        }
        let mut out = blst_p2::default();
        // SAFETY: the scalar is 32 little-endian bytes (255 bits, as the call is told) and the
        // points are live. For 144..=256 bits blst_p2_mult is the constant-time GLS ladder
        // blst's own signing runs (`POINTonE2_mult_gls`); the affine conversion after it is
        // blst's constant-time inversion, where signing spends ~60 µs more on a Fermat one.
        unsafe { blst_p2_mult(&mut out, &p2(p), scalar.as_ptr(), 255) };
        p2_affine(&out)
    }

    fn msm_g1_u64(points: &[blst_p1_affine], scalars: &[u64]) -> blst_p1_affine {
        // One point: a plain multiplication (blst's MSM hands even that to its thread pool).
        match (points, scalars) {
            ([], _) | (_, []) => blst_p1_affine::default(),
            ([p], [s]) => {
                let mut out = blst_p1::default();
                // SAFETY: the scalar is 8 little-endian bytes, 64 bits as the call is told.
                unsafe { blst_p1_mult(&mut out, &p1(p), s.to_le_bytes().as_ptr(), 64) };
                p1_affine(&out)
            }
            _ => {
                let n = points.len().min(scalars.len());
                p1_affine(&points[..n].mult(&scalar_bytes(&scalars[..n]), 64))
            }
        }
    }

    fn msm_g2_u64(points: &[blst_p2_affine], scalars: &[u64]) -> blst_p2_affine {
        match (points, scalars) {
            ([], _) | (_, []) => blst_p2_affine::default(),
            ([p], [s]) => {
                let mut out = blst_p2::default();
                // SAFETY: the scalar is 8 little-endian bytes, 64 bits as the call is told.
                unsafe { blst_p2_mult(&mut out, &p2(p), s.to_le_bytes().as_ptr(), 64) };
                p2_affine(&out)
            }
            _ => {
                let n = points.len().min(scalars.len());
                p2_affine(&points[..n].mult(&scalar_bytes(&scalars[..n]), 64))
            }
        }
    }

    fn miller_loop(g1: &[blst_p1_affine], g2: &[blst_p2_affine]) -> blst_fp12 {
        // blst's loop has no infinity case: such pairs are dropped (they pair to one).
        let (ps, qs): (Vec<blst_p1_affine>, Vec<blst_p2_affine>) =
            g1.iter().zip(g2).filter(|(p, q)| !g1_is_inf(p) && !g2_is_inf(q)).map(|(p, q)| (*p, *q)).unzip();
        let mut out = blst_fp12::default();
        match (ps.as_slice(), qs.as_slice()) {
            ([], _) | (_, []) => return out,
            ([p], [q]) => {
                // One pair: precomputing Q's line coefficients and then evaluating them at P is
                // cheaper than blst's on-the-fly loop (≈ 220 µs against 290 µs here).
                let mut lines = [blst_fp6::default(); LINES];
                // SAFETY: `lines` has the 68 entries blst writes and then reads; `p`, `q` and
                // `out` are live values of the types the calls expect.
                unsafe {
                    blst_precompute_lines(lines.as_mut_ptr(), q);
                    blst_miller_loop_lines(&mut out, lines.as_ptr(), p);
                }
                return out;
            }
            _ => {}
        }
        // blst reads `n` points from each list; a pointer array whose next entry is null
        // means "contiguous from here".
        let qs_ptr: [*const blst_p2_affine; 2] = [qs.as_ptr(), ptr::null()];
        let ps_ptr: [*const blst_p1_affine; 2] = [ps.as_ptr(), ptr::null()];
        // SAFETY: `ps` and `qs` both hold `ps.len()` points and outlive the call.
        unsafe { blst_miller_loop_n(&mut out, qs_ptr.as_ptr(), ps_ptr.as_ptr(), ps.len()) };
        out
    }

    fn ml_one() -> blst_fp12 {
        blst_fp12::default()
    }

    fn ml_mul(a: &blst_fp12, b: &blst_fp12) -> blst_fp12 {
        *a * *b
    }

    fn final_exp(f: &blst_fp12) -> blst_fp12 {
        f.final_exp()
    }

    fn gt_is_one(x: &blst_fp12) -> bool {
        // SAFETY: `x` is a live blst_fp12.
        unsafe { blst_fp12_is_one(x) }
    }

    fn gt_div(a: &blst_fp12, b: &blst_fp12) -> blst_fp12 {
        // GT lies in the cyclotomic subgroup, where the inverse is the conjugate.
        let mut inv = *b;
        // SAFETY: `inv` is a live blst_fp12.
        unsafe { blst_fp12_conjugate(&mut inv) };
        *a * inv
    }

    #[cfg(test)]
    fn gt_bytes(x: &blst_fp12) -> Vec<u8> {
        use ark_ff::BigInteger;
        x.fp6
            .iter()
            .flat_map(|f6| f6.fp2.iter())
            .flat_map(|f2| f2.fp.iter())
            .flat_map(|f| fq(f).into_bigint().to_bytes_be())
            .collect()
    }
}

/// Points summed per blst call when a sum is spread over cores.
const SUM_CHUNK_MIN: usize = 256;

/// `Σ points` in G1 on blst (its batch-affine accumulation: one inversion shared by many
/// additions, about half the field multiplications of mixed additions), a chunk per core.
/// The cpu backend's key aggregation.
pub(crate) fn sum_g1(points: &[G1Affine]) -> G1Affine {
    let chunk = points.len().div_ceil(rayon::current_num_threads()).max(SUM_CHUNK_MIN);
    let sum = points
        .par_chunks(chunk)
        .map(|c| {
            let converted: Vec<blst_p1_affine> = c.iter().map(Blst::g1).collect();
            let ptrs: [*const blst_p1_affine; 2] = [converted.as_ptr(), ptr::null()];
            let mut out = blst_p1::default();
            // SAFETY: `converted` holds `c.len()` points and outlives the call.
            unsafe { blst_p1s_add(&mut out, ptrs.as_ptr(), converted.len()) };
            out
        })
        .reduce(blst_p1::default, |a, b| {
            let mut out = blst_p1::default();
            // SAFETY: all three are live blst_p1 values.
            unsafe { blst_p1_add_or_double(&mut out, &a, &b) };
            out
        });
    g1_out(&p1_affine(&sum))
}

/// `Σ points` in G2 on blst, as [`sum_g1`]: the cpu backend's signature aggregation.
pub(crate) fn sum_g2(points: &[G2Affine]) -> G2Affine {
    let chunk = points.len().div_ceil(rayon::current_num_threads()).max(SUM_CHUNK_MIN);
    let sum = points
        .par_chunks(chunk)
        .map(|c| {
            let converted: Vec<blst_p2_affine> = c.iter().map(Blst::g2).collect();
            let ptrs: [*const blst_p2_affine; 2] = [converted.as_ptr(), ptr::null()];
            let mut out = blst_p2::default();
            // SAFETY: `converted` holds `c.len()` points and outlives the call.
            unsafe { blst_p2s_add(&mut out, ptrs.as_ptr(), converted.len()) };
            out
        })
        .reduce(blst_p2::default, |a, b| {
            let mut out = blst_p2::default();
            // SAFETY: all three are live blst_p2 values.
            unsafe { blst_p2_add_or_double(&mut out, &a, &b) };
            out
        });
    Blst::g2_out(&p2_affine(&sum))
}

/// A blst G1 point in arkworks' form.
fn g1_out(p: &blst_p1_affine) -> G1Affine {
    if g1_is_inf(p) {
        return G1Affine::identity();
    }
    // blst computed the point from subgroup points, so it is on the curve and in G1.
    G1Affine::new_unchecked(fq(&p.x), fq(&p.y))
}

/// 64-bit scalars as the 8-byte little-endian strings blst's multi-scalar multiplication reads.
fn scalar_bytes(scalars: &[u64]) -> Vec<u8> {
    scalars.iter().flat_map(|s| s.to_le_bytes()).collect()
}

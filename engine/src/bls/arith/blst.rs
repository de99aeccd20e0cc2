//! The blst arithmetic: supranational's blst, the BLS12-381 library Ethereum clients run, for
//! hash to G2, scalar multiplication and pairings (the cpu and gpu backends' choice).
//!
//! blst is C and assembly behind a thin FFI; each call below is wrapped where it is used, on
//! values that live on the Rust side for the whole call. Field elements cross in canonical
//! form (six little-endian u64 limbs), so neither library's internal representation matters.

use std::ptr;
use std::sync::LazyLock;

use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use blst::{
    BLST_ERROR, blst_fp, blst_fp_from_uint64, blst_fp2, blst_fp6, blst_fp12, blst_fp12_conjugate, blst_fp12_is_one,
    blst_hash_to_g2, blst_miller_loop_lines, blst_miller_loop_n, blst_p1_affine, blst_p1_affine_generator,
    blst_p1_affine_is_inf, blst_p1_cneg, blst_p2, blst_p2_affine, blst_p2_affine_in_g2, blst_p2_affine_is_inf,
    blst_p2_uncompress, blst_precompute_lines, blst_uint64_from_fp,
};

use super::Arith;
use super::blst_group::{G1, G2, Group, msm_u64, par_sum};
use crate::bls::error::BlsError;
use crate::field::{DecodeError, Fq, Fq2, Fr, G1Affine, G2_BYTES, G2Affine};

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

fn g1_is_inf(p: &blst_p1_affine) -> bool {
    // SAFETY: `p` is a live blst_p1_affine.
    unsafe { blst_p1_affine_is_inf(p) }
}

fn g2_is_inf(p: &blst_p2_affine) -> bool {
    // SAFETY: `p` is a live blst_p2_affine.
    unsafe { blst_p2_affine_is_inf(p) }
}

/// Decompresses a G2 point (ZCash encoding) on the curve and in the subgroup, through blst: about twice as fast as
/// arkworks (criterion `bls/decode_signature`: 89 µs against 171 µs on the project's machine), and every signature
/// and certificate a node receives is decoded (measured: arkworks' decompression was 3-4% of a devnet node's
/// CPU). The caller ([`crate::field::g2_from_bytes`]) still rejects non-canonical encodings by re-encoding;
/// a test holds this to arkworks' answers.
pub(crate) fn g2_decompress(bytes: &[u8; G2_BYTES]) -> Result<G2Affine, DecodeError> {
    let mut p = blst_p2_affine::default();
    // SAFETY: `bytes` holds the 96 bytes blst reads; `p` is a live blst_p2_affine it writes.
    match unsafe { blst_p2_uncompress(&mut p, bytes.as_ptr()) } {
        BLST_ERROR::BLST_SUCCESS => {}
        _ => return Err(DecodeError::InvalidPoint { group: "G2" }),
    }
    if g2_is_inf(&p) {
        return Ok(G2Affine::identity());
    }
    // SAFETY: `p` is a live blst_p2_affine, on the curve (blst_p2_uncompress checked it).
    if !unsafe { blst_p2_affine_in_g2(&p) } {
        return Err(DecodeError::NotInSubgroup { group: "G2" });
    }
    Ok(G2Affine::new_unchecked(fq2(&p.x), fq2(&p.y)))
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
            let mut g = G1::from_affine(unsafe { &*blst_p1_affine_generator() });
            // SAFETY: `g` is a live blst_p1.
            unsafe { blst_p1_cneg(&mut g, true) };
            G1::to_affine(&g)
        });
        *NEG_G1
    }

    fn hash_to_g2(msg: &[u8], dst: &[u8]) -> Result<blst_p2_affine, BlsError> {
        let mut out = blst_p2::default();
        // SAFETY: each pointer comes with its slice's length; the augmentation is empty (null
        // with length 0, which blst never reads).
        unsafe { blst_hash_to_g2(&mut out, msg.as_ptr(), msg.len(), dst.as_ptr(), dst.len(), ptr::null(), 0) };
        Ok(G2::to_affine(&out))
    }

    fn mul_g2_secret(p: &blst_p2_affine, k: &Fr) -> blst_p2_affine {
        let mut scalar = [0u8; 32];
        for (bytes, limb) in scalar.chunks_exact_mut(8).zip(k.into_bigint().0) {
            bytes.copy_from_slice(&limb.to_le_bytes());
        }
        // For 144..=256 bits blst_p2_mult is the constant-time GLS ladder blst's own signing
        // runs (`POINTonE2_mult_gls`); the affine conversion after it is blst's constant-time
        // inversion, where signing spends ~60 µs more on a Fermat one.
        G2::to_affine(&G2::mult(&G2::from_affine(p), &scalar, 255))
    }

    fn msm_g1_u64(points: &[blst_p1_affine], scalars: &[u64]) -> blst_p1_affine {
        msm_u64::<G1>(points, scalars)
    }

    fn msm_g2_u64(points: &[blst_p2_affine], scalars: &[u64]) -> blst_p2_affine {
        msm_u64::<G2>(points, scalars)
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

/// `Σ points` in G1 on blst (batch-affine accumulation, about half the field multiplications
/// of mixed additions), a chunk per core: the cpu backend's key aggregation.
pub(crate) fn sum_g1(points: &[G1Affine]) -> G1Affine {
    g1_out(&par_sum::<G1, _>(points, Blst::g1))
}

/// `Σ points` in G2 on blst, as [`sum_g1`]: the cpu backend's signature aggregation.
pub(crate) fn sum_g2(points: &[G2Affine]) -> G2Affine {
    Blst::g2_out(&par_sum::<G2, _>(points, Blst::g2))
}

/// A blst G1 point in arkworks' form.
fn g1_out(p: &blst_p1_affine) -> G1Affine {
    if g1_is_inf(p) {
        return G1Affine::identity();
    }
    // blst computed the point from subgroup points, so it is on the curve and in G1.
    G1Affine::new_unchecked(fq(&p.x), fq(&p.y))
}

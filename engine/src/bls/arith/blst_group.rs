//! blst's point operations for both groups behind one trait, [`Group`], so the multi-point
//! algorithms (64-bit multi-scalar multiplication, sums over every core) are written once for
//! G1 and G2.

use std::ptr;

use blst::{
    MultiPoint, blst_p1, blst_p1_add_or_double, blst_p1_affine, blst_p1_from_affine, blst_p1_mult, blst_p1_to_affine,
    blst_p1s_add, blst_p2, blst_p2_add_or_double, blst_p2_affine, blst_p2_from_affine, blst_p2_mult, blst_p2_to_affine,
    blst_p2s_add,
};
use rayon::prelude::*;

/// One of blst's groups: its point types and the calls the algorithms below need.
pub(super) trait Group {
    /// Affine point (infinity is all zeros).
    type Affine: Copy + Default + Send + Sync;
    /// Jacobian point.
    type Point: Copy + Default + Send;

    /// Affine to Jacobian.
    fn from_affine(p: &Self::Affine) -> Self::Point;
    /// Jacobian to affine (blst's constant-time inversion).
    fn to_affine(p: &Self::Point) -> Self::Affine;
    /// `k · p` for the `nbits`-bit little-endian scalar `k`.
    fn mult(p: &Self::Point, k: &[u8], nbits: usize) -> Self::Point;
    /// `a + b`, also when `a == b`.
    fn add(a: &Self::Point, b: &Self::Point) -> Self::Point;
    /// `Σ points` by blst's batch-affine accumulation (one inversion shared by many additions).
    fn sum(points: &[Self::Affine]) -> Self::Point;
    /// `Σ k_i · p_i` (blst's Pippenger), scalars of `nbits` bits, `⌈nbits/8⌉` bytes each.
    fn msm(points: &[Self::Affine], scalars: &[u8], nbits: usize) -> Self::Point;
}

/// G1 (public keys).
pub(super) struct G1;
/// G2 (signatures, message hashes).
pub(super) struct G2;

/// The [`Group`] impl for one of blst's groups, from its type and function names.
macro_rules! group {
    ($g:ty, $affine:ty, $point:ty, $from:ident, $to:ident, $mult:ident, $add:ident, $sum:ident) => {
        impl Group for $g {
            type Affine = $affine;
            type Point = $point;

            fn from_affine(p: &$affine) -> $point {
                let mut out = <$point>::default();
                // SAFETY: both pointers are to live values of the types the call expects.
                unsafe { $from(&mut out, p) };
                out
            }

            fn to_affine(p: &$point) -> $affine {
                let mut out = <$affine>::default();
                // SAFETY: both pointers are to live values of the types the call expects.
                unsafe { $to(&mut out, p) };
                out
            }

            fn mult(p: &$point, k: &[u8], nbits: usize) -> $point {
                assert!(k.len() * 8 >= nbits, "a {nbits}-bit scalar needs {} bytes", nbits.div_ceil(8));
                let mut out = <$point>::default();
                // SAFETY: `k` holds the `nbits` bits the call reads (checked above).
                unsafe { $mult(&mut out, p, k.as_ptr(), nbits) };
                out
            }

            fn add(a: &$point, b: &$point) -> $point {
                let mut out = <$point>::default();
                // SAFETY: all three are live points.
                unsafe { $add(&mut out, a, b) };
                out
            }

            fn sum(points: &[$affine]) -> $point {
                let mut out = <$point>::default();
                if points.is_empty() {
                    return out;
                }
                // A pointer list whose next entry is null means "contiguous from here".
                let ptrs: [*const $affine; 2] = [points.as_ptr(), ptr::null()];
                // SAFETY: `points` holds `points.len()` live points for the whole call.
                unsafe { $sum(&mut out, ptrs.as_ptr(), points.len()) };
                out
            }

            fn msm(points: &[$affine], scalars: &[u8], nbits: usize) -> $point {
                points.mult(scalars, nbits)
            }
        }
    };
}

group!(
    G1,
    blst_p1_affine,
    blst_p1,
    blst_p1_from_affine,
    blst_p1_to_affine,
    blst_p1_mult,
    blst_p1_add_or_double,
    blst_p1s_add
);
group!(
    G2,
    blst_p2_affine,
    blst_p2,
    blst_p2_from_affine,
    blst_p2_to_affine,
    blst_p2_mult,
    blst_p2_add_or_double,
    blst_p2s_add
);

/// `Σ s_i · p_i` with 64-bit scalars (extra points or scalars are ignored).
pub(super) fn msm_u64<G: Group>(points: &[G::Affine], scalars: &[u64]) -> G::Affine {
    let n = points.len().min(scalars.len());
    match n {
        0 => G::Affine::default(),
        // One point: a plain multiplication (blst's MSM hands even that to its thread pool).
        1 => G::to_affine(&G::mult(&G::from_affine(&points[0]), &scalars[0].to_le_bytes(), 64)),
        _ => {
            let bytes: Vec<u8> = scalars[..n].iter().flat_map(|s| s.to_le_bytes()).collect();
            G::to_affine(&G::msm(&points[..n], &bytes, 64))
        }
    }
}

/// Fewest points per blst sum when a sum is spread over cores.
const SUM_CHUNK_MIN: usize = 256;

/// `Σ convert(x)` over every core: each chunk converted and summed by [`Group::sum`], the
/// chunks' sums added.
pub(super) fn par_sum<G: Group, T: Sync>(items: &[T], convert: impl Fn(&T) -> G::Affine + Sync) -> G::Affine {
    let chunk = items.len().div_ceil(rayon::current_num_threads()).max(SUM_CHUNK_MIN);
    let sum = items
        .par_chunks(chunk)
        .map(|c| G::sum(&c.iter().map(&convert).collect::<Vec<_>>()))
        .reduce(G::Point::default, |a, b| G::add(&a, &b));
    G::to_affine(&sum)
}

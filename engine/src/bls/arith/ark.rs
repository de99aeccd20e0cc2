//! The arkworks arithmetic: the oracle the reference backend runs BLS on, written the
//! textbook way (arkworks' own hasher, multi-pairing and MSM), independent of blst.

use ark_bls12_381::g2::Config as G2Config;
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurveBasedHasher;
use ark_ec::hashing::{HashToCurve, HashToCurveError};
use ark_ec::pairing::{MillerLoopOutput, Pairing, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::field_hashers::DefaultFieldHasher;
use ark_ff::{AdditiveGroup, Field, Zero};
use sha2::Sha256;

use super::Arith;
use crate::bls::error::BlsError;
use crate::field::{Bls12_381, Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// arkworks' BLS12-381.
pub(crate) struct Ark;

/// RFC 9380's BLS12381G2_XMD:SHA-256_SSWU_RO_: expand_message_xmd(SHA-256) at 128-bit
/// security, simplified SWU on the 3-isogenous curve, then the isogeny and cofactor clearing.
type Hasher = MapToCurveBasedHasher<G2Projective, DefaultFieldHasher<Sha256, 128>, WBMap<G2Config>>;

impl Arith for Ark {
    type G1 = G1Affine;
    type G2 = G2Affine;
    type Ml = MillerLoopOutput<Bls12_381>;
    type Gt = PairingOutput<Bls12_381>;

    fn g1(p: &G1Affine) -> G1Affine {
        *p
    }

    fn g2(p: &G2Affine) -> G2Affine {
        *p
    }

    #[cfg(test)]
    fn g1_out(p: &G1Affine) -> G1Affine {
        *p
    }

    fn g2_out(p: &G2Affine) -> G2Affine {
        *p
    }

    fn neg_g1_generator() -> G1Affine {
        -G1Affine::generator()
    }

    fn hash_to_g2(msg: &[u8], dst: &[u8]) -> Result<G2Affine, BlsError> {
        let err = |e: HashToCurveError| BlsError::HashToCurve { reason: e.to_string() };
        Hasher::new(dst).map_err(err)?.hash(msg).map_err(err)
    }

    fn mul_g2_secret(p: &G2Affine, k: &Fr) -> G2Affine {
        (*p * k).into_affine()
    }

    fn msm_g1_u64(points: &[G1Affine], scalars: &[u64]) -> G1Affine {
        G1Projective::msm_u64(points, scalars).into_affine()
    }

    fn msm_g2_u64(points: &[G2Affine], scalars: &[u64]) -> G2Affine {
        G2Projective::msm_u64(points, scalars).into_affine()
    }

    fn miller_loop(g1: &[G1Affine], g2: &[G2Affine]) -> Self::Ml {
        // arkworks skips pairs with a point at infinity itself.
        Bls12_381::multi_miller_loop(g1.iter().copied(), g2.iter().copied())
    }

    fn ml_one() -> Self::Ml {
        MillerLoopOutput(<Bls12_381 as Pairing>::TargetField::ONE)
    }

    fn ml_mul(a: &Self::Ml, b: &Self::Ml) -> Self::Ml {
        MillerLoopOutput(a.0 * b.0)
    }

    fn final_exp(f: &Self::Ml) -> Self::Gt {
        // `None` only for a zero input, which no Miller-loop product is; mapping it to the
        // zero element (not the identity of GT) keeps any check on it failing.
        Bls12_381::final_exponentiation(*f).unwrap_or(PairingOutput(<Bls12_381 as Pairing>::TargetField::ZERO))
    }

    fn gt_is_one(x: &Self::Gt) -> bool {
        // PairingOutput is written additively: its zero is GT's identity.
        x.is_zero()
    }

    fn gt_div(a: &Self::Gt, b: &Self::Gt) -> Self::Gt {
        *a - *b
    }

    #[cfg(test)]
    fn gt_bytes(x: &Self::Gt) -> Vec<u8> {
        use ark_ff::{BigInteger, PrimeField};
        let f = x.0;
        [f.c0.c0, f.c0.c1, f.c0.c2, f.c1.c0, f.c1.c1, f.c1.c2]
            .iter()
            .flat_map(|fp2| [fp2.c0, fp2.c1])
            .flat_map(|fp| fp.into_bigint().to_bytes_be())
            .collect()
    }
}

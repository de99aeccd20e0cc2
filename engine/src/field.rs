//! The one place that names arkworks types, and their canonical byte encodings.
//!
//! Encodings follow the Ethereum / ZCash conventions used by c-kzg-4844, blst and the
//! bls12-381-tests vectors: scalars are 32-byte big-endian and must be canonical (< r);
//! points are compressed (48 bytes in G1, 96 in G2) with the ZCash flag bits.

use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use thiserror::Error;

pub use ark_bls12_381::{Bls12_381, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};

/// Bytes in a big-endian scalar.
pub const FR_BYTES: usize = 32;
/// Bytes in a compressed G1 point.
pub const G1_BYTES: usize = 48;
/// Bytes in a compressed G2 point.
pub const G2_BYTES: usize = 96;

/// Why a byte string is not a valid field element or curve point.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input had the wrong length.
    #[error("expected {expected} bytes, got {got}")]
    WrongLength {
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A scalar was not reduced modulo r.
    #[error("scalar is not canonical (>= r)")]
    NonCanonicalScalar,
    /// The bytes are not a valid compressed point (bad flags, x not on the curve, …).
    #[error("bytes are not a valid compressed {group} point")]
    InvalidPoint {
        /// `"G1"` or `"G2"`.
        group: &'static str,
    },
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("{group} point is not in the prime-order subgroup")]
    NotInSubgroup {
        /// `"G1"` or `"G2"`.
        group: &'static str,
    },
}

/// Encodes a scalar as 32 big-endian bytes.
pub fn fr_to_bytes(x: &Fr) -> [u8; FR_BYTES] {
    let mut out = [0u8; FR_BYTES];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

/// Decodes 32 big-endian bytes into a scalar, rejecting values >= r.
pub fn fr_from_bytes(bytes: &[u8]) -> Result<Fr, DecodeError> {
    if bytes.len() != FR_BYTES {
        return Err(DecodeError::WrongLength { expected: FR_BYTES, got: bytes.len() });
    }
    let x = Fr::from_be_bytes_mod_order(bytes);
    // Round-trip check: a non-canonical input reduces to a different encoding.
    if fr_to_bytes(&x) != bytes {
        return Err(DecodeError::NonCanonicalScalar);
    }
    Ok(x)
}

/// Compresses a G1 point (48 bytes, ZCash flags).
pub fn g1_to_bytes(p: &G1Affine) -> [u8; G1_BYTES] {
    let mut out = [0u8; G1_BYTES];
    p.serialize_with_mode(&mut out[..], Compress::Yes).expect("48-byte buffer fits a compressed G1 point");
    out
}

/// Compresses a G2 point (96 bytes, ZCash flags).
pub fn g2_to_bytes(p: &G2Affine) -> [u8; G2_BYTES] {
    let mut out = [0u8; G2_BYTES];
    p.serialize_with_mode(&mut out[..], Compress::Yes).expect("96-byte buffer fits a compressed G2 point");
    out
}

/// Compresses a projective G1 point.
pub fn g1p_to_bytes(p: &G1Projective) -> [u8; G1_BYTES] {
    g1_to_bytes(&p.into_affine())
}

/// Compresses a projective G2 point.
pub fn g2p_to_bytes(p: &G2Projective) -> [u8; G2_BYTES] {
    g2_to_bytes(&p.into_affine())
}

/// Decompresses a G1 point with full validation (on curve, in the subgroup). Infinity is
/// accepted here; callers that must reject it (public keys) check [`AffineRepr::is_zero`].
pub fn g1_from_bytes(bytes: &[u8]) -> Result<G1Affine, DecodeError> {
    if bytes.len() != G1_BYTES {
        return Err(DecodeError::WrongLength { expected: G1_BYTES, got: bytes.len() });
    }
    let p = G1Affine::deserialize_with_mode(bytes, Compress::Yes, Validate::No)
        .map_err(|_| DecodeError::InvalidPoint { group: "G1" })?;
    // Reject non-canonical encodings that arkworks tolerates (e.g. junk bits beside infinity).
    if g1_to_bytes(&p) != bytes {
        return Err(DecodeError::InvalidPoint { group: "G1" });
    }
    if !p.is_zero() && !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(DecodeError::NotInSubgroup { group: "G1" });
    }
    Ok(p)
}

/// Decompresses a G2 point with full validation (on curve, in the subgroup). Infinity is
/// accepted here; callers that must reject it check [`AffineRepr::is_zero`].
pub fn g2_from_bytes(bytes: &[u8]) -> Result<G2Affine, DecodeError> {
    let arr: &[u8; G2_BYTES] =
        bytes.try_into().map_err(|_| DecodeError::WrongLength { expected: G2_BYTES, got: bytes.len() })?;
    // blst decompresses and checks the subgroup (about twice as fast as arkworks; the differential tests in
    // bls::arith hold it to arkworks' answers).
    let p = crate::bls::arith::blst::g2_decompress(arr)?;
    // Reject non-canonical encodings that a decoder may tolerate (e.g. junk bits beside infinity), as for G1.
    if g2_to_bytes(&p) != bytes {
        return Err(DecodeError::InvalidPoint { group: "G2" });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;

    #[test]
    fn scalar_round_trip_and_canonical_check() {
        let x = Fr::from(123456789u64);
        assert_eq!(fr_from_bytes(&fr_to_bytes(&x)).unwrap(), x);
        // r itself is not canonical.
        let r = Fr::MODULUS.to_bytes_be();
        assert_eq!(fr_from_bytes(&r), Err(DecodeError::NonCanonicalScalar));
        assert!(matches!(fr_from_bytes(&[0u8; 31]), Err(DecodeError::WrongLength { .. })));
    }

    #[test]
    fn generator_encodings_match_the_standard() {
        // The compressed G1 generator as published in the ZCash / IETF encoding.
        let g1 = hex::encode(g1_to_bytes(&G1Projective::generator().into_affine()));
        assert_eq!(
            g1,
            "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
        );
        let inf = g1_to_bytes(&G1Affine::identity());
        assert_eq!(inf[0], 0xc0);
        assert_eq!(g1_from_bytes(&inf).unwrap(), G1Affine::identity());
    }
}

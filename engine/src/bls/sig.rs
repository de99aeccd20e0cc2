//! Signatures: the type, CoreSign / CoreVerify on either arithmetic, Sign / Verify.

use std::fmt;

use ark_ec::AffineRepr;

use super::arith::{Arith, check_hashed, dispatch};
use super::error::BlsError;
use super::hash::DST_SIG;
use super::keys::{PublicKey, SecretKey};
use crate::backend::BlsArithmetic;
use crate::field::{self, DecodeError, G2Affine};

/// Bytes in an encoded signature (compressed G2).
pub const SIGNATURE_BYTES: usize = 96;

/// A BLS signature: a point of G2 (possibly infinity, which the spec allows to decode), kept
/// with its compressed bytes. Decoding always checks subgroup membership.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    point: G2Affine,
    bytes: [u8; SIGNATURE_BYTES],
}

impl Signature {
    /// Decodes a compressed G2 point: valid flags, on the curve, in the subgroup.
    pub fn from_bytes(bytes: &[u8; SIGNATURE_BYTES]) -> Result<Self, BlsError> {
        let point = field::g2_from_bytes(bytes).map_err(BlsError::InvalidSignature)?;
        Ok(Self { point, bytes: *bytes })
    }

    /// [`Signature::from_bytes`] for a slice of any length (wrong lengths are an error).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: &[u8; SIGNATURE_BYTES] = bytes.try_into().map_err(|_| {
            BlsError::InvalidSignature(DecodeError::WrongLength { expected: SIGNATURE_BYTES, got: bytes.len() })
        })?;
        Self::from_bytes(arr)
    }

    /// Wraps a point computed by this module (a multiple of a subgroup point, so in the subgroup).
    pub(crate) fn from_point(point: G2Affine) -> Self {
        Self { point, bytes: field::g2_to_bytes(&point) }
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_BYTES] {
        self.bytes
    }

    /// The curve point.
    pub fn point(&self) -> &G2Affine {
        &self.point
    }

    /// True for the point at infinity.
    pub fn is_infinity(&self) -> bool {
        self.point.is_zero()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(0x{})", hex::encode(self.bytes))
    }
}

/// CoreSign(SK, message, DST) on `arith`: `sk · hash_to_G2(message, dst)`.
pub(crate) fn core_sign(arith: BlsArithmetic, sk: &SecretKey, msg: &[u8], dst: &[u8]) -> Result<Signature, BlsError> {
    dispatch!(arith, core_sign_in(sk, msg, dst))
}

fn core_sign_in<A: Arith>(sk: &SecretKey, msg: &[u8], dst: &[u8]) -> Result<Signature, BlsError> {
    let q = A::hash_to_g2(msg, dst)?;
    Ok(Signature::from_point(A::g2_out(&A::mul_g2_secret(&q, sk.scalar()))))
}

/// CoreVerify(PK, message, signature, DST) on `arith`: checks `e(pk, H(msg)) == e(G1, sig)`
/// as `e(pk, H(msg)) · e(−G1, sig) == 1` (the signature's Miller loop runs on a second core
/// while the message is hashed; one final exponentiation).
pub(crate) fn core_verify(
    arith: BlsArithmetic,
    pk: &PublicKey,
    msg: &[u8],
    sig: &Signature,
    dst: &[u8],
) -> Result<bool, BlsError> {
    dispatch!(arith, core_verify_in(pk, msg, sig, dst))
}

fn core_verify_in<A: Arith>(pk: &PublicKey, msg: &[u8], sig: &Signature, dst: &[u8]) -> Result<bool, BlsError> {
    check_hashed::<A>(&[A::g1(pk.point())], &[msg], dst, sig.point())
}

/// Sign(SK, message) of the POP ciphersuite, on blst.
pub fn sign(sk: &SecretKey, msg: &[u8]) -> Result<Signature, BlsError> {
    core_sign(BlsArithmetic::default(), sk, msg, DST_SIG)
}

/// Verify(PK, message, signature) of the POP ciphersuite, on blst. The key and signature
/// types are validated on construction, so `Ok(false)` means "well-formed but wrong"; `Err`
/// is kept for failures of the hash itself.
pub fn verify(pk: &PublicKey, msg: &[u8], sig: &Signature) -> Result<bool, BlsError> {
    core_verify(BlsArithmetic::default(), pk, msg, sig, DST_SIG)
}

impl SecretKey {
    /// Sign(SK, message) of the POP ciphersuite; see [`sign`].
    pub fn sign(&self, msg: &[u8]) -> Result<Signature, BlsError> {
        sign(self, msg)
    }
}

impl PublicKey {
    /// Verify(PK, message, signature) of the POP ciphersuite; see [`verify`].
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<bool, BlsError> {
        verify(self, msg, sig)
    }
}

//! Hash to G2 (RFC 9380 `BLS12381G2_XMD:SHA-256_SSWU_RO_`) and the ciphersuite's DSTs.

use super::arith::{Arith, dispatch};
use super::error::BlsError;
use crate::backend::BlsArithmetic;
use crate::field::G2Affine;

/// Domain separation tag for signatures of the POP ciphersuite.
pub const DST_SIG: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Domain separation tag for proofs of possession of the POP ciphersuite.
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Hashes `msg` to a point of G2 under domain separation tag `dst` (RFC 9380 §8.8.2,
/// `hash_to_curve` with the random-oracle encoding), on blst. The DST is explicit so the
/// RFC's own test vectors (other DSTs) can be checked.
pub fn hash_to_g2(msg: &[u8], dst: &[u8]) -> Result<G2Affine, BlsError> {
    hash_to_g2_on(BlsArithmetic::default(), msg, dst)
}

/// [`hash_to_g2`] on the given arithmetic (the vectors runner checks the backend's).
pub(crate) fn hash_to_g2_on(arith: BlsArithmetic, msg: &[u8], dst: &[u8]) -> Result<G2Affine, BlsError> {
    dispatch!(arith, hash_out(msg, dst))
}

fn hash_out<A: Arith>(msg: &[u8], dst: &[u8]) -> Result<G2Affine, BlsError> {
    Ok(A::g2_out(&A::hash_to_g2(msg, dst)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::g2_to_bytes;

    #[test]
    fn rfc9380_empty_message_vector() {
        // RFC 9380 appendix J.10.1, msg = "", DST QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_.
        let x_c0 = "0141ebfbdca40eb85b87142e130ab689c673cf60f1a3e98d69335266f30d9b8d4ac44c1038e9dcdd5393faf5c41fb78a";
        for arith in [BlsArithmetic::Blst, BlsArithmetic::Arkworks] {
            let p = hash_to_g2_on(arith, b"", b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_").unwrap();
            // The ZCash encoding holds x.c1 (with flags) then x.c0.
            assert_eq!(hex::encode(&g2_to_bytes(&p)[48..96]), x_c0, "{arith:?}");
        }
    }

    #[test]
    fn different_dsts_give_different_points() {
        assert_ne!(hash_to_g2(b"abc", DST_SIG).unwrap(), hash_to_g2(b"abc", DST_POP).unwrap());
    }
}

//! Proofs of possession (PopProve / PopVerify), which make same-message aggregation safe
//! against rogue-key attacks.

use super::error::BlsError;
use super::hash::DST_POP;
use super::keys::{PublicKey, SecretKey};
use super::sig::{Signature, core_sign, core_verify};
use crate::backend::BlsArithmetic;

/// PopProve(SK): a signature on the compressed public key under the PoP DST, on blst.
pub fn pop_prove(sk: &SecretKey) -> Result<Signature, BlsError> {
    core_sign(BlsArithmetic::default(), sk, &sk.public_key().to_bytes(), DST_POP)
}

/// PopVerify(PK, proof), on blst. The key was validated (KeyValidate) when it was decoded.
pub fn pop_verify(pk: &PublicKey, proof: &Signature) -> Result<bool, BlsError> {
    core_verify(BlsArithmetic::default(), pk, &pk.to_bytes(), proof, DST_POP)
}

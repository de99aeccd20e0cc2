//! Proofs of possession (PopProve / PopVerify), which make same-message aggregation safe
//! against rogue-key attacks.

use super::error::BlsError;
use super::hash::{DST_POP, hash_to_g2};
use super::keys::{PublicKey, SecretKey};
use super::sig::{Signature, core_sign, pairing_check};

/// PopProve(SK): a signature on the compressed public key under the PoP DST.
pub fn pop_prove(sk: &SecretKey) -> Result<Signature, BlsError> {
    core_sign(sk, &sk.public_key().to_bytes(), DST_POP)
}

/// PopVerify(PK, proof). The key was validated (KeyValidate) when it was decoded.
pub fn pop_verify(pk: &PublicKey, proof: &Signature) -> Result<bool, BlsError> {
    let q = hash_to_g2(&pk.to_bytes(), DST_POP)?;
    Ok(pairing_check(*pk.point(), q, proof.point()))
}

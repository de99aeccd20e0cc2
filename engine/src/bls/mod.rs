//! IETF BLS signatures, ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (min-pk:
//! public keys in G1, 48 bytes; signatures in G2, 96 bytes; ZCash compressed encodings),
//! aggregation and stake-weighted certificates.
//!
//! Spec: draft-irtf-cfrg-bls-signature-05 (KeyGen, SkToPk, KeyValidate, Sign, Verify,
//! Aggregate, FastAggregateVerify, AggregateVerify, PopProve, PopVerify) and RFC 9380
//! (hash to G2). Keys and signatures are validated when decoded (subgroup always; infinity
//! rejected for public keys), so verification functions take typed values and return
//! `Ok(false)` for a well-formed but wrong signature.
//!
//! Sums of many points (key and signature aggregation) go through the [`crate::Backend`];
//! hash to G2, scalar multiplications and pairings run on the backend's
//! [`BlsArithmetic`](crate::backend::BlsArithmetic): blst on the cpu and gpu backends, arkworks
//! on the reference backend (the oracle). Functions that take no backend (Sign, Verify,
//! PopProve, PopVerify, hash to G2) run on blst. [`batch_find_invalid`] checks many triples at
//! once and finds the bad ones by bisection.
//!
//! ```
//! use crema_engine::bls::{SecretKey, fast_aggregate_verify, aggregate};
//! use crema_engine::backend::Cpu;
//! let backend = Cpu::new();
//! let sks: Vec<_> = (0u8..3).map(|i| SecretKey::key_gen(&[i; 32], b"").unwrap()).collect();
//! let pks: Vec<_> = sks.iter().map(|sk| sk.public_key()).collect();
//! let sigs: Vec<_> = sks.iter().map(|sk| sk.sign(b"block 7").unwrap()).collect();
//! let agg = aggregate(&backend, &sigs).unwrap();
//! assert!(fast_aggregate_verify(&backend, &pks, b"block 7", &agg).unwrap());
//! ```

mod aggregate;
pub(crate) mod arith;
mod batch;
mod bitmap;
mod certificate;
mod committee;
mod error;
mod hash;
mod keys;
mod pop;
mod sig;

#[cfg(test)]
mod tests;

pub use aggregate::{aggregate, aggregate_public_keys, aggregate_verify, fast_aggregate_verify};
pub use batch::{batch_find_invalid, batch_find_invalid_with_rng, batch_verify, batch_verify_with_rng};
pub use bitmap::SignerBitmap;
pub use certificate::{Certificate, CertificateBuilder};
pub use committee::{Committee, KeyTable};
pub use error::BlsError;
pub(crate) use hash::hash_to_g2_on;
pub use hash::{DST_POP, DST_SIG, hash_to_g2};
pub use keys::{PUBLIC_KEY_BYTES, PublicKey, SECRET_KEY_BYTES, SecretKey};
pub use pop::{pop_prove, pop_verify};
pub use sig::{SIGNATURE_BYTES, Signature, sign, verify};
pub(crate) use sig::{core_sign, core_verify};

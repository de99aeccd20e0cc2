//! Secret and public keys: KeyGen, SkToPk, KeyValidate and the byte encodings.

use std::fmt;
use std::hash::{Hash, Hasher};

use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{PrimeField, Zero};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

use super::error::BlsError;
use crate::field::{self, DecodeError, Fr, G1Affine, G1Projective};

/// Bytes in an encoded secret key (big-endian scalar).
pub const SECRET_KEY_BYTES: usize = 32;
/// Bytes in an encoded public key (compressed G1).
pub const PUBLIC_KEY_BYTES: usize = 48;

/// The salt KeyGen starts from (IETF draft-irtf-cfrg-bls-signature-05 §2.3); hashed before each try.
const KEYGEN_SALT: &[u8] = b"BLS-SIG-KEYGEN-SALT-";
/// HKDF output length L = ceil((3 * ceil(log2(r))) / 16) = 48.
const KEYGEN_L: usize = 48;

/// A BLS secret key: a non-zero scalar below r. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Fr);

impl SecretKey {
    /// KeyGen(IKM, key_info) from the IETF draft: HKDF-SHA256 with the salt
    /// `BLS-SIG-KEYGEN-SALT-` hashed again on every retry until the key is non-zero.
    pub fn key_gen(ikm: &[u8], key_info: &[u8]) -> Result<Self, BlsError> {
        if ikm.len() < 32 {
            return Err(BlsError::IkmTooShort { got: ikm.len() });
        }
        let mut salt: Vec<u8> = KEYGEN_SALT.to_vec();
        // IKM || I2OSP(0, 1)
        let mut ikm0 = ikm.to_vec();
        ikm0.push(0);
        // key_info || I2OSP(L, 2)
        let mut info = key_info.to_vec();
        info.extend_from_slice(&(KEYGEN_L as u16).to_be_bytes());
        loop {
            salt = Sha256::digest(&salt).to_vec();
            let hk = Hkdf::<Sha256>::new(Some(&salt), &ikm0);
            let mut okm = [0u8; KEYGEN_L];
            // 48 bytes is far below HKDF-SHA256's 255 * 32 byte limit, so expand cannot fail.
            if hk.expand(&info, &mut okm).is_err() {
                return Err(BlsError::InvalidSecretKey { reason: "HKDF expand refused 48 bytes".into() });
            }
            let sk = Fr::from_be_bytes_mod_order(&okm);
            if !sk.is_zero() {
                return Ok(Self(sk));
            }
        }
    }

    /// Decodes a 32-byte big-endian scalar; rejects zero and values >= r.
    pub fn from_bytes(bytes: &[u8; SECRET_KEY_BYTES]) -> Result<Self, BlsError> {
        let x = field::fr_from_bytes(bytes).map_err(|e| BlsError::InvalidSecretKey { reason: e.to_string() })?;
        if x.is_zero() {
            return Err(BlsError::InvalidSecretKey { reason: "secret key is zero".into() });
        }
        Ok(Self(x))
    }

    /// [`SecretKey::from_bytes`] for a slice of any length (wrong lengths are an error).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: &[u8; SECRET_KEY_BYTES] = bytes.try_into().map_err(|_| BlsError::InvalidSecretKey {
            reason: DecodeError::WrongLength { expected: SECRET_KEY_BYTES, got: bytes.len() }.to_string(),
        })?;
        Self::from_bytes(arr)
    }

    /// The 32-byte big-endian encoding.
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_BYTES] {
        field::fr_to_bytes(&self.0)
    }

    /// SkToPk: `sk · G1`.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_point_unchecked((G1Projective::generator() * self.0).into_affine())
    }

    /// The scalar, for the signing code in this module.
    pub(crate) fn scalar(&self) -> &Fr {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A validated BLS public key (a non-identity point of G1), kept with its compressed bytes.
/// Every way to build one from untrusted input runs KeyValidate.
#[derive(Clone, Copy)]
pub struct PublicKey {
    point: G1Affine,
    bytes: [u8; PUBLIC_KEY_BYTES],
}

impl PublicKey {
    /// Decodes and runs KeyValidate: valid encoding, on the curve, in the subgroup, not infinity.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_BYTES]) -> Result<Self, BlsError> {
        let point = field::g1_from_bytes(bytes).map_err(BlsError::InvalidPublicKey)?;
        if point.is_zero() {
            return Err(BlsError::InfinityPublicKey);
        }
        Ok(Self { point, bytes: *bytes })
    }

    /// [`PublicKey::from_bytes`] for a slice of any length (wrong lengths are an error).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: &[u8; PUBLIC_KEY_BYTES] = bytes.try_into().map_err(|_| {
            BlsError::InvalidPublicKey(DecodeError::WrongLength { expected: PUBLIC_KEY_BYTES, got: bytes.len() })
        })?;
        Self::from_bytes(arr)
    }

    /// KeyValidate on an already-decoded point.
    pub fn from_point(point: G1Affine) -> Result<Self, BlsError> {
        if point.is_zero() {
            return Err(BlsError::InfinityPublicKey);
        }
        if !point.is_on_curve() || !point.is_in_correct_subgroup_assuming_on_curve() {
            return Err(BlsError::InvalidPublicKey(DecodeError::NotInSubgroup { group: "G1" }));
        }
        Ok(Self::from_point_unchecked(point))
    }

    /// Wraps a point known to be a valid key (derived from a secret key in this module).
    fn from_point_unchecked(point: G1Affine) -> Self {
        Self { point, bytes: field::g1_to_bytes(&point) }
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.bytes
    }

    /// The curve point.
    pub fn point(&self) -> &G1Affine {
        &self.point
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        // The compressed encoding is canonical, so byte equality is point equality.
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(0x{})", hex::encode(self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_gen_is_deterministic_and_checks_ikm_length() {
        let a = SecretKey::key_gen(&[7u8; 32], b"").unwrap();
        let b = SecretKey::key_gen(&[7u8; 32], b"").unwrap();
        let c = SecretKey::key_gen(&[7u8; 32], b"other").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(SecretKey::key_gen(&[7u8; 31], b""), Err(BlsError::IkmTooShort { got: 31 }));
    }

    #[test]
    fn key_gen_matches_py_ecc() {
        // py_ecc 8.0.0: G2ProofOfPossession.KeyGen(bytes(range(32)), key_info), SkToPk, PopProve.
        let ikm: Vec<u8> = (0u8..32).collect();
        let sk = SecretKey::key_gen(&ikm, b"").unwrap();
        assert_eq!(hex::encode(sk.to_bytes()), "23360db7e337b0a32b264e06bc11c1b474d16f55665373de1ce93cf15ddb3456");
        assert_eq!(
            hex::encode(sk.public_key().to_bytes()),
            "9112a0386a2340714ba0c6d2df235377a8679c3899d03e6ef04dba7a50ef49e5a1dc93105e9374e93ed301b63487e17c"
        );
        assert_eq!(
            hex::encode(crate::bls::pop_prove(&sk).unwrap().to_bytes()),
            "915993b4e43e717ec8079234490be46018bdc7d70e81de1bbec515844a3754cc0a387ddf825a2faa0984fa794a96b5a2\
             0da605161aa42c1d4028abeb3c52ffbf35d41bd26398e7110d0b6566e0b74b30b3431c4b821cc85a9d61ad5ffd3f9042"
        );
        let sk = SecretKey::key_gen(&ikm, b"crema").unwrap();
        assert_eq!(hex::encode(sk.to_bytes()), "545181ec6af3bcc496fbdebae2aaec57914181966eb7da57e32c7709617fecd1");
    }

    #[test]
    fn secret_key_rejects_zero_and_r() {
        assert!(SecretKey::from_bytes(&[0u8; 32]).is_err());
        let r: [u8; 32] = ark_ff::BigInteger::to_bytes_be(&Fr::MODULUS).try_into().unwrap();
        assert!(SecretKey::from_bytes(&r).is_err());
        let mut one = [0u8; 32];
        one[31] = 1;
        let sk = SecretKey::from_bytes(&one).unwrap();
        assert_eq!(sk.to_bytes(), one);
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn public_key_rejects_infinity_and_round_trips() {
        let mut inf = [0u8; 48];
        inf[0] = 0xc0;
        assert_eq!(PublicKey::from_bytes(&inf), Err(BlsError::InfinityPublicKey));
        let pk = SecretKey::key_gen(&[1u8; 32], b"").unwrap().public_key();
        assert_eq!(PublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
        assert!(PublicKey::from_slice(&pk.to_bytes()[..47]).is_err());
    }
}

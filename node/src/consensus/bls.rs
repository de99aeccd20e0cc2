//! The production certificate scheme: BLS signatures (crema-engine's `bls` module, min-pk, POP ciphersuite) with
//! a signer bitmap and one aggregate signature per certificate, checked by FastAggregateVerify.
//!
//! Stake thresholds are applied with the engine's [`StakeTable`] (so the DA committee's own table works the
//! same way); the BLS side only answers "did exactly these keys sign this message". Point sums run on the
//! backend the runtime hands the verifier: the core picks no compute backend itself.

use std::sync::Arc;

use crema_engine::Backend;
use crema_engine::bls::{self, Certificate, PublicKey, SecretKey, Signature, SignerBitmap};
use crema_engine::codec::{Reader, WireError, Writer};

use super::certificate::{CertError, CertScheme, SimScheme};
use super::leader::Membership;
use super::types::NodeId;
use crema_engine::stake::StakeTable;

/// Marker type for the BLS scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlsScheme;

/// A node's BLS secret key.
#[derive(Clone, Debug)]
pub struct BlsKey {
    /// The key's owner.
    pub id: NodeId,
    sk: SecretKey,
}

impl BlsKey {
    /// Wraps a secret key for node `id`.
    pub fn new(id: NodeId, sk: SecretKey) -> Self {
        BlsKey { id, sk }
    }
}

/// Public keys by node index, and the backend that sums points.
#[derive(Clone)]
pub struct BlsVerifier {
    keys: Arc<Vec<PublicKey>>,
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for BlsVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsVerifier({} keys)", self.keys.len())
    }
}

impl BlsVerifier {
    /// A verifier for these public keys (index = node id), summing points on `backend`.
    pub fn new(keys: Vec<PublicKey>, backend: Arc<dyn Backend>) -> Self {
        BlsVerifier { keys: Arc::new(keys), backend }
    }
}

/// A BLS certificate, or the empty certificate only the genesis QC carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlsCert {
    /// No signers.
    Empty,
    /// Bitmap and aggregate signature (boxed: 320 bytes would bloat every message enum).
    Aggregate(Box<Certificate>),
}

impl CertScheme for BlsScheme {
    type Sig = Signature;
    type Cert = BlsCert;
    type SigningKey = BlsKey;
    type Verifier = BlsVerifier;

    fn sign(key: &BlsKey, msg: &[u8]) -> Signature {
        // Signing our own message with our own valid key has no failure mode; an error here is a bug.
        key.sk.sign(msg).expect("BLS signing with a valid key")
    }

    fn verify_sig(verifier: &BlsVerifier, signer: NodeId, msg: &[u8], sig: &Signature) -> bool {
        match verifier.keys.get(signer as usize) {
            Some(pk) => bls::verify(pk, msg, sig).unwrap_or(false),
            None => false,
        }
    }

    fn combine(verifier: &BlsVerifier, sigs: &[(NodeId, Signature)]) -> BlsCert {
        let mut signers = SignerBitmap::new(verifier.keys.len());
        for (id, _) in sigs {
            if signers.set(*id as usize).is_err() {
                return BlsCert::Empty;
            }
        }
        let parts: Vec<Signature> = sigs.iter().map(|s| s.1).collect();
        match bls::aggregate(verifier.backend.as_ref(), &parts) {
            Ok(signature) => BlsCert::Aggregate(Box::new(Certificate { signers, signature })),
            Err(_) => BlsCert::Empty,
        }
    }

    fn signers(cert: &BlsCert) -> Vec<NodeId> {
        match cert {
            BlsCert::Empty => Vec::new(),
            BlsCert::Aggregate(c) => c.signers.signers().map(|i| i as NodeId).collect(),
        }
    }

    fn empty_cert() -> BlsCert {
        BlsCert::Empty
    }

    fn verify_cert(
        verifier: &BlsVerifier,
        table: &StakeTable,
        msg: &[u8],
        cert: &BlsCert,
        threshold: u64,
    ) -> Result<(), CertError> {
        let BlsCert::Aggregate(c) = cert else {
            return Err(CertError::BelowThreshold { have: 0, need: threshold });
        };
        if c.signers.len() != table.len() || c.signers.len() != verifier.keys.len() {
            return Err(CertError::Malformed);
        }
        // Stake first: an under-threshold certificate costs no pairing.
        let mut have = 0u64;
        let mut keys = Vec::with_capacity(c.signers.count());
        for i in c.signers.signers() {
            have += table.node_stake(i as NodeId).ok_or(CertError::UnknownSigner(i as NodeId))?;
            keys.push(verifier.keys[i]);
        }
        if have < threshold {
            return Err(CertError::BelowThreshold { have, need: threshold });
        }
        match bls::fast_aggregate_verify(verifier.backend.as_ref(), &keys, msg, &c.signature) {
            Ok(true) => Ok(()),
            _ => Err(CertError::BadAggregate),
        }
    }

    fn write_sig(sig: &Signature, w: &mut Writer) {
        w.bytes(&sig.to_bytes());
    }

    fn read_sig(r: &mut Reader<'_>) -> Result<Signature, WireError> {
        // Decoding checks the point is on the curve and in the subgroup.
        Signature::from_bytes(&r.array("bls signature")?).map_err(|e| Self::bad("bls signature", e))
    }

    fn write_cert(cert: &BlsCert, w: &mut Writer) {
        match cert {
            BlsCert::Empty => w.u8(EMPTY_CERT),
            BlsCert::Aggregate(c) => w.u8(AGGREGATE_CERT).len_bytes(&c.to_bytes()),
        };
    }

    fn read_cert(r: &mut Reader<'_>, max_signers: usize) -> Result<BlsCert, WireError> {
        match r.u8("certificate kind")? {
            EMPTY_CERT => Ok(BlsCert::Empty),
            AGGREGATE_CERT => {
                // Signature, bitmap header and one bit per entry.
                let max = (bls::SIGNATURE_BYTES + 4 + max_signers.div_ceil(8)) as u64;
                let bytes = r.len_bytes("bls certificate", max)?;
                let cert = Certificate::from_bytes(bytes).map_err(|e| Self::bad("bls certificate", e))?;
                Ok(BlsCert::Aggregate(Box::new(cert)))
            }
            k => Err(WireError::Invalid { what: "certificate kind", reason: format!("{k} is neither 0 nor 1") }),
        }
    }
}

/// Certificate encodings: a byte naming the variant, then the engine's certificate bytes behind a length.
const EMPTY_CERT: u8 = 0;
const AGGREGATE_CERT: u8 = 1;

impl BlsScheme {
    fn bad(what: &'static str, e: bls::BlsError) -> WireError {
        WireError::Invalid { what, reason: e.to_string() }
    }
}

impl SimScheme for BlsScheme {
    const NAME: &'static str = "bls";

    fn generate(n: usize, seed: u64, backend: &Arc<dyn Backend>) -> (Vec<BlsKey>, BlsVerifier) {
        let keys: Vec<BlsKey> = (0..n)
            .map(|i| {
                let mut h = blake3::Hasher::new_derive_key("crema sim bls ikm v1");
                h.update(&seed.to_le_bytes());
                h.update(&(i as u64).to_le_bytes());
                let sk = SecretKey::key_gen(h.finalize().as_bytes(), b"").expect("32-byte IKM is long enough");
                BlsKey::new(i as NodeId, sk)
            })
            .collect();
        let pks = keys.iter().map(|k| k.sk.public_key()).collect();
        (keys, BlsVerifier::new(pks, backend.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bls_certificates_need_stake_and_real_signatures() {
        let backend = crema_engine::BackendChoice::Cpu.build().unwrap();
        let (keys, ver) = BlsScheme::generate(4, 3, &backend);
        let table = StakeTable::equal(4).unwrap();
        let msg = b"view 9";
        let sigs: Vec<_> = keys.iter().take(3).map(|k| (k.id, BlsScheme::sign(k, msg))).collect();
        assert!(BlsScheme::verify_sig(&ver, 0, msg, &sigs[0].1));
        assert!(!BlsScheme::verify_sig(&ver, 1, msg, &sigs[0].1));
        let cert = BlsScheme::combine(&ver, &sigs);
        assert_eq!(BlsScheme::signers(&cert), vec![0, 1, 2]);
        assert_eq!(BlsScheme::verify_cert(&ver, &table, msg, &cert, table.quorum()), Ok(()));
        assert_eq!(BlsScheme::verify_cert(&ver, &table, b"other", &cert, table.quorum()), Err(CertError::BadAggregate));
        let short = BlsScheme::combine(&ver, &sigs[..2]);
        assert!(matches!(
            BlsScheme::verify_cert(&ver, &table, msg, &short, table.quorum()),
            Err(CertError::BelowThreshold { .. })
        ));
        // Node 3 claims 0, 1, 2 signed, using only its own key.
        let own = BlsScheme::sign(&keys[3], msg);
        let forged = BlsScheme::combine(&ver, &[(0, own), (1, own), (2, own)]);
        assert_eq!(BlsScheme::verify_cert(&ver, &table, msg, &forged, table.quorum()), Err(CertError::BadAggregate));
    }
}

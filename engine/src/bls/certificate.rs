//! Stake-weighted certificates: a signer bitmap over a [`Committee`] plus one aggregate
//! signature, and the builder that collects votes into one.

use super::aggregate::{fast_aggregate_verify_points, sum_one_g2};
use super::bitmap::SignerBitmap;
use super::committee::Committee;
use super::error::BlsError;
use super::sig::{SIGNATURE_BYTES, Signature, verify};
use crate::backend::Backend;
use crate::field::G2Affine;
use crate::stake::Fraction;

/// A certificate: who signed (a bitmap over a stake table) and their aggregate signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The signers.
    pub signers: SignerBitmap,
    /// The aggregate of the signers' signatures on the certified message.
    pub signature: Signature,
}

impl Certificate {
    /// The stake of the signers; fails when the bitmap does not cover exactly `committee`.
    pub fn signed_stake(&self, committee: &Committee) -> Result<u64, BlsError> {
        check_size(&self.signers, committee)?;
        // The bitmap has one bit per entry, so its set bits are distinct entries of the table.
        Ok(committee.stake().sum(self.signers.signers()).unwrap_or(u64::MAX))
    }

    /// Valid iff the signers' stake is strictly above `threshold` of the table's total AND
    /// FastAggregateVerify of the signers' keys on `msg` holds. `Ok(false)` for an invalid
    /// certificate; `Err` when the bitmap does not fit the table or the backend fails.
    /// Cost: one pass to gather the signers' key points, their sum on the backend, one hash
    /// to G2 and a two-pair multi-pairing.
    pub fn verify(
        &self,
        committee: &Committee,
        msg: &[u8],
        threshold: Fraction,
        backend: &dyn Backend,
    ) -> Result<bool, BlsError> {
        check_size(&self.signers, committee)?;
        let points = committee.keys().points();
        let stakes = committee.stake().stakes();
        let mut signed = 0u64;
        let mut gathered = Vec::with_capacity(self.signers.count());
        for i in self.signers.signers() {
            signed += stakes[i];
            gathered.push(points[i]);
        }
        if !committee.stake().exceeds(signed, threshold) {
            return Ok(false);
        }
        fast_aggregate_verify_points(backend, &gathered, msg, &self.signature)
    }

    /// Encoding: the 96-byte aggregate signature, then the bitmap's canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signature.to_bytes().to_vec();
        out.extend_from_slice(&self.signers.to_bytes());
        out
    }

    /// Decodes [`Certificate::to_bytes`]; the signature is fully validated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let (sig, rest) = bytes.split_first_chunk::<SIGNATURE_BYTES>().ok_or_else(|| BlsError::BadCertificate {
            reason: format!("{} bytes is shorter than the {SIGNATURE_BYTES}-byte signature", bytes.len()),
        })?;
        Ok(Self { signature: Signature::from_bytes(sig)?, signers: SignerBitmap::from_bytes(rest)? })
    }
}

fn check_size(bitmap: &SignerBitmap, committee: &Committee) -> Result<(), BlsError> {
    if bitmap.len() != committee.len() {
        return Err(BlsError::BadBitmap {
            reason: format!("bitmap covers {} entries but the stake table has {}", bitmap.len(), committee.len()),
        });
    }
    Ok(())
}

/// Collects individual votes (signatures on one message) into a [`Certificate`].
/// Each vote is verified on arrival, so one bad vote cannot spoil the aggregate.
#[derive(Debug)]
pub struct CertificateBuilder<'a> {
    committee: &'a Committee,
    msg: Vec<u8>,
    signers: SignerBitmap,
    sigs: Vec<G2Affine>,
    signed: u64,
}

impl<'a> CertificateBuilder<'a> {
    /// A builder for votes on `msg` by members of `committee`.
    pub fn new(committee: &'a Committee, msg: &[u8]) -> Self {
        let signers = SignerBitmap::new(committee.len());
        Self { committee, msg: msg.to_vec(), signers, sigs: Vec::new(), signed: 0 }
    }

    /// Adds entry `index`'s vote after checking it; rejects unknown signers, second votes and
    /// signatures that do not verify.
    pub fn add_vote(&mut self, index: usize, sig: &Signature) -> Result<(), BlsError> {
        let len = self.committee.len();
        let pk = self.committee.keys().public_key(index).ok_or(BlsError::SignerOutOfRange { index, len })?;
        if self.signers.get(index) {
            return Err(BlsError::DuplicateVote { index });
        }
        if !verify(pk, &self.msg, sig)? {
            return Err(BlsError::InvalidVote { index });
        }
        self.signers.set(index)?;
        self.sigs.push(*sig.point());
        // Each entry signs once (checked above), so the sum stays within the table's total.
        self.signed += self.committee.stake().stake(index).unwrap_or(0);
        Ok(())
    }

    /// Stake of the votes collected so far.
    pub fn signed_stake(&self) -> u64 {
        self.signed
    }

    /// True once the collected stake is above `threshold` of the committee's total.
    pub fn reached(&self, threshold: Fraction) -> bool {
        self.committee.stake().exceeds(self.signed, threshold)
    }

    /// Aggregates the votes (on the backend) into a certificate. Fails with no votes.
    pub fn build(&self, backend: &dyn Backend) -> Result<Certificate, BlsError> {
        if self.sigs.is_empty() {
            return Err(BlsError::Empty { op: "CertificateBuilder::build" });
        }
        let sum = sum_one_g2(backend, &self.sigs)?;
        Ok(Certificate { signers: self.signers.clone(), signature: Signature::from_point(sum) })
    }
}

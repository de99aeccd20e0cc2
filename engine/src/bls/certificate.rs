//! Stake-weighted certificates: a signer bitmap over a [`StakeTable`] plus one aggregate
//! signature, and the builder that collects votes into one.

use super::aggregate::{fast_aggregate_verify_points, sum_one_g2};
use super::bitmap::SignerBitmap;
use super::error::BlsError;
use super::sig::{SIGNATURE_BYTES, Signature, verify};
use super::stake::{StakeTable, Threshold};
use crate::backend::Backend;
use crate::field::G2Affine;

/// A certificate: who signed (a bitmap over a stake table) and their aggregate signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The signers.
    pub signers: SignerBitmap,
    /// The aggregate of the signers' signatures on the certified message.
    pub signature: Signature,
}

impl Certificate {
    /// The stake of the signers; fails when the bitmap does not cover exactly `table`.
    pub fn signed_stake(&self, table: &StakeTable) -> Result<u64, BlsError> {
        check_size(&self.signers, table)?;
        // The table's total fits in u64, so any sum of its stakes does too.
        Ok(self.signers.signers().map(|i| table.stakes()[i]).sum())
    }

    /// Valid iff the signers' stake is strictly above `threshold` of the table's total AND
    /// FastAggregateVerify of the signers' keys on `msg` holds. `Ok(false)` for an invalid
    /// certificate; `Err` when the bitmap does not fit the table or the backend fails.
    /// Cost: one pass to gather the signers' key points, their sum on the backend, one hash
    /// to G2 and a two-pair multi-pairing.
    pub fn verify(
        &self,
        table: &StakeTable,
        msg: &[u8],
        threshold: Threshold,
        backend: &dyn Backend,
    ) -> Result<bool, BlsError> {
        check_size(&self.signers, table)?;
        let points = table.points();
        let stakes = table.stakes();
        let mut signed = 0u64;
        let mut gathered = Vec::with_capacity(self.signers.count());
        for i in self.signers.signers() {
            signed += stakes[i];
            gathered.push(points[i]);
        }
        if !threshold.is_exceeded_by(signed, table.total_stake()) {
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

fn check_size(bitmap: &SignerBitmap, table: &StakeTable) -> Result<(), BlsError> {
    if bitmap.len() != table.len() {
        return Err(BlsError::BadBitmap {
            reason: format!("bitmap covers {} entries but the stake table has {}", bitmap.len(), table.len()),
        });
    }
    Ok(())
}

/// Collects individual votes (signatures on one message) into a [`Certificate`].
/// Each vote is verified on arrival, so one bad vote cannot spoil the aggregate.
#[derive(Debug)]
pub struct CertificateBuilder<'a> {
    table: &'a StakeTable,
    msg: Vec<u8>,
    signers: SignerBitmap,
    sigs: Vec<G2Affine>,
    signed: u64,
}

impl<'a> CertificateBuilder<'a> {
    /// A builder for votes on `msg` by members of `table`.
    pub fn new(table: &'a StakeTable, msg: &[u8]) -> Self {
        Self { table, msg: msg.to_vec(), signers: SignerBitmap::new(table.len()), sigs: Vec::new(), signed: 0 }
    }

    /// Adds entry `index`'s vote after checking it; rejects unknown signers, second votes and
    /// signatures that do not verify.
    pub fn add_vote(&mut self, index: usize, sig: &Signature) -> Result<(), BlsError> {
        let pk = self.table.public_key(index).ok_or(BlsError::SignerOutOfRange { index, len: self.table.len() })?;
        if self.signers.get(index) {
            return Err(BlsError::DuplicateVote { index });
        }
        if !verify(pk, &self.msg, sig)? {
            return Err(BlsError::InvalidVote { index });
        }
        self.signers.set(index)?;
        self.sigs.push(*sig.point());
        self.signed += self.table.stakes()[index];
        Ok(())
    }

    /// Stake of the votes collected so far.
    pub fn signed_stake(&self) -> u64 {
        self.signed
    }

    /// True once the collected stake is above `threshold` of the table's total.
    pub fn reached(&self, threshold: Threshold) -> bool {
        threshold.is_exceeded_by(self.signed, self.table.total_stake())
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

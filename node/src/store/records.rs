//! The store's record codecs: one tagged, versioned record per table, written with the engine's bounded
//! [`Writer`] and the consensus wire helpers, read back with limits into a [`WireError`], never a panic.
//!
//! ```text
//! safety   "CSS" 1 | last voted view u64 | last proposed view u64 | high QC | decided header
//! decided  "CSH" 1 | header | QC                       (key: the header's height)
//! proof    "CSP" 1 | child header | child's QC         (key: the height it proves decided)
//! share    "CSV" 1 | view u64 | node u16 | common (u32 len) | share (u32 len)   (a file; key: the commitment)
//! payload  "CSD" 1 | view u64 | payload (u32 len)       (a file; key: the commitment)
//! blob ref "CSR" 1 | view u64 | file length u64 | BLAKE3 of the file [32]   (key: the commitment)
//! ```
//! Shares and payloads are megabytes: they live in files beside the database (`blobs.rs`), and the database
//! holds a blob ref to each, which the file must match byte for byte.
//! Headers and QCs are the consensus wire encodings ([`encode_header`], [`write_qc`]). A decoder also checks what
//! the key promises: a decided header sits at its own height and its QC certifies it, a proof's child sits one
//! height above and its QC certifies the child. A blob ref starts with the view its record was stored for, so
//! retention reads the view ([`record_view`]) without opening the file.

use std::sync::Arc;

use crema_engine::codec::{Reader, WireError, Writer};

use crate::consensus::wire::{WireLimits, encode_header, read_header, read_qc, write_qc};
use crate::consensus::{CertScheme, CommitProof, Digest, Header, PersistedState, Qc, VidShare, View};

const SAFETY: &[u8; 3] = b"CSS";
const DECIDED: &[u8; 3] = b"CSH";
const PROOF: &[u8; 3] = b"CSP";
const SHARE: &[u8; 3] = b"CSV";
const PAYLOAD: &[u8; 3] = b"CSD";
const BLOB_REF: &[u8; 3] = b"CSR";
/// The version every record kind is written in (each kind carries its own, so one can change alone).
const VERSION: u8 = 1;

/// Largest payload, share or common data a record holds: far above any block the design admits (1 MB on
/// mainnet, 10 MB in the demo, 32 MB in the benches), so only a damaged length is refused.
pub const MAX_BLOB_BYTES: usize = 256 << 20;

/// The limits QCs are read with: node ids are u16, so no certificate names more signers than this.
fn limits() -> WireLimits {
    WireLimits {
        max_nodes: 1 << 16,
        max_payload: MAX_BLOB_BYTES,
        max_share: MAX_BLOB_BYTES,
        max_common: MAX_BLOB_BYTES,
    }
}

/// A blob too long to store (the caller maps it to a refusal: it would not read back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    /// Its length.
    pub len: usize,
}

fn check_blob(b: &[u8]) -> Result<(), OverLimit> {
    if b.len() > MAX_BLOB_BYTES { Err(OverLimit { len: b.len() }) } else { Ok(()) }
}

/// Encodes the safety state.
pub fn encode_safety<C: CertScheme>(s: &PersistedState<C>) -> Vec<u8> {
    let mut w = Writer::new(SAFETY, VERSION);
    w.u64(s.last_voted_view).u64(s.last_proposed_view);
    write_qc(&mut w, &s.high_qc);
    w.bytes(&encode_header(&s.decided));
    w.finish()
}

/// Decodes the safety state.
pub fn decode_safety<C: CertScheme>(bytes: &[u8]) -> Result<PersistedState<C>, WireError> {
    let mut r = Reader::new(bytes, SAFETY, "safety record", VERSION)?;
    let last_voted_view = u64::from_le_bytes(r.array("last voted view")?);
    let last_proposed_view = u64::from_le_bytes(r.array("last proposed view")?);
    let high_qc = read_qc(&mut r, &limits())?;
    let decided = read_header(&mut r)?;
    r.finish()?;
    Ok(PersistedState { last_voted_view, last_proposed_view, high_qc, decided })
}

/// Encodes a decided header with its QC.
pub fn encode_decided<C: CertScheme>(header: &Header, qc: &Qc<C>) -> Vec<u8> {
    let mut w = Writer::new(DECIDED, VERSION);
    w.bytes(&encode_header(header));
    write_qc(&mut w, qc);
    w.finish()
}

/// Decodes the decided header stored under `height`, with its QC.
pub fn decode_decided<C: CertScheme>(bytes: &[u8], height: u64) -> Result<(Header, Qc<C>), WireError> {
    let mut r = Reader::new(bytes, DECIDED, "decided header record", VERSION)?;
    let header = read_header(&mut r)?;
    let qc = read_qc(&mut r, &limits())?;
    r.finish()?;
    if header.height != height {
        return Err(invalid("decided header height", format!("{} stored under height {height}", header.height)));
    }
    certifies(&qc, &header, "decided header QC")?;
    Ok((header, qc))
}

/// Encodes the commit proof of a decided header.
pub fn encode_proof<C: CertScheme>(proof: &CommitProof<C>) -> Vec<u8> {
    let mut w = Writer::new(PROOF, VERSION);
    w.bytes(&encode_header(&proof.child));
    write_qc(&mut w, &proof.child_qc);
    w.finish()
}

/// Decodes the commit proof stored under `height` (the proof's child sits at `height + 1`).
pub fn decode_proof<C: CertScheme>(bytes: &[u8], height: u64) -> Result<CommitProof<C>, WireError> {
    let mut r = Reader::new(bytes, PROOF, "commit proof record", VERSION)?;
    let child = read_header(&mut r)?;
    let child_qc = read_qc(&mut r, &limits())?;
    r.finish()?;
    if height.checked_add(1) != Some(child.height) {
        return Err(invalid("commit proof height", format!("child at {} proves height {height}", child.height)));
    }
    certifies(&child_qc, &child, "commit proof QC")?;
    Ok(CommitProof { child, child_qc })
}

/// A share or payload record as written to its file: an encoded head, then the record's last field, its
/// megabytes borrowed rather than copied into one buffer (the file write copies them once, into its staging).
#[derive(Debug)]
pub struct Record<'a> {
    /// Every field before the body, the body's length prefix included.
    pub head: Vec<u8>,
    /// The last field's bytes.
    pub body: &'a [u8],
}

impl Record<'_> {
    /// The record's bytes in file order.
    pub fn parts(&self) -> [&[u8]; 2] {
        [&self.head, self.body]
    }

    /// The record as one buffer, as its file holds it.
    pub fn to_vec(&self) -> Vec<u8> {
        [self.head.as_slice(), self.body].concat()
    }
}

/// A VID share's record (its commitment is the key).
pub fn share_record(share: &VidShare) -> Result<Record<'_>, OverLimit> {
    check_blob(&share.common)?;
    check_blob(&share.share)?;
    let mut w = Writer::with_capacity(SHARE, VERSION, 22 + share.common.len());
    w.u64(share.view).bytes(&share.node.to_le_bytes());
    w.len_bytes(&share.common).u32(body_len(&share.share));
    Ok(Record { head: w.finish(), body: &share.share })
}

/// Encodes a VID share (its commitment is the key): [`share_record`] as one buffer.
pub fn encode_share(share: &VidShare) -> Result<Vec<u8>, OverLimit> {
    share_record(share).map(|r| r.to_vec())
}

/// The u32 length prefix of a body [`check_blob`] has bounded (far below 4 GiB).
fn body_len(body: &[u8]) -> u32 {
    u32::try_from(body.len()).unwrap_or(u32::MAX)
}

/// Decodes the VID share stored under `commitment`.
pub fn decode_share(bytes: &[u8], commitment: &Digest) -> Result<VidShare, WireError> {
    let mut r = Reader::new(bytes, SHARE, "vid share record", VERSION)?;
    let view = u64::from_le_bytes(r.array("share view")?);
    let node = u16::from_le_bytes(r.array("share node")?);
    let common = Arc::new(r.len_bytes("vid common data", MAX_BLOB_BYTES as u64)?.to_vec());
    let share = r.len_bytes("vid share", MAX_BLOB_BYTES as u64)?.to_vec();
    r.finish()?;
    Ok(VidShare { view, commitment: *commitment, node, common, share })
}

/// The record of a DA payload received in `view` (its commitment is the key).
pub fn payload_record(view: View, payload: &[u8]) -> Result<Record<'_>, OverLimit> {
    check_blob(payload)?;
    let mut w = Writer::with_capacity(PAYLOAD, VERSION, 12);
    w.u64(view).u32(body_len(payload));
    Ok(Record { head: w.finish(), body: payload })
}

/// Encodes a DA payload received in `view`: [`payload_record`] as one buffer.
pub fn encode_payload(view: View, payload: &[u8]) -> Result<Vec<u8>, OverLimit> {
    payload_record(view, payload).map(|r| r.to_vec())
}

/// Decodes a DA payload record: the view it was stored for, and the payload.
pub fn decode_payload(bytes: &[u8]) -> Result<(View, Vec<u8>), WireError> {
    let mut r = Reader::new(bytes, PAYLOAD, "da payload record", VERSION)?;
    let view = u64::from_le_bytes(r.array("payload view")?);
    let payload = r.len_bytes("da payload", MAX_BLOB_BYTES as u64)?.to_vec();
    r.finish()?;
    Ok((view, payload))
}

/// Where a share or payload record is and what it must be: the view it was stored for, and the length and
/// BLAKE3 hash of its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobRef {
    /// The view the record was stored for.
    pub view: View,
    /// The file's length in bytes (at most [`MAX_RECORD_BYTES`]).
    pub len: u64,
    /// The BLAKE3 hash of the file.
    pub hash: [u8; 32],
}

/// The longest record file: a share's two blobs and its head.
pub const MAX_RECORD_BYTES: u64 = 2 * MAX_BLOB_BYTES as u64 + 64;

impl BlobRef {
    /// The ref of a record about to be written as a file.
    pub fn of(view: View, record: &[u8]) -> Self {
        Self::of_parts(view, &[record])
    }

    /// The ref of a record file holding the concatenation of `parts`.
    pub fn of_parts(view: View, parts: &[&[u8]]) -> Self {
        let mut hasher = blake3::Hasher::new();
        for p in parts {
            hasher.update(p);
        }
        let len = parts.iter().map(|p| p.len() as u64).sum();
        BlobRef { view, len, hash: *hasher.finalize().as_bytes() }
    }
}

/// Encodes a blob ref.
pub fn encode_blob_ref(r: &BlobRef) -> Vec<u8> {
    let mut w = Writer::with_capacity(BLOB_REF, VERSION, 48);
    w.u64(r.view).u64(r.len).bytes(&r.hash);
    w.finish()
}

/// Decodes a blob ref.
pub fn decode_blob_ref(bytes: &[u8]) -> Result<BlobRef, WireError> {
    let mut r = Reader::new(bytes, BLOB_REF, "blob ref", VERSION)?;
    let view = u64::from_le_bytes(r.array("blob view")?);
    let len = r.u64_max("blob file length", MAX_RECORD_BYTES)?;
    let hash = r.array("blob hash")?;
    r.finish()?;
    Ok(BlobRef { view, len, hash })
}

/// The view a share or payload was stored for, read from its blob ref alone.
pub fn record_view(bytes: &[u8]) -> Result<View, WireError> {
    decode_blob_ref(bytes).map(|r| r.view)
}

fn certifies<C: CertScheme>(qc: &Qc<C>, header: &Header, what: &'static str) -> Result<(), WireError> {
    if qc.view != header.view || qc.block != header.hash() {
        return Err(invalid(what, format!("does not certify the header of view {}", header.view)));
    }
    Ok(())
}

fn invalid(what: &'static str, reason: String) -> WireError {
    WireError::Invalid { what, reason }
}

#[cfg(test)]
mod tests;

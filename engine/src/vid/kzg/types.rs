//! The KZG scheme's common data, shares, and their canonical bytes.

use super::super::weights::MAX_UNITS;
use super::super::{VidError, Weights};
use super::layout::{MAX_BLOBS, MAX_PAYLOAD, blob_count};
use crate::codec::{Reader, WireError, Writer};
use crate::kzg::{BYTES_PER_CELL, BYTES_PER_COMMITMENT, Bytes48, CELLS_PER_EXT_BLOB, Cell};

const COMMON_TAG: &[u8; 3] = b"CKC";
const SHARE_TAG: &[u8; 3] = b"CKS";
const VERSION: u8 = 1;
const COMMITMENT_CONTEXT: &str = "crema vid kzg commitment v1";

/// The KZG-scheme commitment: BLAKE3 of the encoded [`Common`] data, which holds every blob
/// commitment and every parameter.
pub type Commitment = [u8; 32];

/// Parameters every verifier needs, bound by the commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// Payload length in bytes (fixes the blob count).
    pub payload_len: u64,
    /// The EIP-4844 commitment of each blob, in blob order.
    pub blob_commitments: Vec<Bytes48>,
    /// Weights, one per node (fix which cells each node holds).
    pub weights: Weights,
}

impl Common {
    /// The commitment this common data hashes to.
    pub fn commitment(&self) -> Commitment {
        *blake3::Hasher::new_derive_key(COMMITMENT_CONTEXT).update(&self.to_bytes()).finalize().as_bytes()
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(COMMON_TAG, VERSION);
        w.u64(self.payload_len).u32(self.blob_commitments.len() as u32);
        for c in &self.blob_commitments {
            w.bytes(c);
        }
        w.u32(self.weights.nodes() as u32);
        for x in self.weights.iter() {
            w.u32(x);
        }
        w.finish()
    }

    /// Decodes and validates canonical bytes (the blob count must fit the payload length; the
    /// commitments are decoded as curve points only when a share is verified).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VidError> {
        let mut r = Reader::new(bytes, COMMON_TAG, "kzg common data", VERSION)?;
        let payload_len = r.u64_max("payload length", MAX_PAYLOAD as u64)?;
        let blobs = r.u32_max("blob count", MAX_BLOBS as u64)? as usize;
        let expected = blob_count(payload_len as usize);
        if blobs != expected {
            return Err(WireError::Invalid {
                what: "kzg common data",
                reason: format!("{blobs} blob commitments for a {payload_len}-byte payload, which takes {expected}"),
            }
            .into());
        }
        let blob_commitments = (0..blobs).map(|_| r.array("blob commitment")).collect::<Result<_, _>>()?;
        let nodes = r.u32_max("node count", MAX_UNITS)?;
        let weights = (0..nodes).map(|_| r.u32_max("weight", MAX_UNITS)).collect::<Result<_, _>>()?;
        r.finish()?;
        Ok(Self { payload_len, blob_commitments, weights: Weights::new(weights)? })
    }
}

/// One node's share: its cells of every blob (the same cell indices in each) and their proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The node this share belongs to.
    pub node: u32,
    /// Index of the node's first cell (its cells are `first_cell .. first_cell + cell_count`).
    pub first_cell: u8,
    /// Cells the node holds per blob.
    pub cell_count: u8,
    /// Blob-major: `cells[b * cell_count + j]` is cell `first_cell + j` of blob `b`.
    pub cells: Vec<Cell>,
    /// The KZG proof of each cell, in the same order.
    pub proofs: Vec<Bytes48>,
}

impl Share {
    /// Number of blobs the share covers.
    pub fn blob_count(&self) -> usize {
        if self.cell_count == 0 { 0 } else { self.cells.len() / self.cell_count as usize }
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body =
            10 + self.cells.iter().map(|c| c.len()).sum::<usize>() + self.proofs.iter().map(|p| p.len()).sum::<usize>();
        let mut w = Writer::with_capacity(SHARE_TAG, VERSION, body);
        w.u32(self.node).u8(self.first_cell).u8(self.cell_count).u32(self.blob_count() as u32);
        self.cells.iter().for_each(|c| {
            w.bytes(c);
        });
        self.proofs.iter().for_each(|p| {
            w.bytes(p);
        });
        w.finish()
    }

    /// Decodes canonical bytes (shape only: [`super::Kzg`]'s `verify_share` checks the content).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, SHARE_TAG, "kzg share", VERSION)?;
        let node = r.u32_max("node", MAX_UNITS)?;
        let first_cell = r.u8("first cell")?;
        let cell_count = r.u8("cell count")?;
        if cell_count == 0 || first_cell as usize + cell_count as usize > CELLS_PER_EXT_BLOB {
            return Err(WireError::Invalid {
                what: "kzg share",
                reason: format!(
                    "cells {first_cell}..+{cell_count} are not a nonempty range below {CELLS_PER_EXT_BLOB}"
                ),
            });
        }
        let blobs = r.u32_max("blob count", MAX_BLOBS as u64)? as usize;
        let n = blobs * cell_count as usize;
        // Check the whole body is present before allocating for it.
        let body = n * (BYTES_PER_CELL + BYTES_PER_COMMITMENT);
        if r.remaining() != body {
            return Err(if r.remaining() < body {
                WireError::Truncated { what: "kzg share cells", needed: body, remaining: r.remaining() }
            } else {
                WireError::TrailingBytes(r.remaining() - body)
            });
        }
        let cells = (0..n).map(|_| r.array("cell")).collect::<Result<_, _>>()?;
        let proofs = (0..n).map(|_| r.array("cell proof")).collect::<Result<_, _>>()?;
        r.finish()?;
        Ok(Self { node, first_cell, cell_count, cells, proofs })
    }
}

super::super::wire::codec_via_bytes!(Common, Share);

//! The KZG scheme: PeerDAS-compatible cells with KZG proofs, so every share is provably
//! consistent with the commitment on its own.
//!
//! Disperse: the payload, framed with its length, is packed 31 bytes per canonical field
//! element, 4096 elements per blob ([`layout`] has the exact rules). Per blob, EIP-4844
//! `blob_to_kzg_commitment` (all blobs in one batched MSM) and EIP-7594
//! `compute_cells_and_kzg_proofs` (128 cells of the 2x Reed–Solomon extension and their FK20
//! proofs; blobs in parallel). The commitment is BLAKE3 over the canonical [`Common`] data: every
//! blob commitment, the payload length and the weights. Node `i` gets the cells
//! [`cell_range`] assigns it, of every blob, with their proofs.
//!
//! Verify: ONE `verify_cell_kzg_proof_batch` call over all of the share's cells (every blob).
//!
//! Recover: the shares that verify (one optimistic batch over all of them; one batch per share
//! only when that fails, to find the bad ones) must hold at least 64 distinct cells; any set
//! holding half of the weight does (proof in [`layout`]). When cells 0..64 — the original blob,
//! since the extension is systematic in bit-reversed order — are all present, the blobs are read
//! off directly; otherwise `KzgContext::recover_cells` (polynomial recovery without FK20
//! proofs) runs per blob (blobs in parallel).
//!
//! **Threshold.** The code has rate 1/2, so the threshold is fixed at 1/2 of the weight; asking
//! for less is [`VidError::ThresholdUnsupported`]; more is accepted (half always suffices).
//!
//! **No inconsistent encoding.** A verified cell is an evaluation of the committed polynomial
//! (KZG binding), and 64 of them determine it, so recovery cannot yield a blob other than the
//! committed one and there is no fraud-proof case. Rebuilt blobs are nevertheless re-committed
//! (one batched MSM, cheap next to the FK20 work recovery already does) and compared, to turn a
//! recovery bug into [`VidError::RecoveredCommitmentMismatch`] instead of wrong bytes; blobs read
//! straight from verified systematic cells need no check. A disperser can still commit to blobs
//! that do not unpack (a nonzero top byte, a wrong frame): every recoverer then gets the same
//! [`VidError::MalformedPayload`].
//!
//! KZG work runs on a [`KzgContext`]: the one passed to [`Kzg::with_context`] when its backend is
//! the one a call receives, else the process-wide [`shared_context`] for that backend kind.

mod context;
pub mod layout;
mod types;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

pub use context::shared_context;
pub use layout::{CELLS_NEEDED, MAX_BLOBS, MAX_PAYLOAD, PAYLOAD_BYTES_PER_BLOB, blob_count, cell_range};
pub use types::{Commitment, Common, Share};

use super::{Dispersal, SchemeKind, VidError, VidScheme, Weights};
use crate::backend::Backend;
use crate::kzg::{BYTES_PER_BLOB, BYTES_PER_CELL, Blob, Bytes48, CELLS_PER_EXT_BLOB, Cell, KzgContext, KzgError};
use crate::stake::Fraction;

/// A progress callback: `(blobs done, blobs in total)`, called from worker threads.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// The KZG scheme with its dispersal parameters.
#[derive(Debug, Clone)]
pub struct Kzg {
    weights: Weights,
    context: Option<Arc<KzgContext>>,
}

impl Kzg {
    /// The recovery threshold: half of the weight (the rate of the 2x extension).
    pub const THRESHOLD: Fraction = Fraction::ONE_HALF;

    /// A scheme dispersing to `weights`. `threshold` must be at least 1/2
    /// ([`VidError::ThresholdUnsupported`] otherwise); recovery needs half of the weight either way.
    pub fn new(weights: Weights, threshold: Fraction) -> Result<Self, VidError> {
        SchemeKind::Kzg.check_threshold(threshold)?;
        Ok(Self { weights, context: None })
    }

    /// Runs the KZG work on `context` whenever a call's backend has the context's backend name.
    pub fn with_context(mut self, context: Arc<KzgContext>) -> Self {
        self.context = Some(context);
        self
    }

    /// The weights this scheme disperses to.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    fn context(&self, backend: &dyn Backend) -> Result<Arc<KzgContext>, VidError> {
        match &self.context {
            Some(c) if c.backend().name() == backend.name() => Ok(c.clone()),
            _ => shared_context(backend),
        }
    }

    /// The commitment [`VidScheme::disperse`] would produce, without the cells and proofs
    /// (blob commitments only: what a node holding the whole payload checks it against).
    pub fn commit(&self, backend: &dyn Backend, payload: &[u8]) -> Result<Commitment, VidError> {
        check_len(payload)?;
        let packed = layout::pack(payload);
        let blob_commitments = self.context(backend)?.blobs_to_kzg_commitments(&blobs(&packed))?;
        Ok(Common { payload_len: payload.len() as u64, blob_commitments, weights: self.weights.clone() }.commitment())
    }

    /// [`VidScheme::disperse`], calling `progress` as blobs get their cells and proofs.
    pub fn disperse_with_progress(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
        progress: Progress<'_>,
    ) -> Result<Dispersal<Commitment, Common, Share>, VidError> {
        check_len(payload)?;
        let ctx = self.context(backend)?;
        let packed = layout::pack(payload);
        let blobs = blobs(&packed);
        let done = AtomicUsize::new(0);
        let (blob_commitments, cells) = rayon::join(
            || ctx.blobs_to_kzg_commitments(&blobs),
            || {
                blobs
                    .par_iter()
                    .map(|b| {
                        let r = ctx.compute_cells_and_kzg_proofs(b);
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, blobs.len());
                        r
                    })
                    .collect::<Result<Vec<_>, KzgError>>()
            },
        );
        let (blob_commitments, cells) = (blob_commitments?, cells?);
        let common = Common { payload_len: payload.len() as u64, blob_commitments, weights: self.weights.clone() };
        let shares = (0..self.weights.nodes())
            .into_par_iter()
            .map(|node| {
                let range = cell_range(&self.weights, node)?;
                Ok(Share {
                    node: node as u32,
                    first_cell: range.start as u8,
                    cell_count: range.len() as u8,
                    cells: cells.iter().flat_map(|(c, _)| c[range.clone()].iter().copied()).collect(),
                    proofs: cells.iter().flat_map(|(_, p)| p[range.clone()].iter().copied()).collect(),
                })
            })
            .collect::<Result<Vec<_>, VidError>>()?;
        Ok(Dispersal { commitment: common.commitment(), common, shares })
    }
}

fn check_len(payload: &[u8]) -> Result<(), VidError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(VidError::PayloadTooLarge { len: payload.len(), max: MAX_PAYLOAD });
    }
    Ok(())
}

/// The blobs of a packed buffer (a whole number of blobs by construction).
fn blobs(packed: &[u8]) -> Vec<&Blob> {
    packed.chunks_exact(BYTES_PER_BLOB).map(|c| c.try_into().expect("chunks_exact gives whole blobs")).collect()
}

/// Checks a share's shape against the common data: right node, its cells, one per blob.
fn check_shape(common: &Common, share: &Share, node: usize) -> Result<(), VidError> {
    let range = cell_range(&common.weights, node)?;
    if share.node as usize != node {
        return Err(VidError::ShareNodeMismatch { claimed: share.node as usize, node });
    }
    if share.first_cell as usize != range.start || share.cell_count as usize != range.len() {
        return Err(VidError::MalformedShare(format!(
            "cells {}..{}, node {node} holds cells {}..{}",
            share.first_cell,
            share.first_cell as usize + share.cell_count as usize,
            range.start,
            range.end
        )));
    }
    let n = common.blob_commitments.len() * range.len();
    if share.cells.len() != n || share.proofs.len() != n {
        return Err(VidError::MalformedShare(format!(
            "{} cells and {} proofs, expected {n} ({} blobs x {} cells)",
            share.cells.len(),
            share.proofs.len(),
            common.blob_commitments.len(),
            range.len()
        )));
    }
    Ok(())
}

/// One `verify_cell_kzg_proof_batch` call over every cell of `shares` (already shape-checked).
fn verify_batch(ctx: &KzgContext, common: &Common, shares: &[&Share]) -> Result<bool, KzgError> {
    let n: usize = shares.iter().map(|s| s.cells.len()).sum();
    let (mut commitments, mut indices) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut cells, mut proofs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for s in shares {
        let count = s.cell_count as usize;
        for (k, (cell, proof)) in s.cells.iter().zip(&s.proofs).enumerate() {
            commitments.push(&common.blob_commitments[k / count]);
            indices.push((s.first_cell as usize + k % count) as u64);
            cells.push(cell);
            proofs.push(proof);
        }
    }
    ctx.verify_cell_kzg_proof_batch(&commitments, &indices, &cells, &proofs)
}

impl VidScheme for Kzg {
    type Commitment = Commitment;
    type Common = Common;
    type Share = Share;

    fn disperse(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
    ) -> Result<Dispersal<Commitment, Common, Share>, VidError> {
        self.disperse_with_progress(backend, payload, &|_, _| {})
    }

    fn verify_share(
        &self,
        backend: &dyn Backend,
        commitment: &Commitment,
        common: &Common,
        share: &Share,
        node: usize,
    ) -> Result<(), VidError> {
        if &common.commitment() != commitment {
            return Err(VidError::CommonMismatch);
        }
        check_shape(common, share, node)?;
        if verify_batch(&*self.context(backend)?, common, &[share])? {
            Ok(())
        } else {
            Err(VidError::BadCellProofs { node })
        }
    }

    fn recover(
        &self,
        backend: &dyn Backend,
        commitment: &Commitment,
        common: &Common,
        shares: &[Share],
    ) -> Result<Vec<u8>, VidError> {
        if &common.commitment() != commitment {
            return Err(VidError::CommonMismatch);
        }
        let ctx = self.context(backend)?;
        let shaped: Vec<&Share> = shares.iter().filter(|s| check_shape(common, s, s.node as usize).is_ok()).collect();
        // Honest shares are the common case: one pairing check for all of them, and one per
        // share only when that fails.
        let good: Vec<&Share> = if shaped.is_empty() || matches!(verify_batch(&ctx, common, &shaped), Ok(true)) {
            shaped
        } else {
            shaped.into_par_iter().filter(|s| matches!(verify_batch(&ctx, common, &[s]), Ok(true))).collect()
        };
        // Which verified share holds each cell index (the same in every blob), and their weight.
        let mut holder: Vec<Option<&Share>> = vec![None; CELLS_PER_EXT_BLOB];
        let mut counted = vec![false; common.weights.nodes()];
        let mut have = 0u64;
        for s in &good {
            if !std::mem::replace(&mut counted[s.node as usize], true) {
                have += common.weights.weight(s.node as usize)? as u64;
            }
            let held = s.first_cell as usize..s.first_cell as usize + s.cell_count as usize;
            holder[held].iter_mut().for_each(|h| {
                h.get_or_insert(s);
            });
        }
        let indices: Vec<usize> = (0..CELLS_PER_EXT_BLOB).filter(|&c| holder[c].is_some()).collect();
        if indices.len() < CELLS_NEEDED {
            let need = Self::THRESHOLD.ceil_of(common.weights.total());
            return Err(VidError::NotEnoughWeight {
                have: have as usize,
                need: need as usize,
                missing: need.saturating_sub(have) as usize,
                rejected: shares.len() - good.len(),
            });
        }
        // Called only with indices from `indices` (held), on shares that passed verify_share,
        // which checks each share's cell count against its blob count and range.
        let cell = |b: usize, c: usize| -> &Cell {
            let s = holder[c].expect("index is held");
            &s.cells[b * s.cell_count as usize + c - s.first_cell as usize]
        };
        let systematic = indices[..CELLS_NEEDED].iter().enumerate().all(|(i, &c)| i == c);
        let mut packed = vec![0u8; common.blob_commitments.len() * BYTES_PER_BLOB];
        packed.par_chunks_mut(BYTES_PER_BLOB).enumerate().try_for_each(|(b, out)| -> Result<(), VidError> {
            let mut write = |cells: &mut dyn Iterator<Item = &Cell>| {
                for (dst, c) in out.chunks_exact_mut(BYTES_PER_CELL).zip(cells) {
                    dst.copy_from_slice(c);
                }
            };
            if systematic {
                write(&mut (0..CELLS_NEEDED).map(|c| cell(b, c)));
            } else {
                let ids: Vec<u64> = indices.iter().map(|&c| c as u64).collect();
                let given: Vec<&Cell> = indices.iter().map(|&c| cell(b, c)).collect();
                let all = ctx.recover_cells(&ids, &given)?;
                write(&mut all[..CELLS_NEEDED].iter());
            }
            Ok(())
        })?;
        if !systematic {
            let recommitted: Vec<Bytes48> = ctx.blobs_to_kzg_commitments(&blobs(&packed))?;
            if let Some(blob) = (0..recommitted.len()).find(|&b| recommitted[b] != common.blob_commitments[b]) {
                return Err(VidError::RecoveredCommitmentMismatch { blob });
            }
        }
        layout::unpack(&packed, common.payload_len)
    }
}

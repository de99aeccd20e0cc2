//! AvidM over GF(2^16): Espresso's current VID, Crema's default scheme.
//!
//! Disperse: the payload, framed with its length, is cut into `k` original shards, where `k`
//! is the threshold weight; Leopard RS adds `total − k` recovery shards, so there is one shard
//! ("unit") per weight unit. A BLAKE3 Merkle tree over the units gives the root; the
//! commitment hashes the root together with every parameter (the [`Common`] data), so a
//! verifier trusts nothing but the 32-byte commitment. Node `i` gets its units and their
//! Merkle proofs.
//!
//! A share proves only that its units are in the tree, not that the tree is a codeword: a
//! malicious disperser can commit to garbage. Recovery therefore rebuilds **every unit** of
//! the codeword through exactly `k` verified units (one Leopard decode,
//! [`Backend::gf16_reconstruct`]: the same check as decoding and re-encoding, since `k` units
//! fix the codeword), **recomputes the root** over them, and reports
//! [`VidError::InconsistentEncoding`] when it differs: then the committed units are not one
//! codeword, and those `k` units with their proofs are the fraud proof.

use rayon::prelude::*;

use super::weights::Weights;
use super::{Dispersal, VidError, VidScheme};
use crate::backend::{Backend, Gf16Received, Gf16Restored};
use crate::codec::{Reader, WireError, Writer};
use crate::erasure::gf16::Gf16Code;
use crate::merkle::{self, Hash, MerkleTree};
use crate::stake::Fraction;

/// Bytes of the length frame in front of the payload.
const FRAME_BYTES: usize = 8;
/// Units are padded to a multiple of this (reed-solomon-simd's SIMD width).
const UNIT_ALIGN: usize = 64;
/// Largest payload accepted (1 GiB).
pub const MAX_PAYLOAD: usize = 1 << 30;
/// Largest unit accepted when decoding (the largest a 1 GiB payload at k = 1 produces).
const MAX_UNIT_BYTES: u64 = (MAX_PAYLOAD + FRAME_BYTES + UNIT_ALIGN) as u64;
const COMMON_TAG: &[u8; 3] = b"CVC";
const SHARE_TAG: &[u8; 3] = b"CVS";
const VERSION: u8 = 1;
const COMMITMENT_CONTEXT: &str = "crema vid avidm commitment v1";

/// The AvidM commitment: BLAKE3 of the encoded [`Common`] data.
pub type Commitment = [u8; 32];

/// Parameters every verifier needs, bound by the commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// Merkle root over all units.
    pub root: Hash,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Bytes per unit.
    pub unit_bytes: u32,
    /// Original shards (= recovery threshold in weight units).
    pub original_count: u32,
    /// Weights, one per node.
    pub weights: Weights,
}

impl Common {
    /// The commitment this common data hashes to.
    pub fn commitment(&self) -> Commitment {
        *blake3::Hasher::new_derive_key(COMMITMENT_CONTEXT).update(&self.to_bytes()).finalize().as_bytes()
    }

    fn total(&self) -> usize {
        self.weights.total() as usize
    }

    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(COMMON_TAG, VERSION);
        w.bytes(&self.root).u64(self.payload_len).u32(self.unit_bytes).u32(self.original_count);
        w.u32(self.weights.nodes() as u32);
        for x in self.weights.iter() {
            w.u32(x);
        }
        w.finish()
    }

    /// Decodes and validates canonical bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VidError> {
        let mut r = Reader::new(bytes, COMMON_TAG, "vid common data", VERSION)?;
        let root = r.array("root")?;
        let payload_len = r.u64_max("payload length", MAX_PAYLOAD as u64)?;
        let unit_bytes = r.u32_max("unit size", MAX_UNIT_BYTES)?;
        let original_count = r.u32_max("original count", super::weights::MAX_UNITS)?;
        let nodes = r.u32_max("node count", super::weights::MAX_UNITS)?;
        let weights = (0..nodes).map(|_| r.u32_max("weight", super::weights::MAX_UNITS)).collect::<Result<_, _>>()?;
        r.finish()?;
        let weights = Weights::new(weights)?;
        let invalid = |reason: String| VidError::Wire(WireError::Invalid { what: "vid common data", reason });
        if unit_bytes == 0 || !(unit_bytes as usize).is_multiple_of(UNIT_ALIGN) {
            return Err(invalid(format!("unit size {unit_bytes} is not a positive multiple of {UNIT_ALIGN}")));
        }
        if original_count == 0 || original_count as u64 > weights.total() {
            return Err(invalid(format!("original count {original_count} not in 1..={}", weights.total())));
        }
        if payload_len as usize + FRAME_BYTES > original_count as usize * unit_bytes as usize {
            return Err(invalid(format!("payload of {payload_len} bytes does not fit {original_count} units")));
        }
        Ok(Self { root, payload_len, unit_bytes, original_count, weights })
    }
}

/// One node's share: its consecutive units and a Merkle proof for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The node this share belongs to.
    pub node: u32,
    /// Global index of the first unit.
    pub first_unit: u32,
    /// The units, each `unit_bytes` long.
    pub units: Vec<Vec<u8>>,
    /// One sibling path per unit.
    pub proofs: Vec<Vec<Hash>>,
}

impl Share {
    /// Canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let unit_bytes = self.units.first().map_or(0, Vec::len);
        let depth = self.proofs.first().map_or(0, Vec::len);
        let body = 17 + self.units.len() * (unit_bytes + 32 * depth);
        let mut w = Writer::with_capacity(SHARE_TAG, VERSION, body);
        w.u32(self.node).u32(self.first_unit).u32(self.units.len() as u32).u32(unit_bytes as u32).u8(depth as u8);
        for (unit, proof) in self.units.iter().zip(&self.proofs) {
            w.bytes(unit);
            proof.iter().for_each(|h| {
                w.bytes(h);
            });
        }
        w.finish()
    }

    /// Decodes canonical bytes (shape only: [`Avidm::verify_share`] checks the content).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, SHARE_TAG, "vid share", VERSION)?;
        let node = r.u32_max("node", super::weights::MAX_UNITS)?;
        let first_unit = r.u32_max("first unit", super::weights::MAX_UNITS)?;
        let count = r.u32_max("unit count", super::weights::MAX_UNITS)? as usize;
        let unit_bytes = r.u32_max("unit size", MAX_UNIT_BYTES)? as usize;
        let depth = r.u8("proof depth")? as usize;
        if depth > 16 {
            return Err(WireError::OverLimit { what: "proof depth", got: depth as u64, max: 16 });
        }
        // Canonical form: an empty share records unit size 0 and depth 0 (what `to_bytes` writes),
        // so no two encodings decode to the same share (found by the vid_avidm_wire fuzz target).
        if count == 0 && (unit_bytes != 0 || depth != 0) {
            return Err(WireError::Invalid {
                what: "vid share",
                reason: format!("no units, yet unit size {unit_bytes} and proof depth {depth} (must be 0)"),
            });
        }
        // Check the whole body is present before allocating for it.
        let body = count.checked_mul(unit_bytes + 32 * depth).ok_or(WireError::OverLimit {
            what: "share size",
            got: u64::MAX,
            max: MAX_UNIT_BYTES,
        })?;
        if r.remaining() != body {
            return Err(if r.remaining() < body {
                WireError::Truncated { what: "vid share units", needed: body, remaining: r.remaining() }
            } else {
                WireError::TrailingBytes(r.remaining() - body)
            });
        }
        let mut units = Vec::with_capacity(count);
        let mut proofs = Vec::with_capacity(count);
        for _ in 0..count {
            units.push(r.take(unit_bytes, "unit")?.to_vec());
            proofs.push((0..depth).map(|_| r.array("proof hash")).collect::<Result<_, _>>()?);
        }
        r.finish()?;
        Ok(Self { node, first_unit, units, proofs })
    }
}

/// The AvidM scheme with its dispersal parameters.
#[derive(Debug, Clone)]
pub struct Avidm {
    weights: Weights,
    threshold: Fraction,
}

impl Avidm {
    /// A scheme dispersing to `weights`, recoverable from `threshold` of the total weight.
    pub fn new(weights: Weights, threshold: Fraction) -> Self {
        Self { weights, threshold }
    }

    /// The weights this scheme disperses to.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The layout for a payload of `len` bytes: (original count k, unit bytes).
    fn layout(&self, len: usize) -> (usize, usize) {
        let k = self.threshold.ceil_of(self.weights.total()).max(1) as usize;
        let unit = (len + FRAME_BYTES).div_ceil(k).div_ceil(UNIT_ALIGN).max(1) * UNIT_ALIGN;
        (k, unit)
    }
}

/// Unit `i` (of `unit` bytes) of the framed payload `len as u64 (LE) ‖ payload ‖ zeros`.
fn framed_unit(payload: &[u8], i: usize, unit: usize) -> Vec<u8> {
    // Built by appending (no zero-fill of bytes about to be overwritten).
    let mut out = Vec::with_capacity(unit);
    let (start, end) = (i * unit, (i + 1) * unit);
    if start < FRAME_BYTES {
        let frame = (payload.len() as u64).to_le_bytes();
        out.extend_from_slice(&frame[start..FRAME_BYTES.min(end)]);
    }
    // Payload bytes occupy framed positions FRAME_BYTES .. FRAME_BYTES + len.
    let (from, to) = (start.max(FRAME_BYTES), end.min(FRAME_BYTES + payload.len()));
    if from < to {
        out.extend_from_slice(&payload[from - FRAME_BYTES..to - FRAME_BYTES]);
    }
    out.resize(unit, 0);
    out
}

/// The `total − k` recovery units for `originals` (k units).
fn encode_recovery(backend: &dyn Backend, originals: &[&[u8]], total: usize) -> Result<Vec<Vec<u8>>, VidError> {
    let (k, m) = (originals.len(), total - originals.len());
    if m == 0 {
        return Ok(Vec::new());
    }
    Gf16Code::new(k, m, originals[0].len())?; // typed refusal of unsupported counts
    Ok(backend.gf16_encode(originals, m)?)
}

/// The Merkle tree over all units: originals, then recovery.
fn merkle_tree(backend: &dyn Backend, originals: &[&[u8]], recovery: &[Vec<u8>]) -> Result<MerkleTree, VidError> {
    let refs: Vec<&[u8]> = originals.iter().copied().chain(recovery.iter().map(Vec::as_slice)).collect();
    Ok(MerkleTree::build(backend, &refs)?)
}

impl VidScheme for Avidm {
    type Commitment = Commitment;
    type Common = Common;
    type Share = Share;

    fn disperse(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
    ) -> Result<Dispersal<Commitment, Common, Share>, VidError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(VidError::PayloadTooLarge { len: payload.len(), max: MAX_PAYLOAD });
        }
        let (k, unit) = self.layout(payload.len());
        // Each original unit is cut straight from the payload (the frame in front, zeros behind):
        // one copy of the payload, and these owned units later move into the shares.
        let owned: Vec<Vec<u8>> = (0..k).into_par_iter().map(|i| framed_unit(payload, i, unit)).collect();
        let originals: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let recovery = encode_recovery(backend, &originals, self.weights.total() as usize)?;
        let tree = merkle_tree(backend, &originals, &recovery)?;
        let common = Common {
            root: tree.root(),
            payload_len: payload.len() as u64,
            unit_bytes: unit as u32,
            original_count: k as u32,
            weights: self.weights.clone(),
        };
        // Every unit moves into its share, none is copied again.
        drop(originals);
        let mut units = owned.into_iter().chain(recovery);
        let mut shares = Vec::with_capacity(self.weights.nodes());
        for node in 0..self.weights.nodes() {
            let first = self.weights.offset(node)? as usize;
            let weight = self.weights.weight(node)? as usize;
            shares.push(Share {
                node: node as u32,
                first_unit: first as u32,
                units: units.by_ref().take(weight).collect(),
                proofs: (first..first + weight).map(|i| tree.proof(i)).collect::<Result<_, _>>()?,
            });
        }
        Ok(Dispersal { commitment: common.commitment(), common, shares })
    }

    fn verify_share(
        &self,
        _backend: &dyn Backend,
        commitment: &Commitment,
        common: &Common,
        share: &Share,
        node: usize,
    ) -> Result<(), VidError> {
        verified_leaves(commitment, common, share, node).map(drop)
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
        let (k, total) = (common.original_count as usize, common.total());
        // Keep only shares that verify, with their (verified) leaf hashes.
        let leaves: Vec<Option<Vec<Hash>>> =
            shares.par_iter().map(|s| verified_leaves(commitment, common, s, s.node as usize).ok()).collect();
        let mut slots: Vec<Option<(&[u8], Hash)>> = vec![None; total];
        for (s, hashes) in shares.iter().zip(&leaves) {
            for (i, (u, h)) in s.units.iter().zip(hashes.iter().flatten()).enumerate() {
                slots[s.first_unit as usize + i] = Some((u, *h));
            }
        }
        let have = slots.iter().filter(|s| s.is_some()).count();
        if have < k {
            let rejected = leaves.iter().filter(|l| l.is_none()).count();
            return Err(VidError::NotEnoughWeight { have, need: k, missing: k - have, rejected });
        }
        // Exactly k held units fix the codeword (originals first: with all of them held there is
        // nothing to decode). Whatever they hold, the rest reconstructed from them makes a
        // codeword, so the root check below is the whole consistency check, with no re-encode.
        let chosen: Vec<usize> = (0..total).filter(|&i| slots[i].is_some()).take(k).collect();
        let mut codeword: Vec<Option<&[u8]>> = vec![None; total];
        for &i in &chosen {
            codeword[i] = slots[i].map(|(u, _)| u);
        }
        let restored = if total > k {
            let given = chosen.iter().map(|&i| (i, codeword[i].unwrap_or_default()));
            backend.gf16_reconstruct(&Gf16Received::from_codeword(k, total - k, given))?
        } else {
            Gf16Restored::default()
        };
        for (i, u) in
            restored.original.iter().map(|(i, u)| (*i, u)).chain(restored.recovery.iter().map(|(j, u)| (k + j, u)))
        {
            codeword[i] = Some(u);
        }
        let codeword: Vec<&[u8]> = codeword
            .into_iter()
            .enumerate()
            .map(|(i, u)| u.ok_or_else(|| VidError::MalformedShare(format!("decoder did not restore unit {i}"))))
            .collect::<Result<_, _>>()?;
        let units_used: Vec<u32> = chosen.iter().map(|&i| i as u32).collect();
        // A held unit the codeword reproduces byte for byte keeps its verified leaf hash (the
        // chosen ones are the codeword's own slices); only the others are hashed.
        let known: Vec<Option<Hash>> = (0..total)
            .into_par_iter()
            .map(|i| {
                slots[i].and_then(|(held, h)| (std::ptr::eq(held, codeword[i]) || held == codeword[i]).then_some(h))
            })
            .collect();
        let missing: Vec<usize> = (0..total).filter(|&i| known[i].is_none()).collect();
        let fresh = backend.merkle_leaves(&missing.iter().map(|&i| codeword[i]).collect::<Vec<_>>())?;
        let mut all: Vec<Hash> = known.into_iter().map(Option::unwrap_or_default).collect();
        for (&i, h) in missing.iter().zip(fresh) {
            all[i] = h;
        }
        let recomputed = MerkleTree::from_leaf_hashes(all)?.root();
        if recomputed != common.root {
            return Err(VidError::InconsistentEncoding { committed: common.root, recomputed, units_used });
        }
        let originals = &codeword[..k];
        let len = common.payload_len as usize;
        let frame =
            u64::from_le_bytes(originals[0].get(..FRAME_BYTES).and_then(|f| f.try_into().ok()).unwrap_or([0xff; 8]));
        if frame != common.payload_len || FRAME_BYTES + len > k * common.unit_bytes as usize {
            // The root matched, so the disperser itself framed the payload wrongly.
            return Err(VidError::InconsistentEncoding { committed: common.root, recomputed, units_used });
        }
        Ok(unframe(originals, len))
    }
}

/// The `len` payload bytes behind the frame of the original `units` (framed positions
/// `FRAME_BYTES..FRAME_BYTES + len`, which the caller checked they hold), copied in parallel:
/// unit `u` holds payload bytes `u·unit − FRAME_BYTES ..` .
fn unframe(units: &[&[u8]], len: usize) -> Vec<u8> {
    let unit = units.first().map_or(0, |u| u.len());
    let mut payload = vec![0u8; len];
    let head = unit.saturating_sub(FRAME_BYTES).min(len);
    let (first, rest) = payload.split_at_mut(head);
    if let Some(u) = units.first() {
        first.copy_from_slice(&u[FRAME_BYTES..FRAME_BYTES + head]);
    }
    rest.par_chunks_mut(unit.max(1))
        .zip(units.par_iter().skip(1))
        .for_each(|(out, u)| out.copy_from_slice(&u[..out.len()]));
    payload
}

/// Checks `share` is node `node`'s under `commitment` and returns its units' leaf hashes.
fn verified_leaves(
    commitment: &Commitment,
    common: &Common,
    share: &Share,
    node: usize,
) -> Result<Vec<Hash>, VidError> {
    if &common.commitment() != commitment {
        return Err(VidError::CommonMismatch);
    }
    let expected_first = common.weights.offset(node)? as usize;
    if share.node as usize != node || share.first_unit as usize != expected_first {
        return Err(VidError::WrongNode {
            claimed: share.node as usize,
            first_unit: share.first_unit as usize,
            node,
            expected_first,
        });
    }
    let weight = common.weights.weight(node)? as usize;
    if share.units.len() != weight || share.proofs.len() != weight {
        return Err(VidError::MalformedShare(format!(
            "{} units and {} proofs, node {node} has weight {weight}",
            share.units.len(),
            share.proofs.len()
        )));
    }
    if let Some((i, unit)) = share.units.iter().enumerate().find(|(_, u)| u.len() != common.unit_bytes as usize) {
        return Err(VidError::MalformedShare(format!(
            "unit {i} has {} bytes, expected {}",
            unit.len(),
            common.unit_bytes
        )));
    }
    // Hashing is the whole cost: spread the units over the cores when there is enough of it.
    let hashes: Vec<Hash> = if share.units.len() > 1 && share.units.len() * common.unit_bytes as usize >= 1 << 16 {
        share.units.par_iter().map(|u| *blake3::hash(u).as_bytes()).collect()
    } else {
        share.units.iter().map(|u| *blake3::hash(u).as_bytes()).collect()
    };
    for (i, (h, proof)) in hashes.iter().zip(&share.proofs).enumerate() {
        let index = expected_first + i;
        merkle::verify(&common.root, common.total(), index, h, proof)
            .map_err(|source| VidError::BadProof { unit: index, source })?;
    }
    Ok(hashes)
}

super::wire::codec_via_bytes!(Common, Share);

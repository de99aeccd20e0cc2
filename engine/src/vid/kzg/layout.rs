//! Where the bytes go: payload → field elements → blobs, and cells → nodes.
//!
//! **Packing.** The payload is framed with its length (8 bytes, little-endian) and cut into
//! 31-byte pieces; each piece becomes one big-endian field element `0x00 ‖ piece`, so every
//! element is below 2^248 < r (canonical by construction). 4096 elements make a blob; the last
//! blob is zero-padded. The packing is canonical: unpacking refuses a nonzero top byte, a frame
//! longer than the blobs, or nonzero padding, so one payload has exactly one blob sequence and
//! one commitment.
//!
//! **Cells to nodes.** Weight unit `u` of `W` covers the arc `[128·u/W, 128·(u+1)/W)` of a circle
//! of 128 cells: the units tile the circle exactly, each with length `128/W` (more or less than
//! one cell). A node's units are consecutive, so its arc is `[128·off/W, 128·(off+w)/W)`, and the
//! node holds every cell its arc overlaps, the same cell indices in every blob:
//! `floor(128·off/W) .. ceil(128·(off+w)/W)`.
//!
//! *Claim*: any set of nodes holding at least half of the weight holds at least 64 distinct
//! cells of every blob. *Proof*: the nodes' arcs are disjoint and their lengths add up to
//! `128·w(S)/W ≥ 64`; every point of an arc lies in a cell the node holds, so the held cells
//! (unit intervals) cover a set of measure ≥ 64, which takes at least 64 of them. ∎
//!
//! The claim holds for every weight table [`Weights`] accepts (any W, W above 128 or not
//! dividing it), so no configuration has to be refused for it. *Cost*: a node of weight `w` holds
//! fewer than `128·w/W + 2` cells per blob (its fair share plus at most the two cells its arc's
//! ends fall in), and all nodes together hold at most `128 + nodes − 1` cells per blob (each of
//! the `nodes − 1` arc boundaries duplicates at most one cell). A node whose fair share is below
//! one cell (W > 128) still holds one or two whole cells: a cell is the smallest provable unit.

use std::ops::Range;

use super::super::{VidError, Weights};
use crate::kzg::{BYTES_PER_BLOB, BYTES_PER_FIELD_ELEMENT, CELLS_PER_EXT_BLOB, FIELD_ELEMENTS_PER_BLOB};

/// Bytes of the length frame in front of the payload.
pub(crate) const FRAME_BYTES: usize = 8;
/// Payload bytes carried by one field element (its top byte stays zero).
pub const PAYLOAD_BYTES_PER_ELEMENT: usize = BYTES_PER_FIELD_ELEMENT - 1;
/// Payload bytes carried by one blob (126 976).
pub const PAYLOAD_BYTES_PER_BLOB: usize = PAYLOAD_BYTES_PER_ELEMENT * FIELD_ELEMENTS_PER_BLOB;
/// Most blobs one dispersal may have (bounds memory and work on decode).
pub const MAX_BLOBS: usize = 1024;
/// Largest payload accepted: [`MAX_BLOBS`] blobs minus the frame (about 124 MiB).
pub const MAX_PAYLOAD: usize = MAX_BLOBS * PAYLOAD_BYTES_PER_BLOB - FRAME_BYTES;
/// Distinct cells of a blob that recovery needs (half of the extended blob).
pub const CELLS_NEEDED: usize = CELLS_PER_EXT_BLOB / 2;

/// Blobs needed for a payload of `len` bytes (at least one: the frame is always there).
pub fn blob_count(len: usize) -> usize {
    (len + FRAME_BYTES).div_ceil(PAYLOAD_BYTES_PER_BLOB)
}

/// The framed payload packed into `blob_count(len)` blobs, concatenated.
pub(crate) fn pack(payload: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(FRAME_BYTES + payload.len());
    framed.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    framed.extend_from_slice(payload);
    let mut blobs = vec![0u8; blob_count(payload.len()) * BYTES_PER_BLOB];
    for (element, piece) in
        blobs.chunks_exact_mut(BYTES_PER_FIELD_ELEMENT).zip(framed.chunks(PAYLOAD_BYTES_PER_ELEMENT))
    {
        element[1..1 + piece.len()].copy_from_slice(piece);
    }
    blobs
}

/// The payload from concatenated blobs, checking the packing is the canonical one for a payload
/// of `expected_len` bytes.
pub(crate) fn unpack(blobs: &[u8], expected_len: u64) -> Result<Vec<u8>, VidError> {
    let bad = |reason: String| Err(VidError::MalformedPayload(reason));
    if blobs.is_empty() || !blobs.len().is_multiple_of(BYTES_PER_BLOB) {
        return bad(format!("{} bytes of blobs is not a whole number of blobs", blobs.len()));
    }
    let capacity = blobs.len() / BYTES_PER_FIELD_ELEMENT * PAYLOAD_BYTES_PER_ELEMENT;
    let mut framed = Vec::with_capacity(capacity);
    for (i, element) in blobs.chunks_exact(BYTES_PER_FIELD_ELEMENT).enumerate() {
        if element[0] != 0 {
            return bad(format!("field element {i} has top byte {:#04x}, not a 31-byte packing", element[0]));
        }
        framed.extend_from_slice(&element[1..]);
    }
    let len = u64::from_le_bytes(framed[..FRAME_BYTES].try_into().expect("a blob holds more than the frame"));
    if len != expected_len {
        return bad(format!("frame says {len} bytes, the common data says {expected_len}"));
    }
    let end = FRAME_BYTES as u64 + len;
    if end > framed.len() as u64 || blob_count(len as usize) * BYTES_PER_BLOB != blobs.len() {
        return bad(format!("a {len}-byte payload does not take {} blob(s)", blobs.len() / BYTES_PER_BLOB));
    }
    if let Some(i) = framed[end as usize..].iter().position(|&b| b != 0) {
        return bad(format!("padding byte {} after the payload is nonzero", end as usize + i));
    }
    framed.truncate(end as usize);
    framed.drain(..FRAME_BYTES);
    Ok(framed)
}

/// The cells node `node` holds of every blob (see the module doc for the mapping and its proof).
pub fn cell_range(weights: &Weights, node: usize) -> Result<Range<usize>, VidError> {
    let (off, w) = (weights.offset(node)? as u128, weights.weight(node)? as u128);
    let (total, cells) = (weights.total() as u128, CELLS_PER_EXT_BLOB as u128);
    let start = off * cells / total;
    let end = ((off + w) * cells).div_ceil(total);
    Ok(start as usize..end as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_and_is_canonical() {
        for len in [0usize, 1, 30, 31, 32, PAYLOAD_BYTES_PER_BLOB - FRAME_BYTES, PAYLOAD_BYTES_PER_BLOB + 5] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let blobs = pack(&payload);
            assert_eq!(blobs.len(), blob_count(len) * BYTES_PER_BLOB);
            assert!(blobs.chunks(32).all(|e| e[0] == 0));
            assert_eq!(unpack(&blobs, len as u64).unwrap(), payload);
        }
        assert_eq!(blob_count(PAYLOAD_BYTES_PER_BLOB - FRAME_BYTES), 1);
        assert_eq!(blob_count(PAYLOAD_BYTES_PER_BLOB - FRAME_BYTES + 1), 2);
        let blobs = pack(b"hello");
        let mut high = blobs.clone();
        high[32 * 7] = 1;
        assert!(matches!(unpack(&high, 5), Err(VidError::MalformedPayload(_))));
        let mut padding = blobs.clone();
        padding[BYTES_PER_BLOB - 1] = 1;
        assert!(matches!(unpack(&padding, 5), Err(VidError::MalformedPayload(_))));
        assert!(matches!(unpack(&blobs, 6), Err(VidError::MalformedPayload(_))));
        // A frame claiming more than the blobs hold.
        let mut long = pack(&[]);
        long[1..9].copy_from_slice(&(PAYLOAD_BYTES_PER_BLOB as u64).to_le_bytes());
        assert!(matches!(unpack(&long, PAYLOAD_BYTES_PER_BLOB as u64), Err(VidError::MalformedPayload(_))));
    }

    #[test]
    fn cells_follow_the_weight_arcs() {
        let w = Weights::new(vec![1, 1]).unwrap();
        assert_eq!((cell_range(&w, 0).unwrap(), cell_range(&w, 1).unwrap()), (0..64, 64..128));
        let w = Weights::new(vec![1; 3]).unwrap();
        let r: Vec<_> = (0..3).map(|i| cell_range(&w, i).unwrap()).collect();
        assert_eq!(r, vec![0..43, 42..86, 85..128]);
        let w = Weights::equal(128).unwrap();
        assert!((0..128).all(|i| cell_range(&w, i).unwrap() == (i..i + 1)));
        // W = 1000: nodes of weight 1 hold one cell, or two where their arc crosses a boundary.
        let w = Weights::equal(1000).unwrap();
        assert_eq!(cell_range(&w, 0).unwrap(), 0..1);
        assert_eq!(cell_range(&w, 7).unwrap(), 0..2); // [0.896, 1.024)
        assert!(cell_range(&w, 1000).is_err());
    }
}

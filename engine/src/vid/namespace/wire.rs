//! Canonical bytes of the namespaced objects (tags `CNC`, `CNS`, `CNP`; see [`super::super::wire`]).
//! Inner objects are nested whole, behind a u32 length, so each keeps its own tag and version.

use super::super::wire::Codec;
use super::super::{SchemeKind, VidError};
use super::{MAX_NAMESPACES, NamespaceProof, NsCommon, NsEntry, NsShare, NsTable};
use crate::codec::{Reader, WireError, Writer};
use crate::merkle;

const COMMON_TAG: &[u8; 3] = b"CNC";
const SHARE_TAG: &[u8; 3] = b"CNS";
const PROOF_TAG: &[u8; 3] = b"CNP";
const VERSION: u8 = 1;
/// Largest nested common data (a 65 535-node weight table is 256 KiB).
const MAX_INNER_COMMON: u64 = 1 << 20;

fn write_entry(w: &mut Writer, e: &NsEntry) {
    w.bytes(&e.to_bytes());
}

fn read_entry(r: &mut Reader<'_>) -> Result<NsEntry, WireError> {
    let id = u64::from_le_bytes(r.array("namespace id")?);
    let len = u64::from_le_bytes(r.array("namespace length")?);
    Ok(NsEntry { id, len, commitment: r.array("namespace commitment")? })
}

fn read_count(r: &mut Reader<'_>) -> Result<usize, WireError> {
    let count = r.u32_max("namespace count", MAX_NAMESPACES as u64)? as usize;
    if count == 0 {
        return Err(WireError::Invalid { what: "namespace count", reason: "a table has at least one row".into() });
    }
    Ok(count)
}

impl<M: Codec> Codec for NsCommon<M> {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(COMMON_TAG, VERSION);
        w.u8(self.scheme as u8).u32(self.table.entries.len() as u32);
        self.table.entries.iter().for_each(|e| write_entry(&mut w, e));
        for c in &self.commons {
            w.len_bytes(&c.encode());
        }
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, VidError> {
        let mut r = Reader::new(bytes, COMMON_TAG, "namespaced common data", VERSION)?;
        let scheme = SchemeKind::from_u8(r.u8("scheme tag")?)?;
        let count = read_count(&mut r)?;
        let entries = (0..count).map(|_| read_entry(&mut r)).collect::<Result<Vec<_>, _>>()?;
        let commons = (0..count)
            .map(|_| M::decode(r.len_bytes("namespace common data", MAX_INNER_COMMON)?))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish()?;
        Ok(Self { scheme, table: NsTable::new(entries)?, commons })
    }
}

impl<T: Codec> Codec for NsShare<T> {
    fn encode(&self) -> Vec<u8> {
        // Sized up front: shares are megabytes, and a growing buffer would copy them again at each doubling.
        let inner: Vec<Vec<u8>> = self.shares.iter().map(Codec::encode).collect();
        let body = 8 + inner.iter().map(|s| 4 + s.len()).sum::<usize>();
        let mut w = Writer::with_capacity(SHARE_TAG, VERSION, body);
        w.u32(self.node).u32(self.shares.len() as u32);
        for s in &inner {
            w.len_bytes(s);
        }
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, VidError> {
        let mut r = Reader::new(bytes, SHARE_TAG, "namespaced share", VERSION)?;
        let node = r.u32_max("node", super::super::weights::MAX_UNITS)?;
        let count = read_count(&mut r)?;
        // The length of each nested share is checked against the bytes present before use.
        let shares = (0..count)
            .map(|_| T::decode(r.len_bytes("namespace share", u32::MAX as u64)?))
            .collect::<Result<_, _>>()?;
        r.finish()?;
        Ok(Self { node, shares })
    }
}

impl Codec for NamespaceProof {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(PROOF_TAG, VERSION);
        w.u32(self.index).u32(self.count);
        write_entry(&mut w, &self.entry);
        w.u8(self.path.len() as u8);
        self.path.iter().for_each(|h| {
            w.bytes(h);
        });
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, VidError> {
        let mut r = Reader::new(bytes, PROOF_TAG, "namespace proof", VERSION)?;
        let index = r.u32_max("namespace index", MAX_NAMESPACES as u64 - 1)?;
        let count = read_count(&mut r)?;
        if index as usize >= count {
            return Err(
                WireError::Invalid { what: "namespace proof", reason: format!("row {index} of {count}") }.into()
            );
        }
        let entry = read_entry(&mut r)?;
        let depth = r.u8("path length")? as usize;
        if depth != merkle::depth(count) {
            return Err(WireError::Invalid {
                what: "namespace proof",
                reason: format!("path of {depth} hashes, a {count}-row table needs {}", merkle::depth(count)),
            }
            .into());
        }
        let path = (0..depth).map(|_| r.array("path hash")).collect::<Result<_, _>>()?;
        r.finish()?;
        Ok(Self { index, count: count as u32, entry, path })
    }
}

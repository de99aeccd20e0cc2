//! The block payload: rollups' transactions by namespace, and its one canonical encoding.
//!
//! ```text
//! block     = "CBK" 0x01 | count u32 | count × (namespace id u64 | len u32 | namespace bytes)
//! namespace = transactions back to back, each: len u32 | bytes
//! ```
//! A block is what the DA committee receives whole and what is dispersed namespace by namespace (each namespace's
//! bytes are one VID payload), so a rollup can fetch and check its namespace alone. An empty block has one empty
//! namespace 0 (a dispersal needs at least one). Decoding checks every length against the configured limits before
//! allocating, refuses duplicate namespaces and trailing bytes, and never panics.

use std::collections::BTreeMap;

use crema_engine::codec::{Reader, WireError, Writer};
use crema_engine::vid::{MAX_NAMESPACES, NamespaceId, NamespacedPayload};

const TAG: &[u8; 3] = b"CBK";
const VERSION: u8 = 1;
/// Largest single transaction accepted (a rollup batch may be large, but not a whole block of several).
pub const MAX_TX_BYTES: usize = 4 << 20;
/// The namespace an empty block carries.
pub const EMPTY_NAMESPACE: NamespaceId = 0;

/// Why block bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The bytes do not decode.
    #[error("malformed block: {0}")]
    Wire(#[from] WireError),
    /// The namespace list is not a valid one (empty, too long, an id twice).
    #[error("invalid namespaces: {0}")]
    Namespaces(String),
}

/// Transactions grouped by namespace, namespaces in increasing id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    namespaces: BTreeMap<NamespaceId, Vec<Vec<u8>>>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a transaction to its namespace.
    pub fn push(&mut self, namespace: NamespaceId, tx: Vec<u8>) {
        self.namespaces.entry(namespace).or_default().push(tx);
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.namespaces.values().map(Vec::len).sum()
    }

    /// Whether the block has no transactions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every transaction with its namespace, namespaces in increasing id order.
    pub fn iter(&self) -> impl Iterator<Item = (NamespaceId, &[u8])> {
        self.namespaces.iter().flat_map(|(id, txs)| txs.iter().map(move |tx| (*id, tx.as_slice())))
    }

    /// The namespaces with their transactions.
    pub fn namespaces(&self) -> impl Iterator<Item = (NamespaceId, &[Vec<u8>])> {
        self.namespaces.iter().map(|(id, txs)| (*id, txs.as_slice()))
    }

    /// The transactions of `namespace`.
    pub fn transactions(&self, namespace: NamespaceId) -> &[Vec<u8>] {
        self.namespaces.get(&namespace).map_or(&[], Vec::as_slice)
    }

    /// The namespaces as one dispersal payload each (an empty block: one empty namespace 0).
    pub fn to_payload(&self) -> NamespacedPayload {
        let list: Vec<(NamespaceId, Vec<u8>)> =
            self.namespaces.iter().map(|(id, txs)| (*id, encode_transactions(txs))).collect();
        let list = if list.is_empty() { vec![(EMPTY_NAMESPACE, Vec::new())] } else { list };
        // Ids are unique (map keys) and the mempool caps how many namespaces one block takes.
        NamespacedPayload::new(list).expect("a block's namespaces are unique and bounded")
    }

    /// Most namespaces one block may carry (a dispersal's limit).
    pub const MAX_NAMESPACES: usize = MAX_NAMESPACES;

    /// Number of namespaces.
    pub fn namespace_count(&self) -> usize {
        self.namespaces.len()
    }
}

/// The canonical bytes of one namespace's transactions.
pub fn encode_transactions(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(txs.iter().map(|t| 4 + t.len()).sum());
    for tx in txs {
        // Transactions are admitted at most MAX_TX_BYTES long, far below 4 GiB.
        out.extend_from_slice(&(tx.len() as u32).to_le_bytes());
        out.extend_from_slice(tx);
    }
    out
}

/// Decodes one namespace's transactions.
pub fn decode_transactions(bytes: &[u8]) -> Result<Vec<Vec<u8>>, BlockError> {
    let mut r = Reader::new_untagged(bytes);
    let mut txs = Vec::new();
    while r.remaining() > 0 {
        txs.push(r.len_bytes("transaction", MAX_TX_BYTES as u64)?.to_vec());
    }
    Ok(txs)
}

/// The canonical bytes of a dispersal payload (what the DA committee receives).
pub fn encode_payload(payload: &NamespacedPayload) -> Vec<u8> {
    let mut w = Writer::with_capacity(TAG, VERSION, 4 + payload.iter().map(|(_, b)| 12 + b.len()).sum::<usize>());
    w.u32(payload.len() as u32);
    for (id, bytes) in payload.iter() {
        w.u64(id).len_bytes(bytes);
    }
    w.finish()
}

/// Decodes a payload of at most `max_bytes` bytes.
pub fn decode_payload(bytes: &[u8], max_bytes: usize) -> Result<NamespacedPayload, BlockError> {
    if bytes.len() > max_bytes + 16 + 12 * MAX_NAMESPACES {
        let max = (max_bytes + 16 + 12 * MAX_NAMESPACES) as u64;
        return Err(WireError::OverLimit { what: "block payload", got: bytes.len() as u64, max }.into());
    }
    let mut r = Reader::new(bytes, TAG, "block payload", VERSION)?;
    let count = r.u32_max("namespace count", MAX_NAMESPACES as u64)? as usize;
    let mut list = Vec::with_capacity(count);
    for _ in 0..count {
        let id = u64::from_le_bytes(r.array("namespace id")?);
        list.push((id, r.len_bytes("namespace bytes", max_bytes as u64)?.to_vec()));
    }
    r.finish()?;
    NamespacedPayload::new(list).map_err(|e| BlockError::Namespaces(e.to_string()))
}

/// Decodes a payload into a block (every namespace's transactions).
pub fn decode_block(bytes: &[u8], max_bytes: usize) -> Result<Block, BlockError> {
    let payload = decode_payload(bytes, max_bytes)?;
    let mut block = Block::new();
    for (id, ns) in payload.iter() {
        for tx in decode_transactions(ns)? {
            block.push(id, tx);
        }
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blocks_round_trip_and_empty_blocks_have_one_namespace() {
        let mut b = Block::new();
        b.push(7, b"tx one".to_vec());
        b.push(3, Vec::new());
        b.push(7, vec![9; 1000]);
        let bytes = encode_payload(&b.to_payload());
        assert_eq!(decode_block(&bytes, 1 << 20).unwrap(), b);
        let empty = Block::new().to_payload();
        assert_eq!(empty.len(), 1);
        assert_eq!(empty.get(EMPTY_NAMESPACE), Some(&[][..]));
        assert!(decode_block(&encode_payload(&empty), 10).unwrap().is_empty());
    }

    #[test]
    fn hostile_payloads_are_refused() {
        let mut b = Block::new();
        b.push(1, vec![1; 100]);
        let bytes = encode_payload(&b.to_payload());
        assert!(decode_payload(&bytes, 50).is_err(), "namespace over the limit");
        assert!(decode_payload(&bytes[..bytes.len() - 1], 1 << 20).is_err(), "truncated");
        let mut twice = Writer::new(TAG, VERSION);
        twice.u32(2).u64(5).len_bytes(b"").u64(5).len_bytes(b"");
        assert!(matches!(decode_payload(&twice.finish(), 100), Err(BlockError::Namespaces(_))));
        assert!(decode_transactions(&[5, 0, 0, 0, 1]).is_err(), "a transaction longer than its bytes");
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_block(&bytes, 4096);
            let _ = decode_transactions(&bytes);
        }
    }
}

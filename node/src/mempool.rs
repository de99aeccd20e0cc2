//! The transaction pool: rollups' transactions by namespace, waiting to be proposed.
//!
//! Bounded by bytes and by count (submissions over either bound are refused, never evicting older ones), first in
//! first out, and duplicate-free: a transaction is identified by BLAKE3 of its namespace id (8 bytes, little-endian)
//! and its bytes, and the same hash is refused while the pool holds it or after it was decided (a bounded memory
//! of recent decisions).
//!
//! A transaction moves through three states. *Queued*: waiting, in arrival order. *In flight*: [`Mempool::take`]
//! put it in the block this node proposes in a view. Then either *decided* ([`Mempool::decided`]: forgotten, its
//! hash remembered) or *abandoned* ([`Mempool::abandon`]: the view's block will not be decided, so its transactions
//! return to the front of the queue, in the order they were taken, to be proposed again first). In-flight transactions still
//! count against the bounds: they are held until consensus settles them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::consensus::View;
use crate::da::block::{Block, MAX_TX_BYTES};
use crema_engine::vid::NamespaceId;

/// A transaction's identity: BLAKE3 of its namespace id and bytes.
pub type TxHash = [u8; 32];

/// Encoded bytes of a block payload before its namespaces: tag, version, namespace count
/// (`da::block::encode_payload`).
const PAYLOAD_HEAD: usize = 4 + 4;
/// Encoded bytes of one namespace before its transactions: id and length.
const NAMESPACE_HEAD: usize = 8 + 4;
/// Encoded bytes of one transaction before its bytes: its length (`da::block::encode_transactions`).
const TX_HEAD: usize = 4;

/// Why a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The pool is at its byte or count bound.
    #[error(
        "mempool full: {txs} transactions of {bytes} bytes held (limits {max_txs} transactions, {max_bytes} bytes)"
    )]
    Full {
        /// Transactions held.
        txs: usize,
        /// Bytes held.
        bytes: usize,
        /// The count bound.
        max_txs: usize,
        /// The byte bound.
        max_bytes: usize,
    },
    /// The transaction is longer than any block admits ([`MAX_TX_BYTES`]).
    #[error("transaction of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The same transaction (same namespace and bytes) is held or was recently decided.
    #[error("duplicate transaction {}", hex(.0))]
    Duplicate(TxHash),
}

fn hex(h: &TxHash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of a transaction: BLAKE3 over its namespace id (little-endian) and its bytes.
pub fn tx_hash(namespace: NamespaceId, tx: &[u8]) -> TxHash {
    let mut h = blake3::Hasher::new();
    h.update(&namespace.to_le_bytes());
    h.update(tx);
    *h.finalize().as_bytes()
}

/// Where a held transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In the queue, at this sequence number.
    Queued(u64),
    /// In the block proposed in this view.
    InFlight(View),
}

#[derive(Debug)]
struct Tx {
    namespace: NamespaceId,
    bytes: Vec<u8>,
    state: State,
}

/// A bounded FIFO pool of namespaced transactions; see the module documentation.
#[derive(Debug)]
pub struct Mempool {
    max_bytes: usize,
    max_txs: usize,
    /// Every held transaction, queued or in flight.
    txs: HashMap<TxHash, Tx>,
    /// The queue, by sequence number: new ones get `back`, requeued ones numbers below `front`.
    queue: BTreeMap<u64, TxHash>,
    front: u64,
    back: u64,
    /// Transactions in each view's proposed block, in the order they were taken (entries decided meanwhile are
    /// skipped).
    in_flight: BTreeMap<View, Vec<TxHash>>,
    /// Bytes of the held transactions.
    bytes: usize,
    /// Recently decided hashes (refused as duplicates), oldest first, at most `max_txs`.
    decided: HashSet<TxHash>,
    decided_order: VecDeque<TxHash>,
    /// Transactions dropped by `take` because they could not fit even an empty block.
    unfittable: u64,
}

impl Mempool {
    /// An empty pool holding at most `max_bytes` transaction bytes and `max_txs` transactions.
    pub fn new(max_bytes: usize, max_txs: usize) -> Self {
        // Sequence numbers start mid-range: requeues count down from here, arrivals up; neither end is reachable.
        let mid = 1 << 63;
        Mempool {
            max_bytes,
            max_txs,
            txs: HashMap::new(),
            queue: BTreeMap::new(),
            front: mid,
            back: mid,
            in_flight: BTreeMap::new(),
            bytes: 0,
            decided: HashSet::new(),
            decided_order: VecDeque::new(),
            unfittable: 0,
        }
    }

    /// Queues a transaction for `namespace`; returns its hash ([`tx_hash`]).
    pub fn submit(&mut self, namespace: NamespaceId, tx: Vec<u8>) -> Result<TxHash, MempoolError> {
        if tx.len() > MAX_TX_BYTES {
            return Err(MempoolError::TooLarge { len: tx.len(), max: MAX_TX_BYTES });
        }
        let hash = tx_hash(namespace, &tx);
        if self.txs.contains_key(&hash) || self.decided.contains(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        if self.txs.len() >= self.max_txs || tx.len() > self.max_bytes - self.bytes {
            return Err(MempoolError::Full {
                txs: self.txs.len(),
                bytes: self.bytes,
                max_txs: self.max_txs,
                max_bytes: self.max_bytes,
            });
        }
        let seq = self.back;
        self.back += 1;
        self.queue.insert(seq, hash);
        self.bytes += tx.len();
        self.txs.insert(hash, Tx { namespace, bytes: tx, state: State::Queued(seq) });
        Ok(hash)
    }

    /// Builds the block to propose in `view`: queued transactions in FIFO order, each one that still fits, so that
    /// the encoded payload (`da::block::encode_payload`: 8 bytes, then per namespace 12 bytes and per transaction
    /// 4 bytes plus its own) is at most `max_bytes`, in at most [`Block::MAX_NAMESPACES`] namespaces. A transaction
    /// that does not fit what is left is skipped and stays at its place, so the next block starts with it. The
    /// transactions taken move in flight under `view`.
    ///
    /// A transaction that cannot fit even an empty block of `max_bytes` is dropped and counted
    /// ([`Mempool::unfittable`]): the runtime passes the network's maximum block size, so it could never be
    /// proposed, and keeping it would hold its bytes forever.
    pub fn take(&mut self, view: View, max_bytes: usize) -> Block {
        let mut block = Block::new();
        let mut namespaces = HashSet::new();
        let mut budget = max_bytes.saturating_sub(PAYLOAD_HEAD);
        let mut taken = Vec::new();
        let mut dropped = Vec::new();
        for (&seq, hash) in &self.queue {
            if budget < TX_HEAD {
                break; // Not even an empty transaction fits any more.
            }
            // Every hash in the queue is held (they leave the two maps together).
            let Some(tx) = self.txs.get(hash) else { continue };
            let new_namespace = !namespaces.contains(&tx.namespace);
            if new_namespace && namespaces.len() == Block::MAX_NAMESPACES {
                continue;
            }
            let cost = TX_HEAD + tx.bytes.len() + if new_namespace { NAMESPACE_HEAD } else { 0 };
            if cost > budget {
                if PAYLOAD_HEAD + NAMESPACE_HEAD + TX_HEAD + tx.bytes.len() > max_bytes {
                    dropped.push((seq, *hash));
                }
                continue;
            }
            budget -= cost;
            namespaces.insert(tx.namespace);
            block.push(tx.namespace, tx.bytes.clone());
            taken.push((seq, *hash));
        }
        for (seq, hash) in dropped {
            self.queue.remove(&seq);
            self.forget(&hash);
            self.unfittable += 1;
        }
        if !taken.is_empty() {
            let flight = self.in_flight.entry(view).or_default();
            for (seq, hash) in taken {
                self.queue.remove(&seq);
                if let Some(tx) = self.txs.get_mut(&hash) {
                    tx.state = State::InFlight(view);
                }
                flight.push(hash);
            }
        }
        block
    }

    /// Transactions were decided (in this node's block or any other's): forget them wherever they are, and
    /// refuse them as duplicates from now on.
    pub fn decided(&mut self, hashes: impl Iterator<Item = TxHash>) {
        let mut touched = HashSet::new();
        for hash in hashes {
            self.remember_decided(hash);
            match self.forget(&hash) {
                Some(State::Queued(seq)) => {
                    self.queue.remove(&seq);
                }
                Some(State::InFlight(view)) => {
                    touched.insert(view);
                }
                None => {}
            }
        }
        for view in touched {
            self.prune_flight(view);
        }
    }

    /// The block proposed in `view` will not be decided: its transactions not decided meanwhile return to the
    /// front of the queue, in the order they were taken.
    pub fn abandon(&mut self, view: View) {
        let Some(hashes) = self.in_flight.remove(&view) else { return };
        for hash in hashes.iter().rev() {
            if let Some(tx) = self.txs.get_mut(hash)
                && tx.state == State::InFlight(view)
            {
                self.front -= 1;
                self.queue.insert(self.front, *hash);
                tx.state = State::Queued(self.front);
            }
        }
    }

    /// Abandons every view below `view` that still has transactions in flight (once a block of `view` is
    /// decided, no earlier undecided block can be), so that the earliest view's transactions end up first.
    pub fn abandon_views_below(&mut self, view: View) {
        let stale: Vec<View> = self.in_flight.range(..view).map(|(v, _)| *v).collect();
        for v in stale.into_iter().rev() {
            self.abandon(v);
        }
    }

    /// Transactions held, queued or in flight.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether no transaction is held.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Bytes of the transactions held, queued or in flight.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Transactions queued (not in flight).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Transactions [`Mempool::take`] dropped because they could not fit even an empty block.
    pub fn unfittable(&self) -> u64 {
        self.unfittable
    }

    /// Removes a held transaction from the map and the byte count; returns where it was.
    fn forget(&mut self, hash: &TxHash) -> Option<State> {
        let tx = self.txs.remove(hash)?;
        self.bytes -= tx.bytes.len();
        Some(tx.state)
    }

    fn remember_decided(&mut self, hash: TxHash) {
        if self.decided.insert(hash) {
            self.decided_order.push_back(hash);
        }
        while self.decided_order.len() > self.max_txs.max(1) {
            if let Some(old) = self.decided_order.pop_front() {
                self.decided.remove(&old);
            }
        }
    }

    /// Drops `view`'s entries that are no longer in flight under it; drops the view when none is left.
    fn prune_flight(&mut self, view: View) {
        let Some(list) = self.in_flight.get_mut(&view) else { return };
        let txs = &self.txs;
        list.retain(|h| txs.get(h).is_some_and(|t| t.state == State::InFlight(view)));
        if list.is_empty() {
            self.in_flight.remove(&view);
        }
    }

    /// The queued hashes, front first.
    #[cfg(test)]
    fn queue_order(&self) -> Vec<TxHash> {
        self.queue.values().copied().collect()
    }
}

#[cfg(test)]
mod tests;

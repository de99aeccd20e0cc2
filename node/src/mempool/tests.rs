//! Unit tests of the pool's bounds, order and bookkeeping, and a property test against a model: no sequence of
//! submit, take, abandon and decided loses or duplicates a transaction.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::da::block::encode_payload;

fn encoded_len(block: &Block) -> usize {
    encode_payload(&block.to_payload()).len()
}

#[test]
fn submit_refuses_duplicates_oversize_and_beyond_the_bounds() {
    let mut pool = Mempool::new(100, 3);
    let h = pool.submit(1, vec![1; 40]).unwrap();
    assert_eq!(h, tx_hash(1, &[1; 40]));
    assert_eq!(pool.submit(1, vec![1; 40]), Err(MempoolError::Duplicate(h)));
    // The same bytes in another namespace are another transaction.
    pool.submit(2, vec![1; 40]).unwrap();
    assert!(matches!(pool.submit(3, vec![0; 21]), Err(MempoolError::Full { bytes: 80, .. })));
    pool.submit(3, vec![0; 20]).unwrap();
    assert_eq!((pool.len(), pool.bytes()), (3, 100));
    assert!(matches!(pool.submit(4, Vec::new()), Err(MempoolError::Full { txs: 3, .. })), "count bound");
    let mut big = Mempool::new(usize::MAX, 10);
    assert_eq!(
        big.submit(0, vec![0; MAX_TX_BYTES + 1]),
        Err(MempoolError::TooLarge { len: MAX_TX_BYTES + 1, max: MAX_TX_BYTES })
    );
    big.submit(0, vec![0; MAX_TX_BYTES]).unwrap();
}

#[test]
fn take_is_fifo_within_the_encoded_size_and_skips_what_does_not_fit() {
    let mut pool = Mempool::new(1 << 20, 100);
    pool.submit(7, vec![1; 30]).unwrap();
    pool.submit(7, vec![2; 50]).unwrap();
    pool.submit(9, vec![3; 10]).unwrap();
    pool.submit(7, vec![4; 5]).unwrap();
    // Head 8, namespace 7: 12 + 34; the 50-byte one (54) does not fit 80 - 54 = 26 left; namespace 9: 12 + 14.
    let block = pool.take(1, 80);
    assert_eq!(block.transactions(7), &[vec![1; 30]][..]);
    assert_eq!(block.transactions(9), &[vec![3; 10]][..]);
    assert_eq!(encoded_len(&block), 80, "the accounting is the encoder's, byte for byte");
    assert_eq!((pool.len(), pool.queued()), (4, 2));
    // The skipped one kept its place at the front: the next block starts with it.
    let next = pool.take(2, 1000);
    assert_eq!(next.transactions(7), &[vec![2; 50], vec![4; 5]][..]);
    assert_eq!(pool.queued(), 0);
    assert!(pool.take(3, 1000).is_empty());
}

#[test]
fn take_never_exceeds_max_bytes() {
    let mut pool = Mempool::new(1 << 20, 1000);
    for i in 0..300u32 {
        pool.submit(u64::from(i % 7), vec![i as u8; (i as usize * 37) % 200]).unwrap();
    }
    for (view, max) in [(1, 25), (2, 100), (3, 1000), (4, 5000), (5, 1 << 20)] {
        let block = pool.take(view, max);
        if !block.is_empty() {
            assert!(encoded_len(&block) <= max, "block of {} bytes for a limit of {max}", encoded_len(&block));
        }
    }
}

#[test]
fn take_caps_the_namespace_count() {
    let n = Block::MAX_NAMESPACES as u64 + 5;
    let mut pool = Mempool::new(1 << 20, 2000);
    for ns in 0..n {
        pool.submit(ns, vec![1]).unwrap();
    }
    let block = pool.take(1, 1 << 20);
    assert_eq!(block.namespace_count(), Block::MAX_NAMESPACES);
    assert_eq!(pool.queued(), 5);
    // The block must be encodable: `to_payload` panics on too many namespaces.
    assert_eq!(block.to_payload().len(), Block::MAX_NAMESPACES);
}

#[test]
fn a_transaction_no_block_can_hold_is_dropped_and_counted() {
    let mut pool = Mempool::new(1 << 20, 10);
    pool.submit(1, vec![0; 100]).unwrap();
    pool.submit(1, vec![1; 10]).unwrap();
    // An empty block of 100 bytes holds 100 - 8 - 12 - 4 = 76 transaction bytes.
    let block = pool.take(1, 100);
    assert_eq!(block.transactions(1), &[vec![1; 10]][..]);
    assert_eq!((pool.unfittable(), pool.len(), pool.bytes()), (1, 1, 10));
    // Exactly fitting is kept.
    pool.submit(2, vec![2; 76]).unwrap();
    assert_eq!(pool.take(2, 100).transactions(2), &[vec![2; 76]][..]);
    assert_eq!(pool.unfittable(), 1);
}

#[test]
fn decided_forgets_in_flight_and_queued_transactions_and_refuses_them_later() {
    let mut pool = Mempool::new(1 << 20, 10);
    let a = pool.submit(1, b"a".to_vec()).unwrap();
    let b = pool.submit(1, b"b".to_vec()).unwrap();
    let c = pool.submit(1, b"c".to_vec()).unwrap();
    pool.take(5, 8 + 12 + 5 + 5); // a and b
    // b decided in our block; c decided in another leader's block (it was submitted to both).
    pool.decided([b, c].into_iter());
    assert_eq!((pool.len(), pool.bytes(), pool.queued()), (1, 1, 0));
    assert_eq!(pool.submit(1, b"c".to_vec()), Err(MempoolError::Duplicate(c)));
    // Abandoning view 5 returns only what was not decided.
    pool.abandon(5);
    assert_eq!(pool.queue_order(), vec![a]);
    pool.decided(std::iter::once(a));
    assert!(pool.is_empty());
    assert!(pool.in_flight.is_empty(), "a settled view leaves no bookkeeping behind");
}

#[test]
fn the_memory_of_decided_hashes_is_bounded() {
    let mut pool = Mempool::new(1 << 20, 2);
    let hashes: Vec<TxHash> = (0..3u8).map(|i| tx_hash(0, &[i])).collect();
    pool.decided(hashes.iter().copied());
    assert_eq!(pool.decided.len(), 2);
    pool.submit(0, vec![0]).expect("the oldest decided hash was forgotten");
    assert!(matches!(pool.submit(0, vec![2]), Err(MempoolError::Duplicate(_))));
}

#[test]
fn abandon_requeues_at_the_front_in_order() {
    let mut pool = Mempool::new(1 << 20, 100);
    let h: Vec<TxHash> = (0..6u8).map(|i| pool.submit(u64::from(i % 2), vec![i; 3]).unwrap()).collect();
    pool.take(1, 8 + 2 * 12 + 4 * 7); // h0..h3, two per namespace
    pool.take(2, 8 + 12 + 7); // h4
    assert_eq!(pool.queue_order(), vec![h[5]]);
    pool.abandon(1);
    // They come back at the front in the order they were taken (the queue's), not the block's namespace order.
    assert_eq!(pool.queue_order(), vec![h[0], h[1], h[2], h[3], h[5]]);
    pool.abandon(1); // nothing left under view 1: no effect
    assert_eq!(pool.queued(), 5);
    pool.abandon(2);
    assert_eq!(pool.queue_order(), vec![h[4], h[0], h[1], h[2], h[3], h[5]]);
}

#[test]
fn abandon_views_below_puts_the_earliest_view_first() {
    let mut pool = Mempool::new(1 << 20, 100);
    let h: Vec<TxHash> = (0..4u8).map(|i| pool.submit(0, vec![i]).unwrap()).collect();
    for view in 1..=4 {
        pool.take(view, 8 + 12 + 5);
    }
    pool.abandon_views_below(4);
    assert_eq!(pool.queue_order(), vec![h[0], h[1], h[2]]);
    assert_eq!(pool.in_flight.keys().copied().collect::<Vec<_>>(), vec![4]);
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Op {
    Submit {
        ns: u64,
        len: usize,
        salt: u8,
    },
    Take {
        max: usize,
    },
    /// Abandon the in-flight view picked by this index.
    Abandon(usize),
    /// Decide the whole block of the in-flight view picked by this index.
    DecideView(usize),
    /// Decide a queued transaction (another leader's block carried it).
    DecideQueued(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..4, 0usize..60, any::<u8>()).prop_map(|(ns, len, salt)| Op::Submit { ns, len, salt }),
        2 => (0usize..300).prop_map(|max| Op::Take { max }),
        1 => any::<usize>().prop_map(Op::Abandon),
        1 => any::<usize>().prop_map(Op::DecideView),
        1 => any::<usize>().prop_map(Op::DecideQueued),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_transaction_is_lost_or_duplicated(ops in proptest::collection::vec(op(), 1..120)) {
        let mut pool = Mempool::new(600, 25);
        // The model: every accepted transaction is queued (in this order), in flight under one view, decided,
        // or dropped as unfittable.
        let mut txs: HashMap<TxHash, (u64, Vec<u8>)> = HashMap::new();
        let mut queue: Vec<TxHash> = Vec::new();
        let mut flight: Vec<(View, Vec<TxHash>)> = Vec::new();
        let mut settled: HashSet<TxHash> = HashSet::new();
        let mut dropped: HashSet<TxHash> = HashSet::new();
        let mut view = 0;
        for op in ops {
            match op {
                Op::Submit { ns, len, salt } => {
                    let bytes = vec![salt; len];
                    if let Ok(h) = pool.submit(ns, bytes.clone()) {
                        // The pool forgets a transaction it dropped as unfittable, and remembers only the last
                        // `max_txs` decided ones: such a transaction may come again (the pool's own unit tests
                        // check that a recently decided one is refused).
                        dropped.remove(&h);
                        let again = settled.remove(&h);
                        prop_assert!(txs.insert(h, (ns, bytes)).is_none() || again);
                        queue.push(h);
                    }
                }
                Op::Take { max } => {
                    view += 1;
                    let dropped_before = pool.unfittable();
                    let block = pool.take(view, max);
                    // What left the queue: the block's transactions and the dropped ones, in queue order.
                    let now: HashSet<TxHash> = pool.queue_order().into_iter().collect();
                    let (kept, gone): (Vec<TxHash>, Vec<TxHash>) = queue.iter().partition(|h| now.contains(*h));
                    prop_assert_eq!(pool.queue_order(), kept.clone(), "the rest keeps its order");
                    let mut taken = Vec::new();
                    let mut per_ns: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
                    for h in &gone {
                        if pool.txs.contains_key(h) {
                            taken.push(*h);
                            per_ns.entry(txs[h].0).or_default().push(txs[h].1.clone());
                        } else {
                            settled.insert(*h); // dropped as unfittable
                            dropped.insert(*h);
                        }
                    }
                    prop_assert_eq!(pool.unfittable() - dropped_before, (gone.len() - taken.len()) as u64);
                    prop_assert_eq!(block.len(), taken.len());
                    for (ns, list) in &per_ns {
                        prop_assert_eq!(block.transactions(*ns), &list[..], "the block holds them in FIFO order");
                    }
                    if !block.is_empty() {
                        prop_assert!(encode_payload(&block.to_payload()).len() <= max);
                        flight.push((view, taken));
                    }
                    queue = kept;
                }
                Op::Abandon(i) if !flight.is_empty() => {
                    let (v, list) = flight.remove(i % flight.len());
                    pool.abandon(v);
                    queue.splice(0..0, list);
                }
                Op::DecideView(i) if !flight.is_empty() => {
                    let (_, list) = flight.remove(i % flight.len());
                    pool.decided(list.iter().copied());
                    settled.extend(list);
                }
                Op::DecideQueued(i) if !queue.is_empty() => {
                    let h = queue.remove(i % queue.len());
                    pool.decided(std::iter::once(h));
                    settled.insert(h);
                }
                _ => {}
            }
            // Every accepted transaction is in exactly one place.
            let in_flight: Vec<TxHash> = flight.iter().flat_map(|(_, l)| l.iter().copied()).collect();
            prop_assert_eq!(queue.len() + in_flight.len() + settled.len(), txs.len());
            let mut seen: HashSet<TxHash> = settled.clone();
            for h in queue.iter().chain(&in_flight) {
                prop_assert!(seen.insert(*h), "a transaction in two places");
            }
            prop_assert_eq!(pool.queue_order(), queue.clone());
            prop_assert_eq!(pool.len(), queue.len() + in_flight.len());
            let held: usize = queue.iter().chain(&in_flight).map(|h| txs[h].1.len()).sum();
            prop_assert_eq!(pool.bytes(), held);
            prop_assert!(pool.len() <= 25 && pool.bytes() <= 600);
        }
    }
}

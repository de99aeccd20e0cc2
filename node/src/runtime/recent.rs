//! Recently made or checked blocks, kept in memory within a byte budget. Clients and peers ask for a block's
//! data soon after it is decided (the API's payload and namespace endpoints, a peer's payload request, a share
//! rebuilt for a node that lacks one, a share a leader serves from its dispersal); answering from memory spares
//! reading and hashing megabytes from the store each time (measured: the store reads behind one observer's
//! payload requests were a fifth of a DA member's CPU in the devnet's throughput preset). Only verified data
//! enters: a payload whose commitment was recomputed or read back from the store's checked records, or a
//! dispersal this node built itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::consensus::{BuiltBlock, Digest};

/// Items oldest first, evicted oldest first once their bytes pass a budget; the newest is always kept, however
/// large, so one block bigger than the budget can still be served.
pub struct Recent<T> {
    budget: usize,
    size: fn(&T) -> usize,
    held: Mutex<VecDeque<T>>,
}

impl<T> Recent<T> {
    /// An empty set holding at most `budget` bytes (and always the newest item), each item's bytes by `size`.
    pub fn new(budget: usize, size: fn(&T) -> usize) -> Self {
        Recent { budget, size, held: Mutex::new(VecDeque::new()) }
    }

    /// Keeps `item` as the newest, after dropping any held item `same` matches (so none is held twice).
    pub fn insert(&self, item: T, same: impl Fn(&T) -> bool) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|t| !same(t));
        held.push_back(item);
        let mut bytes: usize = held.iter().map(self.size).sum();
        while held.len() > 1 && bytes > self.budget {
            bytes -= held.pop_front().as_ref().map_or(0, self.size);
        }
    }

    /// The first `Some` that `f` gives, newest item first.
    pub fn find_map<R>(&self, f: impl FnMut(&T) -> Option<R>) -> Option<R> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().rev().find_map(f)
    }
}

/// Recently checked payloads, by commitment.
pub struct RecentPayloads(Recent<(Digest, Arc<Vec<u8>>)>);

impl RecentPayloads {
    /// An empty cache holding at most `budget` payload bytes (and always the newest payload).
    pub fn new(budget: usize) -> Self {
        RecentPayloads(Recent::new(budget, |(_, p)| p.len()))
    }

    /// Keeps `payload`, whose commitment `commitment` was checked, as the newest.
    pub fn insert(&self, commitment: Digest, payload: Arc<Vec<u8>>) {
        self.0.insert((commitment, payload), |(c, _)| *c == commitment);
    }

    /// The payload with `commitment`, if kept.
    pub fn get(&self, commitment: &Digest) -> Option<Arc<Vec<u8>>> {
        self.0.find_map(|(c, p)| (c == commitment).then(|| p.clone()))
    }
}

/// The blocks this node dispersed as leader, to serve their shares to nodes that ask.
pub struct RecentDispersals(Recent<BuiltBlock>);

impl RecentDispersals {
    /// An empty set holding at most `budget` bytes of payload and shares (and always the newest dispersal).
    pub fn new(budget: usize) -> Self {
        RecentDispersals(Recent::new(budget, |b| b.payload.len() + b.shares.iter().map(Vec::len).sum::<usize>()))
    }

    /// Keeps `block` as the newest.
    pub fn insert(&self, block: BuiltBlock) {
        let commitment = block.payload_commitment;
        self.0.insert(block, |b| b.payload_commitment == commitment);
    }

    /// Node `node`'s share of the dispersal with `commitment`, with the common data.
    pub fn share(&self, commitment: &Digest, node: usize) -> Option<(Arc<Vec<u8>>, Vec<u8>)> {
        self.0.find_map(|b| {
            (b.payload_commitment == *commitment).then(|| Some((b.common.clone(), b.shares.get(node)?.clone())))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(n: usize) -> Arc<Vec<u8>> {
        Arc::new(vec![n as u8; n])
    }

    #[test]
    fn the_oldest_payloads_go_first_once_over_the_budget() {
        let cache = RecentPayloads::new(10);
        cache.insert(Digest([1; 32]), payload(4));
        cache.insert(Digest([2; 32]), payload(4));
        assert_eq!(cache.get(&Digest([1; 32])), Some(payload(4)));
        cache.insert(Digest([3; 32]), payload(4));
        assert_eq!(cache.get(&Digest([1; 32])), None, "12 bytes > 10: the oldest went");
        assert_eq!(cache.get(&Digest([2; 32])), Some(payload(4)));
        assert_eq!(cache.get(&Digest([3; 32])), Some(payload(4)));
        // A payload larger than the whole budget is still kept, alone.
        cache.insert(Digest([4; 32]), payload(50));
        assert_eq!(cache.get(&Digest([3; 32])), None);
        assert_eq!(cache.get(&Digest([4; 32])), Some(payload(50)));
        assert_eq!(cache.get(&Digest([9; 32])), None);
    }

    #[test]
    fn the_same_commitment_is_held_once() {
        let cache = RecentPayloads::new(10);
        cache.insert(Digest([1; 32]), payload(4));
        cache.insert(Digest([2; 32]), payload(4));
        cache.insert(Digest([1; 32]), payload(4));
        cache.insert(Digest([3; 32]), payload(2));
        // Had [1] been held twice, 14 bytes would have pushed [2] out.
        assert_eq!(cache.get(&Digest([2; 32])), Some(payload(4)));
    }

    #[test]
    fn find_map_looks_at_the_newest_first() {
        let items: Recent<(u8, usize)> = Recent::new(100, |&(_, n)| n);
        items.insert((1, 10), |_| false);
        items.insert((2, 10), |_| false);
        assert_eq!(items.find_map(|&(k, _)| Some(k)), Some(2));
        assert_eq!(items.find_map(|&(k, _)| (k == 1).then_some(k)), Some(1));
    }
}

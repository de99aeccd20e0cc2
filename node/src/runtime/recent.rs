//! The payloads this node checked or retrieved most recently, kept in memory by commitment. Clients and peers
//! ask for a block's payload soon after it is decided (the API's payload and namespace endpoints, a peer's
//! payload request, a share rebuilt for a node that lacks one); answering from here spares reading and hashing
//! megabytes from the store each time (measured: the store reads behind one observer's payload requests were a
//! fifth of a DA member's CPU in the devnet's throughput preset). Bounded by bytes; only verified payloads
//! enter (a payload whose commitment was recomputed, or read back from the store's checked records).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::consensus::Digest;

/// Recent payloads, oldest first, within a byte budget (the newest is always kept).
pub struct RecentPayloads {
    budget: usize,
    held: Mutex<VecDeque<(Digest, Arc<Vec<u8>>)>>,
}

impl RecentPayloads {
    /// An empty cache holding at most `budget` payload bytes (and always the newest payload).
    pub fn new(budget: usize) -> Self {
        RecentPayloads { budget, held: Mutex::new(VecDeque::new()) }
    }

    /// Keeps `payload`, whose commitment `commitment` was checked, as the newest.
    pub fn insert(&self, commitment: Digest, payload: Arc<Vec<u8>>) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|(c, _)| *c != commitment);
        held.push_back((commitment, payload));
        let mut bytes: usize = held.iter().map(|(_, p)| p.len()).sum();
        while held.len() > 1 && bytes > self.budget {
            bytes -= held.pop_front().map_or(0, |(_, p)| p.len());
        }
    }

    /// The payload with `commitment`, if kept.
    pub fn get(&self, commitment: &Digest) -> Option<Arc<Vec<u8>>> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().rev().find(|(c, _)| c == commitment).map(|(_, p)| p.clone())
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
}

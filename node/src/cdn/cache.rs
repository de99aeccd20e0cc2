//! The broker's cache: recent messages by cache key (a payload commitment or a share key), capped in bytes, the
//! oldest evicted first.
//!
//! A node that missed a block or its share asks the broker by key before it asks the DA committee. The broker
//! does not check that a message matches its key (it cannot: the key is the node's claim); nodes verify what they
//! fetch against the commitment they asked for, so a wrong entry costs a fallback, never safety.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::frame::CacheKey;

/// A byte-capped FIFO map from cache key to message.
#[derive(Debug)]
pub struct Cache {
    cap: usize,
    bytes: usize,
    entries: HashMap<CacheKey, Entry>,
    /// Insertion order, oldest first: `(key, generation)`; a stale generation means the key was replaced since.
    order: VecDeque<(CacheKey, u64)>,
    next_generation: u64,
}

#[derive(Debug)]
struct Entry {
    message: Arc<[u8]>,
    generation: u64,
}

impl Cache {
    /// An empty cache holding at most `cap` message bytes.
    pub fn new(cap: usize) -> Self {
        Cache { cap, bytes: 0, entries: HashMap::new(), order: VecDeque::new(), next_generation: 0 }
    }

    /// Message bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stores `message` under `key` (replacing what was there), evicting the oldest entries until it fits; a message
    /// larger than the whole cache is not stored. Returns whether it was stored.
    pub fn insert(&mut self, key: CacheKey, message: Arc<[u8]>) -> bool {
        if message.len() > self.cap {
            return false;
        }
        self.remove(&key);
        while self.bytes + message.len() > self.cap {
            if !self.evict_oldest() {
                break;
            }
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.bytes += message.len();
        self.entries.insert(key, Entry { message, generation });
        self.order.push_back((key, generation));
        // Replacements leave stale slots behind: compact so `order` stays within a small factor of the entries.
        if self.order.len() > 2 * self.entries.len() + 16 {
            let entries = &self.entries;
            self.order.retain(|(k, g)| entries.get(k).is_some_and(|e| e.generation == *g));
        }
        true
    }

    /// The message under `key`, if held.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<[u8]>> {
        self.entries.get(key).map(|e| e.message.clone())
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= old.message.len();
        }
        // Its slot in `order` goes stale and is skipped when it comes up.
    }

    /// Drops the oldest live entry; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((key, generation)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|e| e.generation == generation) {
                self.remove(&key);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: usize, fill: u8) -> Arc<[u8]> {
        vec![fill; len].into()
    }

    #[test]
    fn keeps_what_fits_and_evicts_the_oldest_first() {
        let mut c = Cache::new(100);
        assert!(c.insert([1; 32], msg(40, 1)));
        assert!(c.insert([2; 32], msg(40, 2)));
        assert_eq!(c.bytes(), 80);
        assert!(c.insert([3; 32], msg(40, 3)));
        assert!(c.get(&[1; 32]).is_none(), "the oldest went first");
        assert_eq!(c.get(&[2; 32]).as_deref(), Some(&[2u8; 40][..]));
        assert_eq!(c.get(&[3; 32]).as_deref(), Some(&[3u8; 40][..]));
        assert_eq!((c.len(), c.bytes()), (2, 80));
    }

    #[test]
    fn a_replaced_key_counts_once_and_takes_its_new_age() {
        let mut c = Cache::new(100);
        c.insert([1; 32], msg(30, 1));
        c.insert([2; 32], msg(30, 2));
        c.insert([1; 32], msg(50, 9));
        assert_eq!((c.len(), c.bytes()), (2, 80));
        // Key 2 is now the oldest: it goes before the replaced key 1.
        c.insert([3; 32], msg(20, 3));
        assert_eq!(c.bytes(), 100);
        c.insert([4; 32], msg(10, 4));
        assert!(c.get(&[2; 32]).is_none());
        assert_eq!(c.get(&[1; 32]).as_deref(), Some(&[9u8; 50][..]));
        assert_eq!(c.bytes(), 80);
    }

    #[test]
    fn a_message_larger_than_the_cache_is_not_stored_and_evicts_nothing() {
        let mut c = Cache::new(10);
        c.insert([1; 32], msg(5, 1));
        assert!(!c.insert([2; 32], msg(11, 2)));
        assert_eq!((c.len(), c.bytes()), (1, 5));
        assert!(c.get(&[2; 32]).is_none());
    }

    #[test]
    fn many_replacements_keep_the_byte_count_exact() {
        let mut c = Cache::new(1000);
        for i in 0..10_000u32 {
            let key = [(i % 7) as u8; 32];
            c.insert(key, msg((i % 97) as usize, 0));
            let sum: usize = [0u8, 1, 2, 3, 4, 5, 6].iter().filter_map(|k| c.get(&[*k; 32])).map(|m| m.len()).sum();
            assert_eq!(c.bytes(), sum);
            assert!(c.bytes() <= 1000);
            assert!(c.order.len() <= 2 * c.len() + 17, "stale slots are compacted");
        }
    }
}

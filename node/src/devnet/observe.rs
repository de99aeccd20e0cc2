//! The devnet's observer: follows one node's decided blocks through its HTTP API, as an outsider would, and notes
//! when each submitted transaction shows up (submit-to-decide as a client sees it, within one poll). It also
//! samples throughput and latency over a trailing window for the progress line and the time series.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::client::Client;
use super::load::Submitted;
use super::timeline::Sample;
use crate::da::block;

/// One decided block as the observer saw it. Payload and transactions are kept as BLAKE3 hashes: a
/// throughput run decides gigabytes.
#[derive(Clone, Debug)]
pub struct SeenBlock {
    /// Its height.
    pub height: u64,
    /// Its header hash (hex).
    pub hash: String,
    /// Payload bytes.
    pub payload_len: u64,
    /// BLAKE3 of the payload, when not empty (for the end-of-run recovery check).
    pub payload_hash: Option<[u8; 32]>,
    /// BLAKE3 of each transaction, by namespace.
    pub namespaces: Vec<(u64, Vec<[u8; 32]>)>,
    /// When the observer first saw it decided.
    pub seen: Instant,
}

/// Follows decided blocks and matches their transactions to submissions.
#[derive(Default)]
pub struct Observer {
    /// Blocks seen, by height order.
    pub blocks: Vec<SeenBlock>,
    /// Submit-to-decide latencies of the transactions found so far, in seconds, with when each was found (in
    /// the order found).
    pub latencies: Vec<(Instant, f64)>,
    /// Times each submitted transaction was found, by its index in the submissions.
    pub found: HashMap<usize, u32>,
    /// Transactions found that the load generator never submitted.
    pub unknown: u64,
    /// Submissions by transaction hash; the first `indexed` submissions are in it.
    index: HashMap<[u8; 32], usize>,
    indexed: usize,
    max_block_bytes: usize,
}

/// The trailing window a [`Sample`] averages over.
pub const WINDOW: Duration = Duration::from_secs(5);

impl Observer {
    /// An observer for a network whose blocks are at most `max_block_bytes`.
    pub fn new(max_block_bytes: usize) -> Self {
        Observer { max_block_bytes, ..Observer::default() }
    }

    /// The highest height seen.
    pub fn top(&self) -> u64 {
        self.blocks.last().map_or(0, |b| b.height)
    }

    /// Reads every block decided at `client` since the last call. `submitted` is every submission so far, in
    /// the order made (the list only grows).
    pub fn poll(&mut self, client: &Client, submitted: &[Submitted]) -> anyhow::Result<()> {
        let now_top = client.height()?;
        for (i, s) in submitted.iter().enumerate().skip(self.indexed) {
            self.index.insert(s.hash, i);
        }
        self.indexed = self.indexed.max(submitted.len());
        for height in self.top() + 1..=now_top {
            let header = client.header(height)?.with_context(|| format!("height {height} decided but no header"))?;
            let h = &header["header"];
            let payload_len = h["payload_len"].as_u64().unwrap_or(0);
            let hash = h["hash"].as_str().unwrap_or_default().to_string();
            let seen = Instant::now();
            let (payload_hash, namespaces) = if payload_len > 0 {
                let payload = client.payload(height)?.with_context(|| format!("no payload at height {height}"))?;
                let b = block::decode_block(&payload, self.max_block_bytes)
                    .with_context(|| format!("the payload at height {height} is not a block"))?;
                let ns: Vec<(u64, Vec<[u8; 32]>)> = b
                    .namespaces()
                    .map(|(id, txs)| (id, txs.iter().map(|t| *blake3::hash(t).as_bytes()).collect()))
                    .collect();
                (Some(*blake3::hash(&payload).as_bytes()), ns)
            } else {
                (None, Vec::new())
            };
            for (_, txs) in &namespaces {
                for tx in txs {
                    // The index holds only positions of `submitted`, which only grows.
                    match self.index.get(tx).and_then(|&i| Some((i, submitted.get(i)?))) {
                        Some((i, s)) => {
                            let count = self.found.entry(i).or_insert(0);
                            if *count == 0 {
                                self.latencies.push((seen, seen.duration_since(s.at).as_secs_f64()));
                            }
                            *count += 1;
                        }
                        None => self.unknown += 1,
                    }
                }
            }
            self.blocks.push(SeenBlock { height, hash, payload_len, payload_hash, namespaces, seen });
        }
        Ok(())
    }

    /// Payload bytes decided in blocks seen since `since`.
    pub fn bytes_since(&self, since: Instant) -> u64 {
        self.blocks.iter().rev().take_while(|b| b.seen >= since).map(|b| b.payload_len).sum()
    }

    /// The `q`-quantile of the latencies found since `since` (all of them for `None`).
    pub fn latency(&self, q: f64, since: Option<Instant>) -> Option<f64> {
        let from = since.map_or(0, |t| self.latencies.partition_point(|(seen, _)| *seen < t));
        let recent: Vec<f64> = self.latencies[from..].iter().map(|(_, l)| *l).collect();
        quantile(&recent, q)
    }

    /// Throughput and median latency over the [`WINDOW`] before `now` (or since `started`, if later).
    pub fn sample(&self, started: Instant, now: Instant) -> Sample {
        let from = now.checked_sub(WINDOW).map_or(started, |w| w.max(started));
        let secs = now.duration_since(from).as_secs_f64().max(1e-3);
        Sample {
            t_s: now.duration_since(started).as_secs_f64(),
            mb_s: self.bytes_since(from) as f64 / 1e6 / secs,
            p50_s: self.latency(0.5, Some(from)),
        }
    }
}

/// The `q`-quantile (0..=1) of `values`, `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(i).copied()
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_pick_from_the_sorted_values() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 1.0), Some(3.0));
        assert_eq!(quantile(&[5.0], 0.99), Some(5.0));
    }
}

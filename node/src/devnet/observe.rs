//! The devnet's observer: follows one node's decided blocks through its HTTP API, as an outsider would, and notes
//! when each submitted transaction shows up (submit-to-decide as a client sees it, within one poll).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;

use super::client::Client;
use super::load::Submitted;
use crate::da::block;

/// One decided block as the observer saw it.
#[derive(Clone, Debug)]
pub struct SeenBlock {
    /// Its height.
    pub height: u64,
    /// Its header hash (hex).
    pub hash: String,
    /// Payload bytes.
    pub payload_len: u64,
    /// The payload, when not empty (kept for the end-of-run recovery check).
    pub payload: Vec<u8>,
    /// Its transactions by namespace.
    pub namespaces: Vec<(u64, Vec<Vec<u8>>)>,
    /// When the observer first saw it decided.
    pub seen: Instant,
}

/// Follows decided blocks and matches their transactions to submissions.
#[derive(Default)]
pub struct Observer {
    /// Blocks seen, by height order.
    pub blocks: Vec<SeenBlock>,
    /// Submit-to-decide latencies of the transactions found so far, in seconds.
    pub latencies: Vec<f64>,
    /// Times each submitted transaction was found, by its index in the submissions.
    pub found: HashMap<usize, u32>,
    /// Transactions found that the load generator never submitted.
    pub unknown: u64,
    max_block_bytes: usize,
}

impl Observer {
    /// An observer for a network whose blocks are at most `max_block_bytes`.
    pub fn new(max_block_bytes: usize) -> Self {
        Observer { max_block_bytes, ..Observer::default() }
    }

    /// The highest height seen.
    pub fn top(&self) -> u64 {
        self.blocks.last().map_or(0, |b| b.height)
    }

    /// Reads every block decided at `client` since the last call.
    pub fn poll(&mut self, client: &Client, submitted: &[Submitted]) -> anyhow::Result<()> {
        let now_top = client.height()?;
        // Submissions are keyed by the counter in their first 8 bytes (unique per run).
        let index: HashMap<&[u8], usize> = submitted.iter().enumerate().map(|(i, s)| (s.tx.as_slice(), i)).collect();
        for height in self.top() + 1..=now_top {
            let header = client.header(height)?.with_context(|| format!("height {height} decided but no header"))?;
            let h = &header["header"];
            let payload_len = h["payload_len"].as_u64().unwrap_or(0);
            let hash = h["hash"].as_str().unwrap_or_default().to_string();
            let seen = Instant::now();
            let (payload, namespaces) = if payload_len > 0 {
                let payload = client.payload(height)?.with_context(|| format!("no payload at height {height}"))?;
                let b = block::decode_block(&payload, self.max_block_bytes)
                    .with_context(|| format!("the payload at height {height} is not a block"))?;
                let ns: Vec<(u64, Vec<Vec<u8>>)> = b.namespaces().map(|(id, txs)| (id, txs.to_vec())).collect();
                (payload, ns)
            } else {
                (Vec::new(), Vec::new())
            };
            for (_, txs) in &namespaces {
                for tx in txs {
                    match index.get(tx.as_slice()) {
                        Some(&i) => {
                            let count = self.found.entry(i).or_insert(0);
                            if *count == 0 {
                                self.latencies.push(seen.duration_since(submitted[i].at).as_secs_f64());
                            }
                            *count += 1;
                        }
                        None => self.unknown += 1,
                    }
                }
            }
            self.blocks.push(SeenBlock { height, hash, payload_len, payload, namespaces, seen });
        }
        Ok(())
    }

    /// Payload bytes decided in blocks seen since `since`.
    pub fn bytes_since(&self, since: Instant) -> u64 {
        self.blocks.iter().filter(|b| b.seen >= since).map(|b| b.payload_len).sum()
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

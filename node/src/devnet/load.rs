//! The devnet's load generator: transactions of a fixed size over a few namespaces, submitted through the nodes'
//! `POST /v0/submit` at a steady rate (round-robin over the running nodes), until its deadline or a stop. Every
//! submission is recorded (namespace, bytes, when) so the summary can find each one in its namespace afterwards.
//!
//! [`SUBMITTERS`] threads share the schedule (thread w takes submissions w, w + SUBMITTERS, ...): one HTTP request
//! at a time would cap the rate at one over the request's round trip (about 130 per second for 64 KiB
//! transactions on the 2-core machine), well under what the throughput preset asks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;

use super::client::Client;

/// Threads submitting in parallel.
pub const SUBMITTERS: u64 = 4;

/// One submitted transaction.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// Its namespace.
    pub namespace: u64,
    /// BLAKE3 of its bytes (the observer matches decided transactions by it; the bytes themselves are not kept).
    pub hash: [u8; 32],
    /// When it was submitted (the request's start).
    pub at: Instant,
}

/// What the load generator does.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Transactions per second.
    pub rate: f64,
    /// Bytes per transaction.
    pub tx_bytes: usize,
    /// Namespaces 1..=namespaces are used in turn.
    pub namespaces: u64,
}

/// A running load generator.
pub struct Load {
    /// Every accepted submission, in order.
    pub submitted: Arc<Mutex<Vec<Submitted>>>,
    /// Submissions the API refused or that failed (a node down, a full mempool).
    pub refused: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// One submitter's share of the schedule: submissions `first`, `first + step`, ... due at their place in the
/// steady rate from `started`, until `until`.
struct Slots {
    started: Instant,
    until: Instant,
    first: u64,
    step: u64,
}

impl Load {
    /// Starts submitting to `clients` (a shared list: the runner swaps a client out while its node is down).
    pub fn start(spec: LoadSpec, clients: Arc<Mutex<Vec<Option<Client>>>>, until: Instant) -> Self {
        let submitted = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let threads = (0..SUBMITTERS)
            .map(|worker| {
                let (spec, clients) = (spec.clone(), clients.clone());
                let (submitted, refused, stop) = (submitted.clone(), refused.clone(), stop.clone());
                let slots = Slots { started, until, first: worker, step: SUBMITTERS };
                std::thread::spawn(move || generate(&spec, &clients, slots, &submitted, &refused, &stop))
            })
            .collect();
        Load { submitted, refused, stop, threads }
    }

    /// Stops the generator and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop();
    }
}

fn generate(
    spec: &LoadSpec,
    clients: &Mutex<Vec<Option<Client>>>,
    slots: Slots,
    submitted: &Mutex<Vec<Submitted>>,
    refused: &Mutex<u64>,
    stop: &AtomicBool,
) {
    if spec.rate <= 0.0 {
        return;
    }
    let gap = Duration::from_secs_f64(1.0 / spec.rate);
    let mut rng = rand::thread_rng();
    let mut n = slots.first;
    while !stop.load(Ordering::Relaxed) && Instant::now() < slots.until {
        // Paced from the start, not from the last send: a slow answer does not lower the rate.
        let due = slots.started + gap.mul_f64(n as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let namespace = 1 + n % spec.namespaces.max(1);
        let mut tx = vec![0u8; spec.tx_bytes.max(8)];
        rng.fill_bytes(&mut tx);
        tx[..8].copy_from_slice(&n.to_be_bytes()); // Unique even if the random bytes repeat.
        let client = {
            let c = clients.lock().unwrap_or_else(|e| e.into_inner());
            let live: Vec<&Client> = c.iter().flatten().collect();
            live.get(n as usize % live.len().max(1)).map(|c| (*c).clone())
        };
        n += slots.step;
        let at = Instant::now();
        let ok = client.is_some_and(|c| c.submit(namespace, &tx).is_ok());
        if ok {
            let hash = *blake3::hash(&tx).as_bytes();
            submitted.lock().unwrap_or_else(|e| e.into_inner()).push(Submitted { namespace, hash, at });
        } else {
            *refused.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    }
}

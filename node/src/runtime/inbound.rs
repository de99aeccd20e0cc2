//! Inbound traffic: the transport's bytes routed by tag — consensus messages to the verification workers, DA
//! service messages to their handler — and verified messages into the core. Nothing here blocks the transport: a
//! full queue drops the message and counts it. A peer that keeps delivering bad messages is skipped for a while.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tracing::debug;

use super::core_task::CoreInput;
use super::shared::{Shared, layer_of};
use crate::consensus::{BlsScheme, IngestError, Input, MessageVerifier, NodeId};
use crate::da::service::{self, ServiceMsg};
use crate::net::cocoa::Cocoa;
use crate::net::network::{Inbound, Network};
use crate::net::p2p::P2p;

/// Bad messages from one peer within [`PENALTY_WINDOW`] before its messages are skipped for that long.
const PENALTY_THRESHOLD: u32 = 256;
const PENALTY_WINDOW: Duration = Duration::from_secs(30);

/// Reads the transport until stopped: libp2p, and the broker's deliveries when a CDN is configured. A small
/// consensus message that arrives twice (once per path) within [`DUPLICATE_WINDOW`] is passed on once; bulk data
/// is never dropped as a duplicate, since its second copy is a resend of data whose first copy may have been
/// unusable (held back behind an altered copy).
pub async fn receive(
    shared: Arc<Shared>,
    mut p2p: P2p,
    mut cocoa: Option<Cocoa>,
    to_verify: mpsc::Sender<Inbound>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut seen = SeenDigests::default();
    loop {
        let inbound = tokio::select! {
            _ = stop.changed() => {
                p2p.shutdown().await;
                return Ok(());
            }
            inbound = p2p.recv() => match inbound {
                Some(i) => i,
                None => anyhow::bail!("the transport closed"),
            },
            Some(inbound) = async { match cocoa.as_mut() { Some(c) => c.recv().await, None => None } } => inbound,
        };
        if service::is_service(&inbound.bytes) {
            tokio::spawn(super::retrieval::on_service(shared.clone(), inbound));
        } else if !crate::consensus::wire::is_bulk_bytes(&inbound.bytes) && !seen.first_time(&inbound.bytes) {
            shared.metrics.duplicates.inc();
        } else if to_verify.try_send(inbound).is_err() {
            shared.metrics.drop_on("verify");
        }
    }
}

/// How long a message's digest is remembered to drop its second copy.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(5);
/// Digests remembered at most (a burst beyond this forgets the oldest early: a duplicate then costs a
/// verification, nothing else).
const DUPLICATE_CAPACITY: usize = 1 << 16;

/// Digests of recently received messages, oldest first.
#[derive(Default)]
struct SeenDigests {
    set: std::collections::HashSet<[u8; 32]>,
    order: std::collections::VecDeque<([u8; 32], Instant)>,
}

impl SeenDigests {
    /// Whether `bytes` were not seen within the window (and remembers them).
    fn first_time(&mut self, bytes: &[u8]) -> bool {
        let now = Instant::now();
        while let Some((d, at)) = self.order.front()
            && (now.duration_since(*at) > DUPLICATE_WINDOW || self.order.len() >= DUPLICATE_CAPACITY)
        {
            self.set.remove(d);
            self.order.pop_front();
        }
        let digest = *blake3::hash(bytes).as_bytes();
        if !self.set.insert(digest) {
            return false;
        }
        self.order.push_back((digest, now));
        true
    }
}

/// Per-peer bad-message accounting.
#[derive(Default)]
struct Penalties {
    peers: HashMap<NodeId, (u32, Instant)>,
}

impl Penalties {
    /// Whether messages delivered by `via` are skipped now.
    fn skipped(&mut self, via: Option<NodeId>) -> bool {
        let Some(p) = via.and_then(|v| self.peers.get(&v)) else { return false };
        p.0 >= PENALTY_THRESHOLD && p.1.elapsed() < PENALTY_WINDOW
    }

    fn bad(&mut self, via: Option<NodeId>) {
        let Some(v) = via else { return };
        let e = self.peers.entry(v).or_insert((0, Instant::now()));
        if e.1.elapsed() >= PENALTY_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

/// Verifies consensus messages on the blocking pool, a few at a time, and hands the good ones to the core.
pub async fn verify(
    shared: Arc<Shared>,
    checker: Arc<MessageVerifier<BlsScheme>>,
    mut queue: mpsc::Receiver<Inbound>,
    core: mpsc::Sender<CoreInput>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
    let permits = Arc::new(Semaphore::new(workers));
    let penalties = Arc::new(std::sync::Mutex::new(Penalties::default()));
    loop {
        let inbound = tokio::select! {
            _ = stop.changed() => return Ok(()),
            i = queue.recv() => match i {
                Some(i) => i,
                None => return Ok(()),
            },
        };
        if penalties.lock().unwrap_or_else(|e| e.into_inner()).skipped(inbound.via) {
            shared.metrics.drop_on("penalised_peer");
            continue;
        }
        let permit = permits.clone().acquire_owned().await?;
        let (shared, checker, core, penalties) = (shared.clone(), checker.clone(), core.clone(), penalties.clone());
        tokio::spawn(async move {
            let via = inbound.via;
            let len = inbound.bytes.len();
            let checked = tokio::task::spawn_blocking(move || checker.ingest(&inbound.bytes)).await;
            drop(permit);
            match checked {
                Ok(Ok(msg)) => {
                    shared.metrics.traffic(layer_of(msg.get()), "received", len);
                    if core.try_send(Input::Message(msg)).is_err() {
                        shared.metrics.drop_on("core");
                    }
                }
                Ok(Err(e)) => {
                    let kind = match &e {
                        IngestError::Wire(_) => "undecodable",
                        IngestError::Rejected { kind, .. } => kind,
                    };
                    shared.metrics.bad(kind);
                    penalties.lock().unwrap_or_else(|e| e.into_inner()).bad(via);
                    debug!(?via, "refused a message: {e}");
                }
                Err(e) => debug!("a verification task failed: {e}"),
            }
        });
    }
}

/// Decodes a DA service message, or counts it as bad.
pub fn decode_service(shared: &Shared, bytes: &[u8]) -> Option<ServiceMsg> {
    let limits = shared.wire_limits();
    match service::decode(bytes, &limits) {
        Ok(m) => {
            shared.metrics.traffic("service", "received", bytes.len());
            Some(m)
        }
        Err(e) => {
            shared.metrics.bad("service");
            debug!("refused a service message: {e}");
            None
        }
    }
}

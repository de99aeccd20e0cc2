//! Payload retrieval, and the DA service that answers it.
//!
//! A node that needs a decided block's payload (for the API) tries, in order: its own store (it is on the DA
//! committee, or proposed the block); Cocoa, the CDN broker, which caches the block's DA proposal by commitment
//! (when configured and connected); the DA committee (each answer must recompute to the header's commitment);
//! then reconstruction from other nodes' shares (each share verified on its own, recovery once the verified shares
//! reach the threshold). A bad answer is counted and skipped, never trusted: the header's commitment, decided by
//! consensus, is the only thing believed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::shared::Shared;
use crate::consensus::{Digest, Header, NodeId, VidShare};
use crate::da::service::ServiceMsg;
use crate::da::{block, mascarpone, savoiardi};
use crate::net::network::Inbound;

/// How long the CDN broker has to answer a fetch.
const CDN_TIMEOUT: Duration = Duration::from_secs(1);
/// After a fetch the broker did not answer in time, how long retrievals skip it (a slow broker must not add its
/// timeout to every retrieval).
const CDN_BACKOFF: Duration = Duration::from_secs(10);
/// How long reconstruction waits for enough shares.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one DA committee member has to answer a payload request before the next is asked.
const MEMBER_TIMEOUT: Duration = Duration::from_millis(1500);
/// Answers buffered per pending retrieval.
const ANSWERS: usize = 256;

/// What a pending retrieval receives.
#[derive(Debug)]
enum Answer {
    Payload(Arc<Vec<u8>>),
    Share(VidShare),
}

/// Pending retrievals, by commitment: where answers for them go.
#[derive(Default)]
pub struct Retrieval {
    pending: Mutex<HashMap<Digest, mpsc::Sender<Answer>>>,
    /// Until when the CDN is skipped after it failed to answer in time.
    cdn_skip_until: Mutex<Option<tokio::time::Instant>>,
}

impl Retrieval {
    fn register(&self, commitment: Digest) -> mpsc::Receiver<Answer> {
        let (tx, rx) = mpsc::channel(ANSWERS);
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).insert(commitment, tx);
        rx
    }

    fn unregister(&self, commitment: &Digest) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(commitment);
    }

    fn deliver(&self, commitment: &Digest, answer: Answer) {
        let tx = self.pending.lock().unwrap_or_else(|e| e.into_inner()).get(commitment).cloned();
        if let Some(tx) = tx {
            let _ = tx.try_send(answer); // Full: enough answers are already waiting.
        }
    }
}

/// Why a payload could not be retrieved.
#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    /// Neither the DA committee nor enough nodes' shares produced it in time.
    #[error("payload {0} could not be retrieved from the DA committee or rebuilt from shares")]
    Unavailable(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
}

/// The payload of the decided `header`: from the store, the DA committee, or reconstruction.
pub async fn payload(shared: &Arc<Shared>, header: &Header) -> Result<Arc<Vec<u8>>, RetrievalError> {
    let commitment = header.payload_commitment;
    let job = shared.clone();
    let local = tokio::task::spawn_blocking(move || job.local_payload(&commitment))
        .await
        .map_err(|e| RetrievalError::Store(e.to_string()))?
        .map_err(|e| RetrievalError::Store(e.to_string()))?;
    if let Some(p) = local {
        return Ok(p);
    }
    let skip = *shared.retrieval.cdn_skip_until.lock().unwrap_or_else(|e| e.into_inner());
    if shared.net.cdn().is_some() && skip.is_none_or(|until| tokio::time::Instant::now() >= until) {
        let asked = tokio::time::Instant::now();
        if let Some(p) = from_cocoa(shared, &commitment).await {
            shared.recent.insert(commitment, p.clone());
            return Ok(p);
        }
        shared.metrics.fallback("cocoa_failed");
        if asked.elapsed() >= CDN_TIMEOUT {
            *shared.retrieval.cdn_skip_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(asked + CDN_BACKOFF);
        }
    }
    let mut answers = shared.retrieval.register(commitment);
    let result = async {
        if let Some(p) = from_committee(shared, &commitment, &mut answers).await {
            return Ok(p);
        }
        shared.metrics.fallback("reconstruction");
        from_shares(shared, &commitment, &mut answers).await
    }
    .await;
    shared.retrieval.unregister(&commitment);
    if let Ok(p) = &result {
        shared.recent.insert(commitment, p.clone());
    }
    result
}

/// Fetches the block's DA proposal from the CDN broker's cache; its payload must recompute to the commitment (the
/// broker is trusted for nothing: a wrong answer is counted as a bad retrieved payload).
async fn from_cocoa(shared: &Arc<Shared>, commitment: &Digest) -> Option<Arc<Vec<u8>>> {
    let cdn = shared.net.cdn()?;
    let bytes = cdn.fetch(crate::cdn::login::payload_key(commitment), CDN_TIMEOUT).await?;
    let limits = shared.wire_limits();
    let payload = match crate::consensus::wire::decode::<crate::consensus::BlsScheme>(&bytes, &limits) {
        Ok(crate::consensus::Message::DaProposal(d)) if d.commitment == *commitment => d.payload,
        _ => {
            shared.metrics.bad("retrieved_payload");
            return None;
        }
    };
    check_payload(shared, commitment, payload).await
}

/// `payload` if it recomputes to `commitment`, else counted as bad.
async fn check_payload(shared: &Arc<Shared>, commitment: &Digest, payload: Arc<Vec<u8>>) -> Option<Arc<Vec<u8>>> {
    let job = shared.clone();
    let candidate = payload.clone();
    let c = *commitment;
    let ok = tokio::task::spawn_blocking(move || {
        let max = job.consensus.max_block_bytes as usize;
        mascarpone::payload_matches(&job.vid, job.backend.as_ref(), &c, &candidate, max)
    })
    .await
    .unwrap_or(false);
    if ok {
        return Some(payload);
    }
    shared.metrics.bad("retrieved_payload");
    None
}

/// Asks the DA committee members one at a time, in random order (the payload crosses the network once, not once
/// per member, and no member is always asked first); the first payload that recomputes to the commitment wins. A
/// member that sends a bad payload is counted and the next one is asked; one that does not answer in time is
/// skipped.
async fn from_committee(
    shared: &Arc<Shared>,
    commitment: &Digest,
    answers: &mut mpsc::Receiver<Answer>,
) -> Option<Arc<Vec<u8>>> {
    use rand::seq::SliceRandom;
    let mut members = shared.consensus.da_members_except(shared.me);
    members.shuffle(&mut rand::thread_rng());
    for &m in &members {
        let ask = ServiceMsg::PayloadRequest { requester: shared.me, commitment: *commitment };
        if shared.send_service(m, &ask).is_err() {
            continue;
        }
        let deadline = tokio::time::Instant::now() + MEMBER_TIMEOUT;
        // Answers to an earlier member's request may still arrive here: each is checked the same way.
        while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.recv()).await {
            let Answer::Payload(payload) = answer else { continue };
            if let Some(p) = check_payload(shared, commitment, payload).await {
                return Some(p);
            }
            break; // This member (or an earlier one) lied: ask the next.
        }
    }
    shared.metrics.fallback("committee_failed");
    None
}

/// Asks every node for its own share, verifies each on its own, and recovers once they suffice.
async fn from_shares(
    shared: &Arc<Shared>,
    commitment: &Digest,
    answers: &mut mpsc::Receiver<Answer>,
) -> Result<Arc<Vec<u8>>, RetrievalError> {
    let unavailable = || RetrievalError::Unavailable(commitment.short());
    let n = shared.consensus.table.len() as NodeId;
    for i in (0..n).filter(|&i| i != shared.me) {
        let _ = shared.send_service(i, &ServiceMsg::ShareRequest { requester: shared.me, commitment: *commitment });
    }
    let mut shares: Vec<VidShare> = Vec::new();
    // Our own share, if we verified one.
    let store = shared.store.clone();
    let c = *commitment;
    if let Ok(Ok(Some(own))) = tokio::task::spawn_blocking(move || store.share(&c)).await {
        shares.push(own);
    }
    let weights = shared.vid.weights().clone();
    let need = shared.vid.threshold().ceil_of(weights.total());
    let weight_of =
        |s: &[VidShare]| -> u64 { s.iter().map(|s| u64::from(weights.weight(s.node as usize).unwrap_or(0))).sum() };
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    while weight_of(&shares) < need {
        let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.recv()).await else {
            return Err(unavailable());
        };
        let Answer::Share(s) = answer else { continue };
        if s.commitment != *commitment || shares.iter().any(|h| h.node == s.node) {
            continue;
        }
        let job = shared.clone();
        let candidate = s.clone();
        let ok =
            tokio::task::spawn_blocking(move || savoiardi::share_verifies(&job.vid, job.backend.as_ref(), &candidate))
                .await
                .unwrap_or(false);
        if ok {
            shares.push(s);
        } else {
            shared.metrics.bad("retrieved_share");
        }
    }
    let Some(common) = shares.first().map(|s| s.common.clone()) else { return Err(unavailable()) };
    let job = shared.clone();
    let c = *commitment;
    let recovered = tokio::task::spawn_blocking(move || {
        let refs: Vec<&[u8]> = shares.iter().map(|s| s.share.as_slice()).collect();
        savoiardi::recover(&job.vid, job.backend.as_ref(), &c, &common, &refs)
    })
    .await
    .map_err(|_| unavailable())?;
    match recovered {
        Ok(namespaces) => {
            let payload = crema_engine::vid::NamespacedPayload::new(namespaces).map_err(|_| unavailable())?;
            Ok(Arc::new(block::encode_payload(&payload)))
        }
        Err(e) => {
            warn!(commitment = %commitment.short(), "reconstruction failed: {e}");
            Err(unavailable())
        }
    }
}

/// Handles one DA service message from a peer.
pub async fn on_service(shared: Arc<Shared>, inbound: Inbound) {
    let Some(msg) = super::inbound::decode_service(&shared, &inbound.bytes) else { return };
    match msg {
        ServiceMsg::PayloadRequest { requester, commitment } => {
            let job = shared.clone();
            if let Ok(Ok(Some(payload))) = tokio::task::spawn_blocking(move || job.local_payload(&commitment)).await {
                let payload = match shared.misbehave {
                    Some(m) => match m.served_payload(payload.to_vec()) {
                        Some(p) => Arc::new(p),
                        None => return,
                    },
                    None => payload,
                };
                let reply = ServiceMsg::PayloadResponse { commitment, payload };
                if let Err(e) = shared.send_service(requester, &reply) {
                    debug!(requester, "could not answer a payload request: {e}");
                }
            }
        }
        ServiceMsg::ShareRequest { requester, commitment } => {
            let store = shared.store.clone();
            if let Ok(Ok(Some(share))) = tokio::task::spawn_blocking(move || store.share(&commitment)).await
                && let Err(e) = shared.send_service(requester, &ServiceMsg::ShareResponse(share))
            {
                debug!(requester, "could not answer a share request: {e}");
            }
        }
        ServiceMsg::PayloadResponse { commitment, payload } => {
            shared.retrieval.deliver(&commitment, Answer::Payload(payload));
        }
        ServiceMsg::ShareResponse(share) => {
            let c = share.commitment;
            shared.retrieval.deliver(&c, Answer::Share(share));
        }
        ServiceMsg::Transactions(txs) => {
            for (ns, tx) in txs {
                if let Err(e) = shared.accept(ns, tx) {
                    debug!("a forwarded transaction was refused: {e}");
                }
            }
        }
    }
}

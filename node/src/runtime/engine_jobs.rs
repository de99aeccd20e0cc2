//! Engine work the core asks for, run on the blocking pool so the core never waits on it: building and
//! dispersing a block, checking a DA payload or this node's share, rebuilding a share for a peer, reading a range
//! of decided headers. Each answer goes back to the core as an input (or straight to the peer that asked).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, error, warn};

use super::core_task::{CoreInput, now_ms};
use super::shared::Shared;
use crate::consensus::wire::MAX_SYNC_BLOCKS;
use crate::consensus::{DataKind, DataRequest, Digest, Header, Input, Message, NodeId, VidShare, View};
use crate::da::{mascarpone, savoiardi};

/// The largest block [`warm_up`] builds: enough to fault in what a 10 MB block needs, bounded for networks with
/// larger limits.
const WARM_UP_MAX_BYTES: usize = 16 << 20;

/// Does the engine work of one full block once, before the node serves anything: a dispersal (a leader's), the
/// commitment check of its payload (a DA member's) and a share check (everyone's). The first of each pays for
/// starting thread pools, building tables and faulting in fresh memory; measured on the 10-node, 5 MB throughput
/// devnet without this, a node's first dispersal took 100-200 ms (later ones 6-60 ms) and the run's first views
/// 0.5-1 s (later ones 0.15-0.3 s), so every run began with a backlog. The block has the network's largest
/// payload (kzg: 32 KiB, within one blob, since a full block's proofs would take seconds), in four namespaces.
/// Returns how long it took; an error means the backend cannot check its own block.
pub fn warm_up(shared: &Shared) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let max = shared.consensus.max_block_bytes as usize;
    let bytes = match shared.vid.kind() {
        crema_engine::vid::SchemeKind::Avidm => max.min(WARM_UP_MAX_BYTES) / 10 * 9,
        crema_engine::vid::SchemeKind::Kzg => max.min(64 << 10) / 2,
    };
    let mut block = crate::da::block::Block::new();
    for ns in 0..4u64 {
        block.push(ns, vec![ns as u8; bytes / 4]);
    }
    let backend = shared.backend.as_ref();
    let built = savoiardi::build(&shared.vid, backend, &block, now_ms())?;
    anyhow::ensure!(
        mascarpone::payload_matches(&shared.vid, backend, &built.payload_commitment, &built.payload, max),
        "the warm-up block's payload does not match its own commitment"
    );
    let share = VidShare {
        view: 0,
        commitment: built.payload_commitment,
        node: shared.me,
        common: built.common.clone(),
        share: built.shares.get(shared.me as usize).cloned().unwrap_or_default(),
    };
    anyhow::ensure!(
        savoiardi::share_verifies(&shared.vid, backend, &share),
        "the warm-up block's share does not verify"
    );
    Ok(started.elapsed())
}

/// Hands `input` to the core; a closed core means the node is stopping.
async fn answer(results: &mpsc::Sender<CoreInput>, input: CoreInput) {
    if results.send(input).await.is_err() {
        debug!("core stopped before an engine answer");
    }
}

/// Fills a block from the mempool and disperses it; answers [`Input::BlockReady`].
pub fn build(shared: Arc<Shared>, view: View, _parent: Header, results: mpsc::Sender<CoreInput>) {
    tokio::spawn(async move {
        let started = Instant::now();
        let block = shared.mempool().take(view, shared.consensus.max_block_bytes as usize);
        let hashes: Vec<[u8; 32]> = block_hashes(&block);
        let (txs, taken) = (block.len(), started.elapsed());
        let job = shared.clone();
        let built = tokio::task::spawn_blocking(move || {
            let at = Instant::now();
            (savoiardi::build(&job.vid, job.backend.as_ref(), &block, now_ms()), at)
        })
        .await
        .map(|(built, at)| {
            debug!(
                view,
                txs,
                take_ms = taken.as_millis(),
                wait_ms = (at - started - taken).as_millis(),
                disperse_ms = at.elapsed().as_millis(),
                "built a block"
            );
            built
        });
        // The dispersal alone (queue wait and build), as before the mempool's take was timed too.
        shared.metrics.engine("disperse", shared.backend.name(), started.elapsed() - taken);
        match built {
            Ok(Ok(built)) => {
                shared.proposed.lock().unwrap_or_else(|e| e.into_inner()).insert(view, hashes);
                shared.keep_dispersal(built.clone());
                answer(&results, Input::BlockReady { view, block: built }).await;
            }
            Ok(Err(e)) => {
                error!(view, "dispersing the block failed: {e}");
                shared.mempool().abandon(view);
            }
            Err(e) => {
                error!(view, "the dispersal task failed: {e}");
                shared.mempool().abandon(view);
            }
        }
    });
}

fn block_hashes(block: &crate::da::block::Block) -> Vec<[u8; 32]> {
    block.iter().map(|(ns, tx)| crate::mempool::tx_hash(ns, tx)).collect()
}

/// Checks a DA payload (recomputing its commitment) or this node's share, stores what passes, and answers
/// [`Input::DataChecked`].
pub fn check(shared: Arc<Shared>, req: DataRequest, results: mpsc::Sender<CoreInput>) {
    tokio::spawn(async move {
        let job = shared.clone();
        let started = Instant::now();
        let (view, commitment, kind, op) = match &req {
            DataRequest::CheckPayload { view, commitment, .. } => {
                (*view, *commitment, DataKind::Payload, "check_payload")
            }
            DataRequest::VerifyShare(s) => (s.view, s.commitment, DataKind::Share, "verify_share"),
        };
        let ok = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let max = job.consensus.max_block_bytes as usize;
            match req {
                DataRequest::CheckPayload { view, commitment, payload } => {
                    let ok = mascarpone::payload_matches(&job.vid, job.backend.as_ref(), &commitment, &payload, max);
                    if ok {
                        job.store.put_payload(view, &commitment, &payload)?;
                        job.recent.insert(commitment, payload);
                    }
                    Ok(ok)
                }
                DataRequest::VerifyShare(s) => {
                    let ok = s.node == job.me && savoiardi::share_verifies(&job.vid, job.backend.as_ref(), &s);
                    if ok {
                        job.store.put_share(&s)?;
                    }
                    Ok(ok)
                }
            }
        })
        .await;
        shared.metrics.engine(op, shared.backend.name(), started.elapsed());
        let ok = match ok {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => {
                error!(view, "storing checked data failed: {e}");
                false
            }
            Err(e) => {
                error!(view, "the check task failed: {e}");
                false
            }
        };
        if !ok {
            shared.metrics.bad(if kind == DataKind::Payload { "da_payload" } else { "vid_share" });
        }
        answer(&results, Input::DataChecked { view, commitment, kind, ok }).await;
    });
}

/// Sends `to` its share of the block with `commitment`, if this node dispersed it or stored its payload.
pub fn serve_share(shared: Arc<Shared>, to: NodeId, view: View, commitment: Digest) {
    tokio::spawn(async move {
        let job = shared.clone();
        let started = Instant::now();
        let share = tokio::task::spawn_blocking(move || -> Option<VidShare> {
            if let Some((common, share)) = job.dispersed_share(&commitment, to) {
                return Some(VidShare { view, commitment, node: to, common, share });
            }
            let payload = job.local_payload(&commitment).ok()??;
            let max = job.consensus.max_block_bytes as usize;
            mascarpone::rebuild_share(&job.vid, job.backend.as_ref(), &payload, max, view, &commitment, to as usize)
        })
        .await;
        shared.metrics.engine("rebuild_share", shared.backend.name(), started.elapsed());
        match share {
            Ok(Some(s)) => shared.send(to, &Message::VidShare(s)),
            Ok(None) => debug!(to, view, "asked for a share this node cannot serve"),
            Err(e) => warn!("the share task failed: {e}"),
        }
    });
}

/// Answers a range-sync request from the store.
pub fn serve_sync(shared: Arc<Shared>, to: NodeId, from_height: u64) {
    tokio::spawn(async move {
        let store = shared.store.clone();
        match tokio::task::spawn_blocking(move || store.range(from_height, MAX_SYNC_BLOCKS)).await {
            Ok(Ok(Some(range))) => shared.send(to, &Message::SyncResponse(range)),
            Ok(Ok(None)) => debug!(to, from_height, "no decided range to serve"),
            Ok(Err(e)) => warn!("reading a decided range failed: {e}"),
            Err(e) => warn!("the sync task failed: {e}"),
        }
    });
}

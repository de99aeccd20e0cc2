//! The node's HTTP API (axum): submit transactions, read status, headers, blocks, payloads, a namespace with the
//! proof a rollup checks against the header alone, this node's VID share, health and Prometheus metrics.
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /v0/submit` | body `{"namespace": 7, "transaction": "<hex>"}` → `{"hash": "<hex>"}` |
//! | `POST /v0/submit/{ns}` | body: the transaction's raw bytes (`application/octet-stream`) → `{"hash": "<hex>"}`; no hex to encode or decode, for load generators and rollups that submit megabytes a second |
//! | `GET /v0/status` | view, leader, decided height, peers, backend, VID scheme, DA membership, mempool |
//! | `GET /v0/availability/header/{h}` | the decided header at height `h` and its QC |
//! | `GET /v0/availability/block/{h}` | the header and its namespaces (transaction counts and sizes) |
//! | `GET /v0/availability/payload/{h}` | the payload bytes (`application/octet-stream`) |
//! | `GET /v0/availability/block/{h}/namespace/{ns}` | that rollup's transactions, the namespace proof and its common data |
//! | `GET /v0/node/vid/share/{h}` | this node's verified VID share of block `h` and the common data |
//! | `GET /healthcheck` | `{"status": "ok"}` |
//! | `GET /metrics` | Prometheus text format |
//!
//! Errors are JSON `{"error": "...", "code": "..."}` with a fitting status; request bodies are capped
//! (`api.max_body_bytes`). Payloads this node does not hold are retrieved (DA committee, then reconstruction) and
//! checked against the decided header before they are served.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crema_engine::vid::{Codec, NamespaceId};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::consensus::{BlsScheme, CertScheme, Header, Qc};
use crate::da::block;
use crate::metrics::Metrics;
use crate::runtime::{Shared, retrieval};

/// An API error: a status, a machine-readable code and a message for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message, "code": self.code }))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The router, for the server and for tests.
pub fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.cfg.api_max_body_bytes;
    Router::new()
        .route("/v0/submit", post(submit))
        .route("/v0/submit/{namespace}", post(submit_raw))
        .route("/v0/status", get(status))
        .route("/v0/availability/header/{height}", get(header_at))
        .route("/v0/availability/block/{height}", get(block_at))
        .route("/v0/availability/payload/{height}", get(payload_at))
        .route("/v0/availability/block/{height}/namespace/{namespace}", get(namespace_at))
        .route("/v0/node/vid/share/{height}", get(share_at))
        .route("/healthcheck", get(|| async { axum::Json(json!({ "status": "ok" })) }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(shared)
}

/// Serves the API on the configured address until `stop` fires.
pub async fn serve(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let addr = shared.cfg.api_listen;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("binding the API to {addr}: {e}"))?;
    tracing::info!(%addr, "API listening");
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await?;
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Submission {
    namespace: NamespaceId,
    transaction: String,
}

async fn submit(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> ApiResult<axum::Json<Value>> {
    let s: Submission = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected {{\"namespace\": u64, \"transaction\": hex}}: {e}"),
        )
    })?;
    let tx = hex::decode(s.transaction.trim())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_hex", format!("transaction is not hex: {e}")))?;
    accept(&shared, s.namespace, tx)
}

/// `POST /v0/submit/{ns}`: the body is the transaction itself.
async fn submit_raw(
    State(shared): State<Arc<Shared>>,
    Path(namespace): Path<NamespaceId>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    accept(&shared, namespace, body.into())
}

/// Hands a submitted transaction to the node (its mempool, or the coming leader's).
fn accept(shared: &Shared, namespace: NamespaceId, tx: Vec<u8>) -> ApiResult<axum::Json<Value>> {
    let hash = shared
        .submit(namespace, tx)
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_accepted", e.to_string()))?;
    Ok(axum::Json(json!({ "hash": hex::encode(hash) })))
}

async fn status(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let s = shared.status();
    let stats = shared.net.p2p().stats();
    let da_member = shared.consensus.is_da_member(shared.me);
    axum::Json(json!({
        "node": shared.me,
        "view": s.view,
        "leader": s.leader,
        "decided_height": s.decided_height,
        "decided_view": s.decided_view,
        "decided_blocks": s.decided_blocks,
        "synced_blocks": s.synced_blocks,
        "rejected_messages": s.rejected,
        "peers": stats.peers_connected,
        "nodes": shared.network.nodes.len(),
        "backend": shared.backend.name(),
        "vid": { "scheme": shared.consensus.vid.scheme.name(), "threshold": shared.consensus.vid.threshold.to_string() },
        "da_member": da_member,
        // How the DA layers are doing, as this node sees them.
        "da": {
            "member": da_member,
            "committee_size": (0..shared.network.nodes.len())
                .filter(|&i| u16::try_from(i).is_ok_and(|i| shared.consensus.is_da_member(i)))
                .count(),
            "retrieval_fallbacks": {
                "cocoa_failed": Metrics::count(&shared.metrics.retrieval_fallbacks, "cocoa_failed"),
                "committee_failed": Metrics::count(&shared.metrics.retrieval_fallbacks, "committee_failed"),
                "reconstruction": Metrics::count(&shared.metrics.retrieval_fallbacks, "reconstruction"),
            },
            "bad_payloads_retrieved": Metrics::count(&shared.metrics.bad_messages, "retrieved_payload"),
            "bad_shares_retrieved": Metrics::count(&shared.metrics.bad_messages, "retrieved_share"),
        },
        // Cocoa, the CDN: configured brokers and whether a session is up now.
        "cdn": {
            "brokers": shared.cfg.cdn_brokers.len(),
            "connected": shared.net.cdn().is_some_and(|c| c.connected()),
            "fallbacks": Metrics::count(&shared.metrics.cdn_fallbacks, "no_da_certificate"),
        },
        "mempool_transactions": shared.mempool().len(),
        "uptime_seconds": shared.started.elapsed().as_secs(),
    }))
}

/// The decided header at `height` and its QC.
async fn decided(shared: &Arc<Shared>, height: u64) -> ApiResult<(Header, Qc<BlsScheme>)> {
    let store = shared.store.clone();
    let found = tokio::task::spawn_blocking(move || store.decided(height))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    found.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_decided", format!("no decided block at height {height}"))
    })
}

/// A header as JSON.
pub fn header_json(h: &Header) -> Value {
    json!({
        "height": h.height,
        "view": h.view,
        "hash": h.hash().hex(),
        "parent": h.parent.hex(),
        "proposer": h.proposer,
        "timestamp_ms": h.timestamp_ms,
        "payload_commitment": h.payload_commitment.hex(),
        "payload_len": h.payload_len,
        "namespaces": h.namespaces,
        "ns_table_root": h.ns_table_root.hex(),
        "vid": { "scheme": h.vid.scheme.name(), "threshold": h.vid.threshold.to_string() },
    })
}

async fn header_at(State(shared): State<Arc<Shared>>, Path(height): Path<u64>) -> ApiResult<axum::Json<Value>> {
    let (h, qc) = decided(&shared, height).await?;
    let signers = <BlsScheme as CertScheme>::signers(&qc.cert);
    Ok(axum::Json(json!({
        "header": header_json(&h),
        "qc": { "view": qc.view, "block": qc.block.hex(), "signers": signers },
    })))
}

/// The payload of the block at `height`, retrieved if this node does not hold it, checked either way.
async fn payload_of(shared: &Arc<Shared>, height: u64) -> ApiResult<(Header, Arc<Vec<u8>>)> {
    let (h, _) = decided(shared, height).await?;
    let payload = retrieval::payload(shared, &h)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))?;
    Ok((h, payload))
}

async fn payload_at(State(shared): State<Arc<Shared>>, Path(height): Path<u64>) -> ApiResult<Response> {
    let (_, payload) = payload_of(&shared, height).await?;
    let body = axum::body::Bytes::from_owner(SharedBytes(payload));
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response())
}

/// A shared payload as a response body, sent without copying its megabytes.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

async fn block_at(State(shared): State<Arc<Shared>>, Path(height): Path<u64>) -> ApiResult<axum::Json<Value>> {
    let (h, payload) = payload_of(&shared, height).await?;
    let max = shared.consensus.max_block_bytes as usize;
    let b = block::decode_block(&payload, max).map_err(ApiError::internal)?;
    let namespaces: Vec<Value> = b
        .namespaces()
        .map(|(id, txs)| json!({ "id": id, "transactions": txs.len(), "bytes": txs.iter().map(Vec::len).sum::<usize>() }))
        .collect();
    Ok(axum::Json(json!({ "header": header_json(&h), "transactions": b.len(), "namespaces": namespaces })))
}

async fn namespace_at(
    State(shared): State<Arc<Shared>>,
    Path((height, namespace)): Path<(u64, NamespaceId)>,
) -> ApiResult<axum::Json<Value>> {
    let (h, payload) = payload_of(&shared, height).await?;
    let job = shared.clone();
    // The proof comes from the dispersal itself: re-disperse the (checked) payload and cut the namespace's row.
    let answer = tokio::task::spawn_blocking(move || -> ApiResult<Value> {
        let max = job.consensus.max_block_bytes as usize;
        let ns = block::decode_payload(&payload, max).map_err(ApiError::internal)?;
        let d = job.vid.disperse_namespaced(job.backend.as_ref(), &ns).map_err(ApiError::internal)?;
        if d.commitment != h.payload_commitment.0 {
            return Err(ApiError::internal("the payload does not disperse to the header's commitment"));
        }
        let Some(bytes) = ns.get(namespace) else {
            let ids: Vec<NamespaceId> = ns.iter().map(|(id, _)| id).collect();
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "namespace_absent",
                format!("namespace {namespace} is not in block {height} (namespaces: {ids:?})"),
            ));
        };
        let (proof, ns_common) = job.vid.namespace_proof(&d.common, namespace).map_err(ApiError::internal)?;
        let txs = block::decode_transactions(bytes).map_err(ApiError::internal)?;
        Ok(json!({
            "header": header_json(&h),
            "namespace": namespace,
            "transactions": txs.iter().map(hex::encode).collect::<Vec<_>>(),
            "namespace_bytes": hex::encode(bytes),
            "proof": hex::encode(proof.encode()),
            "common": hex::encode(ns_common),
        }))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(answer))
}

async fn share_at(State(shared): State<Arc<Shared>>, Path(height): Path<u64>) -> ApiResult<axum::Json<Value>> {
    let (h, _) = decided(&shared, height).await?;
    let store = shared.store.clone();
    let c = h.payload_commitment;
    let share = tokio::task::spawn_blocking(move || store.share(&c))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "no_share", format!("this node holds no share of block {height}"))
        })?;
    Ok(axum::Json(json!({
        "height": height,
        "commitment": share.commitment.hex(),
        "node": share.node,
        "common": hex::encode(share.common.as_ref()),
        "share": hex::encode(&share.share),
    })))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.metrics.render();
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}

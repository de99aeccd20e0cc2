//! The broker's Prometheus metrics and its HTTP endpoint (`GET /metrics`, `GET /healthcheck`). The families and
//! their labels are listed in the module doc of [`super`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::metrics::Kind;

/// Every metric of a broker (cheap to clone: atomics behind `Arc`s).
#[derive(Clone)]
pub struct BrokerMetrics {
    registry: Arc<Registry>,
    /// Logins by result: `ok`, or why refused.
    pub logins: Family<Kind, Counter>,
    /// Nodes logged in now.
    pub connected: Gauge,
    /// Frames received and sent, by direction (`in`, `out`).
    pub frames: Family<Kind, Counter>,
    /// Frame bytes received and sent, by direction.
    pub bytes: Family<Kind, Counter>,
    /// Limits hit, by limit.
    pub limits: Family<Kind, Counter>,
    /// Connections closed for a protocol violation, by kind.
    pub protocol_errors: Family<Kind, Counter>,
    /// Fetches answered from the cache.
    pub cache_hits: Counter,
    /// Fetches for a key not held.
    pub cache_misses: Counter,
    /// Message bytes in the cache.
    pub cache_bytes: Gauge,
    /// Bytes waiting in outgoing queues.
    pub queued_bytes: Gauge,
    /// Messages forwarded to and from other brokers, by direction.
    pub forwards: Family<Kind, Counter>,
    /// Links to other brokers open now.
    pub broker_links: Gauge,
    /// Misbehaviour applied on purpose (`--misbehave`), by kind.
    pub misbehaviour: Family<Kind, Counter>,
}

impl Default for BrokerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl BrokerMetrics {
    /// A registry with every family registered (prefix `crema_cdn_`).
    pub fn new() -> Self {
        let mut m = BrokerMetrics {
            registry: Arc::new(Registry::default()),
            logins: Family::default(),
            connected: Gauge::default(),
            frames: Family::default(),
            bytes: Family::default(),
            limits: Family::default(),
            protocol_errors: Family::default(),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            cache_bytes: Gauge::default(),
            queued_bytes: Gauge::default(),
            forwards: Family::default(),
            broker_links: Gauge::default(),
            misbehaviour: Family::default(),
        };
        let mut r = Registry::with_prefix("crema_cdn");
        r.register("logins", "Logins by result (ok, or the refusal reason)", m.logins.clone());
        r.register("connected_nodes", "Nodes logged in now", m.connected.clone());
        r.register("frames", "Frames by direction (in, out)", m.frames.clone());
        r.register("bytes", "Frame bytes by direction (in, out)", m.bytes.clone());
        r.register("limit_hits", "Limits hit, by limit", m.limits.clone());
        r.register("protocol_errors", "Connections closed for a protocol violation", m.protocol_errors.clone());
        r.register("cache_hits", "Fetches answered from the cache", m.cache_hits.clone());
        r.register("cache_misses", "Fetches for a key not in the cache", m.cache_misses.clone());
        r.register("cache_bytes", "Message bytes in the cache", m.cache_bytes.clone());
        r.register("queued_bytes", "Bytes waiting in outgoing queues", m.queued_bytes.clone());
        r.register("forwards", "Messages forwarded between brokers, by direction", m.forwards.clone());
        r.register("broker_links", "Links to other brokers open now", m.broker_links.clone());
        r.register("misbehaviour", "Misbehaviour applied on purpose, by kind", m.misbehaviour.clone());
        m.registry = Arc::new(r);
        m
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Counts one in `family` under `kind`.
    pub fn hit(family: &Family<Kind, Counter>, kind: &str) {
        family.get_or_create(&Kind { kind: kind.to_string() }).inc();
    }

    /// Counts a frame of `len` bytes in `direction` (`in` or `out`).
    pub fn frame(&self, direction: &str, len: usize) {
        let k = Kind { kind: direction.to_string() };
        self.frames.get_or_create(&k).inc();
        self.bytes.get_or_create(&k).inc_by(len as u64);
    }
}

/// Serves `/metrics` and `/healthcheck` on `listener` until `stop` fires.
pub async fn serve(
    metrics: BrokerMetrics,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let router =
        Router::new().route("/healthcheck", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) })).route(
            "/metrics",
            get(move || {
                let body = metrics.render();
                async move {
                    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body)
                        .into_response()
                }
            }),
        );
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            super::fired(&mut stop).await;
        })
        .await?;
    Ok(())
}

/// Binds the metrics endpoint's listener.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding the metrics endpoint to {addr}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_with_the_cdn_prefix() {
        let m = BrokerMetrics::new();
        BrokerMetrics::hit(&m.limits, "slow_reader");
        m.frame("in", 100);
        m.connected.set(3);
        let text = m.render();
        assert!(text.contains("crema_cdn_limit_hits_total{kind=\"slow_reader\"} 1"), "{text}");
        assert!(text.contains("crema_cdn_bytes_total{kind=\"in\"} 100"), "{text}");
        assert!(text.contains("crema_cdn_connected_nodes 3"), "{text}");
    }
}

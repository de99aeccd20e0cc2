//! A small client for a node's HTTP API (blocking, with timeouts): what the devnet's load generator, its summary
//! and the multi-process tests use. It reads only what the API serves, as an outside observer would.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// A client for one node.
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the API at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .http_status_as_error(false)
            .build();
        Client { base: format!("http://{addr}"), agent: config.into() }
    }

    fn get(&self, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut resp = self.agent.get(&format!("{}{path}", self.base)).call().with_context(|| format!("GET {path}"))?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().with_config().limit(1 << 30).read_to_vec()?;
        Ok((status, body))
    }

    fn get_json(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let (status, body) = self.get(path)?;
        match status {
            200 => Ok(Some(serde_json::from_slice(&body)?)),
            404 => Ok(None),
            s => bail!("GET {path}: {s} {}", String::from_utf8_lossy(&body)),
        }
    }

    /// `GET /healthcheck` answered 200.
    pub fn health(&self) -> anyhow::Result<()> {
        match self.get("/healthcheck")? {
            (200, _) => Ok(()),
            (s, _) => bail!("healthcheck: {s}"),
        }
    }

    /// `GET /v0/status`.
    pub fn status(&self) -> anyhow::Result<Value> {
        self.get_json("/v0/status")?.context("status: 404")
    }

    /// The decided height.
    pub fn height(&self) -> anyhow::Result<u64> {
        self.status()?["decided_height"].as_u64().context("status without decided_height")
    }

    /// `POST /v0/submit` with the JSON body (hex transaction): the transaction's hash.
    pub fn submit_json(&self, namespace: u64, tx: &[u8]) -> anyhow::Result<String> {
        let body = serde_json::json!({ "namespace": namespace, "transaction": hex::encode(tx) });
        let resp = self.agent.post(&format!("{}/v0/submit", self.base)).send_json(&body)?;
        Self::hash_of(resp)
    }

    /// `POST /v0/submit/{ns}` with the raw bytes: the transaction's hash.
    pub fn submit(&self, namespace: u64, tx: &[u8]) -> anyhow::Result<String> {
        let resp = self
            .agent
            .post(&format!("{}/v0/submit/{namespace}", self.base))
            .header("content-type", "application/octet-stream")
            .send(tx)?;
        Self::hash_of(resp)
    }

    /// The hash in a submission's answer, or the refusal.
    fn hash_of(mut resp: ureq::http::Response<ureq::Body>) -> anyhow::Result<String> {
        let status = resp.status().as_u16();
        let v: Value = resp.body_mut().read_json()?;
        if status != 200 {
            bail!("submit: {status} {v}");
        }
        v["hash"].as_str().map(str::to_string).context("submit answer without hash")
    }

    /// The decided header at `height` with its QC, if decided.
    pub fn header(&self, height: u64) -> anyhow::Result<Option<Value>> {
        self.get_json(&format!("/v0/availability/header/{height}"))
    }

    /// The block summary at `height`.
    pub fn block(&self, height: u64) -> anyhow::Result<Option<Value>> {
        self.get_json(&format!("/v0/availability/block/{height}"))
    }

    /// Namespace `ns` of block `height` with its proof; `None` if the block or namespace is absent.
    pub fn namespace(&self, height: u64, ns: u64) -> anyhow::Result<Option<Value>> {
        self.get_json(&format!("/v0/availability/block/{height}/namespace/{ns}"))
    }

    /// The payload of block `height`.
    pub fn payload(&self, height: u64) -> anyhow::Result<Option<Vec<u8>>> {
        match self.get(&format!("/v0/availability/payload/{height}"))? {
            (200, b) => Ok(Some(b)),
            (404, _) => Ok(None),
            (s, b) => bail!("payload {height}: {s} {}", String::from_utf8_lossy(&b)),
        }
    }

    /// This node's VID share of block `height`.
    pub fn share(&self, height: u64) -> anyhow::Result<Option<Value>> {
        self.get_json(&format!("/v0/node/vid/share/{height}"))
    }

    /// `GET /metrics` as text.
    pub fn metrics(&self) -> anyhow::Result<String> {
        let (_, body) = self.get("/metrics")?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// The value of metric `name` (with exactly these labels, e.g. `{layer="savoiardi",direction="sent"}`) in a
/// Prometheus text exposition, summed over matching lines.
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    let prefix = format!("{name}{labels}");
    text.lines()
        .filter(|l| l.starts_with(&prefix) && l[prefix.len()..].starts_with(' '))
        .filter_map(|l| l[prefix.len()..].trim().parse::<f64>().ok())
        .sum()
}

/// Metric `name` summed over every label set it has (e.g. `crema_bad_messages_total` over its kinds). An empty sum is
/// 0.0 (not the -0.0 a float sum starts from).
pub fn metric_total(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>()
        + 0.0
}

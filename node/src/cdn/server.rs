//! Starting and stopping a broker: its configuration, the listeners, the accept loop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::broker::{Broker, BrokerSettings};
use super::discovery::{self, Discovery};
use super::frame::FrameLimits;
use super::links::Links;
use super::metrics::{self, BrokerMetrics};
use super::misbehave::{Liar, Misbehave};
use super::outbox::Memory;
use super::routing::Membership;
use super::session;
use crate::consensus::WireLimits;
use crate::network_file::NetworkFile;

/// Default per-connection outgoing queue cap.
pub const DEFAULT_QUEUE_BYTES: usize = 64 << 20;
/// Default global memory cap (queues and cache).
pub const DEFAULT_MEMORY_CAP: usize = 1 << 30;
/// Default cache cap.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// How a broker runs.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// Where nodes and brokers connect.
    pub listen: SocketAddr,
    /// The network whose nodes may log in.
    pub network: NetworkFile,
    /// Where `/metrics` and `/healthcheck` are served, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// This broker's identifier (in discovery, logs and `Welcome`).
    pub broker_id: String,
    /// Where other brokers reach this one (default: the bound listen address).
    pub advertise: Option<SocketAddr>,
    /// The discovery service (`redis://HOST:PORT`), if brokers share the network.
    pub discovery: Option<String>,
    /// The drill misbehaviour, if any.
    pub misbehave: Option<Misbehave>,
    /// The cap on all queued bytes plus the cache.
    pub memory_cap: usize,
    /// The cache's cap.
    pub cache_bytes: usize,
    /// The per-connection outgoing queue cap.
    pub queue_bytes: usize,
}

impl BrokerConfig {
    /// An honest, stand-alone broker for `network` on `listen`, with the default caps and a random identifier.
    pub fn new(listen: SocketAddr, network: NetworkFile) -> Self {
        BrokerConfig {
            listen,
            network,
            metrics: None,
            broker_id: format!("cdn-{:08x}", rand::random::<u32>()),
            advertise: None,
            discovery: None,
            misbehave: None,
            memory_cap: DEFAULT_MEMORY_CAP,
            cache_bytes: DEFAULT_CACHE_BYTES,
            queue_bytes: DEFAULT_QUEUE_BYTES,
        }
    }

    /// The frame limits of the configured network.
    pub fn frame_limits(&self) -> FrameLimits {
        let n = self.network.nodes.len();
        let wire = WireLimits::for_network(n, self.network.params.max_block_bytes as usize);
        FrameLimits { max_message: wire.max_message(), max_nodes: n }
    }
}

/// A broker whose listeners are bound, ready to run.
pub struct BoundBroker {
    broker: Arc<Broker>,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
}

impl BoundBroker {
    /// Binds the listeners (so the caller learns the ports before anyone connects).
    pub async fn bind(cfg: BrokerConfig) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(cfg.listen).await.with_context(|| format!("binding the broker to {}", cfg.listen))?;
        let metrics_listener = match cfg.metrics {
            Some(a) => Some(metrics::bind(a).await?),
            None => None,
        };
        let limits = cfg.frame_limits();
        let keys = cfg.network.public_keys();
        let memory = Arc::new(Memory::new(cfg.memory_cap));
        let links = match &cfg.discovery {
            None => None,
            Some(url) => {
                let bound = listener.local_addr()?;
                let advertise = match cfg.advertise {
                    Some(a) => a,
                    None if bound.ip().is_unspecified() => {
                        anyhow::bail!("--advertise is needed with --discovery when listening on {bound}")
                    }
                    None => bound,
                };
                let discovery = Discovery::connect(url, &discovery::network_id(&keys)).await?;
                // A link carries many nodes' traffic: it gets a larger queue than one node.
                Some(Arc::new(Links::new(
                    cfg.broker_id.clone(),
                    advertise,
                    discovery,
                    cfg.queue_bytes.saturating_mul(4),
                )))
            }
        };
        let settings = BrokerSettings {
            id: cfg.broker_id.clone(),
            keys,
            members: Membership::new(cfg.network.nodes.iter().map(|n| n.da_member).collect()),
            limits,
            queue_bytes: cfg.queue_bytes,
            memory,
            cache_bytes: cfg.cache_bytes,
            liar: Liar::new(cfg.misbehave),
        };
        if let Some(m) = cfg.misbehave {
            tracing::warn!("THIS BROKER MISBEHAVES ON PURPOSE ({m:?}): for fault drills only, never in production");
        }
        let broker = Arc::new(Broker::new(settings, BrokerMetrics::new(), links));
        Ok(BoundBroker { broker, listener, metrics_listener })
    }

    /// The address nodes connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The metrics endpoint's address, if served.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Accepts connections until `stop` turns true; then every connection is closed.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let BoundBroker { broker, listener, metrics_listener } = self;
        let metrics_task =
            metrics_listener.map(|l| tokio::spawn(metrics::serve(broker.metrics.clone(), l, stop.clone())));
        let sessions_stop = stop.clone();
        let links_task = broker.links.clone().map(|l| tokio::spawn(l.run(broker.clone(), stop.clone())));
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        tracing::debug!(%peer, "connection");
                        tokio::spawn(session::handle(broker.clone(), stream, sessions_stop.clone()));
                    }
                    // Out of file descriptors and the like: keep serving who is connected, try again shortly.
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                _ = super::fired(&mut stop) => break,
            }
        }
        if let Some(t) = links_task {
            t.await?;
        }
        if let Some(t) = metrics_task {
            t.await??;
        }
        Ok(())
    }
}

/// Runs a broker until `stop` turns true (for embedding; `crema cdn` binds and runs itself to print its ports).
pub async fn serve(cfg: BrokerConfig, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let bound = BoundBroker::bind(cfg).await?;
    tracing::info!(addr = %bound.local_addr()?, "cdn broker listening");
    bound.run(stop).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::VidParams;
    use crate::keys::NodeKeys;
    use crate::network_file::NetworkParams;

    #[tokio::test]
    async fn an_embedded_broker_is_a_send_future_that_stops_on_request() {
        let k = NodeKeys::generate();
        let entry = k.entry(1, true, "/ip4/127.0.0.1/tcp/9000".parse().unwrap(), None);
        let params = NetworkParams::new(1000, 1 << 16, VidParams::default()).unwrap();
        let cfg = BrokerConfig::new("127.0.0.1:0".parse().unwrap(), NetworkFile { params, nodes: vec![entry] });
        let (stop, rx) = watch::channel(false);
        // `tokio::spawn` only takes `Send` futures: this is the embedding the node's devnet does.
        let task = tokio::spawn(serve(cfg, rx));
        stop.send_replace(true);
        let ran = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        assert!(matches!(ran, Ok(Ok(Ok(())))), "{ran:?}");
    }
}

//! `node.toml`: one node's own settings. Every key is optional and takes the default shown; relative paths are
//! relative to the directory of `node.toml` itself. The node's index is not here: it is the position of its BLS
//! key in `network.toml`, so the two cannot disagree.
//!
//! ```toml
//! keys_dir = "keys"              # bls.key and p2p.key
//! network = "network.toml"       # the network file (crema init writes "../network.toml")
//! data_dir = "data"              # the redb file is data_dir/crema.redb; shares and payloads in data_dir/crema.redb.blobs/
//! backend = "auto"               # engine backend: auto|cpu|gpu|reference
//!
//! [p2p]
//! listen = "/ip4/0.0.0.0/tcp/9000"   # /ip4|ip6/ADDRESS/tcp/PORT
//! latency_ms = 0                 # fault drills only: every message sent waits this long first (a WAN on loopback)
//!
//! [api]
//! listen = "127.0.0.1:8000"      # the HTTP API's socket address
//! max_body_bytes = 1048576       # largest request body
//!
//! [storage]
//! retain_blocks = 10000          # shares and DA payloads of the last N decided blocks; headers are kept forever
//! cache_bytes = 33554432         # the database's page cache (redb's own default is 1 GiB)
//!
//! [mempool]
//! max_bytes = 67108864           # transactions waiting, in bytes
//! max_txs = 100000               # transactions waiting, in count
//!
//! [cdn]
//! brokers = []                   # Cocoa brokers, "host:port"; empty: no CDN, libp2p only
//! queue_bytes = 67108864         # bytes queued for the broker before sends fall back to libp2p
//! ```
//!
//! Unknown keys are an error, and every error names the file, the key and the problem:
//! `node.toml: api.listen: invalid socket address "x"`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crema_engine::BackendChoice;
use libp2p::Multiaddr;
use serde::Deserialize;

use crate::addr;
use crate::atomic_write::write_atomic;
pub use crate::toml_file::ConfigError;
use crate::toml_file::{self, quote};

/// Largest `node.toml` read.
pub const MAX_FILE_BYTES: u64 = 64 << 10;
/// Largest `p2p.latency_ms`: a minute is already far beyond any view timeout.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// A node's settings, with paths resolved against the directory of the file they were read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    /// The directory holding `bls.key` and `p2p.key` (default `keys`).
    pub keys_dir: PathBuf,
    /// The network file (default `network.toml`).
    pub network: PathBuf,
    /// Where the node keeps its database (default `data`).
    pub data_dir: PathBuf,
    /// The engine backend (default `auto`).
    pub backend: BackendChoice,
    /// The libp2p listen address (`p2p.listen`, default `/ip4/0.0.0.0/tcp/9000`).
    pub p2p_listen: Multiaddr,
    /// A delay every message this node sends waits before it leaves, through libp2p or the CDN (`p2p.latency_ms`,
    /// default 0). A drill setting: it stands in for a wide-area network where the machine offers no traffic
    /// shaping (`crema devnet --latency-ms`).
    pub p2p_latency_ms: u64,
    /// The HTTP API's address (`api.listen`, default `127.0.0.1:8000`).
    pub api_listen: SocketAddr,
    /// Largest HTTP request body (`api.max_body_bytes`, default 1 MiB).
    pub api_max_body_bytes: usize,
    /// Decided blocks whose shares and payloads are kept (`storage.retain_blocks`, default 10 000).
    pub retain_blocks: u64,
    /// The database's page cache in bytes (`storage.cache_bytes`, default 32 MiB). Payloads are written once and
    /// read rarely, so a large cache only grows the process: redb's own default, 1 GiB, made every node of a
    /// devnet fault in fresh memory for each block it stored.
    pub store_cache_bytes: usize,
    /// Mempool capacity in bytes (`mempool.max_bytes`, default 64 MiB).
    pub mempool_max_bytes: usize,
    /// Mempool capacity in transactions (`mempool.max_txs`, default 100 000).
    pub mempool_max_txs: usize,
    /// Cocoa brokers (`cdn.brokers`, `host:port`, default none: libp2p only). The node logs in to
    /// `brokers[index % len]` first and moves to the next when it is lost.
    pub cdn_brokers: Vec<String>,
    /// Bytes queued for the broker before sends fall back to libp2p (`cdn.queue_bytes`, default 64 MiB).
    pub cdn_queue_bytes: usize,
}

impl Default for NodeConfig {
    /// The documented defaults (the module's example file).
    fn default() -> Self {
        NodeConfig {
            keys_dir: "keys".into(),
            network: "network.toml".into(),
            data_dir: "data".into(),
            backend: BackendChoice::Auto,
            p2p_listen: addr::tcp_multiaddr("0.0.0.0", 9000).expect("a literal IPv4 address and port"),
            p2p_latency_ms: 0,
            api_listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            api_max_body_bytes: 1 << 20,
            retain_blocks: 10_000,
            store_cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
            mempool_max_bytes: 64 << 20,
            mempool_max_txs: 100_000,
            cdn_brokers: Vec::new(),
            cdn_queue_bytes: 64 << 20,
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    keys_dir: Option<PathBuf>,
    network: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    backend: Option<String>,
    p2p: RawP2p,
    api: RawApi,
    storage: RawStorage,
    mempool: RawMempool,
    cdn: RawCdn,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawCdn {
    brokers: Option<Vec<String>>,
    queue_bytes: Option<usize>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawP2p {
    listen: Option<String>,
    latency_ms: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawApi {
    listen: Option<String>,
    max_body_bytes: Option<usize>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawStorage {
    retain_blocks: Option<u64>,
    cache_bytes: Option<usize>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawMempool {
    max_bytes: Option<usize>,
    max_txs: Option<usize>,
}

impl NodeConfig {
    /// Reads `path`, applies the defaults and resolves relative paths against its directory.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(path, &toml_file::read_limited(path, MAX_FILE_BYTES)?)
    }

    /// Validates the text of a `node.toml` found at `file` (which names it in errors and anchors relative paths).
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml_file::parse(file, text)?;
        let d = NodeConfig::default();
        let base = file.parent().unwrap_or(Path::new(""));
        let bad = |key: &str, reason: String| ConfigError::invalid(file, key, reason);
        let path = |key: &str, value: Option<PathBuf>, default: PathBuf| -> Result<PathBuf, ConfigError> {
            let p = value.unwrap_or(default);
            if p.as_os_str().is_empty() {
                return Err(bad(key, "empty path".into()));
            }
            Ok(base.join(p))
        };
        let at_least_one = |key: &str, value: Option<u64>, default: u64| match value.unwrap_or(default) {
            0 => Err(bad(key, "must be at least 1".into())),
            v => Ok(v),
        };
        let at_least_one_usize = |key: &str, value: Option<usize>, default: usize| {
            // usize -> u64 is lossless on every supported target, and back again for values that came from usize.
            at_least_one(key, value.map(|v| v as u64), default as u64).map(|v| v as usize)
        };
        let backend = match raw.backend {
            None => d.backend,
            Some(b) => b
                .parse()
                .map_err(|_| bad("backend", format!("unknown backend {b:?}: expected auto, cpu, gpu or reference")))?,
        };
        let p2p_listen = match raw.p2p.listen {
            None => d.p2p_listen,
            Some(a) => addr::listenable(&a).map_err(|r| bad("p2p.listen", r))?,
        };
        let p2p_latency_ms = match raw.p2p.latency_ms.unwrap_or(d.p2p_latency_ms) {
            ms if ms > MAX_LATENCY_MS => return Err(bad("p2p.latency_ms", format!("{ms} is over {MAX_LATENCY_MS}"))),
            ms => ms,
        };
        let api_listen = match raw.api.listen {
            None => d.api_listen,
            Some(a) => a.parse().map_err(|_| bad("api.listen", format!("invalid socket address {a:?}")))?,
        };
        let cdn_brokers = raw.cdn.brokers.unwrap_or_default();
        for b in &cdn_brokers {
            addr::host_port(b).map_err(|r| bad("cdn.brokers", r))?;
        }
        Ok(NodeConfig {
            keys_dir: path("keys_dir", raw.keys_dir, d.keys_dir)?,
            network: path("network", raw.network, d.network)?,
            data_dir: path("data_dir", raw.data_dir, d.data_dir)?,
            backend,
            p2p_listen,
            p2p_latency_ms,
            api_listen,
            api_max_body_bytes: at_least_one_usize("api.max_body_bytes", raw.api.max_body_bytes, d.api_max_body_bytes)?,
            retain_blocks: at_least_one("storage.retain_blocks", raw.storage.retain_blocks, d.retain_blocks)?,
            store_cache_bytes: at_least_one_usize("storage.cache_bytes", raw.storage.cache_bytes, d.store_cache_bytes)?,
            mempool_max_bytes: at_least_one_usize("mempool.max_bytes", raw.mempool.max_bytes, d.mempool_max_bytes)?,
            mempool_max_txs: at_least_one_usize("mempool.max_txs", raw.mempool.max_txs, d.mempool_max_txs)?,
            cdn_brokers,
            cdn_queue_bytes: at_least_one_usize("cdn.queue_bytes", raw.cdn.queue_bytes, d.cdn_queue_bytes)?,
        })
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        Ok(write_atomic(path, self.to_toml().as_bytes())?)
    }

    /// The file's text with every key written out and commented; paths are written as they are held (relative
    /// ones stay relative to the file's directory).
    pub fn to_toml(&self) -> String {
        format!(
            "# Crema node configuration. Relative paths are relative to this file's directory.\n\
             keys_dir = {}        # bls.key and p2p.key\n\
             network = {}         # the network file, identical on every node\n\
             data_dir = {}        # the database: data_dir/crema.redb (shares and payloads in crema.redb.blobs/)\n\
             backend = {}         # engine backend: auto, cpu, gpu or reference\n\
             \n\
             [p2p]\n\
             listen = {}\n\
             latency_ms = {}      # fault drills only: every message sent waits this long first\n\
             \n\
             [api]\n\
             listen = {}\n\
             max_body_bytes = {}\n\
             \n\
             [storage]\n\
             retain_blocks = {}     # shares and DA payloads of the last N decided blocks; headers are kept forever\n\
             cache_bytes = {}       # the database's page cache\n\
             \n\
             [mempool]\n\
             max_bytes = {}\n\
             max_txs = {}\n\
             \n\
             [cdn]\n\
             brokers = [{}]     # Cocoa brokers, \"host:port\"; empty: libp2p only\n\
             queue_bytes = {}\n",
            quote(&self.keys_dir.to_string_lossy()),
            quote(&self.network.to_string_lossy()),
            quote(&self.data_dir.to_string_lossy()),
            quote(self.backend.as_str()),
            quote(&self.p2p_listen.to_string()),
            self.p2p_latency_ms,
            quote(&self.api_listen.to_string()),
            self.api_max_body_bytes,
            self.retain_blocks,
            self.store_cache_bytes,
            self.mempool_max_bytes,
            self.mempool_max_txs,
            self.cdn_brokers.iter().map(|b| quote(b)).collect::<Vec<_>>().join(", "),
            self.cdn_queue_bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_takes_every_default_with_paths_beside_it() {
        let c = NodeConfig::parse(Path::new("/etc/crema/node.toml"), "").unwrap();
        let d = NodeConfig::default();
        assert_eq!(c.keys_dir, Path::new("/etc/crema/keys"));
        assert_eq!(c.network, Path::new("/etc/crema/network.toml"));
        assert_eq!(c.data_dir, Path::new("/etc/crema/data"));
        assert_eq!(
            NodeConfig { keys_dir: d.keys_dir.clone(), network: d.network.clone(), data_dir: d.data_dir.clone(), ..c },
            d
        );
    }

    #[test]
    fn to_toml_reads_back_equal() {
        let c = NodeConfig {
            keys_dir: "/abs/keys".into(),
            network: "../network.toml".into(),
            backend: BackendChoice::Cpu,
            api_listen: "[::1]:81".parse().unwrap(),
            retain_blocks: 7,
            cdn_brokers: vec!["127.0.0.1:7000".into(), "cdn.example:7001".into()],
            p2p_latency_ms: 50,
            ..NodeConfig::default()
        };
        let back = NodeConfig::parse(Path::new("/n/node.toml"), &c.to_toml()).unwrap();
        assert_eq!(back.keys_dir, Path::new("/abs/keys"), "absolute paths stay");
        assert_eq!(back.network, Path::new("/n/../network.toml"));
        assert_eq!(
            NodeConfig {
                keys_dir: c.keys_dir.clone(),
                network: c.network.clone(),
                data_dir: c.data_dir.clone(),
                ..back
            },
            c
        );
    }

    #[test]
    fn latency_is_a_bounded_drill_setting() {
        let file = Path::new("/n/node.toml");
        assert_eq!(NodeConfig::parse(file, "[p2p]\nlatency_ms = 50\n").unwrap().p2p_latency_ms, 50);
        let err = NodeConfig::parse(file, "[p2p]\nlatency_ms = 60001\n").unwrap_err().to_string();
        assert!(err.contains("p2p.latency_ms") && err.contains("60001"), "{err}");
    }
}

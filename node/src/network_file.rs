//! `network.toml`: what every node of a network must agree on — the consensus and VID parameters and the stake
//! table — identical on every node (`crema init` writes it).
//!
//! ```toml
//! [params]
//! view_timeout_ms = 2000        # base view timer (1 ..= 600000)
//! max_block_bytes = 1048576     # largest block payload (1 ..= 1 GiB)
//! vid_scheme = "avidm"          # or "kzg"
//! vid_threshold = "1/3"         # recovery threshold as a fraction of total stake (kzg: at least 1/2)
//!
//! [[node]]                      # one per node, in node-index order (index = position)
//! bls_key = "<96 hex: compressed G1 public key>"
//! pop = "<192 hex: proof of possession, BLS signature>"
//! peer_id = "12D3KooW..."       # libp2p PeerId (ed25519)
//! binding = "<192 hex>"         # BLS signature by bls_key over b"crema/peer-binding/v1" || peer_id bytes
//! stake = 1                     # >= 1; the total is at most 65535 (stakes are VID share units)
//! da_member = true              # in the DA committee (Mascarpone)
//! p2p = "/ip4/127.0.0.1/tcp/9000"   # where peers dial it: /ip4|ip6|dns/HOST/tcp/PORT
//! api = "127.0.0.1:8000"        # optional, informational (devnet, tooling)
//! ```
//!
//! [`NetworkFile::read`] checks everything before a node relies on it: every key decodes (BLS keys with the
//! subgroup check), every proof of possession and every peer binding verifies (so a PeerId stands for exactly one
//! BLS key), no BLS key, PeerId or p2p address appears twice, there is at least one node and one DA member, the
//! stakes are valid VID share units and the threshold suits the scheme. Each error names the entry and the field:
//! `network.toml: node[3].binding: does not verify for peer_id 12D3...`.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use crema_engine::bls::{self, PUBLIC_KEY_BYTES, PublicKey, SIGNATURE_BYTES, Signature};
use crema_engine::stake::{Fraction, MAX_ENTRIES, StakeTable};
use crema_engine::vid::{SchemeKind, Weights};
use libp2p::{Multiaddr, PeerId};
use rayon::prelude::*;
use serde::Deserialize;

use crate::addr;
use crate::atomic_write::write_atomic;
use crate::consensus::{self, NodeId, VidParams};
use crate::keys::binding_message;
pub use crate::toml_file::ConfigError;
use crate::toml_file::{self, quote};

/// Largest `network.toml` read: 65 535 entries of about 600 bytes fit well below it.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Longest base view timer accepted, in milliseconds (ten minutes).
pub const MAX_VIEW_TIMEOUT_MS: u64 = 600_000;
/// Largest block payload a network may allow.
pub const MAX_BLOCK_BYTES: u64 = 1 << 30;

/// One node's entry in the stake table, decoded and verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeEntry {
    /// The BLS public key (its position in the table is the node's [`NodeId`]).
    pub bls_key: PublicKey,
    /// Proof of possession of `bls_key`.
    pub pop: Signature,
    /// The libp2p identity the node connects with.
    pub peer_id: PeerId,
    /// `bls_key`'s signature over [`binding_message`]`(peer_id)`.
    pub binding: Signature,
    /// Consensus stake, also the node's VID share units (at least 1).
    pub stake: u64,
    /// Whether the node is in the DA committee (it then weighs `stake` there too).
    pub da_member: bool,
    /// Where peers dial the node.
    pub p2p: Multiaddr,
    /// The node's HTTP API (`host:port`), for tooling; nodes do not use it.
    pub api: Option<String>,
}

/// The network-wide parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkParams {
    /// The base view timer, in milliseconds.
    pub view_timeout_ms: u64,
    /// Largest block payload, in bytes.
    pub max_block_bytes: u64,
    /// The VID scheme and recovery threshold every block is dispersed with.
    pub vid: VidParams,
}

/// A validated `network.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkFile {
    /// The network-wide parameters.
    pub params: NetworkParams,
    /// The stake table; a node's index here is its [`NodeId`].
    pub nodes: Vec<NodeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    params: RawParams,
    #[serde(default, rename = "node")]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    view_timeout_ms: u64,
    max_block_bytes: u64,
    vid_scheme: String,
    vid_threshold: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    bls_key: String,
    pop: String,
    peer_id: String,
    binding: String,
    stake: u64,
    da_member: bool,
    p2p: String,
    api: Option<String>,
}

impl NetworkFile {
    /// Reads and validates `path`; every error names the file, the entry and the field.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(path, &toml_file::read_limited(path, MAX_FILE_BYTES)?)
    }

    /// Validates the text of a `network.toml`; `file` names it in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: RawNetwork = toml_file::parse(file, text)?;
        let params = raw.params.check(file)?;
        if raw.nodes.is_empty() {
            return Err(ConfigError::invalid(file, "node", "no [[node]] entry: the stake table is empty"));
        }
        if raw.nodes.len() > MAX_ENTRIES {
            let reason = format!("{} entries, at most {MAX_ENTRIES}", raw.nodes.len());
            return Err(ConfigError::invalid(file, "node", reason));
        }
        // Each entry costs two pairing checks: verify in parallel, then report the first bad entry by index so the
        // error does not depend on scheduling.
        let checked: Vec<Result<NodeEntry, ConfigError>> =
            raw.nodes.par_iter().enumerate().map(|(i, n)| n.check(file, i)).collect();
        let nodes = checked.into_iter().collect::<Result<Vec<_>, _>>()?;
        check_table(file, &nodes)?;
        Ok(NetworkFile { params, nodes })
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<(), ConfigError> {
        Ok(write_atomic(path, self.to_toml().as_bytes())?)
    }

    /// The file's text, commented; [`NetworkFile::parse`] reads it back to an equal value.
    pub fn to_toml(&self) -> String {
        let p = &self.params;
        let mut s = format!(
            "# Crema network file: identical on every node. A node's index is the position of its [[node]] entry.\n\
             \n\
             [params]\n\
             view_timeout_ms = {}        # base view timer, doubled per failed view up to a cap\n\
             max_block_bytes = {}        # largest block payload\n\
             vid_scheme = {}             # avidm or kzg\n\
             vid_threshold = {}          # recovery threshold, a fraction of the total stake (kzg: at least 1/2)\n",
            p.view_timeout_ms,
            p.max_block_bytes,
            quote(p.vid.scheme.name()),
            quote(&p.vid.threshold.to_string()),
        );
        for (i, n) in self.nodes.iter().enumerate() {
            s.push_str(&format!("\n# node {i}\n"));
            s.push_str(&n.to_toml());
        }
        s
    }

    /// The consensus configuration: the stake table, the DA committee (a member weighs its stake, others 0), the
    /// VID parameters, the block size limit and the base view timer.
    pub fn consensus_config(&self) -> consensus::Config {
        let stakes = self.nodes.iter().map(|n| n.stake).collect();
        let da = self.nodes.iter().map(|n| if n.da_member { n.stake } else { 0 }).collect();
        // `read` checked both tables (entries, non-zero stakes, a DA member, a total that fits); a NetworkFile
        // changed afterwards so that they no longer hold is a bug of the code that changed it.
        let table = StakeTable::new(stakes).expect("network.toml's stake table was validated on read");
        let da_table = StakeTable::new(da).expect("network.toml's DA committee was validated on read");
        let mut config = consensus::Config::new(table, self.params.view_timeout_ms);
        config.da_table = da_table;
        config.vid = self.params.vid;
        config.max_block_bytes = self.params.max_block_bytes;
        config
    }

    /// The BLS public keys by [`NodeId`] (what the certificate verifier takes).
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.nodes.iter().map(|n| n.bls_key).collect()
    }

    /// The index of the node with BLS key `pk`.
    pub fn index_of(&self, pk: &PublicKey) -> Option<NodeId> {
        // At most MAX_ENTRIES (= u16::MAX) entries, checked on read, so a position fits a NodeId.
        self.nodes.iter().position(|n| n.bls_key == *pk).and_then(|i| NodeId::try_from(i).ok())
    }

    /// Every node's index, PeerId and dial address (this node's own included).
    pub fn peers(&self) -> Vec<(NodeId, PeerId, Multiaddr)> {
        (0..=NodeId::MAX).zip(&self.nodes).map(|(i, n)| (i, n.peer_id, n.p2p.clone())).collect()
    }
}

impl NodeEntry {
    /// The entry as a `[[node]]` table of `network.toml` (what `crema keygen` prints).
    pub fn to_toml(&self) -> String {
        let mut s = format!(
            "[[node]]\n\
             bls_key = {}\n\
             pop = {}\n\
             peer_id = {}\n\
             binding = {}\n\
             stake = {}\n\
             da_member = {}\n\
             p2p = {}\n",
            quote(&hex::encode(self.bls_key.to_bytes())),
            quote(&hex::encode(self.pop.to_bytes())),
            quote(&self.peer_id.to_string()),
            quote(&hex::encode(self.binding.to_bytes())),
            self.stake,
            self.da_member,
            quote(&self.p2p.to_string()),
        );
        if let Some(api) = &self.api {
            s.push_str(&format!("api = {}\n", quote(api)));
        }
        s
    }
}

impl NetworkParams {
    /// Checks the parameters: a view timer in 1..=[`MAX_VIEW_TIMEOUT_MS`], a block size in
    /// 1..=[`MAX_BLOCK_BYTES`], a threshold the scheme supports. The error names the `[params]` key at fault.
    pub fn new(view_timeout_ms: u64, max_block_bytes: u64, vid: VidParams) -> Result<Self, (&'static str, String)> {
        if !(1..=MAX_VIEW_TIMEOUT_MS).contains(&view_timeout_ms) {
            return Err(("view_timeout_ms", format!("{view_timeout_ms} is not in 1..={MAX_VIEW_TIMEOUT_MS}")));
        }
        if !(1..=MAX_BLOCK_BYTES).contains(&max_block_bytes) {
            return Err(("max_block_bytes", format!("{max_block_bytes} is not in 1..={MAX_BLOCK_BYTES}")));
        }
        vid.scheme.check_threshold(vid.threshold).map_err(|e| ("vid_threshold", e.to_string()))?;
        Ok(NetworkParams { view_timeout_ms, max_block_bytes, vid })
    }
}

impl RawParams {
    fn check(&self, file: &Path) -> Result<NetworkParams, ConfigError> {
        let bad = |key: &str, reason: String| ConfigError::invalid(file, format!("params.{key}"), reason);
        let scheme = SchemeKind::from_str(&self.vid_scheme).map_err(|e| bad("vid_scheme", e.to_string()))?;
        let threshold = Fraction::from_str(&self.vid_threshold).map_err(|e| bad("vid_threshold", e.to_string()))?;
        NetworkParams::new(self.view_timeout_ms, self.max_block_bytes, VidParams { scheme, threshold })
            .map_err(|(key, reason)| bad(key, reason))
    }
}

impl RawNode {
    /// Decodes entry `i` and verifies its proof of possession and peer binding.
    fn check(&self, file: &Path, i: usize) -> Result<NodeEntry, ConfigError> {
        let bad = |field: &str, reason: String| ConfigError::invalid(file, format!("node[{i}].{field}"), reason);
        let bls_key = from_hex(&self.bls_key, PUBLIC_KEY_BYTES)
            .and_then(|b| PublicKey::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|r| bad("bls_key", r))?;
        let pop = signature(&self.pop).map_err(|r| bad("pop", r))?;
        let peer_id = PeerId::from_str(&self.peer_id)
            .map_err(|e| bad("peer_id", format!("invalid PeerId {:?}: {e}", self.peer_id)))?;
        let binding = signature(&self.binding).map_err(|r| bad("binding", r))?;
        if self.stake == 0 {
            return Err(bad("stake", "must be at least 1".into()));
        }
        let p2p = addr::dialable(&self.p2p, Some(&peer_id)).map_err(|r| bad("p2p", r))?;
        if let Some(api) = &self.api {
            addr::host_port(api).map_err(|r| bad("api", r))?;
        }
        // Verification returns Err only if hashing to the curve fails, which fixed DSTs rule out; count it as
        // "does not verify" all the same.
        if !bls::pop_verify(&bls_key, &pop).unwrap_or(false) {
            return Err(bad("pop", "does not verify for bls_key (not a proof of possession of this key)".into()));
        }
        if !bls::verify(&bls_key, &binding_message(&peer_id), &binding).unwrap_or(false) {
            return Err(bad("binding", format!("does not verify for peer_id {peer_id} under bls_key")));
        }
        Ok(NodeEntry {
            bls_key,
            pop,
            peer_id,
            binding,
            stake: self.stake,
            da_member: self.da_member,
            p2p,
            api: self.api.clone(),
        })
    }
}

/// The checks across entries: no key, PeerId or address twice; valid VID units; a DA committee.
fn check_table(file: &Path, nodes: &[NodeEntry]) -> Result<(), ConfigError> {
    let mut keys = HashMap::new();
    let mut peers = HashMap::new();
    let mut addrs = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let dup = |field: &str, first: usize| {
            ConfigError::invalid(file, format!("node[{i}].{field}"), format!("same as node[{first}].{field}"))
        };
        if let Some(first) = keys.insert(n.bls_key, i) {
            return Err(dup("bls_key", first));
        }
        if let Some(first) = peers.insert(n.peer_id, i) {
            return Err(dup("peer_id", first));
        }
        if let Some(first) = addrs.insert(&n.p2p, i) {
            return Err(dup("p2p", first));
        }
    }
    let units = StakeTable::new(nodes.iter().map(|n| n.stake).collect()).map_err(|e| e.to_string()).and_then(|t| {
        Weights::from_stake(t).map_err(|e| format!("{e} (stakes are VID share units: the total is at most 65535)"))
    });
    units.map_err(|r| ConfigError::invalid(file, "node[*].stake", r))?;
    if !nodes.iter().any(|n| n.da_member) {
        return Err(ConfigError::invalid(file, "node[*].da_member", "no node is a DA member: the committee is empty"));
    }
    Ok(())
}

fn from_hex(text: &str, bytes: usize) -> Result<Vec<u8>, String> {
    if text.len() != 2 * bytes {
        return Err(format!("expected {} hex characters ({bytes} bytes), found {}", 2 * bytes, text.len()));
    }
    hex::decode(text).map_err(|e| format!("not hex: {e}"))
}

fn signature(text: &str) -> Result<Signature, String> {
    from_hex(text, SIGNATURE_BYTES).and_then(|b| Signature::from_slice(&b).map_err(|e| e.to_string()))
}

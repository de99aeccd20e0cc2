//! Everything a node loads before it starts, in one call: its `node.toml`, the `network.toml` it names, its keys,
//! and its index in the stake table. `crema check` runs exactly this; the node runtime starts from its result.

use std::path::Path;

use crate::config::{ConfigError, NodeConfig};
use crate::consensus::NodeId;
use crate::keys::{KeyError, NodeKeys};
use crate::network_file::NetworkFile;

/// Why a node's files do not make a runnable node.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `node.toml` or `network.toml` is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The keys are missing, invalid or not in the stake table.
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// A node's configuration, network, keys and index, all checked against each other.
#[derive(Debug)]
pub struct NodeSetup {
    /// `node.toml`, paths resolved.
    pub config: NodeConfig,
    /// The network file `config.network` names.
    pub network: NetworkFile,
    /// The node's keys from `config.keys_dir`.
    pub keys: NodeKeys,
    /// The node's index: the position of its BLS key in the stake table (whose entry lists its PeerId).
    pub me: NodeId,
}

impl NodeSetup {
    /// Loads `node.toml` at `config_path`, then the network file and keys it names, and finds the node's index.
    pub fn load(config_path: &Path) -> Result<Self, SetupError> {
        let config = NodeConfig::read(config_path)?;
        let network = NetworkFile::read(&config.network)?;
        let keys = NodeKeys::read(&config.keys_dir)?;
        let me = keys.index_in(&network)?;
        Ok(NodeSetup { config, network, keys, me })
    }
}

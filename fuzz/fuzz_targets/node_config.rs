//! The node's configuration files on arbitrary UTF-8: `node.toml` (`NodeConfig::parse`) and
//! `network.toml` (`NetworkFile::parse`) return a value or a typed error, never panic; a value
//! written back with `to_toml` parses to itself.
#![no_main]

use std::path::Path;

use crema_node::config::NodeConfig;
use crema_node::network_file::NetworkFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = Path::new("fuzz.toml");
    if let Ok(config) = NodeConfig::parse(file, text) {
        match NodeConfig::parse(file, &config.to_toml()) {
            Ok(again) => assert_eq!(again, config, "node.toml written back:\n{}", config.to_toml()),
            Err(e) => panic!("node.toml written back does not parse: {e}\n{}", config.to_toml()),
        }
    }
    if let Ok(network) = NetworkFile::parse(file, text) {
        match NetworkFile::parse(file, &network.to_toml()) {
            Ok(again) => assert_eq!(again, network, "network.toml written back:\n{}", network.to_toml()),
            Err(e) => panic!("network.toml written back does not parse: {e}\n{}", network.to_toml()),
        }
    }
});

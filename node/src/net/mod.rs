//! Networks that drive consensus nodes. [`network::Network`] is the transport trait; `memory` is the
//! deterministic, fault-injecting simulator that implements it; `byzantine` its adversarial roles (and the untrusted
//! relay), `checker` the properties judged after every run, `scenario` the named set-ups. `p2p` is the libp2p
//! transport of a real node.

pub mod byzantine;
pub mod checker;
pub mod cocoa;
pub mod memory;
pub mod network;
pub mod p2p;
pub mod scenario;
pub mod sweep;
pub mod transport;

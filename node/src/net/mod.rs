//! Networks that drive consensus nodes. [`network::Network`] is the transport trait; `memory` is the
//! deterministic, fault-injecting simulator that implements it; `byzantine` its adversarial roles (and the untrusted
//! relay), `checker` the properties judged after every run, `scenario` the named set-ups.

pub mod byzantine;
pub mod checker;
pub mod memory;
pub mod network;
pub mod scenario;
pub mod sweep;

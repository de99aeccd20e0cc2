//! Networks that drive consensus nodes. `memory` is the deterministic, fault-injecting simulator; `byzantine`
//! its adversarial roles, `checker` the properties judged after every run, `scenario` the named set-ups.

pub mod byzantine;
pub mod checker;
pub mod memory;
pub mod scenario;
pub mod sweep;

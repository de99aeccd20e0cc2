//! Cocoa, Tiramisu's untrusted CDN: the `crema cdn` broker and the protocol nodes speak to it.
//!
//! The leader uploads a block once and the broker fans it out, so the leader's egress per block is one block plus
//! its shares, not one block per node. The broker is never trusted: it authenticates who *connects* (a BLS login
//! against the stake table) but vouches for no message; nodes verify everything it delivers exactly as they verify
//! a peer's message, and fall back to libp2p when it is down, slow or lying.
//!
//! - `frame.rs`: the length-prefixed frames between nodes and brokers, and between brokers.
//! - `login.rs`: the login signature and the cache keys.

pub mod frame;
pub mod login;

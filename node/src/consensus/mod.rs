//! HotShot-style consensus (HotStuff-2 with proof of stake, gated on data availability) as a pure state machine.
//!
//! A [`Node`] is an event transducer: [`Node::handle`] takes one [`Input`] (a verified message, a timer expiry, a
//! block the runtime built, or the runtime's answer to a data check) and returns the [`Action`]s to carry out in
//! order (send, broadcast, set a timer, persist, decide, build a block, check data, serve a share or a range,
//! evidence). It has no I/O, no clock and no randomness, so the simulator in `crate::net::memory` can drive many
//! nodes through adversarial schedules reproducibly, and script tests can check one handler at a time.
//!
//! Per view `v` with leader `L(v)` (stake-weighted, [`Membership::leader`]): `L(v)` asks its runtime to build a
//! block ([`Action::BuildBlock`]); the runtime fills it from its mempool, disperses it with the engine off the
//! state-machine thread and answers [`Input::BlockReady`]. `L(v)` then sends the signed payload to the DA committee,
//! each node its VID share, and broadcasts the signed proposal justified by a QC for view `v - 1` (or by a TC).
//! Committee members recompute the commitment from the payload and DA-vote; `L(v)` broadcasts the DA certificate.
//! A node votes for the proposal once it holds the DA certificate, its own verified VID share, and the safety rule
//! allows it; votes go to `L(v + 1)`, which forms the QC and proposes. The commit and voting rules are documented
//! in [`safety`].
//!
//! Trust: the core never knows where bytes came from. Every message passes [`verify::MessageVerifier`] first (the
//! runtime runs it on a worker pool), which checks every signature and certificate against the stake table;
//! the core accepts only [`verify::Verified`] messages. Data is keyed by (view, commitment): a share or a payload
//! is accepted when it verifies against a commitment the leader signed, from whichever peer or relay it came.
//! Messages have one canonical encoding ([`wire`]), and lagging nodes catch up by range sync of decided headers
//! with their QCs (`catch_up.rs`).
//!
//! Certificates sit behind [`CertScheme`]: [`MacScheme`] (keyed BLAKE3, for fast simulation; forgery is still
//! detected) and [`BlsScheme`] (crema-engine's BLS: signer bitmap plus one aggregate signature, checked with
//! FastAggregateVerify). Timeout certificates keep one signature per signer, since each signs its own high-QC
//! view; aggregating them (AggregateVerify over distinct messages) is left for later.

pub mod bls;
mod catch_up;
pub mod certificate;
mod da_vote;
pub mod leader;
pub mod mac;
mod proposal;
mod quorum_vote;
pub mod safety;
pub mod state;
mod timeout;
pub mod types;
pub mod verify;
mod vid_share;
pub mod wire;

pub use bls::BlsScheme;
pub use catch_up::SYNC_GAP;
pub use certificate::{CertError, CertScheme, SimScheme};
pub use crema_engine::stake::StakeTable;
pub use leader::Membership;
pub use mac::{MacScheme, mac_keys};
pub use safety::{CommitRule, VoteRule};
pub use state::{Config, Node, NodeStats};
pub use types::*;
pub use verify::{IngestError, MessageVerifier, Reject, Verified};
pub use vid_share::MAX_HELD_PER_VIEW;
pub use wire::WireLimits;

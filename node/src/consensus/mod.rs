//! HotShot-style consensus (HotStuff-2 with proof of stake, gated on data availability) as a pure state machine.
//!
//! A [`Node`] is an event transducer: [`Node::handle`] takes one [`Input`] (a message, a timer expiry, or the
//! engine's answer to a data check) and returns the [`Action`]s to carry out in order (send, broadcast, set timer,
//! persist, decide, request data, evidence). It has no I/O, no clock and no randomness, so the simulator in
//! `crate::net::memory` can drive many nodes through adversarial schedules reproducibly, and script tests can
//! check one handler at a time.
//!
//! Per view `v` with leader `L(v)` (stake-weighted, [`StakeTable::leader`]): `L(v)` sends the payload to the DA
//! committee, each node its VID share, and broadcasts a proposal justified by a QC for view `v - 1` (or by a TC).
//! Committee members check the payload and DA-vote; `L(v)` broadcasts the DA certificate. A node votes for the
//! proposal once it holds the DA certificate, its own verified VID share, and the safety rule allows it; votes go
//! to `L(v + 1)`, which forms the QC and proposes. The commit and voting rules are documented in [`safety`].
//!
//! Certificates sit behind [`CertScheme`]: [`MacScheme`] (keyed BLAKE3, for fast simulation; forgery is still
//! detected) and [`BlsScheme`] (crema-engine's BLS: signer bitmap plus one aggregate signature, checked with
//! FastAggregateVerify). Timeout certificates keep one signature per signer, since each signs its own high-QC
//! view; aggregating them (AggregateVerify over distinct messages) is left for later.

pub mod bls;
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
pub mod vid_model;
mod vid_share;

pub use bls::BlsScheme;
pub use certificate::{CertError, CertScheme, SimScheme};
pub use crema_engine::stake::StakeTable;
pub use leader::Membership;
pub use mac::{MacScheme, mac_keys};
pub use safety::{CommitRule, VoteRule};
pub use state::{Config, Node, NodeStats, Reject};
pub use types::*;

//! The node's transport: libp2p always, and Cocoa (the CDN broker) when configured, behind one sending handle.
//!
//! The rule (DESIGN §5): small messages go both ways at once — the receiver drops the second copy by digest — so a
//! dead or lying broker costs nothing on them; bulk data (a block for the DA committee, the VID shares) goes to the
//! broker first, so the leader uploads it once, and over libp2p when the broker is not connected. The caller arms
//! the other fallback (no DA certificate in time: see `runtime::shared`). Other bulk messages — answers to share,
//! fetch and sync requests — are point-to-point replies and go over libp2p. A message for this node itself is
//! always delivered locally by libp2p.

use std::sync::Arc;

use super::cocoa::CocoaHandle;
use super::network::{Class, NetError, Outbound};
use super::p2p::P2pSender;
use crate::cdn::frame::{CacheKey, Topic};
use crate::consensus::NodeId;

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// libp2p only.
    P2p,
    /// The broker (and, for small messages, libp2p too).
    Cdn,
}

/// The sending side of the node's transport.
#[derive(Clone, Debug)]
pub struct Transport {
    p2p: P2pSender,
    cdn: Option<CocoaHandle>,
    me: NodeId,
    /// The DA committee's members, this node excluded, ascending.
    da_others: Arc<Vec<NodeId>>,
}

impl Transport {
    /// A transport over `p2p`, and `cdn` if configured; `da_members` are the DA committee's nodes.
    pub fn new(p2p: P2pSender, cdn: Option<CocoaHandle>, me: NodeId, da_members: &[NodeId]) -> Self {
        let mut da_others: Vec<NodeId> = da_members.iter().copied().filter(|&m| m != me).collect();
        da_others.sort_unstable();
        da_others.dedup();
        Transport { p2p, cdn, me, da_others: Arc::new(da_others) }
    }

    /// The latency drill (`p2p.latency_ms`): every message sent from now on, on either path, waits `delay` first
    /// (see [`P2pSender::set_latency`], [`CocoaHandle::set_latency`]).
    pub fn set_latency(&self, delay: std::time::Duration) {
        self.p2p.set_latency(delay);
        if let Some(cdn) = &self.cdn {
            cdn.set_latency(delay);
        }
    }

    /// The libp2p side.
    pub fn p2p(&self) -> &P2pSender {
        &self.p2p
    }

    /// The CDN side, if configured.
    pub fn cdn(&self) -> Option<&CocoaHandle> {
        self.cdn.as_ref()
    }

    fn live_cdn(&self) -> Option<&CocoaHandle> {
        self.cdn.as_ref().filter(|c| c.connected())
    }

    /// Sends to one node: small messages both ways, bulk ones (replies) over libp2p.
    pub fn send(&self, to: NodeId, msg: Outbound) -> Result<Path, NetError> {
        let sent = self.p2p.send(to, msg.clone());
        if msg.class == Class::Small
            && to != self.me
            && let Some(cdn) = self.live_cdn()
            && cdn.direct(&[to], None, &msg.bytes).is_ok()
        {
            return Ok(Path::Cdn);
        }
        sent.map(|()| Path::P2p)
    }

    /// Sends to every node, this one included: small messages both ways, bulk ones over libp2p.
    pub fn broadcast(&self, msg: Outbound) -> Result<Path, NetError> {
        let sent = self.p2p.broadcast(msg.clone());
        if msg.class == Class::Small
            && let Some(cdn) = self.live_cdn()
            && cdn.publish(Topic::Global, None, &msg.bytes).is_ok()
        {
            return Ok(Path::Cdn);
        }
        sent.map(|()| Path::P2p)
    }

    /// Disperses bulk data (a block, a share) to `to`: through the broker in one upload when it is connected
    /// (cached there under `key`, so nodes can fetch it later), else over libp2p to each. This node's own copy is
    /// delivered locally. Returns the path the others' copies took.
    pub fn disperse(&self, to: &[NodeId], key: CacheKey, msg: Outbound) -> Result<Path, NetError> {
        if to.contains(&self.me) {
            self.p2p.send(self.me, msg.clone())?;
        }
        let others: Vec<NodeId> = to.iter().copied().filter(|&t| t != self.me).collect();
        if others.is_empty() {
            return Ok(Path::P2p);
        }
        if let Some(cdn) = self.live_cdn() {
            let up = if others == *self.da_others {
                cdn.publish(Topic::DaCommittee, Some(key), &msg.bytes)
            } else {
                cdn.direct(&others, Some(key), &msg.bytes)
            };
            if up.is_ok() {
                return Ok(Path::Cdn);
            }
        }
        self.p2p_each(&others, msg)?;
        Ok(Path::P2p)
    }

    /// Sends `msg` to each of `to` over libp2p (the fallback for data first sent through the broker).
    pub fn p2p_each(&self, to: &[NodeId], msg: Outbound) -> Result<(), NetError> {
        let mut result = Ok(());
        for &t in to {
            if let Err(e) = self.p2p.send(t, msg.clone()) {
                result = Err(e);
            }
        }
        result
    }
}

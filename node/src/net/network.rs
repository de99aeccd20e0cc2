//! The transport abstraction every way of moving consensus messages implements: the simulator's in-memory
//! network, libp2p, and the Cocoa CDN client.
//!
//! A transport moves bytes. It never interprets them and never vouches for who sent them: what [`Network::recv`]
//! returns is decoded and verified by the receiver ([`crate::consensus::MessageVerifier::ingest`]), exactly the
//! same whichever transport (or relay) it came through. [`Outbound::class`] tells a transport how a message should
//! travel: small messages may be gossiped; bulk data (payloads, shares, header ranges) goes point to point.

use std::future::Future;
use std::sync::Arc;

use crate::consensus::NodeId;

/// How a message should travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Votes, certificates, proposals, requests: a few hundred bytes to a few kilobytes.
    Small,
    /// Block payloads, VID shares, ranges of headers: up to the maximum block size.
    Bulk,
}

/// An encoded message to send. The bytes are shared: a broadcast hands every peer the same buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// How it should travel.
    pub class: Class,
    /// The encoded message.
    pub bytes: Arc<Vec<u8>>,
}

/// Bytes a transport received, with the peer that delivered them. That peer is whoever handed the bytes over (a
/// relay, a broker, the author): it is never evidence of authorship, only whom to count a bad message against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// The node that delivered the bytes, when the transport authenticated the connection to one.
    pub via: Option<NodeId>,
    /// The bytes, unverified.
    pub bytes: Vec<u8>,
}

/// Why a transport refused to queue a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The recipient is not a node of this network.
    #[error("no node {0} in this network")]
    UnknownPeer(NodeId),
    /// The transport's queue is full: the message was dropped (and counted).
    #[error("send queue full: message dropped")]
    QueueFull,
    /// The message is larger than the transport's frame limit: it was dropped (and counted).
    #[error("message of {len} bytes exceeds the transport's limit of {max} bytes: dropped")]
    TooLarge {
        /// Bytes in the message.
        len: usize,
        /// The largest message the transport carries.
        max: usize,
    },
    /// The transport has shut down.
    #[error("the transport is closed")]
    Closed,
}

/// A transport between the nodes of one network. Sending never blocks: a full queue drops and says so.
pub trait Network {
    /// Queues `msg` for node `to`.
    fn send(&mut self, to: NodeId, msg: Outbound) -> Result<(), NetError>;

    /// Queues `msg` for every node, this one included.
    fn broadcast(&mut self, msg: Outbound) -> Result<(), NetError>;

    /// The next message received, unverified; `None` once the transport is closed.
    fn recv(&mut self) -> impl Future<Output = Option<Inbound>> + Send;
}

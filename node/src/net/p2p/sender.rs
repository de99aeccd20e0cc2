//! The cloneable sending side of the transport: any task may send or broadcast through a [`P2pSender`] without
//! holding the receiver. It checks what it can without the swarm (recipient, size) and queues a [`Command`] to the
//! swarm task; a full queue drops the message and counts it, so sending never blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{self, error::TrySendError};

use super::peers::Directory;
use super::stats::{Counters, P2pStats, bump};
use crate::consensus::NodeId;
use crate::net::network::{NetError, Outbound};

/// What the handles ask of the swarm task.
#[derive(Debug)]
pub enum Command {
    /// Deliver to one node (this one included).
    Send {
        /// The recipient.
        to: NodeId,
        /// The message.
        msg: Outbound,
    },
    /// Deliver to every node, this one included.
    Broadcast(Outbound),
}

/// A cloneable handle that sends through the transport (see [`super::P2p::sender`]).
#[derive(Clone, Debug)]
pub struct P2pSender {
    commands: mpsc::Sender<Command>,
    directory: Arc<Directory>,
    max_message_bytes: usize,
    stats: Arc<Counters>,
    latency: Arc<Latency>,
}

/// The latency drill's delay, shared by the senders (which set it) and the swarm task (which applies it).
#[derive(Debug, Default)]
pub(super) struct Latency {
    micros: AtomicU64,
}

impl Latency {
    /// The current delay.
    pub(super) fn get(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }
}

impl P2pSender {
    pub(super) fn new(
        commands: mpsc::Sender<Command>,
        directory: Arc<Directory>,
        max_message_bytes: usize,
        stats: Arc<Counters>,
        latency: Arc<Latency>,
    ) -> Self {
        P2pSender { commands, directory, max_message_bytes, stats, latency }
    }

    /// Fault drills only (`p2p.latency_ms`): from now on every message this transport sends to a peer waits
    /// `delay` in the swarm task before it leaves, as on a wide-area link. Waiting messages block nothing else,
    /// keep their order, and count against [`super::P2pConfig::queue`] (a full delay line drops and counts).
    /// Deliveries to this node itself do not wait. Zero (the default) turns the delay off.
    pub fn set_latency(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.latency.micros.store(micros, Ordering::Relaxed);
    }

    /// Queues `msg` for node `to` (pushed point to point, whatever its class; delivered locally if `to` is this
    /// node). Ok means queued, not delivered.
    pub fn send(&self, to: NodeId, msg: Outbound) -> Result<(), NetError> {
        if !self.directory.knows(to) {
            return Err(NetError::UnknownPeer(to));
        }
        self.check_size(&msg)?;
        self.queue(Command::Send { to, msg })
    }

    /// Queues `msg` for every node, this one included (small: gossip; bulk: one push per peer).
    pub fn broadcast(&self, msg: Outbound) -> Result<(), NetError> {
        self.check_size(&msg)?;
        self.queue(Command::Broadcast(msg))
    }

    /// A snapshot of the transport's counters.
    pub fn stats(&self) -> P2pStats {
        self.stats.snapshot()
    }

    fn check_size(&self, msg: &Outbound) -> Result<(), NetError> {
        let (len, max) = (msg.bytes.len(), self.max_message_bytes);
        if len > max {
            bump(&self.stats.dropped_over_size);
            tracing::warn!(len, max, "message over the frame limit dropped");
            return Err(NetError::TooLarge { len, max });
        }
        Ok(())
    }

    fn queue(&self, cmd: Command) -> Result<(), NetError> {
        match self.commands.try_send(cmd) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                bump(&self.stats.dropped_queue_full);
                Err(NetError::QueueFull)
            }
            Err(TrySendError::Closed(_)) => Err(NetError::Closed),
        }
    }
}

//! The cloneable sending side of the transport: any task may send or broadcast through a [`P2pSender`] without
//! holding the receiver. It checks what it can without the swarm (recipient, size) and queues a [`Command`] to the
//! swarm task; a full queue drops the message and counts it, so sending never blocks.

use std::sync::Arc;

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
}

impl P2pSender {
    pub(super) fn new(
        commands: mpsc::Sender<Command>,
        directory: Arc<Directory>,
        max_message_bytes: usize,
        stats: Arc<Counters>,
    ) -> Self {
        P2pSender { commands, directory, max_message_bytes, stats }
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

//! The task that owns the [`Swarm`]: it alone touches libp2p. It turns [`Command`]s into gossip publishes and
//! pushes, swarm events into [`Inbound`] messages and counters, and redials disconnected peers on a tick. Nothing
//! here awaits a consumer: the inbound queue is written with `try_send`, and a full queue drops and counts.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, TopicHash};
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{DialError, ListenError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, allow_block_list, identify};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use super::behaviour::{Behaviour, BehaviourEvent, GOSSIP_MAX_MESSAGE, IDENTIFY_VERSION, topic};
use super::codec::Frame;
use super::delay::DelayLine;
use super::dialer::Dialer;
use super::peers::Directory;
use super::sender::{Command, Latency};
use super::stats::{Counters, bump};
use crate::consensus::NodeId;
use crate::net::network::{Class, Inbound, Outbound};

/// A push waiting for its acknowledgement.
struct Pending {
    peer: PeerId,
    class: Class,
    len: usize,
}

/// A message on its way to peers (local deliveries never wait).
enum Leaving {
    /// To one peer.
    To(NodeId, Outbound),
    /// To every peer.
    All(Outbound),
}

/// Everything the swarm task owns.
pub struct EventLoop {
    /// The swarm, already listening.
    pub swarm: Swarm<Behaviour>,
    /// Commands from the handles.
    pub commands: mpsc::Receiver<Command>,
    /// Received messages, to the consumer.
    pub inbound: mpsc::Sender<Inbound>,
    /// Fires (or is dropped) when the handle shuts the transport down.
    pub shutdown: oneshot::Receiver<()>,
    /// The static peers.
    pub directory: Arc<Directory>,
    /// Shared counters.
    pub stats: Arc<Counters>,
    /// The redial schedule.
    pub dialer: Dialer,
    /// The addresses the swarm listens on, shared with the handle.
    pub listen: Arc<RwLock<Vec<Multiaddr>>>,
    /// Pushes in flight per peer before further ones to it are dropped.
    pub max_in_flight: usize,
    /// Bound on the latency drill's delay line.
    pub queue: usize,
    /// The latency drill's delay (zero: messages leave at once).
    pub latency: Arc<Latency>,
    /// How often the redial schedule is checked.
    pub tick: Duration,
    /// How long shutdown waits for pushes in flight.
    pub shutdown_grace: Duration,
}

/// The running loop's own state besides [`EventLoop`].
struct State {
    cfg: EventLoop,
    topic: TopicHash,
    pending: HashMap<OutboundRequestId, Pending>,
    in_flight: HashMap<PeerId, usize>,
    /// Messages held by the latency drill.
    delayed: DelayLine<Leaving>,
}

impl EventLoop {
    /// Runs until shutdown (or until the handle and every sender are gone), then shuts down gracefully.
    pub async fn run(self) {
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let queue = self.queue;
        let mut st = State {
            topic: topic().hash(),
            cfg: self,
            pending: HashMap::new(),
            in_flight: HashMap::new(),
            delayed: DelayLine::new(queue),
        };
        loop {
            let due = st.delayed.next_due();
            tokio::select! {
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => st.release(),
                ev = st.cfg.swarm.select_next_some() => st.on_swarm(ev),
                cmd = st.cfg.commands.recv() => match cmd {
                    Some(cmd) => st.on_command(cmd),
                    None => break,
                },
                _ = tick.tick() => st.redial(),
                _ = &mut st.cfg.shutdown => break,
            }
        }
        st.drain().await;
    }
}

impl State {
    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Send { to, msg } if to == self.cfg.directory.me() => self.deliver_local(msg),
            Command::Send { to, msg } => self.leave(Leaving::To(to, msg)),
            Command::Broadcast(msg) => {
                self.leave(Leaving::All(msg.clone()));
                self.deliver_local(msg);
            }
        }
    }

    /// Sends at once, or, under the latency drill, queues it behind the messages already waiting (while any
    /// wait, even a delay just turned off queues, so nothing overtakes them). A full line drops it and counts it.
    fn leave(&mut self, out: Leaving) {
        let delay = self.cfg.latency.get();
        if delay.is_zero() && self.delayed.is_empty() {
            return self.go(out);
        }
        if self.delayed.push(Instant::now(), delay, out).is_err() {
            bump(&self.cfg.stats.dropped_queue_full);
            tracing::debug!(waiting = self.delayed.len(), "latency drill: delay line full, message dropped");
        }
    }

    /// Sends every delayed message whose time has come.
    fn release(&mut self) {
        let now = Instant::now();
        while let Some(out) = self.delayed.pop_due(now) {
            self.go(out);
        }
    }

    fn go(&mut self, out: Leaving) {
        match out {
            Leaving::To(to, msg) => match self.cfg.directory.peer(to) {
                Some(peer) => self.push(peer, Frame { class: msg.class, bytes: msg.bytes }),
                // The sender checked the recipient; a directory never changes.
                None => tracing::error!(to, "send to an unknown node reached the swarm task"),
            },
            Leaving::All(msg) if msg.class == Class::Small && msg.bytes.len() <= GOSSIP_MAX_MESSAGE => {
                self.gossip(&msg)
            }
            Leaving::All(msg) => {
                if msg.class == Class::Small {
                    bump(&self.cfg.stats.gossip_fallbacks);
                }
                self.push_all(&msg, |_| true);
            }
        }
    }

    /// Publishes a small broadcast, and pushes it to connected peers gossip would miss: all of them if the
    /// publish fails (no subscribed peer yet, or a repeat of a message already in gossip's duplicate cache: the
    /// core repeats a message on purpose, e.g. a timeout vote after a partition), else those not yet subscribed.
    fn gossip(&mut self, msg: &Outbound) {
        let subscribed: HashSet<PeerId> = self.gossip_peers();
        let gs = &mut self.cfg.swarm.behaviour_mut().gossipsub;
        match gs.publish(self.topic.clone(), msg.bytes.as_slice().to_vec()) {
            Ok(_) => {
                self.cfg.stats.sent(Class::Small, msg.bytes.len());
                let missed = self.connected().filter(|p| !subscribed.contains(p)).count();
                if missed > 0 {
                    bump(&self.cfg.stats.gossip_fallbacks);
                    self.push_all(msg, |p| !subscribed.contains(p));
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "gossip publish failed: pushing instead");
                bump(&self.cfg.stats.gossip_fallbacks);
                self.push_all(msg, |_| true);
            }
        }
    }

    /// Pushes `msg` to every connected peer passing `filter`. A broadcast skips disconnected peers (they catch up
    /// by sync when they return); only a send to one counts as unreachable.
    fn push_all(&mut self, msg: &Outbound, filter: impl Fn(&PeerId) -> bool) {
        let peers: Vec<PeerId> = self.connected().filter(|p| filter(p)).collect();
        for peer in peers {
            self.push(peer, Frame { class: msg.class, bytes: msg.bytes.clone() });
        }
    }

    fn push(&mut self, peer: PeerId, frame: Frame) {
        if !self.cfg.swarm.is_connected(&peer) {
            bump(&self.cfg.stats.dropped_unreachable);
            tracing::debug!(%peer, "push dropped: peer not connected");
            return;
        }
        let in_flight = self.in_flight.entry(peer).or_default();
        if *in_flight >= self.cfg.max_in_flight {
            bump(&self.cfg.stats.dropped_unreachable);
            tracing::warn!(%peer, in_flight = *in_flight, "push dropped: too many in flight to this peer");
            return;
        }
        *in_flight += 1;
        let pending = Pending { peer, class: frame.class, len: frame.bytes.len() };
        let id = self.cfg.swarm.behaviour_mut().push.send_request(&peer, frame);
        self.pending.insert(id, pending);
    }

    /// A push ended: acknowledged (`ok`) or failed.
    fn push_done(&mut self, id: OutboundRequestId, ok: bool) {
        let Some(p) = self.pending.remove(&id) else { return };
        if let Some(n) = self.in_flight.get_mut(&p.peer) {
            *n = n.saturating_sub(1);
        }
        if ok {
            self.cfg.stats.sent(p.class, p.len);
        } else {
            bump(&self.cfg.stats.send_failures);
        }
    }

    fn deliver_local(&mut self, msg: Outbound) {
        let via = Some(self.cfg.directory.me());
        self.deliver(Inbound { via, bytes: Arc::unwrap_or_clone(msg.bytes) });
    }

    fn deliver(&mut self, msg: Inbound) {
        if let Err(e) = self.cfg.inbound.try_send(msg) {
            // Full: the consumer is behind. Closed: it is gone (the transport is being dropped).
            bump(&self.cfg.stats.dropped_inbound_full);
            tracing::debug!(error = %e, "inbound message dropped");
        }
    }

    fn received(&mut self, peer: &PeerId, class: Class, bytes: Vec<u8>) {
        self.cfg.stats.received(class, bytes.len());
        let via = self.cfg.directory.node(peer);
        self.deliver(Inbound { via, bytes });
    }

    fn connected(&self) -> impl Iterator<Item = PeerId> + '_ {
        let swarm = &self.cfg.swarm;
        self.cfg.directory.addrs().iter().map(|(p, _)| *p).filter(|p| swarm.is_connected(p))
    }

    fn gossip_peers(&self) -> HashSet<PeerId> {
        let gs = &self.cfg.swarm.behaviour().gossipsub;
        gs.all_peers().filter(|(_, topics)| topics.contains(&&self.topic)).map(|(p, _)| *p).collect()
    }

    fn update_gauges(&self) {
        Counters::set(&self.cfg.stats.peers_connected, self.connected().count());
        Counters::set(&self.cfg.stats.gossip_peers, self.gossip_peers().len());
    }

    fn redial(&mut self) {
        for (peer, addr) in self.cfg.dialer.due(Instant::now().into_std()) {
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.cfg.swarm.dial(opts) {
                tracing::debug!(%peer, error = %e, "dial not started");
                self.cfg.dialer.dial_failed(&peer, Instant::now().into_std());
            }
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        let now = Instant::now().into_std();
        match ev {
            SwarmEvent::Behaviour(ev) => self.on_behaviour(ev),
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                write(&self.cfg.listen).push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => write(&self.cfg.listen).retain(|a| a != &address),
            SwarmEvent::ListenerClosed { addresses, reason, .. } => {
                tracing::warn!(?addresses, ?reason, "listener closed");
                write(&self.cfg.listen).retain(|a| !addresses.contains(a));
            }
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, .. } => {
                tracing::debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "connected");
                self.cfg.dialer.connected(&peer_id, now);
                self.update_gauges();
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. } => {
                tracing::debug!(peer = %peer_id, ?cause, "connection closed");
                self.cfg.dialer.disconnected(&peer_id, num_established, now);
                self.update_gauges();
            }
            SwarmEvent::IncomingConnectionError { error, send_back_addr, peer_id, .. } => match error {
                ListenError::Denied { cause } if cause.downcast_ref::<allow_block_list::NotAllowed>().is_some() => {
                    bump(&self.cfg.stats.connections_refused);
                    tracing::info!(peer = ?peer_id, addr = %send_back_addr, "connection refused: PeerId not in the stake table");
                }
                error => tracing::debug!(addr = %send_back_addr, %error, "inbound connection failed"),
            },
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                if let DialError::WrongPeerId { obtained, .. } = &error {
                    tracing::warn!(expected = ?peer_id, %obtained, "dialled address answers with another PeerId");
                }
                if let Some(peer) = peer_id
                    && !matches!(error, DialError::DialPeerConditionFalse(_))
                {
                    tracing::debug!(%peer, %error, "dial failed");
                    self.cfg.dialer.dial_failed(&peer, now);
                }
            }
            SwarmEvent::ListenerError { error, .. } => tracing::warn!(%error, "listener error"),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Allow(never) => match never {},
            BehaviourEvent::Identify(ev) => self.on_identify(ev),
            BehaviourEvent::Gossipsub(ev) => self.on_gossip(ev),
            BehaviourEvent::Push(ev) => self.on_push(ev),
        }
    }

    fn on_identify(&mut self, ev: identify::Event) {
        if let identify::Event::Received { peer_id, info, .. } = ev {
            if info.protocol_version != IDENTIFY_VERSION {
                tracing::warn!(peer = %peer_id, version = %info.protocol_version, "peer speaks another protocol version: disconnecting");
                let _ = self.cfg.swarm.disconnect_peer_id(peer_id);
            } else {
                tracing::debug!(peer = %peer_id, agent = %info.agent_version, addrs = ?info.listen_addrs, "identified");
            }
        }
    }

    fn on_gossip(&mut self, ev: gossipsub::Event) {
        match ev {
            gossipsub::Event::Message { propagation_source, message, .. } => {
                self.received(&propagation_source, Class::Small, message.data);
            }
            gossipsub::Event::Subscribed { .. } | gossipsub::Event::Unsubscribed { .. } => self.update_gauges(),
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                tracing::warn!(peer = %peer_id, "peer does not speak gossipsub");
            }
            gossipsub::Event::SlowPeer { peer_id, failed_messages } => {
                tracing::warn!(peer = %peer_id, ?failed_messages, "gossip peer too slow: messages dropped");
            }
        }
    }

    fn on_push(&mut self, ev: request_response::Event<Frame, ()>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    if self.cfg.swarm.behaviour_mut().push.send_response(channel, ()).is_err() {
                        tracing::debug!(%peer, "ack not sent: the stream is gone");
                    }
                    self.received(&peer, request.class, Arc::unwrap_or_clone(request.bytes));
                }
                request_response::Message::Response { request_id, .. } => self.push_done(request_id, true),
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                tracing::warn!(%peer, %error, "push failed");
                self.push_done(request_id, false);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::warn!(%peer, %error, "inbound push failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Graceful shutdown: no new commands; the queued ones are handled, pushes in flight get up to the grace
    /// period to be acknowledged, then every connection is closed.
    async fn drain(mut self) {
        self.cfg.commands.close();
        while let Ok(cmd) = self.cfg.commands.try_recv() {
            self.on_command(cmd);
        }
        // Messages the latency drill holds leave now: shutdown does not wait out their delay.
        let waiting: Vec<Leaving> = self.delayed.drain().collect();
        for out in waiting {
            self.go(out);
        }
        let deadline = Instant::now() + self.cfg.shutdown_grace;
        while !self.pending.is_empty() {
            match tokio::time::timeout_at(deadline, self.cfg.swarm.select_next_some()).await {
                Ok(ev) => self.on_swarm(ev),
                Err(_) => {
                    tracing::warn!(pending = self.pending.len(), "shutdown: pushes still in flight abandoned");
                    break;
                }
            }
        }
        let peers: Vec<PeerId> = self.cfg.swarm.connected_peers().copied().collect();
        for peer in peers {
            // Err only if the peer disconnected meanwhile.
            let _ = self.cfg.swarm.disconnect_peer_id(peer);
        }
        let deadline = Instant::now() + self.cfg.shutdown_grace;
        while self.cfg.swarm.connected_peers().next().is_some() {
            match tokio::time::timeout_at(deadline, self.cfg.swarm.select_next_some()).await {
                Ok(ev) => self.on_swarm(ev),
                Err(_) => break,
            }
        }
        Counters::set(&self.cfg.stats.peers_connected, 0);
        Counters::set(&self.cfg.stats.gossip_peers, 0);
        tracing::info!("p2p transport shut down");
    }
}

/// The listen-address list, even if a panicking writer poisoned the lock (a list of addresses has no invariant
/// to break).
fn write(lock: &RwLock<Vec<Multiaddr>>) -> std::sync::RwLockWriteGuard<'_, Vec<Multiaddr>> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

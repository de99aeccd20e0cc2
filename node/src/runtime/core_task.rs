//! The core task: the one owner of the consensus [`Node`]. It feeds the node its inputs (verified messages, timer
//! expiries, engine answers) and carries out the actions, in order: a `Persist` is written and synced before any
//! later action runs, so no vote ever leaves ahead of the safety state that allows it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tokio::time::sleep_until;
use tracing::{debug, info, warn};

use super::byzantine::Misbehaviour;
use super::engine_jobs;
use super::shared::Shared;
use crate::consensus::bls::BlsKey;
use crate::consensus::{
    Action, BlsScheme, CommitProof, Equivocation, Header, Input, Membership, Message, Node, Qc, TimerKind, View,
};

/// Inputs to the core.
pub type CoreInput = Input<BlsScheme>;

/// Pending timers: one per kind, with the view it guards.
#[derive(Default)]
struct Timers {
    slots: [Option<(tokio::time::Instant, View)>; 2],
}

impl Timers {
    fn slot(kind: TimerKind) -> usize {
        match kind {
            TimerKind::View => 0,
            TimerKind::Share => 1,
        }
    }

    fn set(&mut self, kind: TimerKind, view: View, after_ms: u64) {
        self.slots[Self::slot(kind)] = Some((tokio::time::Instant::now() + Duration::from_millis(after_ms), view));
    }

    /// The next expiry, if any timer is armed.
    fn next(&self) -> Option<(tokio::time::Instant, TimerKind, View)> {
        [TimerKind::View, TimerKind::Share]
            .into_iter()
            .filter_map(|k| self.slots[Self::slot(k)].map(|(at, v)| (at, k, v)))
            .min_by_key(|(at, ..)| *at)
    }

    fn clear(&mut self, kind: TimerKind) {
        self.slots[Self::slot(kind)] = None;
    }
}

/// Drives `node` until `stop` fires; an error (the store failed) stops the node.
pub async fn drive(
    shared: Arc<Shared>,
    mut node: Node<BlsScheme>,
    mut inputs: mpsc::Receiver<CoreInput>,
    results: mpsc::Sender<CoreInput>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut timers = Timers::default();
    // The latency drill (`p2p.latency_ms`) holds every message the transport (libp2p and the CDN) sends from the
    // first one on.
    shared.net.set_latency(Duration::from_millis(shared.cfg.p2p_latency_ms));
    // `--byzantine equivocate` re-signs its second proposals with the node's own key, read again from its files.
    let equivocator = match shared.misbehave {
        Some(Misbehaviour::Equivocate) => {
            let keys = crate::keys::NodeKeys::read(&shared.cfg.keys_dir)?;
            Some(BlsKey::new(shared.me, keys.bls))
        }
        _ => None,
    };
    let mut exec = Executor { shared: shared.clone(), results, last_view: (0, Instant::now()), equivocator };
    let actions = node.start();
    exec.run(&node, actions, &mut timers).await?;
    loop {
        let next = timers.next();
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        let actions = tokio::select! {
            _ = stop.changed() => return Ok(()),
            input = inputs.recv() => match input {
                Some(input) => {
                    trace_input(&input);
                    if let Input::Message(m) = &input
                        && let Message::DaVote(v) = m.get()
                    {
                        shared.da_voted(v.view, v.voter);
                    }
                    node.handle(input)
                }
                None => anyhow::bail!("the core's input channel closed"),
            },
            _ = sleep_until(next.map_or(far, |n| n.0)) => match next {
                Some((_, kind, view)) => {
                    timers.clear(kind);
                    tracing::trace!(?kind, view, "timer");
                    node.handle(Input::Timer { kind, view })
                }
                None => continue,
            },
        };
        exec.run(&node, actions, &mut timers).await?;
    }
}

/// Carries out the core's actions.
struct Executor {
    shared: Arc<Shared>,
    results: mpsc::Sender<CoreInput>,
    /// The last view entered and when, for the view-time histogram.
    last_view: (View, Instant),
    /// The node's key when it equivocates on purpose (`--byzantine equivocate`).
    equivocator: Option<BlsKey>,
}

impl Executor {
    async fn run(
        &mut self,
        node: &Node<BlsScheme>,
        actions: Vec<Action<BlsScheme>>,
        timers: &mut Timers,
    ) -> anyhow::Result<()> {
        let mut dispersed = None;
        let mut actions = actions.into_iter().peekable();
        while let Some(action) = actions.next() {
            trace_action(&action);
            match action {
                // A block's dispersal: the same DA proposal to each committee member goes as one multicast (one
                // upload to the CDN), and each share on its own; both may go through the CDN.
                Action::Send { to, msg: msg @ (Message::DaProposal(_) | Message::VidShare(_)) } => {
                    let mut to = vec![to];
                    while let Some(Action::Send { to: next, msg: m }) = actions.peek()
                        && *m == msg
                    {
                        to.push(*next);
                        actions.next();
                    }
                    dispersed = crate::consensus::wire::view_of(&msg);
                    self.shared.disperse(&to, &msg);
                }
                Action::Send { to, msg } => self.shared.send(to, &msg),
                Action::Broadcast(msg) => {
                    if let Message::DaCertificate(c) = &msg {
                        self.shared.da_certified(c.view);
                    }
                    self.broadcast(&msg)
                }
                Action::SetTimer { kind, view, after_ms } => timers.set(kind, view, after_ms),
                Action::Persist(ps) => {
                    let store = self.shared.store.clone();
                    // Synced before the next action: a vote after this Persist must never outrun it.
                    tokio::task::spawn_blocking(move || store.put_safety(&ps)).await??;
                }
                Action::Decide { blocks, proof } => self.decide(blocks, proof).await?,
                Action::BuildBlock { view, parent } => {
                    engine_jobs::build(self.shared.clone(), view, parent, self.results.clone())
                }
                Action::RequestData(req) => engine_jobs::check(self.shared.clone(), req, self.results.clone()),
                Action::ServeShare { to, view, commitment } => {
                    engine_jobs::serve_share(self.shared.clone(), to, view, commitment)
                }
                Action::ServeSync { to, from_height } => engine_jobs::serve_sync(self.shared.clone(), to, from_height),
                Action::Evidence(e) => self.evidence(e),
            }
        }
        if let Some(view) = dispersed {
            self.shared.arm_cdn_fallback(view);
        }
        self.observe(node);
        Ok(())
    }

    /// Broadcasts `msg`, unless this node equivocates on purpose and `msg` is its own proposal: then two halves of
    /// the nodes get two different proposals.
    fn broadcast(&self, msg: &Message<BlsScheme>) {
        let n = self.shared.consensus.table.len();
        match self.equivocator.as_ref().and_then(|key| Misbehaviour::Equivocate.equivocation(key, n, msg)) {
            Some(sends) => {
                warn!(view = self.shared.status().view, "equivocating on purpose (--byzantine equivocate)");
                for (to, m) in &sends {
                    self.shared.send(*to, m);
                }
            }
            None => self.shared.broadcast(msg),
        }
    }

    /// Stores decided blocks (durably), then settles the mempool and the metrics.
    async fn decide(
        &mut self,
        blocks: Vec<(Header, Qc<BlsScheme>)>,
        proof: CommitProof<BlsScheme>,
    ) -> anyhow::Result<()> {
        let store = self.shared.store.clone();
        let stored = blocks.clone();
        tokio::task::spawn_blocking(move || store.put_decided(&stored, &proof)).await??;
        let shared = &self.shared;
        let mut proposed = shared.proposed.lock().unwrap_or_else(|e| e.into_inner());
        let mut decided_txs = Vec::new();
        let top_view = blocks.last().map_or(0, |(h, _)| h.view);
        for (h, _) in &blocks {
            shared.metrics.decided_blocks.inc();
            shared.metrics.decided_bytes.inc_by(h.payload_len);
            if h.proposer == shared.me
                && let Some(txs) = proposed.remove(&h.view)
            {
                decided_txs.extend(txs);
            }
            info!(height = h.height, view = h.view, leader = h.proposer, bytes = h.payload_len, block = %h.hash().short(), "decided");
        }
        // Our blocks of earlier views that this decision passed over will never be decided: requeue their txs.
        let abandoned: Vec<View> = proposed.keys().copied().filter(|v| *v < top_view).collect();
        drop(proposed);
        let mut mempool = shared.mempool();
        for v in abandoned {
            mempool.abandon(v);
            shared.proposed.lock().unwrap_or_else(|e| e.into_inner()).remove(&v);
        }
        mempool.decided(decided_txs.iter().copied());
        drop(mempool);
        let arrivals = {
            let mut a = shared.arrivals.lock().unwrap_or_else(|e| e.into_inner());
            decided_txs.iter().filter_map(|h| a.remove(h)).collect::<Vec<_>>()
        };
        for at in arrivals {
            shared.metrics.submit_to_decide_seconds.observe(at.elapsed().as_secs_f64());
        }
        fetch_missing_shares(shared.clone(), blocks.iter().map(|(h, _)| (h.view, h.payload_commitment)).collect());
        if let Some((h, _)) = blocks.last() {
            shared.metrics.decided_height.set(h.height as i64);
            shared.update_status(|s| {
                s.decided_height = h.height;
                s.decided_view = h.view;
                s.decided_blocks += blocks.len() as u64;
            });
        }
        Ok(())
    }

    fn evidence(&self, e: Equivocation) {
        let kind = match &e {
            Equivocation::Proposal { .. } => "proposal",
            Equivocation::Vote { .. } => "vote",
            Equivocation::DaProposal { .. } => "da_proposal",
        };
        warn!(?e, "equivocation");
        self.shared.metrics.equivocations.get_or_create(&crate::metrics::Kind { kind: kind.into() }).inc();
    }

    /// Refreshes the status snapshot and the view metrics after a step.
    fn observe(&mut self, node: &Node<BlsScheme>) {
        let view = node.view();
        if view != self.last_view.0 {
            let took = self.last_view.1.elapsed();
            if self.last_view.0 != 0 {
                self.shared.metrics.view_seconds.observe(took.as_secs_f64());
            }
            self.last_view = (view, Instant::now());
            self.shared.metrics.views.inc();
            self.shared.metrics.view.set(view as i64);
            debug!(view, leader = node.leader(view), "view");
        }
        let stats = node.stats();
        let leader = node.config().table.leader(view);
        let before = self.shared.status().synced_blocks;
        self.shared.metrics.synced_blocks.inc_by(stats.synced.saturating_sub(before));
        self.shared.update_status(|s| {
            s.view = view;
            s.leader = leader;
            s.synced_blocks = stats.synced;
            s.rejected = stats.rejected + stats.bad_shares + stats.bad_payloads;
        });
    }
}

/// Milliseconds since the Unix epoch (block timestamps); 0 if the clock is before 1970.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Decided blocks whose share this node does not hold (its view moved on before the share came, e.g. from a leader
/// that sent a bad one): ask the DA committee, whose members rebuild it from the payload. The answer goes through
/// the core like any share, is verified, and stored; a node must hold its share of every decided block.
fn fetch_missing_shares(shared: Arc<Shared>, decided: Vec<(View, crate::consensus::Digest)>) {
    tokio::spawn(async move {
        let store = shared.store.clone();
        let missing = tokio::task::spawn_blocking(move || {
            decided.into_iter().filter(|(_, c)| matches!(store.has_share(c), Ok(false))).collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for (view, commitment) in missing {
            debug!(view, commitment = %commitment.short(), "decided without our share: asking the DA committee");
            let ask = Message::ShareRequest { requester: shared.me, view, commitment };
            for to in shared.consensus.da_members_except(shared.me) {
                shared.send(to, &ask);
            }
        }
    });
}

/// `RUST_LOG=crema_node::runtime=trace`: every input the core takes.
fn trace_input(input: &CoreInput) {
    match input {
        Input::Message(m) => tracing::trace!(kind = m.get().kind(), "message in"),
        Input::Timer { kind, view } => tracing::trace!(?kind, view, "timer in"),
        Input::BlockReady { view, .. } => tracing::trace!(view, "block ready"),
        Input::DataChecked { view, kind, ok, .. } => tracing::trace!(view, ?kind, ok, "data checked"),
    }
}

/// `RUST_LOG=crema_node::runtime=trace`: every action the core asks for.
fn trace_action(action: &Action<BlsScheme>) {
    match action {
        Action::Send { to, msg } => tracing::trace!(to, kind = msg.kind(), "send"),
        Action::Broadcast(msg) => tracing::trace!(kind = msg.kind(), "broadcast"),
        Action::SetTimer { kind, view, after_ms } => tracing::trace!(?kind, view, after_ms, "set timer"),
        Action::BuildBlock { view, .. } => tracing::trace!(view, "build block"),
        Action::Decide { blocks, .. } => tracing::trace!(blocks = blocks.len(), "decide"),
        Action::Persist(_) => tracing::trace!("persist"),
        other => tracing::trace!(action = ?std::mem::discriminant(other), "other action"),
    }
}

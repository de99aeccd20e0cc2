//! A deterministic simulated network: N consensus state machines in virtual time, every random choice drawn from
//! one ChaCha8 stream seeded by the run's seed, so any run is reproduced exactly by its seed.
//!
//! It is a real runtime for the core, only in memory: every message is encoded to bytes, carried (faulted,
//! relayed) as bytes, and decoded and verified by the receiver ([`MessageVerifier::ingest`]); blocks are built and
//! dispersed with the engine's VID (avidm, or kzg when the run asks), DA members recompute commitments from the
//! payload, shares are verified for real, and decided headers go to each node's store, from which range sync is
//! served. Faults: random delays (hence reordering), drops and duplicates before GST, a partition that heals at
//! GST, crashes (even between two actions of one step, e.g. after `Persist` and before the vote's `Send`) and
//! restarts from the persisted safety state, the Byzantine roles of [`super::byzantine`], and the untrusted relay.
//! Self-addressed messages are delivered immediately and never faulted (a node's loopback).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crema_engine::Backend;
use crema_engine::vid::{SchemeKind, Vid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::byzantine::{ByzContext, Relay, Role, flip, rewrite};
use super::checker::{Checker, Violation};
use super::network::{Class, Inbound, NetError, Network, Outbound};
use crate::consensus::wire::{self, MAX_SYNC_BLOCKS};
use crate::consensus::{
    Action, BuiltBlock, CommitProof, Config, DataKind, DataRequest, DecidedRange, Digest, Header, Input, Membership,
    Message, MessageVerifier, Node, NodeId, PersistedState, Proposal, Qc, SimScheme, TimerKind, VidShare, View,
    da_vote_message,
};
use crate::da::block::Block;
use crate::da::{mascarpone, savoiardi};

/// Decided heights each simulated node keeps in its store (to serve range sync); a real node keeps them all.
const STORE_HEIGHTS: usize = 4096;
/// Payloads and dispersals a simulated node keeps (to serve shares).
const KEEP_DATA: usize = 32;

/// How often a run with [`SimConfig::progress`] reports how far it got (wall-clock: a report, never an input).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// A crash of one node at `at_ms`, restarting from its persisted state at `restart_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The node.
    pub node: NodeId,
    /// Virtual time of the crash.
    pub at_ms: u64,
    /// Virtual time of the restart.
    pub restart_ms: u64,
    /// Restart instead once the honest nodes are this many views past the crash (then `restart_ms` is unused).
    pub restart_after_views: Option<View>,
}

/// Everything that defines one run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed: network randomness and keys.
    pub seed: u64,
    /// Consensus configuration (stake table, timers, commit rule, VID parameters).
    pub consensus: Config,
    /// Per-node role.
    pub roles: Vec<Role>,
    /// Message delay after GST, uniform in `[lo, hi]` ms.
    pub delay_ms: (u64, u64),
    /// Message delay before GST.
    pub pre_gst_delay_ms: (u64, u64),
    /// Drop probability before GST.
    pub drop_prob: f64,
    /// Duplicate probability (whole run).
    pub dup_prob: f64,
    /// Global stabilisation time.
    pub gst_ms: u64,
    /// Nodes on side A of a partition that lasts until GST (empty: no partition).
    pub partition: Vec<NodeId>,
    /// Crash-restart schedule; restarts must be before GST for the liveness check, unless `must_catch_up`.
    pub crashes: Vec<Crash>,
    /// Nodes that restart after GST far behind and must catch up by range sync (checked).
    pub must_catch_up: Vec<NodeId>,
    /// Every message passes the untrusted relay (rewrites, forged senders, replays).
    pub relay: bool,
    /// Transactions per block (small: the simulator is about the protocol).
    pub txs_per_block: usize,
    /// Hard stop in virtual time.
    pub end_ms: u64,
    /// Stop early once every live honest node decided this many blocks after GST.
    pub target_decisions: u64,
    /// Stop once this view is reached (long runs).
    pub max_view: Option<View>,
    /// Print the view reached and the state footprint to stderr every [`PROGRESS_EVERY`] of wall-clock time.
    pub progress: bool,
    /// Views after GST within which every live honest node must decide.
    pub liveness_bound: View,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimOutcome {
    /// The seed.
    pub seed: u64,
    /// Events processed (inputs handled by nodes).
    pub events: u64,
    /// Highest height decided by an honest node.
    pub decided_height: u64,
    /// Views the slowest live honest node needed after GST to decide (None if one never did).
    pub recovery_views: Option<View>,
    /// Equivocations detected by honest nodes.
    pub equivocations: u64,
    /// Inputs honest nodes rejected: undecodable or unverifiable messages, bad shares, bad payloads.
    pub rejected: u64,
    /// Attacks mounted: tampered or replayed messages the relay injected, bad shares or payloads Byzantine nodes
    /// sent (an attack is "caught" when it shows up in `rejected`).
    pub attacks: u64,
    /// Blocks honest nodes decided through range sync.
    pub synced: u64,
    /// Decided blocks available through the DA committee only (a threshold above a third: see
    /// [`super::checker::Checker::check_available`]).
    pub available_by_da_only: u64,
    /// The largest state footprint (map entries) of any honest node during the run.
    pub peak_footprint: usize,
    /// The highest view an honest node reached.
    pub max_view: View,
    /// Violations found by the checkers.
    pub violations: Vec<Violation>,
    /// Virtual time at the end.
    pub end_ms: u64,
}

enum Event<C: SimScheme> {
    Deliver { to: NodeId, bytes: Arc<Vec<u8>> },
    Timer { to: NodeId, kind: TimerKind, view: View, generation: u64 },
    Data { to: NodeId, input: Box<Input<C>>, incarnation: u64 },
    Crash { node: NodeId, restart_ms: u64, after_views: Option<View> },
    Restart { node: NodeId },
    Gst,
}

struct Queued<C: SimScheme> {
    at: u64,
    seq: u64,
    event: Event<C>,
}

impl<C: SimScheme> PartialEq for Queued<C> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<C: SimScheme> Eq for Queued<C> {}
impl<C: SimScheme> PartialOrd for Queued<C> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<C: SimScheme> Ord for Queued<C> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// One node's end of the simulated network: what it queued to send, and what arrived for it.
#[derive(Debug, Default)]
pub struct SimLink {
    outbox: Vec<(Option<NodeId>, Outbound)>,
    inbox: VecDeque<Inbound>,
    nodes: usize,
}

impl Network for SimLink {
    fn send(&mut self, to: NodeId, msg: Outbound) -> Result<(), NetError> {
        if to as usize >= self.nodes {
            return Err(NetError::UnknownPeer(to));
        }
        self.outbox.push((Some(to), msg));
        Ok(())
    }

    fn broadcast(&mut self, msg: Outbound) -> Result<(), NetError> {
        self.outbox.push((None, msg));
        Ok(())
    }

    fn recv(&mut self) -> impl std::future::Future<Output = Option<Inbound>> + Send {
        std::future::ready(self.inbox.pop_front())
    }
}

/// Polls a future that is ready at once (the simulated link's `recv`).
fn now<T>(f: impl std::future::Future<Output = T>) -> Option<T> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(t) => Some(t),
        std::task::Poll::Pending => None,
    }
}

/// What a simulated node's runtime keeps beside the state machine: its store, its data, its link.
struct SimNode<C: SimScheme> {
    node: Option<Node<C>>,
    key: C::SigningKey,
    role: Role,
    persisted: PersistedState<C>,
    timer_generation: [u64; 2],
    incarnation: u64,
    /// Crash at the next step, after a random prefix of its actions.
    crash_pending: Option<u64>,
    link: SimLink,
    /// Decided headers with their QCs, and the commit proofs of batch tops (what range sync serves).
    store: BTreeMap<u64, (Header, Qc<C>)>,
    proofs: BTreeMap<u64, CommitProof<C>>,
    /// Payloads stored as a DA member, and blocks dispersed as leader (with a fork for equivocating roles).
    payloads: VecDeque<(Digest, Arc<Vec<u8>>)>,
    dispersals: VecDeque<BuiltBlock>,
    fork: Option<BuiltBlock>,
    /// For Byzantine nodes: headers received, and recent (QC, certified header) pairs, oldest first.
    seen_headers: HashMap<Digest, Header>,
    certified: VecDeque<(Qc<C>, Header)>,
}

/// The simulator for one run, generic over the certificate scheme (MACs for speed, BLS for end-to-end runs).
pub struct Sim<C: SimScheme> {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued<C>>>,
    nodes: Vec<SimNode<C>>,
    keys: C::Verifier,
    verifier: MessageVerifier<C>,
    backend: Arc<dyn Backend>,
    vid: Vid,
    relay: Option<Relay>,
    /// Memo of payload checks: the commitment a payload disperses to is a pure function of its bytes, so the
    /// simulated committee members share one computation per payload.
    recomputed: HashMap<[u8; 32], Option<Digest>>,
    checker: Checker,
    /// Crashed nodes to restart once the honest nodes reach a view.
    wake: Vec<(NodeId, View)>,
    events: u64,
    attacks: u64,
    peak_footprint: usize,
    gst_view: Option<View>,
    equivocations: u64,
}

impl<C: SimScheme> Sim<C> {
    /// Builds the network; nodes start at time 0. Blocks are dispersed with the scheme in the configuration.
    pub fn new(cfg: SimConfig) -> Self {
        let n = cfg.consensus.table.len();
        assert_eq!(cfg.roles.len(), n, "one role per node");
        // The simulator is a runtime, so it picks the backend certificates and VID compute on: the CPU.
        let backend = crema_engine::BackendChoice::Cpu.build().expect("the cpu backend always builds");
        let (keys, verifier) = C::generate(n, cfg.seed, &backend);
        let vid = savoiardi::network_vid(&cfg.consensus).expect("simulated stakes are valid VID weights");
        let nodes = keys
            .into_iter()
            .zip(&cfg.roles)
            .map(|(key, role)| SimNode {
                node: None,
                key,
                role: *role,
                persisted: PersistedState {
                    last_voted_view: 0,
                    last_proposed_view: 0,
                    high_qc: Qc::genesis(),
                    decided: Header::genesis(),
                },
                timer_generation: [0; 2],
                incarnation: 0,
                crash_pending: None,
                link: SimLink { nodes: n, ..SimLink::default() },
                store: BTreeMap::new(),
                proofs: BTreeMap::new(),
                payloads: VecDeque::new(),
                dispersals: VecDeque::new(),
                fork: None,
                seen_headers: HashMap::new(),
                certified: VecDeque::new(),
            })
            .collect();
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        Sim {
            relay: cfg.relay.then(Relay::default),
            verifier: MessageVerifier::new(cfg.consensus.clone(), verifier.clone()),
            keys: verifier,
            cfg,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            backend,
            vid,
            recomputed: HashMap::new(),
            checker: Checker::default(),
            wake: Vec::new(),
            events: 0,
            attacks: 0,
            peak_footprint: 0,
            gst_view: None,
            equivocations: 0,
        }
    }

    fn push(&mut self, at: u64, event: Event<C>) {
        self.seq += 1;
        self.queue.push(Reverse(Queued { at, seq: self.seq, event }));
    }

    fn honest(&self, i: usize) -> bool {
        self.nodes[i].role == Role::Honest
    }

    fn max_view(&self) -> View {
        (0..self.nodes.len())
            .filter(|&i| self.honest(i))
            .filter_map(|i| self.nodes[i].node.as_ref().map(|n| n.view()))
            .max()
            .unwrap_or(0)
    }

    /// Runs to completion and judges the run, on the calling thread: the engine's parallel loops run inline (a
    /// one-thread pool per simulating thread), since a simulated block is tiny and waking worker threads for it
    /// would cost more than the work.
    pub fn run(self) -> SimOutcome {
        thread_local! {
            static INLINE: Option<rayon::ThreadPool> = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
        }
        INLINE.with(|pool| match pool {
            Some(pool) => pool.install(|| self.run_here()),
            None => self.run_here(),
        })
    }

    fn run_here(mut self) -> SimOutcome {
        let n = self.nodes.len();
        for i in 0..n {
            if self.nodes[i].role != Role::Crashed {
                self.boot(i);
            }
        }
        for c in self.cfg.crashes.clone() {
            let after_views = c.restart_after_views;
            self.push(c.at_ms, Event::Crash { node: c.node, restart_ms: c.restart_ms, after_views });
        }
        self.push(self.cfg.gst_ms, Event::Gst);
        // Nodes that must catch up are judged by `caught_up`, not by the liveness bound after GST.
        let live: Vec<NodeId> = (0..n)
            .filter(|&i| self.honest(i) && !self.cfg.must_catch_up.contains(&(i as NodeId)))
            .map(|i| i as NodeId)
            .collect();
        let started = Instant::now();
        let mut reported = started;
        while let Some(Reverse(q)) = self.queue.pop() {
            if q.at > self.cfg.end_ms {
                break;
            }
            self.now = q.at;
            self.step(q.event);
            if !self.checker.violations.is_empty() {
                break; // Safety is already broken; the rest of the run would only add noise.
            }
            if self.events.is_multiple_of(64) {
                self.sample_footprint();
                if self.cfg.progress && reported.elapsed() >= PROGRESS_EVERY {
                    reported = Instant::now();
                    self.report_progress(started);
                }
                self.wake_restarts();
                self.checker.check_settled(&self.vid, self.backend.as_ref());
                if self.cfg.max_view.is_some_and(|v| self.max_view() >= v) {
                    break;
                }
                if let Some(gst_view) = self.gst_view {
                    let caught_up = self.cfg.must_catch_up.iter().all(|&i| self.caught_up(i));
                    if caught_up && live.iter().all(|&i| self.checker.decided_after_gst(i) >= self.cfg.target_decisions)
                    {
                        break;
                    }
                    // Past the liveness bound the verdict cannot change: stop rather than spin on timeouts.
                    if self.max_view() > gst_view + self.cfg.liveness_bound + 1 {
                        break;
                    }
                }
            }
        }
        self.sample_footprint();
        self.judge(live)
    }

    /// Restarts nodes whose view-based downtime is over.
    fn wake_restarts(&mut self) {
        let view = self.max_view();
        let (due, wait): (Vec<_>, Vec<_>) = self.wake.drain(..).partition(|&(_, at)| view >= at);
        self.wake = wait;
        for (node, _) in due {
            self.push(self.now + 1, Event::Restart { node });
        }
    }

    /// Whether node `i` decided (within a few blocks) as high as any honest node, with blocks from range sync.
    fn caught_up(&self, i: NodeId) -> bool {
        let Some(node) = self.nodes[i as usize].node.as_ref() else { return false };
        node.stats().synced > 0 && node.decided().height + 3 >= self.checker.max_height()
    }

    /// One progress line on stderr: how far a long run got, and its state footprint so far.
    fn report_progress(&self, started: Instant) {
        let target = self.cfg.max_view.map(|v| format!(" of {v}")).unwrap_or_default();
        eprintln!(
            "  seed {}: view {}{target}, {} events, peak footprint {} entries, {:.0} s",
            self.cfg.seed,
            self.max_view(),
            self.events,
            self.peak_footprint,
            started.elapsed().as_secs_f64()
        );
    }

    fn sample_footprint(&mut self) {
        let peak = (0..self.nodes.len())
            .filter(|&i| self.honest(i))
            .filter_map(|i| self.nodes[i].node.as_ref().map(Node::footprint))
            .max()
            .unwrap_or(0);
        self.peak_footprint = self.peak_footprint.max(peak);
    }

    fn judge(mut self, live: Vec<NodeId>) -> SimOutcome {
        let n = self.nodes.len();
        let gst_view = self.gst_view.unwrap_or(0);
        for &i in &self.cfg.must_catch_up {
            if !self.caught_up(i) {
                let height = self.nodes[i as usize].node.as_ref().map_or(0, |nd| nd.decided().height);
                self.checker.violations.push(Violation::Liveness(format!(
                    "node {i} restarted behind and did not catch up by range sync (decided {height}, others {})",
                    self.checker.max_height()
                )));
            }
        }
        let recovery = self.checker.finish(&live, gst_view, self.cfg.liveness_bound, &self.vid, self.backend.as_ref());
        let honest_nodes = || (0..n).filter(|&i| self.nodes[i].role == Role::Honest);
        let stats = honest_nodes().filter_map(|i| self.nodes[i].node.as_ref().map(|nd| nd.stats().clone()));
        let (mut rejected, mut synced) = (self.checker.rejected_messages, 0);
        for s in stats {
            rejected += s.rejected + s.bad_shares + s.bad_payloads;
            synced += s.synced;
        }
        SimOutcome {
            seed: self.cfg.seed,
            events: self.events,
            decided_height: self.checker.max_height(),
            recovery_views: recovery,
            equivocations: self.equivocations,
            rejected,
            attacks: self.attacks + self.relay.as_ref().map_or(0, |r| r.injected),
            synced,
            available_by_da_only: self.checker.available_by_da_only,
            peak_footprint: self.peak_footprint,
            max_view: self.max_view(),
            violations: std::mem::take(&mut self.checker.violations),
            end_ms: self.now,
        }
    }

    fn boot(&mut self, i: usize) {
        let sn = &mut self.nodes[i];
        let key = sn.key.clone();
        let mut node =
            Node::restore(i as NodeId, self.cfg.consensus.clone(), key, self.keys.clone(), sn.persisted.clone());
        sn.incarnation += 1;
        sn.link.inbox.clear();
        let actions = node.start();
        sn.node = Some(node);
        self.apply(i, actions);
    }

    fn step(&mut self, event: Event<C>) {
        match event {
            Event::Deliver { to, bytes } => {
                let i = to as usize;
                if self.nodes[i].node.is_none() {
                    return;
                }
                self.nodes[i].link.inbox.push_back(Inbound { via: None, bytes: bytes.as_ref().clone() });
                while let Some(Some(inbound)) = now(self.nodes[i].link.recv()) {
                    self.receive(i, &inbound.bytes);
                }
            }
            Event::Timer { to, kind, view, generation } => {
                if self.nodes[to as usize].timer_generation[timer_slot(kind)] == generation {
                    self.input(to as usize, Input::Timer { kind, view });
                }
            }
            Event::Data { to, input, incarnation } => {
                if self.nodes[to as usize].incarnation == incarnation {
                    self.input(to as usize, *input);
                }
            }
            Event::Crash { node, restart_ms, after_views } => {
                let view = self.max_view();
                let sn = &mut self.nodes[node as usize];
                if sn.node.is_some() {
                    match after_views {
                        Some(v) => {
                            sn.crash_pending = Some(u64::MAX);
                            self.wake.push((node, view + v));
                        }
                        None => sn.crash_pending = Some(restart_ms),
                    }
                }
            }
            Event::Restart { node } => self.boot(node as usize),
            Event::Gst => self.gst_view = Some(self.max_view()),
        }
    }

    /// Bytes arrived for node `i`: decode and verify them as any runtime does, then hand them to the node.
    fn receive(&mut self, i: usize, bytes: &[u8]) {
        match self.verifier.ingest(bytes) {
            Ok(msg) => {
                if let Message::Proposal(p) = msg.get()
                    && self.nodes[i].role == Role::Amnesiac
                {
                    let p = p.clone();
                    self.remember(i, &p);
                }
                self.input(i, Input::Message(msg));
            }
            Err(_) => {
                if self.honest(i) {
                    self.checker.rejected_messages += 1;
                }
            }
        }
    }

    /// Lets an amnesiac node keep the certified blocks it sees, to propose on an old one later.
    fn remember(&mut self, i: usize, p: &Proposal<C>) {
        let sn = &mut self.nodes[i];
        sn.seen_headers.insert(p.header.hash(), p.header.clone());
        if let Some(h) = sn.seen_headers.get(&p.justify.block).cloned()
            && sn.certified.back().is_none_or(|(q, _)| q.view < p.justify.view)
        {
            sn.certified.push_back((p.justify.clone(), h));
            if sn.certified.len() > 4 {
                sn.certified.pop_front();
            }
        }
        if sn.seen_headers.len() > 4096 {
            sn.seen_headers.clear();
        }
    }

    fn input(&mut self, i: usize, input: Input<C>) {
        let Some(node) = self.nodes[i].node.as_mut() else { return };
        self.events += 1;
        let mut actions = node.handle(input);
        if let Some(restart_ms) = self.nodes[i].crash_pending.take() {
            // Crash part-way through this step: only a prefix of its actions happens.
            let keep = self.rng.gen_range(0..=actions.len());
            actions.truncate(keep);
            self.apply(i, actions);
            let sn = &mut self.nodes[i];
            sn.node = None;
            sn.incarnation += 1;
            sn.timer_generation = sn.timer_generation.map(|g| g + 1);
            if restart_ms != u64::MAX {
                self.push(restart_ms.max(self.now + 1), Event::Restart { node: i as NodeId });
            }
            return;
        }
        self.apply(i, actions);
    }

    fn apply(&mut self, i: usize, actions: Vec<Action<C>>) {
        let role = self.nodes[i].role;
        let n = self.nodes.len();
        for action in actions {
            if role.is_faulty() {
                let view = self.nodes[i].node.as_ref().map_or(0, |nd| nd.view());
                let sn = &self.nodes[i];
                let cx = ByzContext {
                    me: i as NodeId,
                    key: &sn.key,
                    verifier: &self.keys,
                    n,
                    view,
                    older: sn.certified.front(),
                    fork: sn.fork.as_ref(),
                };
                let rewritten = rewrite(role, &cx, action);
                for a in rewritten {
                    self.count_attack(role, &a);
                    self.act(i, a);
                }
            } else {
                self.act(i, action);
            }
        }
        self.flush(i);
    }

    fn count_attack(&mut self, role: Role, a: &Action<C>) {
        let attacking = matches!(
            (role, a),
            (
                Role::BadShares | Role::SplitDisperser | Role::DaCorrupter,
                Action::Send { msg: Message::VidShare(_), .. }
            )
        );
        if attacking {
            self.attacks += 1;
        }
    }

    fn act(&mut self, i: usize, action: Action<C>) {
        let from = i as NodeId;
        match action {
            Action::Send { to, msg } => self.send_msg(i, Some(to), &msg),
            Action::Broadcast(msg) => {
                if let Message::DaCertificate(c) = &msg {
                    let table = &self.cfg.consensus.da_table;
                    let m = da_vote_message(c.view, &c.commitment);
                    if C::verify_cert(&self.keys, table, &m, &c.cert, table.quorum()).is_ok() {
                        self.checker.da_certified(c.commitment);
                    }
                }
                self.send_msg(i, None, &msg);
            }
            Action::SetTimer { kind, view, after_ms } => {
                let sn = &mut self.nodes[i];
                let slot = timer_slot(kind);
                sn.timer_generation[slot] += 1;
                let generation = sn.timer_generation[slot];
                self.push(self.now + after_ms, Event::Timer { to: from, kind, view, generation });
            }
            Action::Persist(ps) => self.nodes[i].persisted = ps,
            Action::Decide { blocks, proof } => self.store_decided(i, blocks, proof),
            Action::BuildBlock { view, parent: _ } => self.build_block(i, view),
            Action::RequestData(req) => self.check_data(i, req),
            Action::ServeShare { to, view, commitment } => self.serve_share(i, to, view, commitment),
            Action::ServeSync { to, from_height } => self.serve_sync(i, to, from_height),
            Action::Evidence(_) => {
                if self.honest(i) {
                    self.equivocations += 1;
                }
            }
        }
    }

    fn send_msg(&mut self, i: usize, to: Option<NodeId>, msg: &Message<C>) {
        let class = if msg.is_bulk() { Class::Bulk } else { Class::Small };
        let out = Outbound { class, bytes: Arc::new(wire::encode(msg)) };
        let link = &mut self.nodes[i].link;
        // The simulated link refuses only unknown peers, which a correct node never names.
        let _ = match to {
            Some(to) => link.send(to, out),
            None => link.broadcast(out),
        };
    }

    /// Moves node `i`'s queued messages into the network.
    fn flush(&mut self, i: usize) {
        let outbox = std::mem::take(&mut self.nodes[i].link.outbox);
        for (to, out) in outbox {
            match to {
                Some(to) => self.carry(i as NodeId, to, out.bytes),
                None => {
                    for to in 0..self.nodes.len() as NodeId {
                        self.carry(i as NodeId, to, out.bytes.clone());
                    }
                }
            }
        }
    }

    fn store_decided(&mut self, i: usize, blocks: Vec<(Header, Qc<C>)>, proof: CommitProof<C>) {
        if self.honest(i) {
            let view = self.nodes[i].node.as_ref().map_or(0, |nd| nd.view());
            let after = self.gst_view.is_some();
            let headers: Vec<Header> = blocks.iter().map(|(h, _)| h.clone()).collect();
            self.checker.decide(i as NodeId, &headers, view, after);
        }
        let sn = &mut self.nodes[i];
        let top = blocks.last().map(|(h, _)| h.height);
        for (h, qc) in blocks {
            sn.store.insert(h.height, (h, qc));
        }
        if let Some(top) = top {
            sn.proofs.insert(top, proof);
        }
        while sn.store.len() > STORE_HEIGHTS {
            sn.store.pop_first();
        }
        while sn.proofs.len() > STORE_HEIGHTS {
            sn.proofs.pop_first();
        }
    }

    /// The leader's runtime builds a block from its "mempool" (a few seeded transactions) and disperses it.
    fn build_block(&mut self, i: usize, view: View) {
        let block = sim_block(self.cfg.seed, view, i as NodeId, self.cfg.txs_per_block, 0);
        let Ok(built) = savoiardi::build(&self.vid, self.backend.as_ref(), &block, self.now) else { return };
        let sn = &mut self.nodes[i];
        sn.fork = None;
        if matches!(sn.role, Role::Equivocator | Role::SplitDisperser) {
            let other = sim_block(self.cfg.seed, view, i as NodeId, self.cfg.txs_per_block, 1);
            sn.fork = savoiardi::build(&self.vid, self.backend.as_ref(), &other, self.now).ok();
        }
        sn.dispersals.push_back(built.clone());
        if sn.dispersals.len() > KEEP_DATA {
            sn.dispersals.pop_front();
        }
        let incarnation = sn.incarnation;
        let input = Box::new(Input::BlockReady { view, block: built });
        self.push(self.now + 1, Event::Data { to: i as NodeId, input, incarnation });
    }

    fn check_data(&mut self, i: usize, req: DataRequest) {
        let from = i as NodeId;
        let (view, commitment, kind, ok) = match req {
            DataRequest::CheckPayload { view, commitment, payload } => {
                let ok = self.payload_commitment(&payload) == Some(commitment);
                if ok {
                    if self.honest(i) {
                        self.checker.payload_held(commitment);
                    }
                    let sn = &mut self.nodes[i];
                    sn.payloads.push_back((commitment, payload));
                    if sn.payloads.len() > KEEP_DATA {
                        sn.payloads.pop_front();
                    }
                }
                (view, commitment, DataKind::Payload, ok)
            }
            DataRequest::VerifyShare(s) => {
                let ok = s.node == from && savoiardi::share_verifies(&self.vid, self.backend.as_ref(), &s);
                if ok && self.honest(i) {
                    self.checker.share_verified(from, s.commitment, &s.common, &s.share);
                }
                (s.view, s.commitment, DataKind::Share, ok)
            }
        };
        let input = Box::new(Input::DataChecked { view, commitment, kind, ok });
        let incarnation = self.nodes[i].incarnation;
        self.push(self.now + 1, Event::Data { to: from, input, incarnation });
    }

    /// The commitment a payload disperses to (memoised across simulated nodes), or `None` if it is no block:
    /// computed as the node's DA check computes it (`Vid::commit_namespaced`, no shares or KZG cell proofs).
    fn payload_commitment(&mut self, payload: &[u8]) -> Option<Digest> {
        let key = *blake3::hash(payload).as_bytes();
        if let Some(c) = self.recomputed.get(&key) {
            return *c;
        }
        let max = self.cfg.consensus.max_block_bytes as usize;
        let c = crate::da::block::decode_payload(payload, max)
            .ok()
            .and_then(|ns| self.vid.commit_namespaced(self.backend.as_ref(), &ns).ok())
            .map(Digest);
        if self.recomputed.len() > 4096 {
            self.recomputed.clear();
        }
        self.recomputed.insert(key, c);
        c
    }

    /// Sends `to` its share of `commitment` if node `i` dispersed that block or stored its payload.
    fn serve_share(&mut self, i: usize, to: NodeId, view: View, commitment: Digest) {
        let sn = &self.nodes[i];
        let share = if let Some(b) = sn.dispersals.iter().find(|b| b.payload_commitment == commitment) {
            b.shares.get(to as usize).map(|s| VidShare {
                view,
                commitment,
                node: to,
                common: b.common.clone(),
                share: s.clone(),
            })
        } else if let Some((_, payload)) = sn.payloads.iter().find(|(c, _)| *c == commitment) {
            let max = self.cfg.consensus.max_block_bytes as usize;
            mascarpone::rebuild_share(&self.vid, self.backend.as_ref(), payload, max, view, &commitment, to as usize)
        } else {
            None
        };
        if let Some(mut s) = share {
            if self.nodes[i].role == Role::DaCorrupter {
                flip(&mut s.share);
                self.attacks += 1;
            }
            self.send_msg(i, Some(to), &Message::VidShare(s));
        }
    }

    /// Answers a range-sync request from node `i`'s store: headers from `from_height` up to a proven height.
    fn serve_sync(&mut self, i: usize, to: NodeId, from_height: u64) {
        let sn = &self.nodes[i];
        let last = from_height.saturating_add(MAX_SYNC_BLOCKS as u64 - 1);
        let Some((&top, proof)) = sn.proofs.range(from_height..=last).next_back() else { return };
        let blocks: Vec<(Header, Qc<C>)> = sn.store.range(from_height..=top).map(|(_, b)| b.clone()).collect();
        if blocks.first().is_none_or(|(h, _)| h.height != from_height) {
            return; // Pruned from this (simulated) store.
        }
        let msg = Message::SyncResponse(DecidedRange { blocks, proof: proof.clone() });
        self.send_msg(i, Some(to), &msg);
    }

    /// Puts one message on the simulated wire from `from` to `to`, through the faults and the relay.
    fn carry(&mut self, from: NodeId, to: NodeId, bytes: Arc<Vec<u8>>) {
        if to as usize >= self.nodes.len() {
            return;
        }
        if from == to {
            self.push(self.now, Event::Deliver { to, bytes });
            return;
        }
        let before_gst = self.gst_view.is_none();
        let (lo, hi) = if before_gst { self.cfg.pre_gst_delay_ms } else { self.cfg.delay_ms };
        if before_gst {
            let side = |x: NodeId| self.cfg.partition.contains(&x);
            if !self.cfg.partition.is_empty() && side(from) != side(to) {
                return;
            }
            if self.cfg.drop_prob > 0.0 && self.rng.gen_bool(self.cfg.drop_prob) {
                return;
            }
        }
        let copies = match self.relay.as_mut() {
            Some(relay) => relay.carry::<C>(&mut self.rng, self.verifier.limits(), bytes),
            None => vec![bytes],
        };
        for bytes in copies {
            if self.cfg.dup_prob > 0.0 && self.rng.gen_bool(self.cfg.dup_prob) {
                let d = self.rng.gen_range(lo..=hi);
                self.push(self.now + d, Event::Deliver { to, bytes: bytes.clone() });
            }
            let d = self.rng.gen_range(lo..=hi);
            self.push(self.now + d, Event::Deliver { to, bytes });
        }
    }
}

fn timer_slot(kind: TimerKind) -> usize {
    match kind {
        TimerKind::View => 0,
        TimerKind::Share => 1,
    }
}

/// The block a simulated leader builds: `txs` small transactions over up to three namespaces, from the seed, view
/// and leader (and `variant`, for an equivocating leader's second block).
pub fn sim_block(seed: u64, view: View, leader: NodeId, txs: usize, variant: u8) -> Block {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ view.rotate_left(17) ^ (u64::from(leader) << 48));
    let mut block = Block::new();
    for k in 0..txs {
        let ns = rng.gen_range(1..=3u64);
        let mut tx = vec![variant; 8 + rng.gen_range(0..64)];
        tx[..8].copy_from_slice(&(view * 1000 + k as u64).to_le_bytes());
        block.push(ns, tx);
    }
    block
}

/// The default simulated VID scheme for a seed: kzg for every `kzg_every`-th seed, else avidm.
pub fn scheme_for(seed: u64, kzg_every: u64) -> SchemeKind {
    if kzg_every > 0 && seed % kzg_every == kzg_every / 2 { SchemeKind::Kzg } else { SchemeKind::Avidm }
}

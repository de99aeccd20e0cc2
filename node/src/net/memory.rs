//! A deterministic simulated network: N consensus state machines in virtual time, every random choice drawn from
//! one ChaCha8 stream seeded by the run's seed, so any run is reproduced exactly by its seed.
//!
//! Faults: random delays (hence reordering), drops and duplicates before GST, a partition that heals at GST,
//! duplicates after it, crashes (even between two actions of one step, e.g. after `Persist` and before the vote's
//! `Send`) and restarts from the persisted safety state, and the Byzantine roles of [`super::byzantine`].
//! Self-addressed messages are delivered immediately and never faulted (a node's loopback).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::byzantine::{ByzContext, Role, rewrite};
use super::checker::{Checker, Violation};
use crate::consensus::Membership;
use crate::consensus::{
    Action, Config, DataKind, DataRequest, Digest, Header, Input, Message, Node, NodeId, PersistedState, Proposal, Qc,
    SimScheme, View, da_vote_message, vid_model,
};

/// A crash of one node at `at_ms`, restarting from its persisted state at `restart_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The node.
    pub node: NodeId,
    /// Virtual time of the crash.
    pub at_ms: u64,
    /// Virtual time of the restart.
    pub restart_ms: u64,
}

/// Everything that defines one run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed: network randomness and keys.
    pub seed: u64,
    /// Consensus configuration (stake table, timers, commit rule).
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
    /// Crash-restart schedule; restarts must be before GST for the liveness check.
    pub crashes: Vec<Crash>,
    /// Hard stop in virtual time.
    pub end_ms: u64,
    /// Stop early once every live honest node decided this many blocks after GST.
    pub target_decisions: u64,
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
    /// Inputs honest nodes rejected as invalid.
    pub rejected: u64,
    /// Violations found by the checkers.
    pub violations: Vec<Violation>,
    /// Virtual time at the end.
    pub end_ms: u64,
}

enum Event<C: SimScheme> {
    Deliver { to: NodeId, from: NodeId, msg: Message<C> },
    Timer { to: NodeId, view: View, generation: u64 },
    Data { to: NodeId, input: Input<C>, incarnation: u64 },
    Crash { node: NodeId, restart_ms: u64 },
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

struct SimNode<C: SimScheme> {
    node: Option<Node<C>>,
    key: C::SigningKey,
    role: Role,
    persisted: PersistedState<C>,
    timer_generation: u64,
    incarnation: u64,
    /// Crash at the next step, after a random prefix of its actions.
    crash_pending: Option<u64>,
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
    verifier: C::Verifier,
    checker: Checker,
    events: u64,
    gst_view: Option<View>,
    equivocations: u64,
}

impl<C: SimScheme> Sim<C> {
    /// Builds the network; nodes start at time 0.
    pub fn new(cfg: SimConfig) -> Self {
        let n = cfg.consensus.table.len();
        assert_eq!(cfg.roles.len(), n, "one role per node");
        // The simulator is a runtime, so it picks the backend its certificates compute on: the CPU.
        let backend = crema_engine::BackendChoice::Cpu.build().expect("the cpu backend always builds");
        let (keys, verifier) = C::generate(n, cfg.seed, &backend);
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
                timer_generation: 0,
                incarnation: 0,
                crash_pending: None,
                seen_headers: HashMap::new(),
                certified: VecDeque::new(),
            })
            .collect();
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        Sim {
            cfg,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            verifier,
            checker: Checker::default(),
            events: 0,
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

    /// Runs to completion and judges the run.
    pub fn run(mut self) -> SimOutcome {
        let n = self.nodes.len();
        for i in 0..n {
            if self.nodes[i].role != Role::Crashed {
                self.boot(i);
            }
        }
        for c in self.cfg.crashes.clone() {
            self.push(c.at_ms, Event::Crash { node: c.node, restart_ms: c.restart_ms });
        }
        self.push(self.cfg.gst_ms, Event::Gst);
        let live: Vec<NodeId> = (0..n).filter(|&i| self.honest(i)).map(|i| i as NodeId).collect();
        while let Some(Reverse(q)) = self.queue.pop() {
            if q.at > self.cfg.end_ms {
                break;
            }
            self.now = q.at;
            self.step(q.event);
            if !self.checker.violations.is_empty() {
                break; // Safety is already broken; the rest of the run would only add noise.
            }
            if let Some(gst_view) = self.gst_view
                && self.events.is_multiple_of(64)
            {
                if live.iter().all(|&i| self.checker.decided_after_gst(i) >= self.cfg.target_decisions) {
                    break;
                }
                // Past the liveness bound the verdict cannot change: stop rather than spin on timeouts.
                let top = live.iter().filter_map(|&i| self.nodes[i as usize].node.as_ref().map(|n| n.view())).max();
                if top.unwrap_or(0) > gst_view + self.cfg.liveness_bound + 1 {
                    break;
                }
            }
        }
        let gst_view = self.gst_view.unwrap_or(0);
        let reconstruct = vid_model::reconstruction_threshold(n);
        let recovery = self.checker.finish(&live, gst_view, self.cfg.liveness_bound, reconstruct);
        let rejected = (0..n)
            .filter(|&i| self.honest(i))
            .filter_map(|i| self.nodes[i].node.as_ref().map(|nd| nd.stats().rejected))
            .sum();
        SimOutcome {
            seed: self.cfg.seed,
            events: self.events,
            decided_height: self.checker.max_height(),
            recovery_views: recovery,
            equivocations: self.equivocations,
            rejected,
            violations: std::mem::take(&mut self.checker.violations),
            end_ms: self.now,
        }
    }

    fn boot(&mut self, i: usize) {
        let sn = &mut self.nodes[i];
        let key = sn.key.clone();
        let mut node =
            Node::restore(i as NodeId, self.cfg.consensus.clone(), key, self.verifier.clone(), sn.persisted.clone());
        sn.incarnation += 1;
        let actions = node.start();
        sn.node = Some(node);
        self.apply(i, actions);
    }

    fn step(&mut self, event: Event<C>) {
        match event {
            Event::Deliver { to, from, msg } => {
                if let Message::Proposal(p) = &msg
                    && self.nodes[to as usize].role == Role::Amnesiac
                {
                    self.remember(to as usize, p);
                }
                self.input(to as usize, Input::Message { from, msg })
            }
            Event::Timer { to, view, generation } => {
                if self.nodes[to as usize].timer_generation == generation {
                    self.input(to as usize, Input::Timeout { view });
                }
            }
            Event::Data { to, input, incarnation } => {
                if self.nodes[to as usize].incarnation == incarnation {
                    self.input(to as usize, input);
                }
            }
            Event::Crash { node, restart_ms } => {
                let sn = &mut self.nodes[node as usize];
                if sn.node.is_some() {
                    sn.crash_pending = Some(restart_ms);
                }
            }
            Event::Restart { node } => self.boot(node as usize),
            Event::Gst => {
                let v = (0..self.nodes.len())
                    .filter(|&i| self.honest(i))
                    .filter_map(|i| self.nodes[i].node.as_ref().map(|n| n.view()))
                    .max();
                self.gst_view = Some(v.unwrap_or(0));
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
            sn.timer_generation += 1;
            self.push(restart_ms.max(self.now + 1), Event::Restart { node: i as NodeId });
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
                    verifier: &self.verifier,
                    n,
                    view,
                    older: sn.certified.front(),
                };
                let rewritten = rewrite(role, &cx, action);
                for a in rewritten {
                    self.act(i, a);
                }
            } else {
                self.act(i, action);
            }
        }
    }

    fn act(&mut self, i: usize, action: Action<C>) {
        let from = i as NodeId;
        match action {
            Action::Send { to, msg } => self.send(from, to, msg),
            Action::Broadcast(msg) => {
                if let Message::DaCertificate(c) = &msg {
                    let table = &self.cfg.consensus.da_table;
                    let m = da_vote_message(c.view, &c.commitment);
                    if C::verify_cert(&self.verifier, table, &m, &c.cert, table.quorum()).is_ok() {
                        self.checker.da_certified(c.commitment);
                    }
                }
                for to in 0..self.nodes.len() as NodeId {
                    self.send(from, to, msg.clone());
                }
            }
            Action::SetTimer { view, after_ms } => {
                let sn = &mut self.nodes[i];
                sn.timer_generation += 1;
                let generation = sn.timer_generation;
                self.push(self.now + after_ms, Event::Timer { to: from, view, generation });
            }
            Action::Persist(ps) => self.nodes[i].persisted = ps,
            Action::Decide { blocks } => {
                if self.honest(i) {
                    let view = self.nodes[i].node.as_ref().map_or(0, |nd| nd.view());
                    let after = self.gst_view.is_some();
                    self.checker.decide(from, &blocks, view, after);
                }
            }
            Action::RequestData(req) => {
                let (view, commitment, kind, ok) = match req {
                    DataRequest::CheckPayload { view, commitment, payload } => {
                        (view, commitment, DataKind::Payload, vid_model::commitment(&payload) == commitment)
                    }
                    DataRequest::VerifyShare { view, commitment, share } => {
                        let ok = share.index == from && share.bytes == vid_model::share(&commitment, from);
                        if ok && self.honest(i) {
                            self.checker.share_verified(from, commitment);
                        }
                        (view, commitment, DataKind::Share, ok)
                    }
                };
                let input = Input::DataChecked { view, commitment, kind, ok };
                let incarnation = self.nodes[i].incarnation;
                self.push(self.now + 1, Event::Data { to: from, input, incarnation });
            }
            Action::Evidence(_) => {
                if self.honest(i) {
                    self.equivocations += 1;
                }
            }
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: Message<C>) {
        if to as usize >= self.nodes.len() {
            return;
        }
        if from == to {
            self.push(self.now, Event::Deliver { to, from, msg });
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
        if self.cfg.dup_prob > 0.0 && self.rng.gen_bool(self.cfg.dup_prob) {
            let d = self.rng.gen_range(lo..=hi);
            self.push(self.now + d, Event::Deliver { to, from, msg: msg.clone() });
        }
        let d = self.rng.gen_range(lo..=hi);
        self.push(self.now + d, Event::Deliver { to, from, msg });
    }
}

//! Script tests: one consensus node as a pure event transducer, inputs in, actions out (the HotShot style).

use crema_node::consensus::mac::{MacCert, MacKey, MacVerifier};
use crema_node::consensus::*;

const N: usize = 4;

/// A four-node network's keys and configuration, and builders for validly signed inputs.
struct Fixture {
    keys: Vec<MacKey>,
    verifier: MacVerifier,
    cfg: Config,
}

impl Fixture {
    fn new() -> Self {
        let (keys, verifier) = mac_keys(N, 42);
        Fixture { keys, verifier, cfg: Config::new(StakeTable::equal(N as u64).unwrap(), 100) }
    }

    fn leader(&self, v: View) -> NodeId {
        self.cfg.table.leader(v)
    }

    /// A node that leads neither `v` nor `v + 1` (so its outputs are replica-only).
    fn replica_for(&self, v: View) -> NodeId {
        (0..N as NodeId).find(|&i| i != self.leader(v) && i != self.leader(v + 1)).unwrap()
    }

    fn node(&self, id: NodeId) -> Node<MacScheme> {
        Node::new(id, self.cfg.clone(), self.keys[id as usize].clone(), self.verifier.clone())
    }

    fn cert(&self, msg: &[u8], signers: &[NodeId]) -> MacCert {
        let sigs: Vec<_> = signers.iter().map(|&i| (i, MacScheme::sign(&self.keys[i as usize], msg))).collect();
        MacScheme::combine(&self.verifier, &sigs)
    }

    fn qc(&self, view: View, block: Digest, signers: &[NodeId]) -> Qc<MacScheme> {
        Qc { view, block, cert: self.cert(&vote_message(view, &block), signers) }
    }

    fn header(&self, view: View, parent: &Header) -> Header {
        let leader = self.leader(view);
        Header {
            view,
            height: parent.height + 1,
            parent: parent.hash(),
            payload_commitment: vid_model::commitment(&vid_model::payload(view, leader)),
            proposer: leader,
        }
    }

    fn proposal(&self, header: Header, justify: Qc<MacScheme>, tc: Option<Tc<MacScheme>>) -> Message<MacScheme> {
        let sig = MacScheme::sign(&self.keys[header.proposer as usize], &proposal_message(&header.hash()));
        Message::Proposal(Proposal { header, justify, tc, sig })
    }

    fn da_cert(&self, view: View, commitment: Digest, signers: &[NodeId]) -> Message<MacScheme> {
        Message::DaCertificate(DaCert {
            view,
            commitment,
            cert: self.cert(&da_vote_message(view, &commitment), signers),
        })
    }

    fn share(&self, view: View, commitment: Digest, to: NodeId) -> Message<MacScheme> {
        Message::VidShare { view, commitment, share: VidShare { index: to, bytes: vid_model::share(&commitment, to) } }
    }

    fn vote(&self, view: View, block: Digest, voter: NodeId) -> Input<MacScheme> {
        let sig = MacScheme::sign(&self.keys[voter as usize], &vote_message(view, &block));
        Input::Message { from: voter, msg: Message::Vote { view, block, voter, sig } }
    }

    fn timeout(&self, view: View, high_qc: Qc<MacScheme>, voter: NodeId) -> Input<MacScheme> {
        let sig = MacScheme::sign(&self.keys[voter as usize], &timeout_message(view, high_qc.view));
        Input::Message { from: voter, msg: Message::Timeout(TimeoutVote { view, high_qc, voter, sig }) }
    }
}

fn msg(from: NodeId, m: Message<MacScheme>) -> Input<MacScheme> {
    Input::Message { from, msg: m }
}

fn share_ok(view: View, commitment: Digest) -> Input<MacScheme> {
    Input::DataChecked { view, commitment, kind: DataKind::Share, ok: true }
}

fn votes_in(actions: &[Action<MacScheme>]) -> Vec<(NodeId, View)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, msg: Message::Vote { view, .. } } => Some((*to, *view)),
            _ => None,
        })
        .collect()
}

/// Feeds a replica everything it needs to vote on `header` in its view, except what `skip` names.
fn feed_gates(fx: &Fixture, node: &mut Node<MacScheme>, header: &Header, skip: &str) -> Vec<Action<MacScheme>> {
    let (v, c, me, l) = (header.view, header.payload_commitment, node.id(), header.proposer);
    let mut out = Vec::new();
    if skip != "share" {
        out.extend(node.handle(msg(l, fx.share(v, c, me))));
        out.extend(node.handle(share_ok(v, c)));
    }
    if skip != "da" {
        out.extend(node.handle(msg(l, fx.da_cert(v, c, &[0, 1, 2]))));
    }
    out
}

#[test]
fn genesis_leader_proposes_and_replica_only_arms_its_timer() {
    let fx = Fixture::new();
    let l1 = fx.leader(1);
    let acts = fx.node(l1).start();
    assert_eq!(acts[0], Action::SetTimer { view: 1, after_ms: 100 });
    assert!(
        matches!(acts[1], Action::Persist(PersistedState { last_proposed_view: 1, .. })),
        "persist before proposing"
    );
    let da = acts.iter().filter(|a| matches!(a, Action::Send { msg: Message::DaProposal { .. }, .. })).count();
    let shares = acts.iter().filter(|a| matches!(a, Action::Send { msg: Message::VidShare { .. }, .. })).count();
    assert_eq!((da, shares), (N, N));
    let Some(Action::Broadcast(Message::Proposal(p))) = acts.last() else { panic!("no proposal: {acts:?}") };
    assert_eq!(p.header, fx.header(1, &Header::genesis()));
    assert!(p.justify.is_genesis());

    let replica = fx.replica_for(1);
    assert_eq!(fx.node(replica).start(), vec![Action::SetTimer { view: 1, after_ms: 100 }]);
}

#[test]
fn vote_waits_for_da_certificate_and_own_share_then_persists_first() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    assert_eq!(node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None))), vec![]);
    let acts = node.handle(msg(h1.proposer, fx.share(1, c, r)));
    let expected = DataRequest::VerifyShare {
        view: 1,
        commitment: c,
        share: VidShare { index: r, bytes: vid_model::share(&c, r) },
    };
    assert_eq!(acts, vec![Action::RequestData(expected)]);
    assert_eq!(node.handle(share_ok(1, c)), vec![], "no DA certificate yet");
    let acts = node.handle(msg(h1.proposer, fx.da_cert(1, c, &[0, 1, 2])));
    assert_eq!(acts.len(), 2, "{acts:?}");
    assert!(matches!(acts[0], Action::Persist(PersistedState { last_voted_view: 1, .. })), "persist before the vote");
    assert_eq!(votes_in(&acts), vec![(fx.leader(2), 1)]);
    // A duplicate certificate changes nothing: one vote per view.
    assert_eq!(node.handle(msg(h1.proposer, fx.da_cert(1, c, &[1, 2, 3]))), vec![]);
}

#[test]
fn invalid_share_or_missing_da_certificate_blocks_the_vote() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;

    let mut node = fx.node(r);
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(msg(h1.proposer, fx.share(1, c, r)));
    let bad = Input::DataChecked { view: 1, commitment: c, kind: DataKind::Share, ok: false };
    assert_eq!(node.handle(bad), vec![]);
    assert_eq!(node.handle(msg(h1.proposer, fx.da_cert(1, c, &[0, 1, 2]))), vec![], "share failed verification");

    let mut node = fx.node(r);
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = feed_gates(&fx, &mut node, &h1, "da");
    assert!(votes_in(&acts).is_empty());
}

#[test]
fn forged_or_short_da_certificates_are_rejected() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    let mut node = fx.node(r);
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    feed_gates(&fx, &mut node, &h1, "da");
    let short = fx.da_cert(1, c, &[0, 1]);
    assert_eq!(node.handle(msg(0, short)), vec![]);
    // Node 3 signs for everyone with its own key.
    let m = da_vote_message(1, &c);
    let tag = MacScheme::sign(&fx.keys[3], &m);
    let forged = Message::DaCertificate(DaCert {
        view: 1,
        commitment: c,
        cert: MacCert { signers: vec![0, 1, 2, 3], tags: vec![tag; 4] },
    });
    assert_eq!(node.handle(msg(3, forged)), vec![]);
    assert_eq!(node.stats().rejected, 2);
}

#[test]
fn proposals_from_non_leaders_or_with_bad_justify_are_rejected() {
    let fx = Fixture::new();
    let r = fx.replica_for(2);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    // Wrong proposer.
    let mut wrong = h1.clone();
    wrong.proposer = (h1.proposer + 1) % N as NodeId;
    let sig = MacScheme::sign(&fx.keys[wrong.proposer as usize], &proposal_message(&wrong.hash()));
    let p = Proposal { header: wrong, justify: Qc::genesis(), tc: None, sig };
    assert_eq!(node.handle(msg(0, Message::Proposal(p))), vec![]);
    // Under-threshold justify QC for view 1.
    let h2 = fx.header(2, &h1);
    let short = fx.qc(1, h1.hash(), &[0, 1]);
    assert_eq!(node.handle(msg(h2.proposer, fx.proposal(h2, short, None))), vec![]);
    assert_eq!(node.stats().rejected, 2);
    assert_eq!(node.view(), 1, "a bad certificate must not move the view");
}

#[test]
fn next_leader_forms_a_qc_from_distinct_votes_and_proposes() {
    let fx = Fixture::new();
    let l2 = fx.leader(2);
    let mut node = fx.node(l2);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    let voters: Vec<NodeId> = (0..N as NodeId).filter(|&i| i != l2).collect();
    // The same vote three times is one vote.
    for _ in 0..3 {
        assert!(node.handle(fx.vote(1, h1.hash(), voters[0])).is_empty());
    }
    assert!(node.handle(fx.vote(1, h1.hash(), voters[1])).is_empty());
    let acts = node.handle(fx.vote(1, h1.hash(), voters[2]));
    assert_eq!(acts[0], Action::SetTimer { view: 2, after_ms: 100 });
    let Some(Action::Broadcast(Message::Proposal(p))) = acts.last() else { panic!("{acts:?}") };
    assert_eq!((p.header.view, p.header.height, p.justify.view, p.justify.block), (2, 2, 1, h1.hash()));
    assert_eq!(node.view(), 2);
}

#[test]
fn double_vote_is_reported_as_equivocation() {
    let fx = Fixture::new();
    let l2 = fx.leader(2);
    let mut node = fx.node(l2);
    node.start();
    let voter = (l2 + 1) % N as NodeId;
    node.handle(fx.vote(1, Digest([1; 32]), voter));
    let acts = node.handle(fx.vote(1, Digest([2; 32]), voter));
    let ev = Equivocation::Vote { voter, view: 1, blocks: (Digest([1; 32]), Digest([2; 32])) };
    assert_eq!(acts, vec![Action::Evidence(ev)]);
}

#[test]
fn double_proposal_is_reported_and_only_the_first_gets_a_vote() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    let mut fork = h1.clone();
    fork.payload_commitment = Digest([9; 32]);
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = node.handle(msg(h1.proposer, fx.proposal(fork.clone(), Qc::genesis(), None)));
    let ev = Equivocation::Proposal { leader: h1.proposer, view: 1, blocks: (h1.hash(), fork.hash()) };
    assert_eq!(acts, vec![Action::Evidence(ev)]);
    // Gates opened for the fork's commitment do not earn it a vote.
    let acts = feed_gates(&fx, &mut node, &fork, "");
    assert!(votes_in(&acts).is_empty());
}

#[test]
fn timeout_persists_then_broadcasts_and_blocks_a_late_vote() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let acts = node.handle(Input::Timeout { view: 1 });
    assert!(matches!(acts[0], Action::Persist(PersistedState { last_voted_view: 1, .. })));
    assert!(matches!(&acts[1], Action::Broadcast(Message::Timeout(tv)) if tv.view == 1 && tv.high_qc.is_genesis()));
    assert_eq!(acts[2], Action::SetTimer { view: 1, after_ms: 200 }, "backoff on the re-armed timer");
    let h1 = fx.header(1, &Header::genesis());
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert!(votes_in(&feed_gates(&fx, &mut node, &h1, "")).is_empty());
    // Expiring again in the same view triggers view sync.
    let acts = node.handle(Input::Timeout { view: 1 });
    assert!(matches!(acts[0], Action::Broadcast(Message::ViewSync { .. })));
}

#[test]
fn timeout_certificate_moves_to_the_next_view_and_one_third_joins() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let others: Vec<NodeId> = (0..N as NodeId).filter(|&i| i != r).collect();
    assert!(node.handle(fx.timeout(1, Qc::genesis(), others[0])).is_empty());
    // A second timeout: more than 1/3 of stake gave up, so this node joins.
    let acts = node.handle(fx.timeout(1, Qc::genesis(), others[1]));
    assert!(matches!(&acts[1], Action::Broadcast(Message::Timeout(tv)) if tv.voter == r));
    // Its own looped-back timeout makes three: a TC, and view 2 with a doubled timer.
    let Action::Broadcast(Message::Timeout(own)) = acts[1].clone() else { unreachable!() };
    let acts = node.handle(msg(r, Message::Timeout(own)));
    assert!(acts.contains(&Action::SetTimer { view: 2, after_ms: 200 }), "{acts:?}");
    assert_eq!(node.view(), 2);
}

#[test]
fn after_a_timeout_certificate_a_proposal_must_extend_the_highest_reported_qc() {
    let fx = Fixture::new();
    // View 1 certified, view 2 timed out with QC(1) reported; view 3 proposes on QC(1) with the TC.
    let h1 = fx.header(1, &Header::genesis());
    let qc1 = fx.qc(1, h1.hash(), &[0, 1, 2]);
    let tc_votes: Vec<_> =
        [0u16, 1, 2].iter().map(|&i| (i, 1, MacScheme::sign(&fx.keys[i as usize], &timeout_message(2, 1)))).collect();
    let tc = Tc { view: 2, votes: tc_votes };
    let h3 = fx.header(3, &h1);
    let r = fx.replica_for(3);
    let mut node = fx.node(r);
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(msg(h3.proposer, fx.proposal(h3.clone(), qc1, Some(tc.clone()))));
    assert_eq!(node.view(), 3);
    assert_eq!(votes_in(&feed_gates(&fx, &mut node, &h3, "")), vec![(fx.leader(4), 3)]);

    // The same TC but a proposal on genesis (below the TC's high QC): no vote.
    let mut node = fx.node(r);
    node.start();
    let h3b = fx.header(3, &Header::genesis());
    node.handle(msg(h3b.proposer, fx.proposal(h3b.clone(), Qc::genesis(), Some(tc))));
    assert_eq!(node.view(), 3);
    assert!(votes_in(&feed_gates(&fx, &mut node, &h3b, "")).is_empty());
}

#[test]
fn two_chain_decides_only_on_consecutive_views() {
    let fx = Fixture::new();
    let g = Header::genesis();
    let h1 = fx.header(1, &g);
    let h2 = fx.header(2, &h1);
    let h3 = fx.header(3, &h2);
    let (q1, q2) = (fx.qc(1, h1.hash(), &[0, 1, 2]), fx.qc(2, h2.hash(), &[1, 2, 3]));
    let mut node = fx.node(fx.replica_for(3));
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert!(!node.handle(msg(h2.proposer, fx.proposal(h2.clone(), q1, None))).iter().any(is_decide));
    let acts = node.handle(msg(h3.proposer, fx.proposal(h3.clone(), q2, None)));
    let decided: Vec<_> = acts.iter().filter_map(decided_blocks).collect();
    assert_eq!(decided, vec![vec![h1.clone()]]);
    assert!(acts.iter().position(is_decide) < acts.iter().position(|a| matches!(a, Action::Persist(_))));
    assert_eq!(node.decided(), &h1);

    // A gap: block 5 certified in view 5 but its parent is from view 3: QC(5) decides nothing.
    let fx = Fixture::new();
    let h5 = fx.header(5, &h3);
    let h6 = fx.header(6, &h5);
    let tc4 = Tc {
        view: 4,
        votes: [0u16, 1, 2]
            .iter()
            .map(|&i| (i, 3, MacScheme::sign(&fx.keys[i as usize], &timeout_message(4, 3))))
            .collect(),
    };
    let mut node = fx.node(fx.replica_for(6));
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(msg(h2.proposer, fx.proposal(h2.clone(), fx.qc(1, h1.hash(), &[0, 1, 2]), None)));
    node.handle(msg(h3.proposer, fx.proposal(h3.clone(), fx.qc(2, h2.hash(), &[0, 1, 2]), None)));
    node.handle(msg(h5.proposer, fx.proposal(h5.clone(), fx.qc(3, h3.hash(), &[0, 1, 2]), Some(tc4))));
    assert_eq!(node.decided(), &h2, "QC(3) on 2<-3 decides block 2");
    let acts = node.handle(msg(h6.proposer, fx.proposal(h6, fx.qc(5, h5.hash(), &[0, 1, 2]), None)));
    assert!(!acts.iter().any(is_decide), "3 -> 5 is not consecutive: {acts:?}");
    assert_eq!(node.decided(), &h2);
}

fn is_decide(a: &Action<MacScheme>) -> bool {
    matches!(a, Action::Decide { .. })
}

fn decided_blocks(a: &Action<MacScheme>) -> Option<Vec<Header>> {
    match a {
        Action::Decide { blocks } => Some(blocks.clone()),
        _ => None,
    }
}

#[test]
fn restarted_node_does_not_vote_twice_in_a_view() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = feed_gates(&fx, &mut node, &h1, "");
    let Some(Action::Persist(ps)) = acts.iter().find(|a| matches!(a, Action::Persist(_))).cloned() else {
        panic!("no persist")
    };
    // Crash right after the Persist; the restarted node sees the whole view again.
    let mut node = Node::restore(r, fx.cfg.clone(), fx.keys[r as usize].clone(), fx.verifier.clone(), ps);
    node.start();
    node.handle(msg(h1.proposer, fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert!(votes_in(&feed_gates(&fx, &mut node, &h1, "")).is_empty());
}

#[test]
fn votes_far_in_the_future_are_dropped() {
    let fx = Fixture::new();
    let far = 1_000_000;
    let l = fx.leader(far + 1);
    let mut node = fx.node(l);
    node.start();
    let voter = (l + 1) % N as NodeId;
    assert!(node.handle(fx.vote(far, Digest([3; 32]), voter)).is_empty());
    assert_eq!(node.stats().rejected, 1);
}

#[test]
fn missing_parent_is_fetched_and_the_child_adopted() {
    let fx = Fixture::new();
    let h1 = fx.header(1, &Header::genesis());
    let h2 = fx.header(2, &h1);
    let q1 = fx.qc(1, h1.hash(), &[0, 1, 2]);
    let mut node = fx.node(fx.replica_for(2));
    node.start();
    let acts = node.handle(msg(h2.proposer, fx.proposal(h2.clone(), q1, None)));
    assert!(acts.contains(&Action::Send { to: h2.proposer, msg: Message::FetchRequest { block: h1.hash() } }));
    let Message::Proposal(p1) = fx.proposal(h1.clone(), Qc::genesis(), None) else { unreachable!() };
    node.handle(msg(h2.proposer, Message::FetchResponse(p1)));
    // Now the node holds both and can serve them, oldest first.
    let acts = node.handle(msg(0, Message::FetchRequest { block: h2.hash() }));
    let served: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Send { msg: Message::FetchResponse(p), .. } => Some(p.header.view),
            _ => None,
        })
        .collect();
    assert_eq!(served, vec![1, 2]);
}

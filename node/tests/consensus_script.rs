//! Script tests: one consensus node as a pure event transducer, inputs in, actions out (the HotShot style). Every
//! message goes through the real verifier first, as in a runtime, so these also check what verification refuses.

use std::sync::Arc;

use crema_engine::vid::{SchemeKind, ns_commitment};
use crema_node::consensus::mac::{MacCert, MacKey, MacVerifier};
use crema_node::consensus::*;

const N: usize = 4;

/// A four-node network's keys and configuration, and builders for validly signed inputs.
struct Fixture {
    keys: Vec<MacKey>,
    verifier: MacVerifier,
    cfg: Config,
    checker: MessageVerifier<MacScheme>,
}

impl Fixture {
    fn new() -> Self {
        let (keys, verifier) = mac_keys(N, 42);
        let cfg = Config::new(StakeTable::equal(N as u64).unwrap(), 100);
        let checker = MessageVerifier::new(cfg.clone(), verifier.clone());
        Fixture { keys, verifier, cfg, checker }
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

    /// `m` as a runtime hands it over: verified. Panics if verification refuses it.
    fn input(&self, m: Message<MacScheme>) -> Input<MacScheme> {
        Input::Message(self.checker.verify(m).expect("a valid message"))
    }

    fn cert(&self, msg: &[u8], signers: &[NodeId]) -> MacCert {
        let sigs: Vec<_> = signers.iter().map(|&i| (i, MacScheme::sign(&self.keys[i as usize], msg))).collect();
        MacScheme::combine(&self.verifier, &sigs)
    }

    fn qc(&self, view: View, block: Digest, signers: &[NodeId]) -> Qc<MacScheme> {
        Qc { view, block, cert: self.cert(&vote_message(view, &block), signers) }
    }

    /// A header for `view` on `parent`, with a payload commitment consistent with its (made-up) namespace table.
    fn header(&self, view: View, parent: &Header) -> Header {
        let root = Digest(*blake3::hash(&view.to_le_bytes()).as_bytes());
        Header {
            view,
            height: parent.height + 1,
            parent: parent.hash(),
            proposer: self.leader(view),
            timestamp_ms: 1_000 * view,
            payload_commitment: Digest(ns_commitment(SchemeKind::Avidm, 1, &root.0)),
            payload_len: 10,
            namespaces: 1,
            ns_table_root: root,
            vid: self.cfg.vid,
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

    fn share(&self, view: View, commitment: Digest, to: NodeId, bytes: &[u8]) -> Message<MacScheme> {
        Message::VidShare(VidShare { view, commitment, node: to, common: Arc::new(vec![1]), share: bytes.to_vec() })
    }

    fn vote(&self, view: View, block: Digest, voter: NodeId) -> Input<MacScheme> {
        let sig = MacScheme::sign(&self.keys[voter as usize], &vote_message(view, &block));
        self.input(Message::Vote(Vote { view, block, voter, sig }))
    }

    fn timeout(&self, view: View, high_qc: Qc<MacScheme>, voter: NodeId) -> Input<MacScheme> {
        let sig = MacScheme::sign(&self.keys[voter as usize], &timeout_message(view, high_qc.view));
        self.input(Message::Timeout(TimeoutVote { view, high_qc, voter, sig }))
    }
}

fn share_checked(view: View, commitment: Digest, ok: bool) -> Input<MacScheme> {
    Input::DataChecked { view, commitment, kind: DataKind::Share, ok }
}

fn view_timer(view: View) -> Input<MacScheme> {
    Input::Timer { kind: TimerKind::View, view }
}

fn set_view_timer(view: View, after_ms: u64) -> Action<MacScheme> {
    Action::SetTimer { kind: TimerKind::View, view, after_ms }
}

fn votes_in(actions: &[Action<MacScheme>]) -> Vec<(NodeId, View)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, msg: Message::Vote(v) } => Some((*to, v.view)),
            _ => None,
        })
        .collect()
}

fn share_checks(actions: &[Action<MacScheme>]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RequestData(DataRequest::VerifyShare(s)) => Some(s.share.clone()),
            _ => None,
        })
        .collect()
}

/// Feeds a replica everything it needs to vote on `header` in its view, except what `skip` names.
fn feed_gates(fx: &Fixture, node: &mut Node<MacScheme>, header: &Header, skip: &str) -> Vec<Action<MacScheme>> {
    let (v, c, me) = (header.view, header.payload_commitment, node.id());
    let mut out = Vec::new();
    if skip != "share" {
        out.extend(node.handle(fx.input(fx.share(v, c, me, b"share"))));
        out.extend(node.handle(share_checked(v, c, true)));
    }
    if skip != "da" {
        out.extend(node.handle(fx.input(fx.da_cert(v, c, &[0, 1, 2]))));
    }
    out
}

fn built_block(fx: &Fixture, view: View) -> BuiltBlock {
    let h = fx.header(view, &Header::genesis());
    BuiltBlock {
        timestamp_ms: 5,
        payload_commitment: h.payload_commitment,
        payload_len: h.payload_len,
        namespaces: h.namespaces,
        ns_table_root: h.ns_table_root,
        payload: Arc::new(b"payload".to_vec()),
        common: Arc::new(b"common".to_vec()),
        shares: (0..N).map(|i| vec![i as u8]).collect(),
    }
}

#[test]
fn leader_asks_for_a_block_then_persists_and_sends_payload_shares_and_proposal() {
    let fx = Fixture::new();
    let l1 = fx.leader(1);
    let mut node = fx.node(l1);
    let acts = node.start();
    assert_eq!(acts, vec![set_view_timer(1, 100), Action::BuildBlock { view: 1, parent: Header::genesis() }]);
    let acts = node.handle(Input::BlockReady { view: 1, block: built_block(&fx, 1) });
    assert!(
        matches!(acts[0], Action::Persist(PersistedState { last_proposed_view: 1, .. })),
        "persist before proposing: {acts:?}"
    );
    let da = acts.iter().filter(|a| matches!(a, Action::Send { msg: Message::DaProposal(_), .. })).count();
    let shares: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, msg: Message::VidShare(s) } => Some((*to, s.node, s.share.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(da, N);
    assert_eq!(shares, (0..N).map(|i| (i as NodeId, i as NodeId, vec![i as u8])).collect::<Vec<_>>());
    let Some(Action::Broadcast(Message::Proposal(p))) = acts.last() else { panic!("no proposal: {acts:?}") };
    assert_eq!((p.header.view, p.header.height, p.header.timestamp_ms), (1, 1, 5));
    assert!(p.justify.is_genesis());
    fx.checker.verify(Message::Proposal(p.clone())).expect("the leader's own proposal verifies");
    // A second block for the same view is ignored: one proposal per view.
    assert!(node.handle(Input::BlockReady { view: 1, block: built_block(&fx, 1) }).is_empty());

    let replica = fx.replica_for(1);
    assert_eq!(fx.node(replica).start(), vec![set_view_timer(1, 100)]);
}

#[test]
fn vote_waits_for_da_certificate_and_own_share_then_persists_first() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    let acts = node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert_eq!(acts, vec![Action::SetTimer { kind: TimerKind::Share, view: 1, after_ms: 25 }], "share timer armed");
    let acts = node.handle(fx.input(fx.share(1, c, r, b"mine")));
    assert_eq!(share_checks(&acts), vec![b"mine".to_vec()]);
    assert_eq!(node.handle(share_checked(1, c, true)), vec![], "no DA certificate yet");
    let acts = node.handle(fx.input(fx.da_cert(1, c, &[0, 1, 2])));
    assert_eq!(acts.len(), 2, "{acts:?}");
    assert!(matches!(acts[0], Action::Persist(PersistedState { last_voted_view: 1, .. })), "persist before the vote");
    assert_eq!(votes_in(&acts), vec![(fx.leader(2), 1)]);
    // A duplicate certificate changes nothing: one vote per view.
    assert_eq!(node.handle(fx.input(fx.da_cert(1, c, &[1, 2, 3]))), vec![]);
}

#[test]
fn a_share_before_its_proposal_is_held_and_a_forged_one_never_takes_its_place() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    // A relay sends a forged share for a made-up commitment, then a damaged one for the real commitment, then the
    // real one: all before the proposal. Nothing is checked yet: no signed message vouches for a commitment.
    assert!(node.handle(fx.input(fx.share(1, Digest([7; 32]), r, b"forged"))).is_empty());
    assert!(node.handle(fx.input(fx.share(1, c, r, b"damaged"))).is_empty());
    assert!(node.handle(fx.input(fx.share(1, c, r, b"real"))).is_empty());
    // The signed proposal names c: one held share for c is checked (never the forged commitment's).
    let acts = node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let first = share_checks(&acts);
    assert_eq!(first.len(), 1);
    assert_ne!(first[0], b"forged".to_vec());
    // It fails: the next candidate for the same commitment is checked.
    let acts = node.handle(share_checked(1, c, false));
    assert_eq!(share_checks(&acts).len(), 1);
    assert_eq!(node.stats().bad_shares, 1);
    node.handle(share_checked(1, c, true));
    let acts = node.handle(fx.input(fx.da_cert(1, c, &[0, 1, 2])));
    assert_eq!(votes_in(&acts), vec![(fx.leader(2), 1)]);
}

#[test]
fn held_shares_are_bounded_per_view() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    for i in 0..(MAX_HELD_PER_VIEW + 10) {
        node.handle(fx.input(fx.share(1, Digest([i as u8; 32]), r, b"junk")));
    }
    assert_eq!(node.stats().dropped_shares, 10);
    assert!(node.footprint() < 20, "footprint {}", node.footprint());
}

#[test]
fn a_missing_share_is_asked_for_from_the_leader_then_the_da_committee() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let asks = |acts: &[Action<MacScheme>]| -> Vec<NodeId> {
        acts.iter()
            .filter_map(|a| match a {
                Action::Send { to, msg: Message::ShareRequest { requester, view: 1, commitment } }
                    if *requester == r && *commitment == c =>
                {
                    Some(*to)
                }
                _ => None,
            })
            .collect()
    };
    let acts = node.handle(Input::Timer { kind: TimerKind::Share, view: 1 });
    assert_eq!(asks(&acts), vec![h1.proposer]);
    let acts = node.handle(Input::Timer { kind: TimerKind::Share, view: 1 });
    let others: Vec<NodeId> = (0..N as NodeId).filter(|&i| i != r).collect();
    assert_eq!(asks(&acts), others, "then every other DA committee member");
    // A peer asking us is served by the runtime (if it can).
    let ask = Message::ShareRequest { requester: 0, view: 1, commitment: c };
    let acts = node.handle(fx.input(ask));
    assert_eq!(acts, vec![Action::ServeShare { to: 0, view: 1, commitment: c }]);
}

#[test]
fn invalid_share_or_missing_da_certificate_blocks_the_vote() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;

    let mut node = fx.node(r);
    node.start();
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(fx.input(fx.share(1, c, r, b"bad")));
    // No vote; the node asks for its share again (after the share-request delay).
    let after_bad = node.handle(share_checked(1, c, false));
    assert!(
        matches!(after_bad.as_slice(), [Action::SetTimer { kind: TimerKind::Share, view: 1, .. }]),
        "{after_bad:?}"
    );
    assert_eq!(node.handle(fx.input(fx.da_cert(1, c, &[0, 1, 2]))), vec![], "share failed verification");

    let mut node = fx.node(r);
    node.start();
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = feed_gates(&fx, &mut node, &h1, "da");
    assert!(votes_in(&acts).is_empty());
}

#[test]
fn the_verifier_refuses_forged_and_short_certificates_and_wrong_signers() {
    let fx = Fixture::new();
    let h1 = fx.header(1, &Header::genesis());
    let c = h1.payload_commitment;
    assert!(fx.checker.verify(fx.da_cert(1, c, &[0, 1])).is_err(), "short DA certificate");
    // Node 3 signs for everyone with its own key.
    let tag = MacScheme::sign(&fx.keys[3], &da_vote_message(1, &c));
    let forged = Message::DaCertificate(DaCert {
        view: 1,
        commitment: c,
        cert: MacCert { signers: vec![0, 1, 2, 3], tags: vec![tag; 4] },
    });
    assert!(fx.checker.verify(forged).is_err());
    // A proposal signed by a node that does not lead the view.
    let mut wrong = h1.clone();
    wrong.proposer = (h1.proposer + 1) % N as NodeId;
    let sig = MacScheme::sign(&fx.keys[wrong.proposer as usize], &proposal_message(&wrong.hash()));
    let p = Message::Proposal(Proposal { header: wrong, justify: Qc::genesis(), tc: None, sig });
    assert_eq!(fx.checker.verify(p).unwrap_err(), Reject::WrongSigner((h1.proposer + 1) % N as NodeId));
    // A header whose payload commitment is not its namespace table's.
    let mut lying = h1.clone();
    lying.ns_table_root = Digest([1; 32]);
    assert!(fx.checker.verify(fx.proposal(lying, Qc::genesis(), None)).is_err());
    // Under-threshold justify QC.
    let h2 = fx.header(2, &h1);
    assert!(fx.checker.verify(fx.proposal(h2, fx.qc(1, h1.hash(), &[0, 1]), None)).is_err());
    // A vote whose signature is not its claimed voter's (a relay changed the voter).
    let sig = MacScheme::sign(&fx.keys[0], &vote_message(1, &h1.hash()));
    assert!(fx.checker.verify(Message::Vote(Vote { view: 1, block: h1.hash(), voter: 1, sig })).is_err());
    // The same checks run on bytes from the wire.
    let bytes = wire::encode(&fx.da_cert(1, c, &[0, 1]));
    assert!(matches!(fx.checker.ingest(&bytes), Err(IngestError::Rejected { kind: "da_certificate", .. })));
    assert!(matches!(fx.checker.ingest(&bytes[..bytes.len() - 1]), Err(IngestError::Wire(_))));
}

#[test]
fn next_leader_forms_a_qc_from_distinct_votes_and_asks_for_a_block() {
    let fx = Fixture::new();
    let l2 = fx.leader(2);
    let mut node = fx.node(l2);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let voters: Vec<NodeId> = (0..N as NodeId).filter(|&i| i != l2).collect();
    // The same vote three times is one vote.
    for _ in 0..3 {
        assert!(node.handle(fx.vote(1, h1.hash(), voters[0])).is_empty());
    }
    assert!(node.handle(fx.vote(1, h1.hash(), voters[1])).is_empty());
    let acts = node.handle(fx.vote(1, h1.hash(), voters[2]));
    assert_eq!(acts[0], set_view_timer(2, 100));
    assert!(acts.contains(&Action::BuildBlock { view: 2, parent: h1.clone() }), "{acts:?}");
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
    fork.timestamp_ms += 1;
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = node.handle(fx.input(fx.proposal(fork.clone(), Qc::genesis(), None)));
    let ev = Equivocation::Proposal { leader: h1.proposer, view: 1, blocks: (h1.hash(), fork.hash()) };
    assert!(acts.contains(&Action::Evidence(ev)), "{acts:?}");
    // Both share the commitment, but only the first proposal is voted for, once.
    let acts = feed_gates(&fx, &mut node, &fork, "");
    assert_eq!(votes_in(&acts), vec![(fx.leader(2), 1)]);
    let Some(Action::Send { msg: Message::Vote(v), .. }) = acts.iter().find(|a| !votes_in(&[(*a).clone()]).is_empty())
    else {
        panic!()
    };
    assert_eq!(v.block, h1.hash());
}

#[test]
fn timeout_persists_then_broadcasts_and_blocks_a_late_vote() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let acts = node.handle(view_timer(1));
    assert!(matches!(acts[0], Action::Persist(PersistedState { last_voted_view: 1, .. })));
    assert!(matches!(&acts[1], Action::Broadcast(Message::Timeout(tv)) if tv.view == 1 && tv.high_qc.is_genesis()));
    assert_eq!(acts[2], set_view_timer(1, 200), "backoff on the re-armed timer");
    let h1 = fx.header(1, &Header::genesis());
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert!(votes_in(&feed_gates(&fx, &mut node, &h1, "")).is_empty());
    // Expiring again in the same view triggers view sync.
    let acts = node.handle(view_timer(1));
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
    let acts = node.handle(fx.input(Message::Timeout(own)));
    assert!(acts.contains(&set_view_timer(2, 200)), "{acts:?}");
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
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(fx.input(fx.proposal(h3.clone(), qc1, Some(tc.clone()))));
    assert_eq!(node.view(), 3);
    assert_eq!(votes_in(&feed_gates(&fx, &mut node, &h3, "")), vec![(fx.leader(4), 3)]);

    // The same TC but a proposal on genesis (below the TC's high QC): no vote.
    let mut node = fx.node(r);
    node.start();
    let h3b = fx.header(3, &Header::genesis());
    node.handle(fx.input(fx.proposal(h3b.clone(), Qc::genesis(), Some(tc))));
    assert_eq!(node.view(), 3);
    assert!(votes_in(&feed_gates(&fx, &mut node, &h3b, "")).is_empty());
}

fn decided(acts: &[Action<MacScheme>]) -> Vec<(Vec<Header>, Header)> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Decide { blocks, proof } => {
                Some((blocks.iter().map(|(h, _)| h.clone()).collect(), proof.child.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn two_chain_decides_only_on_consecutive_views_with_each_block_and_its_qc() {
    let fx = Fixture::new();
    let g = Header::genesis();
    let h1 = fx.header(1, &g);
    let h2 = fx.header(2, &h1);
    let h3 = fx.header(3, &h2);
    let (q1, q2) = (fx.qc(1, h1.hash(), &[0, 1, 2]), fx.qc(2, h2.hash(), &[1, 2, 3]));
    let mut node = fx.node(fx.replica_for(3));
    node.start();
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    assert!(decided(&node.handle(fx.input(fx.proposal(h2.clone(), q1.clone(), None)))).is_empty());
    let acts = node.handle(fx.input(fx.proposal(h3.clone(), q2.clone(), None)));
    assert_eq!(decided(&acts), vec![(vec![h1.clone()], h2.clone())], "h1 decided, proven by its child h2");
    let Some(Action::Decide { blocks, proof }) = acts.iter().find(|a| matches!(a, Action::Decide { .. })) else {
        panic!()
    };
    assert_eq!(blocks[0].1, q1, "each decided block comes with the QC that certifies it");
    assert_eq!(proof.child_qc, q2);
    assert!(
        acts.iter().position(|a| matches!(a, Action::Decide { .. }))
            < acts.iter().position(|a| matches!(a, Action::Persist(_)))
    );
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
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    node.handle(fx.input(fx.proposal(h2.clone(), fx.qc(1, h1.hash(), &[0, 1, 2]), None)));
    node.handle(fx.input(fx.proposal(h3.clone(), fx.qc(2, h2.hash(), &[0, 1, 2]), None)));
    node.handle(fx.input(fx.proposal(h5.clone(), fx.qc(3, h3.hash(), &[0, 1, 2]), Some(tc4))));
    assert_eq!(node.decided(), &h2, "QC(3) on 2<-3 decides block 2");
    let acts = node.handle(fx.input(fx.proposal(h6, fx.qc(5, h5.hash(), &[0, 1, 2]), None)));
    assert!(decided(&acts).is_empty(), "3 -> 5 is not consecutive: {acts:?}");
    assert_eq!(node.decided(), &h2);
}

#[test]
fn restarted_node_does_not_vote_twice_in_a_view() {
    let fx = Fixture::new();
    let r = fx.replica_for(1);
    let mut node = fx.node(r);
    node.start();
    let h1 = fx.header(1, &Header::genesis());
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
    let acts = feed_gates(&fx, &mut node, &h1, "");
    let Some(Action::Persist(ps)) = acts.iter().find(|a| matches!(a, Action::Persist(_))).cloned() else {
        panic!("no persist")
    };
    // Crash right after the Persist; the restarted node sees the whole view again.
    let mut node = Node::restore(r, fx.cfg.clone(), fx.keys[r as usize].clone(), fx.verifier.clone(), ps);
    node.start();
    node.handle(fx.input(fx.proposal(h1.clone(), Qc::genesis(), None)));
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
    let me = fx.replica_for(2);
    let mut node = fx.node(me);
    node.start();
    let acts = node.handle(fx.input(fx.proposal(h2.clone(), q1, None)));
    let fetch = Message::FetchRequest { requester: me, block: h1.hash() };
    assert!(acts.contains(&Action::Send { to: h2.proposer, msg: fetch }), "{acts:?}");
    let Message::Proposal(p1) = fx.proposal(h1.clone(), Qc::genesis(), None) else { unreachable!() };
    node.handle(fx.input(Message::FetchResponse(p1)));
    // Now the node holds both and can serve them, oldest first.
    let asker = (me + 1) % N as NodeId;
    let acts = node.handle(fx.input(Message::FetchRequest { requester: asker, block: h2.hash() }));
    let served: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, msg: Message::FetchResponse(p) } if *to == asker => Some(p.header.view),
            _ => None,
        })
        .collect();
    assert_eq!(served, vec![1, 2]);
}

/// A decided chain of `len` blocks in consecutive views, with the QC of each and of the child of the last.
fn chain(fx: &Fixture, len: u64) -> (Vec<(Header, Qc<MacScheme>)>, CommitProof<MacScheme>) {
    let mut prev = Header::genesis();
    let mut blocks = Vec::new();
    for v in 1..=len {
        let h = fx.header(v, &prev);
        blocks.push((h.clone(), fx.qc(v, h.hash(), &[0, 1, 2])));
        prev = h;
    }
    let child = fx.header(len + 1, &prev);
    let child_qc = fx.qc(len + 1, child.hash(), &[1, 2, 3]);
    (blocks, CommitProof { child, child_qc })
}

/// A node at genesis that just saw a proposal at height 41 over a 40-block chain it lacks: the chain, its commit
/// proof, the node's id, the node, and what it did.
#[allow(clippy::type_complexity)]
fn forty_behind(
    fx: &Fixture,
) -> (Vec<(Header, Qc<MacScheme>)>, CommitProof<MacScheme>, NodeId, Node<MacScheme>, Vec<Action<MacScheme>>) {
    let (blocks, proof) = chain(fx, 40);
    let me = fx.replica_for(42);
    let mut node = fx.node(me);
    node.start();
    let (top, top_qc) = blocks.last().cloned().unwrap();
    let acts = node.handle(fx.input(fx.proposal(fx.header(41, &top), top_qc, None)));
    (blocks, proof, me, node, acts)
}

/// Whether `acts` ask a peer for `block`.
fn fetches(acts: &[Action<MacScheme>], block: Digest) -> bool {
    acts.iter().any(|a| matches!(a, Action::Send { msg: Message::FetchRequest { block: b, .. }, .. } if *b == block))
}

#[test]
fn a_long_gap_is_left_to_range_sync_not_fetched_parent_by_parent() {
    let fx = Fixture::new();
    let (blocks, _, _, mut node, _) = forty_behind(&fx);
    // A fetched ancestor 30 blocks above the root arrives: it is parked, and its parent is not asked for (range
    // sync, already requested, brings the rest; fetching parent by parent would race it).
    let (h29, q29) = blocks[28].clone();
    let Message::Proposal(p30) = fx.proposal(blocks[29].0.clone(), q29, None) else { unreachable!() };
    let acts = node.handle(fx.input(Message::FetchResponse(p30)));
    assert!(!fetches(&acts, h29.hash()), "{acts:?}");
    // Close to the root, a missing parent is still fetched.
    let (h1, q1) = blocks[0].clone();
    let Message::Proposal(p2) = fx.proposal(blocks[1].0.clone(), q1, None) else { unreachable!() };
    let acts = node.handle(fx.input(Message::FetchResponse(p2)));
    assert!(fetches(&acts, h1.hash()), "{acts:?}");
}

#[test]
fn a_lagging_node_asks_for_a_range_and_decides_it_once_verified() {
    let fx = Fixture::new();
    // A proposal far above the root: a sync request, not a parent-by-parent fetch.
    let (blocks, proof, me, mut node, acts) = forty_behind(&fx);
    assert!(
        acts.iter().any(|a| matches!(a, Action::Send { msg: Message::SyncRequest { requester, from_height: 1 }, .. } if *requester == me)),
        "{acts:?}"
    );
    // A peer asks us: the runtime serves from its store.
    let asker = (me + 1) % N as NodeId;
    let acts = node.handle(fx.input(Message::SyncRequest { requester: asker, from_height: 0 }));
    assert_eq!(acts, vec![Action::ServeSync { to: asker, from_height: 0 }]);

    let range = DecidedRange { blocks: blocks.clone(), proof: proof.clone() };
    let acts = node.handle(fx.input(Message::SyncResponse(range)));
    assert_eq!(decided(&acts).first().map(|(b, _)| b.len()), Some(40), "{acts:?}");
    assert_eq!(node.decided().height, 40);
    assert_eq!(node.stats().synced, 40);
}

#[test]
fn false_ranges_are_refused() {
    let fx = Fixture::new();
    let (blocks, proof) = chain(&fx, 5);
    let ok = DecidedRange { blocks: blocks.clone(), proof: proof.clone() };
    fx.checker.verify(Message::SyncResponse(ok)).expect("a true range verifies");
    // The proof's child is not from the view after the last block: the last block is not proven decided.
    let mut late = proof.clone();
    late.child = Header { view: 7, ..proof.child.clone() };
    late.child_qc = fx.qc(7, late.child.hash(), &[0, 1, 2]);
    assert!(fx.checker.verify(Message::SyncResponse(DecidedRange { blocks: blocks.clone(), proof: late })).is_err());
    // A block swapped for one its QC does not certify.
    let mut swapped = blocks.clone();
    swapped[2].0.timestamp_ms += 1;
    let r = DecidedRange { blocks: swapped, proof: proof.clone() };
    assert!(fx.checker.verify(Message::SyncResponse(r)).is_err());
    // A hole in the chain.
    let mut holed = blocks.clone();
    holed.remove(2);
    assert!(fx.checker.verify(Message::SyncResponse(DecidedRange { blocks: holed, proof: proof.clone() })).is_err());
    // A true range that does not extend this node's root (it decided another block 1) is refused by the core.
    let mut node = fx.node(0);
    node.start();
    let mut other = blocks.clone();
    other[0].0 = Header { parent: Digest([5; 32]), ..other[0].0.clone() };
    other[0].1 = fx.qc(1, other[0].0.hash(), &[0, 1, 2]);
    other[1].0.parent = other[0].0.hash();
    other[1].1 = fx.qc(2, other[1].0.hash(), &[0, 1, 2]);
    for i in 2..5 {
        other[i].0.parent = other[i - 1].0.hash();
        other[i].1 = fx.qc(other[i].0.view, other[i].0.hash(), &[0, 1, 2]);
    }
    let mut p = proof.clone();
    p.child.parent = other[4].0.hash();
    p.child_qc = fx.qc(p.child.view, p.child.hash(), &[0, 1, 2]);
    let acts = node.handle(fx.input(Message::SyncResponse(DecidedRange { blocks: other, proof: p })));
    assert!(decided(&acts).is_empty());
    assert_eq!((node.decided().height, node.stats().rejected), (0, 1));
}

#[test]
fn a_payload_copy_that_arrives_during_the_check_of_an_altered_one_is_checked_next() {
    // The DA proposal's signature covers (view, commitment), not the bytes: a relay (the CDN) may deliver an
    // altered copy first. The genuine copy arriving while that one is checked must not be lost.
    let fx = Fixture::new();
    let mut leader = fx.node(fx.leader(1));
    leader.start();
    let acts = leader.handle(Input::BlockReady { view: 1, block: built_block(&fx, 1) });
    let Some(Action::Send { msg: Message::DaProposal(genuine), .. }) =
        acts.iter().find(|a| matches!(a, Action::Send { msg: Message::DaProposal(_), .. }))
    else {
        panic!("no DA proposal: {acts:?}")
    };
    let mut altered = genuine.clone();
    let mut bytes = (*altered.payload).clone();
    bytes.push(0xff);
    altered.payload = Arc::new(bytes);

    let mut member = fx.node(fx.replica_for(1));
    member.start();
    let checks = |acts: &[Action<MacScheme>]| -> Vec<Arc<Vec<u8>>> {
        acts.iter()
            .filter_map(|a| match a {
                Action::RequestData(DataRequest::CheckPayload { payload, .. }) => Some(payload.clone()),
                _ => None,
            })
            .collect()
    };
    let first = member.handle(fx.input(Message::DaProposal(altered.clone())));
    assert_eq!(checks(&first), vec![altered.payload.clone()]);
    assert!(checks(&member.handle(fx.input(Message::DaProposal(genuine.clone())))).is_empty(), "one check at a time");
    let bad = Input::DataChecked { view: 1, commitment: genuine.commitment, kind: DataKind::Payload, ok: false };
    assert_eq!(checks(&member.handle(bad)), vec![genuine.payload.clone()], "the spare copy is checked next");
    let good = Input::DataChecked { view: 1, commitment: genuine.commitment, kind: DataKind::Payload, ok: true };
    let acts = member.handle(good);
    assert!(acts.iter().any(|a| matches!(a, Action::Send { msg: Message::DaVote(_), .. })), "{acts:?}");
}

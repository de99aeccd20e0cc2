//! Random and extreme network input must be rejected, never panic (tests run with debug assertions, so an
//! arithmetic overflow on a Byzantine view number would fail here), and must not move a node's view.

use std::sync::Arc;

use crema_node::consensus::mac::MacCert;
use crema_node::consensus::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn view(rng: &mut ChaCha8Rng) -> View {
    match rng.gen_range(0..5) {
        0 => 0,
        1 => u64::MAX,
        2 => u64::MAX - rng.gen_range(0..3),
        3 => rng.gen_range(0..8),
        _ => rng.r#gen(),
    }
}

fn digest(rng: &mut ChaCha8Rng) -> Digest {
    Digest(rng.r#gen())
}

fn cert(rng: &mut ChaCha8Rng) -> MacCert {
    // Signers and tags pair up on the wire; out-of-range, repeated and unsorted signers are the garbage here.
    let k = rng.gen_range(0..8);
    MacCert { signers: (0..k).map(|_| rng.gen_range(0..12)).collect(), tags: (0..k).map(|_| rng.r#gen()).collect() }
}

fn qc(rng: &mut ChaCha8Rng) -> Qc<MacScheme> {
    if rng.gen_bool(0.2) { Qc::genesis() } else { Qc { view: view(rng), block: digest(rng), cert: cert(rng) } }
}

fn tc(rng: &mut ChaCha8Rng) -> Tc<MacScheme> {
    let votes = (0..rng.gen_range(0..6)).map(|_| (rng.gen_range(0..12), view(rng), rng.r#gen())).collect();
    Tc { view: view(rng), votes }
}

fn header(rng: &mut ChaCha8Rng) -> Header {
    Header {
        view: view(rng),
        height: view(rng),
        parent: digest(rng),
        proposer: rng.gen_range(0..12),
        timestamp_ms: view(rng),
        payload_commitment: digest(rng),
        payload_len: view(rng),
        namespaces: rng.r#gen(),
        ns_table_root: digest(rng),
        vid: VidParams::default(),
    }
}

fn message(rng: &mut ChaCha8Rng) -> Message<MacScheme> {
    let proposal =
        Proposal { header: header(rng), justify: qc(rng), tc: rng.gen_bool(0.5).then(|| tc(rng)), sig: rng.r#gen() };
    let voter = rng.gen_range(0..12);
    let node = rng.gen_range(0..12);
    match rng.gen_range(0..13) {
        0 => Message::Proposal(proposal),
        1 => Message::Vote(Vote { view: view(rng), block: digest(rng), voter, sig: rng.r#gen() }),
        2 => Message::DaProposal(DaProposal {
            view: view(rng),
            commitment: digest(rng),
            payload: Arc::new(vec![1, 2]),
            sig: rng.r#gen(),
        }),
        3 => Message::DaVote(DaVote { view: view(rng), commitment: digest(rng), voter, sig: rng.r#gen() }),
        4 => Message::DaCertificate(DaCert { view: view(rng), commitment: digest(rng), cert: cert(rng) }),
        5 => Message::VidShare(VidShare {
            view: view(rng),
            commitment: digest(rng),
            node,
            common: Arc::new(vec![rng.r#gen()]),
            share: vec![rng.r#gen(); rng.gen_range(0..40)],
        }),
        6 => Message::Timeout(TimeoutVote { view: view(rng), high_qc: qc(rng), voter, sig: rng.r#gen() }),
        7 => Message::ViewSync { sender: node, high_qc: qc(rng), tc: rng.gen_bool(0.5).then(|| tc(rng)) },
        8 => Message::FetchRequest { requester: node, block: digest(rng) },
        9 => Message::ShareRequest { requester: node, view: view(rng), commitment: digest(rng) },
        10 => Message::SyncRequest { requester: node, from_height: view(rng) },
        11 => {
            let blocks = (0..rng.gen_range(0..4)).map(|_| (header(rng), qc(rng))).collect();
            let proof = CommitProof { child: header(rng), child_qc: qc(rng) };
            Message::SyncResponse(DecidedRange { blocks, proof })
        }
        _ => Message::FetchResponse(proposal),
    }
}

#[test]
fn garbage_is_rejected_without_panicking_or_moving_the_view() {
    let n = 4;
    let (keys, verifier) = mac_keys(n, 1);
    let cfg = Config::new(StakeTable::equal(n as u64).unwrap(), 100);
    let checker = MessageVerifier::<MacScheme>::new(cfg.clone(), verifier.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for id in 0..n as NodeId {
        let mut node = Node::new(id, cfg.clone(), keys[id as usize].clone(), verifier.clone());
        node.start();
        let (mut refused, mut passed) = (0, 0);
        for _ in 0..20_000 {
            if rng.gen_bool(0.02) {
                node.handle(Input::Timer { kind: TimerKind::View, view: view(&mut rng) });
                continue;
            }
            // Encoded, sometimes damaged, then decoded and verified as a runtime does.
            let msg = message(&mut rng);
            let mut bytes = wire::encode(&msg);
            if rng.gen_bool(0.3) && !bytes.is_empty() {
                let i = rng.gen_range(0..bytes.len());
                bytes[i] ^= 1 << rng.gen_range(0..8);
            }
            if rng.gen_bool(0.05) {
                bytes.truncate(rng.gen_range(0..=bytes.len()));
            }
            let Ok(verified) = checker.ingest(&bytes) else {
                refused += 1;
                continue;
            };
            passed += 1;
            for a in node.handle(Input::Message(verified)) {
                assert!(!matches!(a, Action::Decide { .. } | Action::Evidence(_)), "garbage decided: {a:?}");
            }
        }
        assert_eq!(node.view(), 1, "unsigned garbage moved node {id}");
        assert!(refused > 10_000, "refused only {refused}");
        assert!(passed > 100, "the unsigned kinds (requests, shares) pass verification: {passed}");
        assert!(node.footprint() < 64, "garbage must not fill memory: {}", node.footprint());
    }
}

#[test]
fn every_message_kind_round_trips_through_the_wire_format() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let limits = WireLimits::for_network(12, 1 << 20);
    for _ in 0..5_000 {
        let msg = message(&mut rng);
        let bytes = wire::encode(&msg);
        // Headers with invalid thresholds cannot exist (Fraction refuses them), so everything decodes back.
        assert_eq!(wire::decode::<MacScheme>(&bytes, &limits), Ok(msg));
    }
}

proptest::proptest! {
    #[test]
    fn decoding_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let limits = WireLimits::for_network(12, 1 << 20);
        let _ = wire::decode::<MacScheme>(&bytes, &limits);
        let _ = wire::decode::<BlsScheme>(&bytes, &limits);
    }

    #[test]
    fn truncations_and_bit_flips_of_real_messages_never_panic(seed in 0u64..1000, cut in 0usize..4096, flip in 0usize..4096) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut bytes = wire::encode(&message(&mut rng));
        let limits = WireLimits::for_network(12, 1 << 20);
        let n = bytes.len();
        bytes[flip % n] ^= 0x10;
        let _ = wire::decode::<MacScheme>(&bytes[..cut % (n + 1)], &limits);
    }
}

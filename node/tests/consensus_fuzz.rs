//! Random and extreme network input must be rejected, never panic (tests run with debug assertions, so an
//! arithmetic overflow on a Byzantine view number would fail here), and must not move a node's view.

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
    let k = rng.gen_range(0..8);
    MacCert {
        signers: (0..k).map(|_| rng.gen_range(0..12)).collect(),
        tags: (0..rng.gen_range(0..8)).map(|_| rng.r#gen()).collect(),
    }
}

fn qc(rng: &mut ChaCha8Rng) -> Qc<MacScheme> {
    if rng.gen_bool(0.2) { Qc::genesis() } else { Qc { view: view(rng), block: digest(rng), cert: cert(rng) } }
}

fn tc(rng: &mut ChaCha8Rng) -> Tc<MacScheme> {
    let votes = (0..rng.gen_range(0..6)).map(|_| (rng.gen_range(0..12), view(rng), rng.r#gen())).collect();
    Tc { view: view(rng), votes }
}

fn message(rng: &mut ChaCha8Rng) -> Message<MacScheme> {
    let header = Header {
        view: view(rng),
        height: view(rng),
        parent: digest(rng),
        payload_commitment: digest(rng),
        proposer: rng.gen_range(0..12),
    };
    let proposal = Proposal { header, justify: qc(rng), tc: rng.gen_bool(0.5).then(|| tc(rng)), sig: rng.r#gen() };
    let voter = rng.gen_range(0..12);
    match rng.gen_range(0..10) {
        0 => Message::Proposal(proposal),
        1 => Message::Vote { view: view(rng), block: digest(rng), voter, sig: rng.r#gen() },
        2 => Message::DaProposal { view: view(rng), commitment: digest(rng), payload: vec![1, 2], sig: rng.r#gen() },
        3 => Message::DaVote { view: view(rng), commitment: digest(rng), voter, sig: rng.r#gen() },
        4 => Message::DaCertificate(DaCert { view: view(rng), commitment: digest(rng), cert: cert(rng) }),
        5 => Message::VidShare {
            view: view(rng),
            commitment: digest(rng),
            share: VidShare { index: rng.gen_range(0..12), bytes: rng.r#gen() },
        },
        6 => Message::Timeout(TimeoutVote { view: view(rng), high_qc: qc(rng), voter, sig: rng.r#gen() }),
        7 => Message::ViewSync { high_qc: qc(rng), tc: rng.gen_bool(0.5).then(|| tc(rng)) },
        8 => Message::FetchRequest { block: digest(rng) },
        _ => Message::FetchResponse(proposal),
    }
}

#[test]
fn garbage_is_rejected_without_panicking_or_moving_the_view() {
    let n = 4;
    let (keys, verifier) = mac_keys(n, 1);
    let cfg = Config::new(StakeTable::equal(n as u64).unwrap(), 100);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for id in 0..n as NodeId {
        let mut node = Node::new(id, cfg.clone(), keys[id as usize].clone(), verifier.clone());
        node.start();
        for _ in 0..20_000 {
            let from = if rng.gen_bool(0.05) { rng.gen_range(4..20) } else { rng.gen_range(0..4) };
            let input = if rng.gen_bool(0.02) {
                Input::Timeout { view: view(&mut rng) }
            } else {
                Input::Message { from, msg: message(&mut rng) }
            };
            for a in node.handle(input) {
                assert!(!matches!(a, Action::Decide { .. } | Action::Evidence(_)), "garbage decided: {a:?}");
            }
        }
        assert_eq!(node.view(), 1, "unsigned garbage moved node {id}");
        assert!(node.stats().rejected > 10_000);
    }
}

//! Byzantine roles. A Byzantine node runs the honest state machine (so it knows views and leaders) and this module
//! rewrites what it sends. It holds only its own key: every forgery it makes must be caught by honest nodes.

use crate::consensus::{
    Action, CertScheme, DaCert, Digest, Header, Message, NodeId, Proposal, Qc, Tc, TimeoutVote, VidShare, View,
    da_proposal_message, proposal_message, timeout_message, vid_model, vote_message,
};

/// How a node behaves in a simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows the protocol (may still be crashed and restarted by the scenario).
    Honest,
    /// Never starts: a crashed node for the whole run.
    Crashed,
    /// As leader, proposes two different blocks (with matching DA proposals and shares) to two halves.
    Equivocator,
    /// As leader, withholds the proposal (even views) or the DA certificate and half the shares (odd views).
    Withholder,
    /// As leader, sends VID shares that do not verify against the commitment.
    BadShares,
    /// Sends forged and under-threshold QCs, DA certificates and TCs, and forged proposals.
    Forger,
    /// Floods: signed votes for future views, votes with bad signatures, duplicate junk.
    Flooder,
    /// Attacks the lock: its timeout votes claim the genesis QC as their highest (to drag a TC's high QC down),
    /// and as leader it proposes on an older certified block than its highest QC, so only the voting rule
    /// stands between it and a fork.
    Amnesiac,
}

impl Role {
    /// Whether the role counts against the fault budget f as Byzantine or crashed.
    pub fn is_faulty(self) -> bool {
        self != Role::Honest
    }
}

/// What a Byzantine node has to work with: its own key only (plus public keys), and what it has seen.
pub struct ByzContext<'a, C: CertScheme> {
    /// The node's id.
    pub me: NodeId,
    /// Its own signing key.
    pub key: &'a C::SigningKey,
    /// Public verification material (to build certificate objects, not to sign).
    pub verifier: &'a C::Verifier,
    /// Network size.
    pub n: usize,
    /// The node's current view.
    pub view: View,
    /// A certified block (with its QC) from a few views back, if it has seen one.
    pub older: Option<&'a (Qc<C>, Header)>,
}

/// Rewrites one action of a Byzantine node.
pub fn rewrite<C: CertScheme>(role: Role, cx: &ByzContext<'_, C>, action: Action<C>) -> Vec<Action<C>> {
    let (me, key, n, view, older) = (cx.me, cx.key, cx.n, cx.view, cx.older);
    match (role, action) {
        (Role::Amnesiac, Action::Broadcast(Message::Timeout(tv))) => {
            let sig = C::sign(key, &timeout_message(tv.view, 0));
            vec![Action::Broadcast(Message::Timeout(TimeoutVote { high_qc: Qc::genesis(), sig, ..tv }))]
        }
        (Role::Amnesiac, Action::Broadcast(Message::Proposal(p))) if p.header.proposer == me => match older {
            Some((qc, parent)) if qc.view < p.justify.view && parent.view < p.header.view => {
                let header = Header { height: parent.height + 1, parent: qc.block, ..p.header.clone() };
                let sig = C::sign(key, &proposal_message(&header.hash()));
                vec![Action::Broadcast(Message::Proposal(Proposal { header, justify: qc.clone(), tc: p.tc, sig }))]
            }
            _ => vec![Action::Broadcast(Message::Proposal(p))],
        },
        (Role::Equivocator, Action::Broadcast(Message::Proposal(p))) if p.header.proposer == me => {
            let fork = fork_proposal::<C>(key, &p);
            let mut out = Vec::new();
            for to in 0..n as NodeId {
                // Even nodes get the original, odd nodes the fork; every third node gets both (so it can detect).
                if to % 2 == 0 || to % 3 == 0 {
                    out.push(Action::Send { to, msg: Message::Proposal(p.clone()) });
                }
                if to % 2 == 1 || to % 3 == 0 {
                    out.push(Action::Send { to, msg: Message::Proposal(fork.clone()) });
                }
            }
            out
        }
        (Role::Equivocator, Action::Send { to, msg: Message::DaProposal { view, payload, .. } }) if to % 2 == 1 => {
            let payload = fork_payload(&payload);
            let commitment = vid_model::commitment(&payload);
            let sig = C::sign(key, &da_proposal_message(view, &commitment));
            vec![Action::Send { to, msg: Message::DaProposal { view, commitment, payload, sig } }]
        }
        (Role::Equivocator, Action::Send { to, msg: Message::VidShare { view, .. } }) if to % 2 == 1 => {
            let commitment = vid_model::commitment(&fork_payload(&vid_model::payload(view, me)));
            let share = VidShare { index: to, bytes: vid_model::share(&commitment, to) };
            vec![Action::Send { to, msg: Message::VidShare { view, commitment, share } }]
        }
        (Role::Withholder, Action::Broadcast(Message::Proposal(p))) if p.header.proposer == me && view % 2 == 0 => {
            vec![]
        }
        (Role::Withholder, Action::Broadcast(Message::DaCertificate(_))) => vec![],
        (Role::Withholder, Action::Send { to, msg: Message::VidShare { .. } }) if to % 2 == 1 => vec![],
        (Role::BadShares, Action::Send { to, msg: Message::VidShare { view, commitment, mut share } }) if to != me => {
            share.bytes[0] ^= 1;
            vec![Action::Send { to, msg: Message::VidShare { view, commitment, share } }]
        }
        (Role::Forger, a @ Action::SetTimer { .. }) => {
            let mut out = vec![a];
            out.extend(forgeries(cx).into_iter().map(Action::Broadcast));
            out
        }
        (Role::Flooder, a @ Action::SetTimer { .. }) => {
            let mut out = vec![a];
            out.extend(flood::<C>(me, key, view).into_iter().map(Action::Broadcast));
            out
        }
        (_, a) => vec![a],
    }
}

fn fork_payload(payload: &[u8]) -> Vec<u8> {
    let mut p = payload.to_vec();
    p.push(0xfe);
    p
}

/// The same proposal with a different payload, validly signed by the equivocating leader.
fn fork_proposal<C: CertScheme>(key: &C::SigningKey, p: &Proposal<C>) -> Proposal<C> {
    let payload = fork_payload(&vid_model::payload(p.header.view, p.header.proposer));
    let header = Header { payload_commitment: vid_model::commitment(&payload), ..p.header.clone() };
    let sig = C::sign(key, &proposal_message(&header.hash()));
    Proposal { header, justify: p.justify.clone(), tc: p.tc.clone(), sig }
}

/// A certificate claiming every node signed, made from the forger's own signature (it has no other key).
fn forged_cert<C: CertScheme>(cx: &ByzContext<'_, C>, msg: &[u8]) -> C::Cert {
    let own = C::sign(cx.key, msg);
    let sigs: Vec<_> = (0..cx.n as NodeId).map(|i| (i, own.clone())).collect();
    C::combine(cx.verifier, &sigs)
}

/// A certificate with only the forger's own, valid, signature: under threshold.
fn short_cert<C: CertScheme>(cx: &ByzContext<'_, C>, msg: &[u8]) -> C::Cert {
    C::combine(cx.verifier, &[(cx.me, C::sign(cx.key, msg))])
}

fn forgeries<C: CertScheme>(cx: &ByzContext<'_, C>) -> Vec<Message<C>> {
    let (me, key, n, view) = (cx.me, cx.key, cx.n, cx.view);
    let fake_block = Digest([0xab; 32]);
    let far = view + 3;
    let forged_qc = Qc { view: far, block: fake_block, cert: forged_cert(cx, &vote_message(far, &fake_block)) };
    let short_qc = Qc { view: far, block: fake_block, cert: short_cert(cx, &vote_message(far, &fake_block)) };
    let header =
        Header { view: far + 1, height: 1_000, parent: fake_block, payload_commitment: fake_block, proposer: me };
    let sig = C::sign(key, &proposal_message(&header.hash()));
    let commitment = Digest([0xcd; 32]);
    let da_msg = crate::consensus::da_vote_message(view, &commitment);
    let own_timeout = C::sign(key, &timeout_message(far, 0));
    let tc_votes = (0..n as NodeId).map(|i| (i, 0, own_timeout.clone())).collect();
    let tv_sig = C::sign(key, &timeout_message(far + 1, far));
    vec![
        Message::Proposal(Proposal { header: header.clone(), justify: forged_qc.clone(), tc: None, sig: sig.clone() }),
        Message::Proposal(Proposal { header, justify: short_qc.clone(), tc: None, sig }),
        Message::DaCertificate(DaCert { view, commitment, cert: short_cert(cx, &da_msg) }),
        Message::DaCertificate(DaCert { view, commitment, cert: forged_cert(cx, &da_msg) }),
        Message::ViewSync { high_qc: forged_qc.clone(), tc: Some(Tc { view: far, votes: tc_votes }) },
        Message::ViewSync { high_qc: short_qc, tc: None },
        Message::Timeout(TimeoutVote { view: far + 1, high_qc: forged_qc, voter: me, sig: tv_sig }),
    ]
}

fn flood<C: CertScheme>(me: NodeId, key: &C::SigningKey, view: View) -> Vec<Message<C>> {
    let mut out = Vec::with_capacity(41);
    // A validly signed message, but on the wrong bytes: a bad signature for every vote it is attached to.
    let junk = C::sign(key, b"junk");
    for ahead in 1..=20u64 {
        let v = view + ahead * 7;
        let block = Digest([ahead as u8; 32]);
        out.push(Message::Vote { view: v, block, voter: me, sig: C::sign(key, &vote_message(v, &block)) });
        out.push(Message::Vote { view, block, voter: me, sig: junk.clone() });
    }
    out.push(Message::FetchRequest { block: Digest([7; 32]) });
    out
}

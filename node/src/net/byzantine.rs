//! Byzantine roles, and the untrusted relay. A Byzantine node runs the honest state machine (so it knows views and
//! leaders) and this module rewrites what it sends. It holds only its own key: every forgery it makes must be
//! caught by honest nodes. The relay sits between nodes instead (an untrusted CDN or peer): it can read, drop,
//! rewrite, forge and replay any message, but holds no key at all.

use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::consensus::wire;
use crate::consensus::{
    Action, BuiltBlock, CertScheme, DaCert, DaProposal, Digest, Header, Message, NodeId, Proposal, Qc, Tc, TimeoutVote,
    VidShare, View, Vote, WireLimits, da_proposal_message, proposal_message, timeout_message, vote_message,
};

/// How a node behaves in a simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Follows the protocol (may still be crashed and restarted by the scenario).
    Honest,
    /// Never starts: a crashed node for the whole run.
    Crashed,
    /// As leader, proposes two different blocks (with their DA proposals and shares) to two halves.
    Equivocator,
    /// As leader, withholds the proposal (even views) or the DA certificate and half the shares (odd views).
    Withholder,
    /// As leader, sends VID shares that do not verify against the commitment.
    BadShares,
    /// As leader, sends a third of the nodes shares of another dispersal under the real commitment (equivocating
    /// dispersal): they must fetch their real shares from the DA committee.
    SplitDisperser,
    /// Sends forged and under-threshold QCs, DA certificates and TCs, and forged proposals.
    Forger,
    /// Floods: signed votes for future views, votes with bad signatures, duplicate junk.
    Flooder,
    /// Attacks the lock: its timeout votes claim the genesis QC as their highest (to drag a TC's high QC down),
    /// and as leader it proposes on an older certified block than its highest QC, so only the voting rule
    /// stands between it and a fork.
    Amnesiac,
    /// A DA committee member that withholds the payload: no DA vote, never serves a share.
    DaWithholder,
    /// A DA committee member that corrupts what it serves: DA-votes, then answers share requests with damaged
    /// shares.
    DaCorrupter,
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
    /// A second block it built for the current view (equivocating roles only).
    pub fork: Option<&'a BuiltBlock>,
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
                let header = Header {
                    height: parent.height + 1,
                    parent: qc.block,
                    timestamp_ms: p.header.timestamp_ms.max(parent.timestamp_ms),
                    ..p.header.clone()
                };
                let sig = C::sign(key, &proposal_message(&header.hash()));
                vec![Action::Broadcast(Message::Proposal(Proposal { header, justify: qc.clone(), tc: p.tc, sig }))]
            }
            _ => vec![Action::Broadcast(Message::Proposal(p))],
        },
        (Role::Equivocator, Action::Broadcast(Message::Proposal(p))) if p.header.proposer == me => {
            let Some(fork) = cx.fork.map(|f| fork_proposal::<C>(key, &p, f)) else {
                return vec![Action::Broadcast(Message::Proposal(p))];
            };
            split_proposals(n, &p, &fork)
                .into_iter()
                .map(|(to, p)| Action::Send { to, msg: Message::Proposal(p) })
                .collect()
        }
        (Role::Equivocator, Action::Send { to, msg: Message::DaProposal(d) }) if to % 2 == 1 && cx.fork.is_some() => {
            let Some(f) = cx.fork else { return vec![] };
            let commitment = f.payload_commitment;
            let sig = C::sign(key, &da_proposal_message(d.view, &commitment));
            let msg = Message::DaProposal(DaProposal { view: d.view, commitment, payload: f.payload.clone(), sig });
            vec![Action::Send { to, msg }]
        }
        (Role::Equivocator, Action::Send { to, msg: Message::VidShare(s) }) if to % 2 == 1 && cx.fork.is_some() => {
            let Some(f) = cx.fork else { return vec![] };
            vec![Action::Send { to, msg: Message::VidShare(fork_share(s, f, f.payload_commitment)) }]
        }
        (Role::SplitDisperser, Action::Send { to, msg: Message::VidShare(s) }) if to % 3 == 1 && to != me => {
            // The other dispersal's share, labelled with the real commitment: it cannot verify.
            let commitment = s.commitment;
            match cx.fork {
                Some(f) => vec![Action::Send { to, msg: Message::VidShare(fork_share(s, f, commitment)) }],
                None => vec![Action::Send { to, msg: Message::VidShare(s) }],
            }
        }
        (Role::Withholder, Action::Broadcast(Message::Proposal(p))) if p.header.proposer == me && view % 2 == 0 => {
            vec![]
        }
        (Role::Withholder, Action::Broadcast(Message::DaCertificate(_))) => vec![],
        (Role::Withholder, Action::Send { to, msg: Message::VidShare(_) }) if to % 2 == 1 => vec![],
        (Role::BadShares, Action::Send { to, msg: Message::VidShare(mut s) }) if to != me => {
            flip(&mut s.share);
            vec![Action::Send { to, msg: Message::VidShare(s) }]
        }
        (Role::DaWithholder, Action::Send { msg: Message::DaVote(_), .. }) => vec![],
        (Role::DaWithholder, Action::ServeShare { .. }) => vec![],
        (Role::DaCorrupter, Action::Send { to, msg: Message::VidShare(mut s) }) if s.node != me => {
            flip(&mut s.share);
            vec![Action::Send { to, msg: Message::VidShare(s) }]
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

/// Damages a byte in the middle of `bytes` (or appends one to an empty buffer).
pub fn flip(bytes: &mut Vec<u8>) {
    match bytes.len() {
        0 => bytes.push(1),
        len => bytes[len / 2] ^= 0x5a,
    }
}

/// Node `s.node`'s share of the fork dispersal, labelled with `commitment`.
fn fork_share(s: VidShare, fork: &BuiltBlock, commitment: Digest) -> VidShare {
    let share = fork.shares.get(s.node as usize).cloned().unwrap_or_default();
    VidShare { commitment, common: fork.common.clone(), share, ..s }
}

/// Who gets which of two conflicting proposals for one view: even nodes the first, odd nodes the second, and
/// every third node both (so that honest nodes see the equivocation and can prove it).
pub fn split_proposals<C: CertScheme>(
    n: usize,
    first: &Proposal<C>,
    second: &Proposal<C>,
) -> Vec<(NodeId, Proposal<C>)> {
    let mut out = Vec::new();
    for to in 0..n as NodeId {
        if to % 2 == 0 || to % 3 == 0 {
            out.push((to, first.clone()));
        }
        if to % 2 == 1 || to % 3 == 0 {
            out.push((to, second.clone()));
        }
    }
    out
}

/// The same block one millisecond later: a second, different proposal for the view, validly signed by the
/// equivocating leader (the payload, its DA certificate and its shares serve both).
pub fn retimed_proposal<C: CertScheme>(key: &C::SigningKey, p: &Proposal<C>) -> Proposal<C> {
    let header = Header { timestamp_ms: p.header.timestamp_ms + 1, ..p.header.clone() };
    let sig = C::sign(key, &proposal_message(&header.hash()));
    Proposal { header, justify: p.justify.clone(), tc: p.tc.clone(), sig }
}

/// The same proposal with the fork block's payload, validly signed by the equivocating leader.
fn fork_proposal<C: CertScheme>(key: &C::SigningKey, p: &Proposal<C>, fork: &BuiltBlock) -> Proposal<C> {
    let header = Header {
        payload_commitment: fork.payload_commitment,
        payload_len: fork.payload_len,
        namespaces: fork.namespaces,
        ns_table_root: fork.ns_table_root,
        ..p.header.clone()
    };
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
    let header = Header { view: far + 1, height: 1_000, parent: fake_block, proposer: me, ..Header::genesis() };
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
        Message::ViewSync { sender: me, high_qc: forged_qc.clone(), tc: Some(Tc { view: far, votes: tc_votes }) },
        Message::ViewSync { sender: me, high_qc: short_qc, tc: None },
        Message::Timeout(TimeoutVote { view: far + 1, high_qc: forged_qc, voter: me, sig: tv_sig }),
    ]
}

fn flood<C: CertScheme>(me: NodeId, key: &C::SigningKey, view: View) -> Vec<Message<C>> {
    let mut out = Vec::with_capacity(42);
    // A validly signed message, but on the wrong bytes: a bad signature for every vote it is attached to.
    let junk = C::sign(key, b"junk");
    for ahead in 1..=20u64 {
        let v = view + ahead * 7;
        let block = Digest([ahead as u8; 32]);
        out.push(Message::Vote(Vote { view: v, block, voter: me, sig: C::sign(key, &vote_message(v, &block)) }));
        out.push(Message::Vote(Vote { view, block, voter: me, sig: junk.clone() }));
    }
    out.push(Message::FetchRequest { requester: me, block: Digest([7; 32]) });
    out.push(Message::SyncRequest { requester: me, from_height: 1 });
    out
}

/// The untrusted relay: every message it carries may come out rewritten, with a forged sender, or be followed by
/// a replay of an old message. It holds no key.
#[derive(Debug, Default)]
pub struct Relay {
    /// Old messages it may replay.
    seen: Vec<Arc<Vec<u8>>>,
    /// Tampered or replayed messages it injected.
    pub injected: u64,
}

/// Old messages the relay keeps for replays.
const RELAY_MEMORY: usize = 128;

impl Relay {
    /// What the relay delivers for one message it carries: usually the message itself, sometimes a tampered copy
    /// first or an old message after it.
    pub fn carry<C: CertScheme>(
        &mut self,
        rng: &mut ChaCha8Rng,
        limits: &WireLimits,
        bytes: Arc<Vec<u8>>,
    ) -> Vec<Arc<Vec<u8>>> {
        let mut out = Vec::with_capacity(2);
        if rng.gen_bool(0.15)
            && let Some(t) = tamper::<C>(rng, limits, &bytes)
        {
            self.injected += 1;
            out.push(Arc::new(t));
        }
        out.push(bytes.clone());
        if rng.gen_bool(0.05) && !self.seen.is_empty() {
            self.injected += 1;
            out.push(self.seen[rng.gen_range(0..self.seen.len())].clone());
        }
        if self.seen.len() < RELAY_MEMORY {
            self.seen.push(bytes);
        } else {
            let i = rng.gen_range(0..RELAY_MEMORY);
            self.seen[i] = bytes;
        }
        out
    }
}

/// A tampered copy of a message: another claimed sender, a damaged share or payload, a proposal with a moved
/// field, or raw byte damage.
fn tamper<C: CertScheme>(rng: &mut ChaCha8Rng, limits: &WireLimits, bytes: &[u8]) -> Option<Vec<u8>> {
    let Ok(msg) = wire::decode::<C>(bytes, limits) else { return None };
    let other = |id: NodeId| id.wrapping_add(1) % (limits.max_nodes as NodeId).max(1);
    let msg = match msg {
        Message::Vote(v) => Message::Vote(Vote { voter: other(v.voter), ..v }),
        Message::DaVote(mut v) => {
            v.voter = other(v.voter);
            Message::DaVote(v)
        }
        Message::Timeout(mut t) => {
            t.voter = other(t.voter);
            Message::Timeout(t)
        }
        Message::VidShare(mut s) => {
            flip(&mut s.share);
            Message::VidShare(s)
        }
        Message::DaProposal(mut d) => {
            let mut p = d.payload.as_ref().clone();
            flip(&mut p);
            d.payload = Arc::new(p);
            Message::DaProposal(d)
        }
        Message::Proposal(mut p) => {
            p.header.timestamp_ms += 1;
            Message::Proposal(p)
        }
        _ => {
            let mut raw = bytes.to_vec();
            let i = rng.gen_range(0..raw.len());
            raw[i] ^= 0x80;
            return Some(raw);
        }
    };
    Some(wire::encode(&msg))
}

//! Deliberate misbehaviour for fault drills (`crema node --byzantine KIND`, `crema devnet --byzantine I:KIND`): a
//! node that breaks the DA protocol in one named way, so tests and drills can show the honest nodes shrug it off.
//! Nothing here runs unless the operator asks for it on the command line.

use std::str::FromStr;

use crate::consensus::bls::BlsKey;
use crate::consensus::{BlsScheme, Message, NodeId};
use crate::net::byzantine::{retimed_proposal, split_proposals};

/// One way to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A DA committee member that takes the payload but never DA-votes and never serves it.
    DaWithhold,
    /// A DA committee member that serves corrupted payloads to nodes retrieving them.
    DaCorrupt,
    /// A leader that sends every other node a corrupted VID share.
    BadShares,
    /// A leader that sends two different, validly signed proposals for its view (the same block, one millisecond
    /// apart) to two halves of the nodes, and both to every third node.
    Equivocate,
}

impl Misbehaviour {
    /// Every kind, by name.
    pub const ALL: [Misbehaviour; 4] =
        [Misbehaviour::DaWithhold, Misbehaviour::DaCorrupt, Misbehaviour::BadShares, Misbehaviour::Equivocate];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Misbehaviour::DaWithhold => "da-withhold",
            Misbehaviour::DaCorrupt => "da-corrupt",
            Misbehaviour::BadShares => "bad-shares",
            Misbehaviour::Equivocate => "equivocate",
        }
    }

    /// The message this node sends in place of `msg`: `None` to withhold it.
    pub fn outgoing(self, me: NodeId, to: NodeId, msg: &Message<BlsScheme>) -> Option<Message<BlsScheme>> {
        match (self, msg) {
            (Misbehaviour::DaWithhold, Message::DaVote(_)) => None,
            (Misbehaviour::BadShares, Message::VidShare(s)) if to != me => {
                let mut bad = s.clone();
                corrupt(&mut bad.share);
                Some(Message::VidShare(bad))
            }
            _ => Some(msg.clone()),
        }
    }

    /// The payload this node serves to a retrieving node in place of `payload`: `None` to serve nothing.
    pub fn served_payload(self, payload: Vec<u8>) -> Option<Vec<u8>> {
        match self {
            Misbehaviour::DaWithhold => None,
            Misbehaviour::DaCorrupt => {
                let mut bad = payload;
                corrupt(&mut bad);
                Some(bad)
            }
            Misbehaviour::BadShares | Misbehaviour::Equivocate => Some(payload),
        }
    }

    /// For an equivocating leader, the sends that replace broadcasting its own proposal `msg`: see
    /// [`split_proposals`]; the second proposal is re-signed with `key` (the node's own), and the leader keeps
    /// only the first itself. `None`: broadcast `msg` as usual.
    pub fn equivocation(
        self,
        key: &BlsKey,
        n: usize,
        msg: &Message<BlsScheme>,
    ) -> Option<Vec<(NodeId, Message<BlsScheme>)>> {
        let me = key.id;
        match (self, msg) {
            (Misbehaviour::Equivocate, Message::Proposal(p)) if p.header.proposer == me => {
                let second = retimed_proposal::<BlsScheme>(key, p);
                let sends = split_proposals(n, p, &second)
                    .into_iter()
                    .filter(|(to, q)| *to != me || q.header == p.header)
                    .map(|(to, q)| (to, Message::Proposal(q)));
                Some(sends.collect())
            }
            _ => None,
        }
    }
}

/// Flips bits in the last byte (keeps the length, so only the commitment check can catch it).
fn corrupt(bytes: &mut Vec<u8>) {
    match bytes.last_mut() {
        Some(b) => *b ^= 0x5a,
        None => bytes.push(1),
    }
}

impl FromStr for Misbehaviour {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Misbehaviour::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Misbehaviour::ALL.iter().map(|m| m.name()).collect();
            format!("unknown misbehaviour {s:?}: expected one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for m in Misbehaviour::ALL {
            assert_eq!(m.name().parse::<Misbehaviour>().unwrap(), m);
        }
        assert!("fork".parse::<Misbehaviour>().unwrap_err().contains("equivocate"));
    }

    #[test]
    fn a_corrupt_payload_differs_and_keeps_its_length() {
        let p = vec![1, 2, 3];
        let bad = Misbehaviour::DaCorrupt.served_payload(p.clone()).unwrap();
        assert_eq!(bad.len(), p.len());
        assert_ne!(bad, p);
        assert_eq!(Misbehaviour::DaWithhold.served_payload(p.clone()), None);
        assert_eq!(Misbehaviour::BadShares.served_payload(p.clone()), Some(p));
    }

    #[test]
    fn an_equivocating_leader_sends_two_validly_signed_proposals_to_two_halves() {
        use crate::consensus::{CertScheme, Header, Proposal, Qc, SimScheme, proposal_message};
        let backend = crema_engine::BackendChoice::Cpu.build().unwrap();
        let (keys, verifier) = BlsScheme::generate(4, 1, &backend);
        let leader = &keys[3];
        let header = Header { view: 5, height: 2, proposer: 3, timestamp_ms: 1000, ..Header::genesis() };
        let sig = BlsScheme::sign(leader, &proposal_message(&header.hash()));
        let p = Proposal { header, justify: Qc::genesis(), tc: None, sig };
        let sends = Misbehaviour::Equivocate.equivocation(leader, 4, &Message::Proposal(p.clone())).unwrap();
        let headers = |to: NodeId| -> Vec<Header> {
            sends
                .iter()
                .filter(|(t, _)| *t == to)
                .map(|(_, m)| match m {
                    Message::Proposal(q) => {
                        assert!(BlsScheme::verify_sig(&verifier, 3, &proposal_message(&q.header.hash()), &q.sig));
                        q.header.clone()
                    }
                    other => panic!("not a proposal: {other:?}"),
                })
                .collect()
        };
        let (first, second) = (p.header.clone(), Header { timestamp_ms: 1001, ..p.header.clone() });
        assert_eq!(headers(0), vec![first.clone(), second.clone()], "node 0 gets both and can prove it");
        assert_eq!(headers(1), vec![second]);
        assert_eq!(headers(2), vec![first.clone()]);
        assert_eq!(headers(3), vec![first], "the leader keeps only its first proposal");
        // Anything else, and every other misbehaviour, goes out as usual.
        assert!(Misbehaviour::DaCorrupt.equivocation(leader, 4, &Message::Proposal(p.clone())).is_none());
        let someone_elses = Proposal { header: Header { proposer: 1, ..p.header.clone() }, ..p };
        assert!(Misbehaviour::Equivocate.equivocation(leader, 4, &Message::Proposal(someone_elses)).is_none());
    }
}

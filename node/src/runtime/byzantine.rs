//! Deliberate misbehaviour for fault drills (`crema node --byzantine KIND`, `crema devnet --byzantine I:KIND`): a
//! node that breaks the DA protocol in one named way, so tests and drills can show the honest nodes shrug it off.
//! Nothing here runs unless the operator asks for it on the command line.

use std::str::FromStr;

use crate::consensus::{BlsScheme, Message, NodeId};

/// One way to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A DA committee member that takes the payload but never DA-votes and never serves it.
    DaWithhold,
    /// A DA committee member that serves corrupted payloads to nodes retrieving them.
    DaCorrupt,
    /// A leader that sends every other node a corrupted VID share.
    BadShares,
}

impl Misbehaviour {
    /// Every kind, by name.
    pub const ALL: [Misbehaviour; 3] = [Misbehaviour::DaWithhold, Misbehaviour::DaCorrupt, Misbehaviour::BadShares];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Misbehaviour::DaWithhold => "da-withhold",
            Misbehaviour::DaCorrupt => "da-corrupt",
            Misbehaviour::BadShares => "bad-shares",
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
            Misbehaviour::BadShares => Some(payload),
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
        assert!("equivocate".parse::<Misbehaviour>().unwrap_err().contains("da-withhold"));
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
}

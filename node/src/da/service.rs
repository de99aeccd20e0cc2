//! The DA service protocol: what nodes ask each other outside consensus — a stored payload (from a DA committee
//! member), a node's own VID share (for reconstruction), and transactions forwarded to the leader that will
//! propose them.
//!
//! Every answer is checked by the asker against a commitment it already trusts (a decided header), never against
//! the answerer's word: a payload must recompute to the commitment, a share must verify on its own. Messages carry
//! the tag `CDS` and are size-limited like consensus messages; the runtime routes them by tag.

use std::sync::Arc;

use crema_engine::codec::{Reader, WireError, Writer};
use crema_engine::vid::NamespaceId;

use crate::consensus::{Digest, NodeId, VidShare, WireLimits};

const TAG: &[u8; 3] = b"CDS";
const VERSION: u8 = 1;

/// A DA service message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceMsg {
    /// Send me the payload with this commitment, if you stored it.
    PayloadRequest {
        /// Where to answer.
        requester: NodeId,
        /// The payload's commitment.
        commitment: Digest,
    },
    /// A stored payload.
    PayloadResponse {
        /// The commitment it is claimed to have.
        commitment: Digest,
        /// The payload (checked by the receiver).
        payload: Arc<Vec<u8>>,
    },
    /// Send me your own share of the block with this commitment.
    ShareRequest {
        /// Where to answer.
        requester: NodeId,
        /// The payload's commitment.
        commitment: Digest,
    },
    /// The answerer's own share (checked by the receiver).
    ShareResponse(VidShare),
    /// Transactions for the receiver's mempool (it leads an upcoming view).
    Transactions(Vec<(NamespaceId, Vec<u8>)>),
}

/// Whether `bytes` are a DA service message (by their tag), so the runtime can route them.
pub fn is_service(bytes: &[u8]) -> bool {
    bytes.get(..3) == Some(TAG.as_slice())
}

/// Most transactions one forward carries.
pub const MAX_FORWARD_TXS: usize = 4096;

/// Encodes a message.
pub fn encode(msg: &ServiceMsg) -> Vec<u8> {
    // Sized up front: payloads and shares are megabytes.
    let bulk = match msg {
        ServiceMsg::PayloadResponse { payload, .. } => payload.len(),
        ServiceMsg::ShareResponse(s) => s.common.len() + s.share.len(),
        ServiceMsg::Transactions(txs) => txs.iter().map(|(_, t)| 12 + t.len()).sum(),
        _ => 0,
    };
    let mut w = Writer::with_capacity(TAG, VERSION, bulk + 64);
    match msg {
        ServiceMsg::PayloadRequest { requester, commitment } => {
            w.u8(1).bytes(&requester.to_le_bytes()).bytes(&commitment.0);
        }
        ServiceMsg::PayloadResponse { commitment, payload } => {
            w.u8(2).bytes(&commitment.0).len_bytes(payload);
        }
        ServiceMsg::ShareRequest { requester, commitment } => {
            w.u8(3).bytes(&requester.to_le_bytes()).bytes(&commitment.0);
        }
        ServiceMsg::ShareResponse(s) => {
            w.u8(4).u64(s.view).bytes(&s.commitment.0).bytes(&s.node.to_le_bytes());
            w.len_bytes(&s.common).len_bytes(&s.share);
        }
        ServiceMsg::Transactions(txs) => {
            w.u8(5).u32(txs.len() as u32);
            for (ns, tx) in txs {
                w.u64(*ns).len_bytes(tx);
            }
        }
    }
    w.finish()
}

/// Decodes a message under `limits`.
pub fn decode(bytes: &[u8], limits: &WireLimits) -> Result<ServiceMsg, WireError> {
    if bytes.len() > limits.max_message() {
        return Err(WireError::OverLimit {
            what: "service message",
            got: bytes.len() as u64,
            max: limits.max_message() as u64,
        });
    }
    let mut r = Reader::new(bytes, TAG, "DA service message", VERSION)?;
    let node = |r: &mut Reader<'_>| -> Result<NodeId, WireError> { Ok(u16::from_le_bytes(r.array("node")?)) };
    let msg = match r.u8("service kind")? {
        1 => ServiceMsg::PayloadRequest { requester: node(&mut r)?, commitment: Digest(r.array("commitment")?) },
        2 => ServiceMsg::PayloadResponse {
            commitment: Digest(r.array("commitment")?),
            payload: Arc::new(r.len_bytes("payload", limits.max_payload as u64)?.to_vec()),
        },
        3 => ServiceMsg::ShareRequest { requester: node(&mut r)?, commitment: Digest(r.array("commitment")?) },
        4 => ServiceMsg::ShareResponse(VidShare {
            view: u64::from_le_bytes(r.array("view")?),
            commitment: Digest(r.array("commitment")?),
            node: node(&mut r)?,
            common: Arc::new(r.len_bytes("vid common data", limits.max_common as u64)?.to_vec()),
            share: r.len_bytes("vid share", limits.max_share as u64)?.to_vec(),
        }),
        5 => {
            let count = r.u32_max("forwarded transactions", MAX_FORWARD_TXS as u64)? as usize;
            let mut txs = Vec::with_capacity(count);
            for _ in 0..count {
                let ns = u64::from_le_bytes(r.array("namespace")?);
                txs.push((ns, r.len_bytes("transaction", crate::da::block::MAX_TX_BYTES as u64)?.to_vec()));
            }
            ServiceMsg::Transactions(txs)
        }
        k => return Err(WireError::Invalid { what: "service kind", reason: format!("{k} names no service message") }),
    };
    r.finish()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_kind_round_trips() {
        let limits = WireLimits::for_network(4, 1 << 20);
        let share = VidShare {
            view: 3,
            commitment: Digest([1; 32]),
            node: 2,
            common: Arc::new(vec![7; 9]),
            share: vec![5; 100],
        };
        for m in [
            ServiceMsg::PayloadRequest { requester: 1, commitment: Digest([2; 32]) },
            ServiceMsg::PayloadResponse { commitment: Digest([3; 32]), payload: Arc::new(vec![4; 1000]) },
            ServiceMsg::ShareRequest { requester: 0, commitment: Digest([5; 32]) },
            ServiceMsg::ShareResponse(share),
            ServiceMsg::Transactions(vec![(7, b"tx".to_vec()), (9, Vec::new())]),
        ] {
            let bytes = encode(&m);
            assert!(is_service(&bytes));
            assert_eq!(decode(&bytes, &limits), Ok(m));
        }
        let mut big = Writer::new(TAG, VERSION);
        big.u8(2).bytes(&[0; 32]).u32(u32::MAX);
        assert!(decode(&big.finish(), &limits).is_err(), "a length over the limit is refused before allocating");
    }

    proptest! {
        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let _ = decode(&bytes, &WireLimits::for_network(4, 1 << 16));
        }
    }
}

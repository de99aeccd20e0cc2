//! Property tests of every record decoder: arbitrary and mutated bytes never panic, and every record round-trips.
//! Plus one record with a real BLS certificate, the production scheme.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::consensus::mac::MacCert;
use crate::consensus::{BlsScheme, MacScheme, SimScheme, VidParams, vote_message};
use crema_engine::vid::SchemeKind;

fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest)
}

fn header() -> impl Strategy<Value = Header> {
    (
        (any::<u64>(), any::<u64>(), digest(), any::<u16>(), any::<u64>()),
        (digest(), any::<u64>(), any::<u32>(), digest(), any::<bool>()),
    )
        .prop_map(|((view, height, parent, proposer, timestamp_ms), (pc, payload_len, namespaces, root, kzg))| {
            let scheme = if kzg { SchemeKind::Kzg } else { SchemeKind::Avidm };
            Header {
                view,
                height,
                parent,
                proposer,
                timestamp_ms,
                payload_commitment: pc,
                payload_len,
                namespaces,
                ns_table_root: root,
                vid: VidParams { scheme, threshold: scheme.default_threshold() },
            }
        })
}

fn cert() -> impl Strategy<Value = MacCert> {
    proptest::collection::vec((any::<u16>(), any::<[u8; 16]>()), 0..12)
        .prop_map(|v| MacCert { signers: v.iter().map(|s| s.0).collect(), tags: v.iter().map(|s| s.1).collect() })
}

/// A header and a QC that certifies it (what the decoders insist on).
fn certified() -> impl Strategy<Value = (Header, Qc<MacScheme>)> {
    (header(), cert()).prop_map(|(h, cert)| {
        let qc = Qc { view: h.view, block: h.hash(), cert };
        (h, qc)
    })
}

fn safety() -> impl Strategy<Value = PersistedState<MacScheme>> {
    (any::<u64>(), any::<u64>(), any::<u64>(), digest(), cert(), header()).prop_map(|(v, p, qv, qb, cert, decided)| {
        PersistedState { last_voted_view: v, last_proposed_view: p, high_qc: Qc { view: qv, block: qb, cert }, decided }
    })
}

fn share() -> impl Strategy<Value = VidShare> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..300);
    (any::<u64>(), digest(), any::<u16>(), bytes(), bytes()).prop_map(|(view, commitment, node, common, share)| {
        VidShare { view, commitment, node, common: Arc::new(common), share }
    })
}

/// Runs every decoder on `bytes`; they may fail, never panic.
fn decode_all(bytes: &[u8]) {
    let _ = decode_safety::<MacScheme>(bytes);
    let _ = decode_decided::<MacScheme>(bytes, 1);
    let _ = decode_proof::<MacScheme>(bytes, 1);
    let _ = decode_proof::<MacScheme>(bytes, u64::MAX);
    let _ = decode_share(bytes, &Digest::default());
    let _ = decode_payload(bytes);
    let _ = record_view(bytes);
    let _ = decode_blob_ref(bytes);
}

/// Every kind's tag and version, to steer random bytes past the first check.
const HEADS: [&[u8; 3]; 6] = [SAFETY, DECIDED, PROOF, SHARE, PAYLOAD, BLOB_REF];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(kind in 0usize..7, tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = Vec::new();
        if let Some(tag) = HEADS.get(kind) {
            bytes.extend_from_slice(*tag);
            bytes.push(VERSION);
        }
        bytes.extend_from_slice(&tail);
        decode_all(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_damaged_records(
        s in safety(), (h, qc) in certified(), sh in share(), cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(), xor in 1u8..,
    ) {
        let proof = CommitProof { child: h.clone(), child_qc: qc.clone() };
        for record in [
            encode_safety(&s),
            encode_decided(&h, &qc),
            encode_proof(&proof),
            encode_share(&sh).unwrap(),
            encode_payload(sh.view, &sh.share).unwrap(),
            encode_blob_ref(&BlobRef::of(sh.view, &sh.share)),
        ] {
            decode_all(&record[..cut.index(record.len() + 1)]);
            let mut flipped = record.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= xor;
            decode_all(&flipped);
        }
    }

    #[test]
    fn safety_records_round_trip(s in safety()) {
        prop_assert_eq!(decode_safety::<MacScheme>(&encode_safety(&s)).unwrap(), s);
    }

    #[test]
    fn decided_records_round_trip_under_their_height_only((h, qc) in certified()) {
        let bytes = encode_decided(&h, &qc);
        prop_assert_eq!(decode_decided::<MacScheme>(&bytes, h.height).unwrap(), (h.clone(), qc));
        prop_assert!(decode_decided::<MacScheme>(&bytes, h.height.wrapping_add(1)).is_err());
    }

    #[test]
    fn proof_records_round_trip_under_the_height_below_only((child, child_qc) in certified()) {
        let proof = CommitProof { child, child_qc };
        let bytes = encode_proof(&proof);
        match proof.child.height.checked_sub(1) {
            Some(below) => prop_assert_eq!(decode_proof::<MacScheme>(&bytes, below).unwrap(), proof.clone()),
            None => prop_assert!(decode_proof::<MacScheme>(&bytes, u64::MAX).is_err(), "nothing proves height -1"),
        }
        prop_assert!(decode_proof::<MacScheme>(&bytes, proof.child.height).is_err());
    }

    #[test]
    fn share_and_payload_records_round_trip(s in share()) {
        let bytes = encode_share(&s).unwrap();
        prop_assert_eq!(decode_share(&bytes, &s.commitment).unwrap(), s.clone());
        let bytes = encode_payload(s.view, &s.share).unwrap();
        prop_assert_eq!(decode_payload(&bytes).unwrap(), (s.view, s.share.clone()));
    }

    #[test]
    fn a_record_in_parts_has_the_ref_of_its_bytes(s in share()) {
        for record in [share_record(&s).unwrap(), payload_record(s.view, &s.share).unwrap()] {
            let whole = record.to_vec();
            prop_assert_eq!(whole.len(), record.head.len() + record.body.len());
            prop_assert_eq!(BlobRef::of_parts(s.view, &record.parts()), BlobRef::of(s.view, &whole));
        }
    }

    #[test]
    fn blob_refs_round_trip_and_name_their_view(view in any::<u64>(), len in 0..=MAX_RECORD_BYTES, hash in any::<[u8; 32]>()) {
        let r = BlobRef { view, len, hash };
        let bytes = encode_blob_ref(&r);
        prop_assert_eq!(decode_blob_ref(&bytes).unwrap(), r);
        prop_assert_eq!(record_view(&bytes).unwrap(), view);
        let mut long = r;
        long.len = MAX_RECORD_BYTES + 1;
        prop_assert!(decode_blob_ref(&encode_blob_ref(&long)).is_err(), "a length no record has");
    }
}

#[test]
fn a_qc_that_does_not_certify_its_header_is_corrupt() {
    let h = Header::genesis();
    let qc: Qc<MacScheme> = Qc { view: 0, block: Digest([1; 32]), cert: MacCert::default() };
    let err = decode_decided::<MacScheme>(&encode_decided(&h, &qc), 0).unwrap_err();
    assert!(matches!(err, WireError::Invalid { what: "decided header QC", .. }), "{err}");
    let qc = Qc { view: 1, ..Qc::<MacScheme>::genesis() };
    assert!(decode_decided::<MacScheme>(&encode_decided(&h, &qc), 0).is_err(), "wrong view");
}

#[test]
fn records_with_real_bls_certificates_round_trip() {
    let backend = crema_engine::BackendChoice::Cpu.build().unwrap();
    let (keys, verifier) = BlsScheme::generate(4, 1, &backend);
    let h = Header { view: 3, height: 2, ..Header::genesis() };
    let msg = vote_message(h.view, &h.hash());
    let sigs: Vec<_> = keys.iter().take(3).map(|k| (k.id, BlsScheme::sign(k, &msg))).collect();
    let qc = Qc { view: h.view, block: h.hash(), cert: BlsScheme::combine(&verifier, &sigs) };
    assert_eq!(decode_decided::<BlsScheme>(&encode_decided(&h, &qc), 2).unwrap(), (h.clone(), qc.clone()));
    let s = PersistedState { last_voted_view: 4, last_proposed_view: 3, high_qc: qc, decided: h };
    assert_eq!(decode_safety::<BlsScheme>(&encode_safety(&s)).unwrap(), s);
}

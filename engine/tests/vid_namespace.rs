//! Namespaced dispersal with both schemes: a rollup verifies and rebuilds its namespace alone,
//! and nothing of one namespace passes for another's.

use std::sync::OnceLock;

use crema_engine::backend::Cpu;
use crema_engine::stake::Fraction;
use crema_engine::vid::avidm::{self, Avidm};
use crema_engine::vid::kzg::{self, Kzg};
use crema_engine::vid::{
    Codec, CommonKind, MAX_NAMESPACES, NamespaceProof, Namespaced, NamespacedPayload, NsCommon, NsDispersal, NsShare,
    SchemeKind, VidError, VidScheme, Weights, common_kind,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| r.r#gen()).collect()
}

fn rollups() -> NamespacedPayload {
    NamespacedPayload::new(vec![(7, bytes(5000, 1)), (42, Vec::new()), (1 << 40, bytes(123, 2)), (3, bytes(77, 3))])
        .unwrap()
}

type AvidmFixture = (Namespaced<Avidm>, NsDispersal<Avidm>);

fn avidm_fixture() -> &'static AvidmFixture {
    static F: OnceLock<AvidmFixture> = OnceLock::new();
    F.get_or_init(|| {
        let ns = Namespaced::new(Avidm::new(Weights::new(vec![2, 1, 3, 1]).unwrap(), Fraction::ONE_THIRD));
        let d = ns.disperse_namespaced(&Cpu::new(), &rollups()).unwrap();
        (ns, d)
    })
}

#[test]
fn payload_lists_are_validated() {
    assert!(matches!(NamespacedPayload::new(vec![]), Err(VidError::InvalidNamespaces(_))));
    let dup = NamespacedPayload::new(vec![(1, vec![1]), (2, vec![]), (1, vec![2])]).unwrap_err();
    assert!(dup.to_string().contains("namespace 1 appears twice"), "{dup}");
    let many = (0..=MAX_NAMESPACES as u64).map(|i| (i, Vec::new())).collect();
    assert!(matches!(NamespacedPayload::new(many), Err(VidError::InvalidNamespaces(_))));
    let p = rollups();
    assert_eq!((p.len(), p.get(3).map(<[u8]>::len), p.get(4)), (4, Some(77), None));
}

#[test]
fn avidm_whole_payload_and_one_namespace_alone() {
    let (ns, d) = avidm_fixture();
    let cpu = Cpu::new();
    for (node, s) in d.shares.iter().enumerate() {
        ns.verify_share(&cpu, &d.commitment, &d.common, s, node).unwrap();
    }
    // Nodes 2 and 3 (weight 4 of 7 ≥ 1/3) rebuild everything.
    assert_eq!(ns.recover(&cpu, &d.commitment, &d.common, &d.shares[2..]).unwrap(), rollups());

    // Rollup 1<<40: its proof, its common data, and node 2's share of its namespace only.
    let (proof, ns_common) = d.common.namespace(1 << 40).unwrap();
    assert_eq!((proof.index, proof.entry.len), (2, 123));
    let inner: Vec<avidm::Share> = d.shares.iter().map(|s| s.shares[2].clone()).collect();
    for (node, s) in inner.iter().enumerate() {
        ns.verify_namespace_share(&cpu, &d.commitment, &proof, ns_common, s, node).unwrap();
    }
    let got = ns.recover_namespace(&cpu, &d.commitment, &proof, ns_common, &inner[2..3]).unwrap();
    assert_eq!(got, rollups().get(1 << 40).unwrap());
    assert_eq!(d.common.namespace(5).unwrap_err(), VidError::NamespaceNotFound { id: 5 });
}

#[test]
fn nothing_of_one_namespace_passes_for_another() {
    let (ns, d) = avidm_fixture();
    let cpu = Cpu::new();
    let (proof_a, common_a) = d.common.namespace(7).unwrap();
    let (proof_b, common_b) = d.common.namespace(3).unwrap();
    let share_a = &d.shares[0].shares[proof_a.index as usize];
    // A's share against B's row and common data.
    let err = ns.verify_namespace_share(&cpu, &d.commitment, &proof_b, common_b, share_a, 0).unwrap_err();
    assert!(matches!(err, VidError::BadProof { .. } | VidError::MalformedShare(_)), "{err}");
    // B's common data under A's row, and A's row claiming another length or id.
    assert!(matches!(
        ns.verify_namespace_share(&cpu, &d.commitment, &proof_a, common_b, share_a, 0),
        Err(VidError::NamespaceMismatch(_))
    ));
    for tamper in [
        |p: &mut NamespaceProof| p.entry.len += 1,
        |p: &mut NamespaceProof| p.entry.id = 3,
        |p: &mut NamespaceProof| p.index ^= 1,
        |p: &mut NamespaceProof| p.path[0][0] ^= 1,
        |p: &mut NamespaceProof| p.count += 1,
    ] {
        let mut p = proof_a.clone();
        tamper(&mut p);
        assert!(matches!(p.verify(SchemeKind::Avidm, &d.commitment), Err(VidError::NamespaceMismatch(_))), "{p:?}");
    }
    // The right proof under another scheme's tag, or another dispersal's commitment.
    assert!(proof_a.verify(SchemeKind::Kzg, &d.commitment).is_err());
    let other = ns
        .disperse_namespaced(&cpu, &NamespacedPayload::new(vec![(7, bytes(5000, 9)), (3, vec![1])]).unwrap())
        .unwrap();
    assert!(proof_a.verify(SchemeKind::Avidm, &other.commitment).is_err());
    assert!(ns.recover_namespace(&cpu, &other.commitment, &proof_a, common_a, std::slice::from_ref(share_a)).is_err());
    // Whole-share checks: a namespace share swapped in from another row, a row missing,
    // common data under another scheme's tag.
    let mut swapped = d.shares[1].clone();
    swapped.shares.swap(0, 3);
    assert!(ns.verify_share(&cpu, &d.commitment, &d.common, &swapped, 1).is_err());
    let mut short = d.shares[1].clone();
    short.shares.pop();
    assert!(matches!(ns.verify_share(&cpu, &d.commitment, &d.common, &short, 1), Err(VidError::MalformedShare(_))));
    let mut relabelled = d.common.clone();
    relabelled.scheme = SchemeKind::Kzg;
    assert!(matches!(ns.verify_common(&d.commitment, &relabelled), Err(VidError::NamespaceMismatch(_))));
    let mut lying = d.common.clone();
    lying.commons.swap(0, 3);
    assert!(ns.verify_common(&d.commitment, &lying).is_err());
}

#[test]
fn kzg_namespaces_recover_alone_and_do_not_mix() {
    let cpu = Cpu::new();
    let ns = Namespaced::new(Kzg::new(Weights::equal(4).unwrap(), Fraction::ONE_HALF).unwrap());
    let payload = NamespacedPayload::new(vec![(10, bytes(3000, 5)), (20, bytes(40_000, 6))]).unwrap();
    let d = ns.disperse_namespaced(&cpu, &payload).unwrap();
    assert!(matches!(common_kind(&d.common.encode()), Ok(CommonKind::Namespaced(SchemeKind::Kzg))));
    let (proof, common) = d.common.namespace(20).unwrap();
    assert_eq!(common.blob_commitments.len(), kzg::blob_count(40_000));
    let inner: Vec<kzg::Share> = d.shares.iter().map(|s| s.shares[1].clone()).collect();
    for (node, s) in inner.iter().enumerate() {
        ns.verify_namespace_share(&cpu, &d.commitment, &proof, common, s, node).unwrap();
    }
    // Nodes 1 and 3: half the weight, cells 32..64 and 96..128, so real recovery.
    let got = ns.recover_namespace(&cpu, &d.commitment, &proof, common, &[inner[1].clone(), inner[3].clone()]);
    assert_eq!(got.unwrap(), payload.get(20).unwrap());
    let err = ns.recover_namespace(&cpu, &d.commitment, &proof, common, &inner[3..]).unwrap_err();
    assert!(matches!(err, VidError::NotEnoughWeight { have: 1, need: 2, .. }), "{err}");
    // Namespace 10's share against namespace 20's row and common data.
    let (_, common_10) = d.common.namespace(10).unwrap();
    let share_10 = &d.shares[0].shares[0];
    let err = ns.verify_namespace_share(&cpu, &d.commitment, &proof, common, share_10, 0).unwrap_err();
    assert_eq!(err, VidError::BadCellProofs { node: 0 });
    assert!(ns.verify_namespace_share(&cpu, &d.commitment, &proof, common_10, share_10, 0).is_err());
    assert_eq!(ns.recover(&cpu, &d.commitment, &d.common, &d.shares[..2]).unwrap(), payload);
}

#[test]
fn wire_round_trips_detects_schemes_and_rejects_bad_bytes() {
    let (_, d) = avidm_fixture();
    let common = d.common.encode();
    assert_eq!(NsCommon::<avidm::Common>::decode(&common).unwrap(), d.common);
    assert!(NsCommon::<kzg::Common>::decode(&common).is_err(), "inner objects keep their own tags");
    assert_eq!(common_kind(&common).unwrap(), CommonKind::Namespaced(SchemeKind::Avidm));
    assert_eq!(common_kind(&d.common.commons[0].to_bytes()).unwrap(), CommonKind::Plain(SchemeKind::Avidm));
    assert!(common_kind(b"CVS\x01").is_err() && common_kind(b"CN").is_err());
    let share = d.shares[2].encode();
    assert_eq!(NsShare::<avidm::Share>::decode(&share).unwrap(), d.shares[2]);
    let (proof, _) = d.common.namespace(3).unwrap();
    let proof_bytes = proof.encode();
    assert_eq!(NamespaceProof::decode(&proof_bytes).unwrap(), proof);
    for enc in [&common, &share, &proof_bytes] {
        for cut in [1, 5, enc.len() / 2] {
            let t = &enc[..enc.len() - cut];
            assert!(NsCommon::<avidm::Common>::decode(t).is_err() && NsShare::<avidm::Share>::decode(t).is_err());
            assert!(NamespaceProof::decode(t).is_err());
        }
    }
    let mut wrong_version = common.clone();
    wrong_version[3] = 0;
    assert!(NsCommon::<avidm::Common>::decode(&wrong_version).is_err());
    let mut bad_scheme = common.clone();
    bad_scheme[4] = 9;
    assert!(NsCommon::<avidm::Common>::decode(&bad_scheme).is_err() && common_kind(&bad_scheme).is_err());
    let mut too_many = common.clone();
    too_many[5..9].copy_from_slice(&(MAX_NAMESPACES as u32 + 1).to_le_bytes());
    assert!(NsCommon::<avidm::Common>::decode(&too_many).unwrap_err().to_string().contains("over the limit"));
    let mut deep = proof_bytes.clone();
    deep[12 + 48] += 1; // path length byte after index, count and the 48-byte row
    assert!(NamespaceProof::decode(&deep).is_err());
    let mut zero_rows = share.clone();
    zero_rows[8..12].fill(0);
    assert!(NsShare::<avidm::Share>::decode(&zero_rows).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), flip in any::<(usize, u8)>()) {
        let _ = NsCommon::<avidm::Common>::decode(&bytes);
        let _ = NsCommon::<kzg::Common>::decode(&bytes);
        let _ = NsShare::<avidm::Share>::decode(&bytes);
        let _ = NsShare::<kzg::Share>::decode(&bytes);
        let _ = NamespaceProof::decode(&bytes);
        let _ = common_kind(&bytes);
        let (_, d) = avidm_fixture();
        let (proof, _) = d.common.namespace(42).unwrap();
        for mut enc in [d.common.encode(), d.shares[0].encode(), proof.encode()] {
            let i = flip.0 % enc.len();
            enc[i] ^= flip.1.max(1);
            let _ = NsCommon::<avidm::Common>::decode(&enc);
            let _ = NsShare::<avidm::Share>::decode(&enc);
            let _ = NamespaceProof::decode(&enc);
        }
    }
}

#[test]
fn plain_api_is_unchanged_by_namespaces() {
    // The plain path commits to the inner scheme's common data; a one-namespace list is a
    // different (namespaced) commitment.
    let cpu = Cpu::new();
    let scheme = Avidm::new(Weights::equal(3).unwrap(), Fraction::ONE_THIRD);
    let plain = scheme.disperse(&cpu, b"block").unwrap();
    let ns = Namespaced::new(scheme.clone());
    let one = ns.disperse_namespaced(&cpu, &NamespacedPayload::new(vec![(1, b"block".to_vec())]).unwrap()).unwrap();
    assert_eq!(one.common.table.entries()[0].commitment, plain.commitment);
    assert_ne!(one.commitment, plain.commitment);
}

#[test]
fn a_rollup_checks_its_namespace_bytes_against_the_block_commitment_alone() {
    use crema_engine::vid::{Vid, verify_namespace};
    let backend = Cpu::new();
    for scheme in [SchemeKind::Avidm, SchemeKind::Kzg] {
        let vid = Vid::new(scheme, Weights::equal(6).unwrap(), None).unwrap();
        let payload =
            NamespacedPayload::new(vec![(7, b"rollup seven's transactions".to_vec()), (9, vec![9; 3000])]).unwrap();
        let d = vid.disperse_namespaced(&backend, &payload).unwrap();
        let (proof, ns_common) = vid.namespace_proof(&d.common, 9).unwrap();
        let check = |bytes: &[u8], commitment: &[u8; 32]| {
            verify_namespace(&backend, scheme, commitment, &proof, &ns_common, bytes)
        };
        check(&vec![9; 3000], &d.commitment).unwrap();
        assert!(check(&vec![9; 2999], &d.commitment).is_err(), "{scheme}: shorter bytes");
        assert!(check(b"rollup seven's transactions", &d.commitment).is_err(), "{scheme}: another namespace's bytes");
        assert!(check(&vec![9; 3000], &[0; 32]).is_err(), "{scheme}: another block");
        assert!(vid.namespace_proof(&d.common, 8).is_err(), "absent namespace");
    }
}

#[test]
fn commit_namespaced_is_the_dispersals_commitment_and_tells_payloads_apart() {
    use crema_engine::vid::Vid;
    let backend = Cpu::new();
    for scheme in [SchemeKind::Avidm, SchemeKind::Kzg] {
        let vid = Vid::new(scheme, Weights::equal(6).unwrap(), None).unwrap();
        let payload = NamespacedPayload::new(vec![(7, bytes(5000, 1)), (9, bytes(3000, 2))]).unwrap();
        let d = vid.disperse_namespaced(&backend, &payload).unwrap();
        assert_eq!(vid.commit_namespaced(&backend, &payload).unwrap(), d.commitment, "{scheme}");
        let other = NamespacedPayload::new(vec![(7, bytes(5000, 1)), (9, bytes(3000, 3))]).unwrap();
        assert_ne!(vid.commit_namespaced(&backend, &other).unwrap(), d.commitment, "{scheme}: another payload");
        // The shares' encoding (sized up front) still decodes and verifies.
        for (node, share) in d.shares.iter().enumerate() {
            vid.verify_share(&backend, &d.commitment, &d.common, share, node).unwrap();
        }
    }
}

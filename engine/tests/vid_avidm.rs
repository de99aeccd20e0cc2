//! AvidM dispersal: round trips, losses, and every way a share or a disperser can be bad.

use crema_engine::backend::Cpu;
use crema_engine::stake::Fraction;
use crema_engine::vid::avidm::{Avidm, Common, Share};
use crema_engine::vid::{VidError, VidScheme, Weights};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| r.r#gen()).collect()
}

/// Keeps a random subset of shares whose weight is just at or above `need` units.
fn keep_random(shares: &[Share], need: usize, seed: u64) -> Vec<Share> {
    let mut order: Vec<&Share> = shares.iter().collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut kept = Vec::new();
    let mut have = 0;
    for s in order {
        if have >= need {
            break;
        }
        have += s.units.len();
        kept.push(s.clone());
    }
    kept
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn round_trip_any_size_weights_and_losses(
        len in prop_oneof![Just(0usize), Just(1), 2usize..5000],
        weights in prop::collection::vec(1u32..6, 1..24),
        num in 1u64..4,
        seed in any::<u64>(),
    ) {
        let cpu = Cpu::new();
        let scheme = Avidm::new(Weights::new(weights).unwrap(), Fraction::new(num, 4).unwrap());
        let data = payload(len, seed);
        let d = scheme.disperse(&cpu, &data).unwrap();
        for (node, s) in d.shares.iter().enumerate() {
            scheme.verify_share(&cpu, &d.commitment, &d.common, s, node).unwrap();
        }
        let kept = keep_random(&d.shares, d.common.original_count as usize, seed);
        prop_assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &kept).unwrap(), data);
    }
}

#[test]
fn megabytes_to_1000_units_over_100_nodes() {
    let cpu = Cpu::new();
    let scheme = Avidm::new(Weights::new(vec![10; 100]).unwrap(), Fraction::ONE_THIRD);
    let data = payload(3 << 20, 7);
    let d = scheme.disperse(&cpu, &data).unwrap();
    assert_eq!(d.common.original_count, 334);
    // 34 nodes = 340 units ≥ 334: enough. 33 nodes = 330 units: not enough.
    let kept = keep_random(&d.shares, 334, 1);
    assert_eq!(kept.len(), 34);
    assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &kept).unwrap(), data);
    let err = scheme.recover(&cpu, &d.commitment, &d.common, &kept[..33]).unwrap_err();
    assert_eq!(err, VidError::NotEnoughWeight { have: 330, need: 334, missing: 4, rejected: 0 });
}

#[test]
fn corrupted_swapped_and_foreign_shares_are_rejected_and_skipped() {
    let cpu = Cpu::new();
    let scheme = Avidm::new(Weights::new(vec![2, 1, 3, 1, 2, 1]).unwrap(), Fraction::new(1, 2).unwrap());
    let data = payload(10_000, 3);
    let d = scheme.disperse(&cpu, &data).unwrap();
    let other = scheme.disperse(&cpu, &payload(10_000, 4)).unwrap();

    let mut corrupted = d.shares[2].clone();
    corrupted.units[1][5] ^= 1;
    assert!(matches!(
        scheme.verify_share(&cpu, &d.commitment, &d.common, &corrupted, 2),
        Err(VidError::BadProof { unit: 4, .. })
    ));
    // Node 1's share presented as node 3's (same weight).
    assert!(matches!(
        scheme.verify_share(&cpu, &d.commitment, &d.common, &d.shares[1], 3),
        Err(VidError::WrongNode { .. })
    ));
    // A share of another dispersal.
    assert!(scheme.verify_share(&cpu, &d.commitment, &d.common, &other.shares[0], 0).is_err());
    // Common data of another dispersal.
    assert_eq!(scheme.verify_share(&cpu, &d.commitment, &other.common, &d.shares[0], 0), Err(VidError::CommonMismatch));
    // Recovery skips the bad share and succeeds from the rest.
    let mut shares = d.shares.clone();
    shares[2] = corrupted;
    shares[0] = other.shares[0].clone();
    assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &shares).unwrap(), data);
}

#[test]
fn inconsistent_encoding_is_reported_with_evidence() {
    let cpu = Cpu::new();
    let weights = Weights::new(vec![1; 6]).unwrap();
    let scheme = Avidm::new(weights.clone(), Fraction::new(1, 2).unwrap());
    // A malicious disperser: the units are not one codeword (a recovery unit is garbage), but
    // the Merkle root is honestly built over them, so every share verifies.
    let honest = scheme.disperse(&cpu, &payload(1000, 5)).unwrap();
    let mut units: Vec<Vec<u8>> = honest.shares.iter().map(|s| s.units[0].clone()).collect();
    units[4] = vec![0xAB; units[4].len()];
    let refs: Vec<&[u8]> = units.iter().map(Vec::as_slice).collect();
    let tree = crema_engine::merkle::MerkleTree::build(&cpu, &refs).unwrap();
    let common = Common { root: tree.root(), ..honest.common.clone() };
    let commitment = common.commitment();
    let shares: Vec<Share> = (0..6)
        .map(|i| Share {
            node: i as u32,
            first_unit: i as u32,
            units: vec![units[i].clone()],
            proofs: vec![tree.proof(i).unwrap()],
        })
        .collect();
    for (i, s) in shares.iter().enumerate() {
        scheme.verify_share(&cpu, &commitment, &common, s, i).unwrap();
    }
    // Decoding from nodes 1, 3, 4 (uses the bad unit 4) re-encodes to another root.
    let picked = vec![shares[1].clone(), shares[3].clone(), shares[4].clone()];
    match scheme.recover(&cpu, &commitment, &common, &picked) {
        Err(VidError::InconsistentEncoding { committed, recomputed, units_used }) => {
            assert_eq!(committed, tree.root());
            assert_ne!(recomputed, committed);
            assert_eq!(units_used, vec![1, 3, 4]);
        }
        other => panic!("expected InconsistentEncoding, got {other:?}"),
    }
}

#[test]
fn wire_round_trips_and_rejects_bad_bytes() {
    let cpu = Cpu::new();
    let scheme = Avidm::new(Weights::new(vec![3, 1, 2]).unwrap(), Fraction::ONE_THIRD);
    let d = scheme.disperse(&cpu, &payload(777, 9)).unwrap();
    let common = d.common.to_bytes();
    assert_eq!(Common::from_bytes(&common).unwrap(), d.common);
    let share = d.shares[0].to_bytes();
    assert_eq!(Share::from_bytes(&share).unwrap(), d.shares[0]);
    assert!(Common::from_bytes(&common[..common.len() - 1]).is_err());
    assert!(Share::from_bytes(&share[..share.len() - 1]).is_err());
    let mut wrong_version = share.clone();
    wrong_version[3] = 9;
    assert!(Share::from_bytes(&wrong_version).is_err());
    let mut trailing = common.clone();
    trailing.push(0);
    assert!(Common::from_bytes(&trailing).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), flip in any::<(usize, u8)>()) {
        let _ = Common::from_bytes(&bytes);
        let _ = Share::from_bytes(&bytes);
        // Mutations of valid encodings too.
        let cpu = Cpu::new();
        let d = Avidm::new(Weights::new(vec![1, 2]).unwrap(), Fraction::ONE_THIRD).disperse(&cpu, b"hello").unwrap();
        for mut enc in [d.common.to_bytes(), d.shares[1].to_bytes()] {
            let i = flip.0 % enc.len();
            enc[i] ^= flip.1.max(1);
            let _ = Common::from_bytes(&enc);
            let _ = Share::from_bytes(&enc);
        }
    }
}

#[test]
fn an_empty_share_has_one_encoding() {
    // Found by the vid_avidm_wire fuzz target: with no units, the unit size and proof depth were
    // read and ignored, so many byte strings decoded to the same share.
    use crema_engine::vid::Codec;
    let crash = [67, 86, 83, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 21, 0];
    assert!(Share::decode(&crash).is_err());
    let empty = Share { node: 1536, first_unit: 0, units: vec![], proofs: vec![] };
    assert_eq!(Share::decode(&empty.encode()).unwrap(), empty);
}

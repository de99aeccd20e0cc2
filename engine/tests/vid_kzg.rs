//! The KZG VID scheme: the cell assignment's half-weight property, round trips, and every way a
//! share can be bad. KZG proofs cost ~100+ ms per blob here, so payloads stay at 1–3 blobs and
//! the adversarial cases share one dispersal.

use std::sync::OnceLock;

use crema_engine::backend::Cpu;
use crema_engine::kzg::{BYTES_PER_CELL, CELLS_PER_EXT_BLOB};
use crema_engine::stake::Fraction;
use crema_engine::vid::kzg::{self, Common, Kzg, PAYLOAD_BYTES_PER_BLOB, Share, cell_range};
use crema_engine::vid::{DispersalOf, VidError, VidScheme, Weights};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| r.r#gen()).collect()
}

fn half() -> Fraction {
    Fraction::ONE_HALF
}

/// The fewest distinct cells any set of nodes with at least half of the weight holds, found
/// exactly: node ranges are contiguous and move right with the node index, so the union of a
/// chosen set is the sum of each range's part beyond the previous chosen range, and a DP over
/// (last chosen node, weight so far, capped at the need) finds the minimum.
fn min_cells_at_half(weights: &Weights) -> usize {
    let need = half().ceil_of(weights.total()) as usize;
    let n = weights.nodes();
    let ranges: Vec<_> = (0..n).map(|i| cell_range(weights, i).unwrap()).collect();
    let w: Vec<usize> = weights.iter().map(|x| x as usize).collect();
    const INF: usize = usize::MAX / 2;
    // best[i][k]: fewest cells of a set whose last node is i and whose weight is k (k = need: ≥ need).
    let mut best = vec![vec![INF; need + 1]; n];
    let mut answer = INF;
    for i in 0..n {
        let k0 = w[i].min(need);
        best[i][k0] = best[i][k0].min(ranges[i].len());
        for j in 0..i {
            let extra = ranges[i].end - ranges[i].start.max(ranges[j].end).min(ranges[i].end);
            for k in 0..=need {
                if best[j][k] < INF {
                    let k2 = (k + w[i]).min(need);
                    best[i][k2] = best[i][k2].min(best[j][k] + extra);
                }
            }
        }
        answer = answer.min(best[i][need]);
    }
    answer
}

#[test]
fn half_of_the_weight_always_holds_half_of_the_cells() {
    // Exhaustive over every subset for small tables, against the DP.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..40 {
        let n = rng.gen_range(1..=10);
        let weights = Weights::new((0..n).map(|_| rng.gen_range(1..=300)).collect()).unwrap();
        let need = half().ceil_of(weights.total());
        let mut worst = usize::MAX;
        for mask in 1u32..(1 << n) {
            let chosen: Vec<usize> = (0..n).filter(|i| mask >> i & 1 == 1).collect();
            if chosen.iter().map(|&i| weights.weight(i).unwrap() as u64).sum::<u64>() < need {
                continue;
            }
            let mut held = [false; CELLS_PER_EXT_BLOB];
            chosen.iter().for_each(|&i| cell_range(&weights, i).unwrap().for_each(|c| held[c] = true));
            worst = worst.min(held.iter().filter(|&&h| h).count());
        }
        assert!(worst >= 64, "{weights:?}: {worst}");
        assert_eq!(worst, min_cells_at_half(&weights), "{weights:?}");
    }
    // W above 128, W not dividing 128, W = 65 535, many light nodes and a few heavy ones.
    for table in [vec![1u32; 129], vec![1; 160], vec![3; 100], vec![1; 300], vec![65_535], vec![40_000, 25_535]] {
        let weights = Weights::new(table).unwrap();
        assert!(min_cells_at_half(&weights) >= 64, "{weights:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_weight_tables_keep_the_property_and_the_share_size(
        weights in prop::collection::vec(1u32..400, 1..60),
    ) {
        let weights = Weights::new(weights).unwrap();
        prop_assert!(min_cells_at_half(&weights) >= 64);
        let (total, mut slots) = (weights.total() as f64, 0);
        for i in 0..weights.nodes() {
            let r = cell_range(&weights, i).unwrap();
            // A node holds its fair share of the 128 cells plus at most two boundary cells.
            let fair = 128.0 * weights.weight(i).unwrap() as f64 / total;
            prop_assert!(!r.is_empty() && (r.len() as f64) < fair + 2.0 && r.end <= CELLS_PER_EXT_BLOB);
            slots += r.len();
        }
        prop_assert!(slots < CELLS_PER_EXT_BLOB + weights.nodes());
    }
}

/// Keeps a random set of shares whose weight just reaches `need` units.
fn keep_random(shares: &[Share], weights: &Weights, need: u64, seed: u64) -> Vec<Share> {
    let mut order: Vec<&Share> = shares.iter().collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut have = 0;
    let mut kept = Vec::new();
    for s in order {
        if have >= need {
            break;
        }
        have += weights.weight(s.node as usize).unwrap() as u64;
        kept.push(s.clone());
    }
    kept
}

proptest! {
    // Each case disperses 1–2 blobs (FK20 proofs): few cases.
    #![proptest_config(ProptestConfig::with_cases(5))]
    #[test]
    fn round_trip_any_size_weights_and_losses(
        len in prop_oneof![Just(0usize), Just(1), 2usize..3000, (PAYLOAD_BYTES_PER_BLOB - 20)..(PAYLOAD_BYTES_PER_BLOB + 20)],
        weights in prop::collection::vec(1u32..6, 1..16),
        seed in any::<u64>(),
    ) {
        let cpu = Cpu::new();
        let weights = Weights::new(weights).unwrap();
        let scheme = Kzg::new(weights.clone(), half()).unwrap();
        let data = payload(len, seed);
        let d = scheme.disperse(&cpu, &data).unwrap();
        prop_assert_eq!(d.common.blob_commitments.len(), kzg::blob_count(len));
        for (node, s) in d.shares.iter().enumerate() {
            scheme.verify_share(&cpu, &d.commitment, &d.common, s, node).unwrap();
        }
        let kept = keep_random(&d.shares, &weights, half().ceil_of(weights.total()), seed);
        prop_assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &kept).unwrap(), data);
    }
}

/// The scheme, the payload, its dispersal, and a dispersal of another payload.
type Fixture = (Kzg, Vec<u8>, DispersalOf<Kzg>, DispersalOf<Kzg>);

/// One 2-blob dispersal to 6 nodes (W = 10) and one of another payload, shared by the tests.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let cpu = Cpu::new();
        let scheme = Kzg::new(Weights::new(vec![2, 1, 3, 1, 2, 1]).unwrap(), half()).unwrap();
        let data = payload(PAYLOAD_BYTES_PER_BLOB + 1000, 3);
        let d = scheme.disperse(&cpu, &data).unwrap();
        let other = scheme.disperse(&cpu, &payload(PAYLOAD_BYTES_PER_BLOB + 1000, 4)).unwrap();
        (scheme, data, d, other)
    })
}

#[test]
fn systematic_and_recovered_paths_and_the_threshold_edge() {
    let (scheme, data, d, _) = fixture();
    let cpu = Cpu::new();
    // Cells 0..64 are the blob itself; node ranges: 0..26, 25..39, 38..77, 76..90, 89..116, 115..128.
    assert_eq!(cell_range(&d.common.weights, 2).unwrap(), 38..77);
    let first: Vec<Share> = d.shares[..3].to_vec(); // weight 6, cells 0..77: read off directly
    assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &first).unwrap(), *data);
    let last: Vec<Share> = d.shares[2..].to_vec(); // weight 7, cells 38..128: full recovery
    assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &last).unwrap(), *data);
    // Nodes 3, 4, 5 hold weight 4 < 5 and cells 76..128 (52 < 64).
    let err = scheme.recover(&cpu, &d.commitment, &d.common, &d.shares[3..]).unwrap_err();
    assert_eq!(err, VidError::NotEnoughWeight { have: 4, need: 5, missing: 1, rejected: 0 });
    assert!(err.to_string().contains("4 of 5 units verified (1 missing)"), "{err}");
    // The commitment needs the blob commitments only.
    assert_eq!(scheme.commit(&cpu, data).unwrap(), d.commitment);
}

#[test]
fn thresholds_below_half_are_refused() {
    let w = Weights::equal(4).unwrap();
    let err = Kzg::new(w.clone(), Fraction::ONE_THIRD).unwrap_err();
    assert!(matches!(err, VidError::ThresholdUnsupported { num: 1, den: 3, min_num: 1, min_den: 2, .. }));
    assert!(err.to_string().contains("at least 1/2"), "{err}");
    assert!(Kzg::new(w.clone(), Fraction::new(2, 3).unwrap()).is_ok());
    assert!(Kzg::new(w, Fraction::new(4, 8).unwrap()).is_ok());
}

#[test]
fn bad_shares_are_rejected_with_reasons_and_skipped() {
    let (scheme, data, d, other) = fixture();
    let cpu = Cpu::new();
    let check = |s: &Share, node: usize| scheme.verify_share(&cpu, &d.commitment, &d.common, s, node);

    let mut corrupted = d.shares[2].clone();
    corrupted.cells[5][100] ^= 1;
    assert_eq!(check(&corrupted, 2), Err(VidError::BadCellProofs { node: 2 }));
    let mut bad_proof = d.shares[2].clone();
    bad_proof.proofs.swap(0, 1);
    assert_eq!(check(&bad_proof, 2), Err(VidError::BadCellProofs { node: 2 }));
    // A cell of blob 1 in blob 0's place (same cell index).
    let mut cross_blob = d.shares[0].clone();
    let count = cross_blob.cell_count as usize;
    cross_blob.cells.swap(3, count + 3);
    cross_blob.proofs.swap(3, count + 3);
    assert_eq!(check(&cross_blob, 0), Err(VidError::BadCellProofs { node: 0 }));
    // Node 1's share checked as node 3's (both weight 1), and relabelled as node 3's.
    assert_eq!(check(&d.shares[1], 3), Err(VidError::ShareNodeMismatch { claimed: 1, node: 3 }));
    let mut relabelled = d.shares[1].clone();
    relabelled.node = 3;
    assert!(matches!(check(&relabelled, 3), Err(VidError::MalformedShare(_))));
    // Node 1's share claiming node 3's cell range: its cells are of other indices.
    let mut moved = d.shares[1].clone();
    (moved.node, moved.first_cell) = (3, d.shares[3].first_cell);
    assert_eq!(check(&moved, 3), Err(VidError::BadCellProofs { node: 3 }));
    // A share of another dispersal, and the other dispersal's common data.
    assert_eq!(check(&other.shares[0], 0), Err(VidError::BadCellProofs { node: 0 }));
    assert_eq!(scheme.verify_share(&cpu, &d.commitment, &other.common, &d.shares[0], 0), Err(VidError::CommonMismatch));
    // A missing cell, and a non-canonical one (a typed KZG error, not a panic).
    let mut short = d.shares[4].clone();
    short.cells.pop();
    assert!(matches!(check(&short, 4), Err(VidError::MalformedShare(_))));
    let mut non_canonical = d.shares[4].clone();
    non_canonical.cells[0][..32].fill(0xff);
    assert!(matches!(check(&non_canonical, 4), Err(VidError::Kzg(_))));
    assert!(matches!(check(&d.shares[0], 6), Err(VidError::NodeOutOfRange { node: 6, nodes: 6 })));

    // Recovery leaves the bad shares out and rebuilds from the rest (nodes 0, 2, 3: weight 6).
    let shares = vec![corrupted, d.shares[0].clone(), other.shares[1].clone(), d.shares[3].clone(), cross_blob, {
        let mut s = d.shares[2].clone();
        s.cells[0][BYTES_PER_CELL - 1] ^= 0x80;
        s
    }];
    let err = scheme.recover(&cpu, &d.commitment, &d.common, &shares).unwrap_err();
    // Only nodes 0 and 3 (weight 3, cells 0..26 and 76..90) are intact: 4 shares rejected.
    assert_eq!(err, VidError::NotEnoughWeight { have: 3, need: 5, missing: 2, rejected: 4 });
    let mut shares = shares;
    shares.extend([d.shares[2].clone(), d.shares[5].clone()]);
    assert_eq!(scheme.recover(&cpu, &d.commitment, &d.common, &shares).unwrap(), *data);
}

#[test]
fn wire_round_trips_and_rejects_bad_bytes() {
    let (_, _, d, _) = fixture();
    let common = d.common.to_bytes();
    assert_eq!(Common::from_bytes(&common).unwrap(), d.common);
    let share = d.shares[3].to_bytes();
    assert_eq!(Share::from_bytes(&share).unwrap(), d.shares[3]);
    assert!(Common::from_bytes(&common[..common.len() - 1]).is_err());
    assert!(Share::from_bytes(&share[..share.len() - 1]).is_err());
    let mut trailing = share.clone();
    trailing.push(0);
    assert!(Share::from_bytes(&trailing).is_err());
    let mut wrong_version = common.clone();
    wrong_version[3] = 2;
    assert!(Common::from_bytes(&wrong_version).is_err());
    // Blob count that does not fit the payload length.
    let mut wrong_blobs = common.clone();
    wrong_blobs[12] = 3;
    assert!(Common::from_bytes(&wrong_blobs).unwrap_err().to_string().contains("takes 2"));
    // A cell range running past cell 127, and a zero cell count.
    let mut past_end = share.clone();
    (past_end[8], past_end[9]) = (120, 9);
    assert!(Share::from_bytes(&past_end).is_err());
    let mut empty = share.clone();
    empty[9] = 0;
    assert!(Share::from_bytes(&empty).is_err());
    // A blob count over the limit.
    let mut huge = share.clone();
    huge[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Share::from_bytes(&huge).unwrap_err().to_string().contains("over the limit"));
    // An avidm object is not a kzg one.
    let avidm = crema_engine::vid::avidm::Avidm::new(Weights::equal(2).unwrap(), Fraction::ONE_THIRD)
        .disperse(&Cpu::new(), b"x")
        .unwrap();
    assert!(Common::from_bytes(&avidm.common.to_bytes()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), flip in any::<(usize, u8)>()) {
        let _ = Common::from_bytes(&bytes);
        let _ = Share::from_bytes(&bytes);
        let (_, _, d, _) = fixture();
        for mut enc in [d.common.to_bytes(), d.shares[1].to_bytes()] {
            let i = flip.0 % enc.len().min(64); // the header fields
            enc[i] ^= flip.1.max(1);
            let _ = Common::from_bytes(&enc);
            let _ = Share::from_bytes(&enc);
        }
    }
}

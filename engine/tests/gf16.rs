//! Differential tests: the naive GF(2^16) code (reference backend) against reed-solomon-simd
//! itself, over random and edge-case counts, shard sizes and loss patterns.

use crema_engine::backend::{Backend, Gf16Received, Reference};
use crema_engine::gf16::naive;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_shards(r: &mut ChaCha8Rng, k: usize, len: usize) -> Vec<Vec<u8>> {
    (0..k).map(|_| (0..len).map(|_| r.r#gen()).collect()).collect()
}

/// Encodes with both, compares, then drops a random set of up to `m` shards (keeping at least
/// `k` in total) and compares the restored originals of both decoders with the truth.
fn check(r: &mut ChaCha8Rng, k: usize, m: usize, len: usize) {
    let original = random_shards(r, k, len);
    let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
    let want = reed_solomon_simd::encode(k, m, &refs).expect("reed-solomon-simd encode");
    let got = Reference::new().gf16_encode(&refs, m).expect("naive encode");
    assert_eq!(got, want, "encode {k}:{m} x {len}");

    // Random loss: a random subset of exactly k (or a few more) of the k + m shards survives.
    let mut positions: Vec<usize> = (0..k + m).collect();
    positions.shuffle(r);
    let keep = k + r.gen_range(0..=m.min(3));
    let kept = &positions[..keep.min(k + m)];
    let shard = |p: usize| if p < k { refs[p] } else { want[p - k].as_slice() };
    let received = Gf16Received::from_codeword(k, m, kept.iter().map(|&p| (p, shard(p))));

    let (orig, rec) = (received.original.iter().copied(), received.recovery.iter().copied());
    let theirs = reed_solomon_simd::decode(k, m, orig, rec).expect("rs decode");
    let ours = naive::decode(&received).expect("naive decode");
    let theirs: Vec<(usize, Vec<u8>)> = theirs.into_iter().collect();
    assert_eq!(ours, theirs, "decode {k}:{m} x {len}, kept {kept:?}");
    for (i, shard) in &ours {
        assert_eq!(shard, &original[*i], "restored original {i} of {k}:{m} x {len}");
    }
    assert_eq!(ours.len(), k - received.original.len());
}

#[test]
fn edge_counts_and_sizes() {
    let mut r = ChaCha8Rng::seed_from_u64(1);
    // Single chunks, ties (k2 == m2 in both directions), several chunks on either side,
    // non powers of two, and shard sizes around the 64-byte block edge.
    let counts = [(1, 1), (1, 2), (2, 1), (3, 3), (5, 3), (3, 5), (4, 4), (7, 9), (9, 7), (100, 3), (3, 100), (33, 31)];
    for (k, m) in counts {
        for len in [2, 30, 62, 64, 66, 126, 128, 192, 250] {
            check(&mut r, k, m, len);
        }
    }
}

#[test]
fn many_chunks_and_extreme_shapes() {
    let mut r = ChaCha8Rng::seed_from_u64(2);
    for (k, m, len) in [(1000, 7, 64), (7, 1000, 66), (513, 511, 2), (511, 513, 4), (2048, 1, 2), (1, 2048, 2)] {
        check(&mut r, k, m, len);
    }
    // The largest counts Leopard allows on either side.
    check(&mut r, 65535, 1, 2);
    check(&mut r, 1, 65535, 2);
}

#[test]
fn random_counts_sizes_and_losses() {
    let mut r = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..40 {
        let k = r.gen_range(1..=300);
        let m = r.gen_range(1..=300);
        let len = 2 * r.gen_range(1..=150);
        check(&mut r, k, m, len);
    }
}

#[test]
fn every_original_lost() {
    let mut r = ChaCha8Rng::seed_from_u64(4);
    for (k, m, len) in [(5, 5, 64), (4, 9, 70), (9, 12, 20)] {
        let original = random_shards(&mut r, k, len);
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let rec = naive::encode(&refs, m).unwrap();
        let rec_refs: Vec<(usize, &[u8])> = rec.iter().enumerate().map(|(j, s)| (j, s.as_slice())).collect();
        let restored = naive::decode(&Gf16Received::new(k, m, vec![], rec_refs[..k].to_vec())).unwrap();
        let restored: Vec<Vec<u8>> = restored.into_iter().map(|(_, s)| s).collect();
        assert_eq!(restored, original, "{k}:{m}");
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let a = [1u8, 2, 3, 4];
    let b = [5u8, 6, 7, 8];
    // Unsupported counts, odd and empty shards, mismatched sizes.
    assert!(naive::encode(&[&a], 0).is_err());
    assert!(naive::encode(&[&a[..], &b[..]], 65535).is_err());
    assert!(naive::encode(&[&a[..3]], 1).is_err());
    assert!(naive::encode(&[&a[..0]], 1).is_err());
    assert!(naive::encode(&[&a, &b[..2]], 1).is_err());
    // Decode: out of range, duplicates, too few, mismatched sizes.
    let decode = |k, original: &[(usize, &[u8])], recovery: &[(usize, &[u8])]| {
        naive::decode(&Gf16Received::new(k, 2, original.to_vec(), recovery.to_vec()))
    };
    assert!(decode(2, &[(2, &a)], &[(0, &b)]).is_err());
    assert!(decode(2, &[(0, &a)], &[(2, &b)]).is_err());
    assert!(decode(2, &[(0, &a), (0, &a)], &[]).is_err());
    assert!(decode(2, &[], &[(1, &a), (1, &b)]).is_err());
    assert!(decode(3, &[(0, &a)], &[(1, &b)]).is_err());
    assert!(decode(2, &[(0, &a)], &[(1, &b[..2])]).is_err());
    // Nothing missing: nothing to restore.
    assert_eq!(decode(2, &[(0, &a), (1, &b)], &[]).unwrap(), vec![]);
}

/// The cpu backend cuts big shards in two 64-byte-aligned halves and encodes them in
/// parallel; the bytes must be exactly reed-solomon-simd's single call (these shapes are above
/// its 4 MiB threshold; sizes with and without a short final block, odd cut positions).
#[test]
fn cpu_split_encode_matches_one_call() {
    use crema_engine::backend::Cpu;
    let mut r = ChaCha8Rng::seed_from_u64(5);
    let cpu = Cpu::new();
    for (k, m, len) in [(64, 64, 32834), (100, 28, 32770), (20, 300, 16384), (300, 20, 13122)] {
        assert!((k + m) * len >= 4 << 20, "shape {k}:{m}x{len} would not split");
        let original = random_shards(&mut r, k, len);
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let want = reed_solomon_simd::encode(k, m, &refs).unwrap();
        let got = cpu.gf16_encode(&refs, m).unwrap();
        assert_eq!(got, want, "encode {k}:{m}x{len}");

        let lost = k.min(m);
        let orig: Vec<(usize, &[u8])> = (lost..k).map(|i| (i, refs[i])).collect();
        let rec: Vec<(usize, &[u8])> = (0..m).map(|j| (j, want[j].as_slice())).collect();
        let restored = cpu.gf16_decode(&Gf16Received::new(k, m, orig, rec)).unwrap();
        assert_eq!(restored.len(), lost);
        for (i, s) in restored {
            assert_eq!(s, original[i], "decode {k}:{m}x{len} original {i}");
        }
    }
}

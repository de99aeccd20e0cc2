//! The user-facing `Gf16Code`: round trips with losses (plain, over borrowed slices) and with
//! corruption (checksummed shards) on every backend, recovery shards equal to
//! reed-solomon-simd's, and every typed error.

use std::borrow::Cow;

use crema_engine::backend::Backend;
use crema_engine::backend::Cpu;
use crema_engine::backend::Reference;
use crema_engine::erasure::gf16::{Gf16Code, Gf16Error, Shard};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn backends() -> Vec<Box<dyn Backend>> {
    vec![Box::new(Reference::new()), Box::new(Cpu::new())]
}

fn data(r: &mut ChaCha8Rng, k: usize, len: usize) -> Vec<Vec<u8>> {
    (0..k).map(|_| (0..len).map(|_| r.r#gen()).collect()).collect()
}

/// Runs `check` on every backend and round-trip shape with a code and random data for it.
fn each_case(seed: u64, mut check: impl FnMut(&mut ChaCha8Rng, &dyn Backend, Gf16Code, Vec<Vec<u8>>)) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    for backend in backends() {
        for (k, m, len) in [(4, 4, 64), (10, 6, 130), (6, 10, 2), (32, 32, 1024), (100, 30, 66)] {
            let original = data(&mut r, k, len);
            check(&mut r, backend.as_ref(), Gf16Code::new(k, m, len).unwrap(), original);
        }
    }
}

/// The plain API: random data, random losses of up to m shards; the recovery shards are
/// reed-solomon-simd's, the data comes back exactly, and the originals that were given come
/// back borrowed (the very slices passed in), only the lost ones owned.
#[test]
fn plain_round_trip_borrows_what_it_was_given() {
    each_case(9, |r, backend, code, original| {
        let (k, m) = (code.original_count(), code.recovery_count());
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let recovery = code.encode(backend, &refs).unwrap();
        assert_eq!(recovery, reed_solomon_simd::encode(k, m, &refs).unwrap(), "{} {k}:{m}", backend.name());

        let mut positions: Vec<usize> = (0..k + m).collect();
        positions.shuffle(r);
        positions.truncate(k + r.gen_range(0..=1));
        let shard = |p: usize| if p < k { refs[p] } else { recovery[p - k].as_slice() };
        let given: Vec<(usize, &[u8])> = positions.iter().map(|&p| (p, shard(p))).collect();
        let restored = code.decode(backend, &given).unwrap();
        assert_eq!(restored, original, "{} {k}:{m}", backend.name());
        for (i, o) in restored.iter().enumerate() {
            match o {
                Cow::Borrowed(b) => {
                    assert!(positions.contains(&i) && std::ptr::eq(*b, refs[i]), "original {i} not the given slice")
                }
                Cow::Owned(_) => assert!(!positions.contains(&i), "given original {i} was copied"),
            }
        }
    });
}

/// The checksummed layer: random data, random losses of up to m shards, one corrupted shard
/// among the rest; the data comes back exactly and the recovery shards are reed-solomon-simd's.
#[test]
fn checksummed_round_trip_with_losses_and_a_corrupted_shard() {
    each_case(10, |r, backend, code, original| {
        let (k, m) = (code.original_count(), code.recovery_count());
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let shards = code.encode_shards(backend, &refs).unwrap();
        assert_eq!(shards.len(), k + m);
        let want = reed_solomon_simd::encode(k, m, &refs).unwrap();
        for (j, s) in shards[k..].iter().enumerate() {
            assert_eq!(s.bytes, want[j], "{} recovery {j} of {k}:{m}", backend.name());
        }

        // Lose m - 1 shards at random, corrupt one of the survivors: k intact remain.
        let mut received = shards.clone();
        received.shuffle(r);
        received.truncate(k + 1);
        let victim = r.gen_range(0..received.len());
        let byte = r.gen_range(0..code.shard_bytes());
        received[victim].bytes[byte] ^= 0x01;
        let restored = code.decode_shards(backend, &received).unwrap();
        assert_eq!(restored, original, "{} {k}:{m}", backend.name());

        // One more corruption and the data is out of reach: typed error naming both.
        let second = (victim + 1) % received.len();
        received[second].checksum[0] ^= 0x80;
        match code.decode_shards(backend, &received) {
            Err(Gf16Error::TooFewShards { have, need, mut corrupted }) => {
                assert_eq!((have, need), (k - 1, k));
                corrupted.sort_unstable();
                let mut expected = vec![received[victim].index, received[second].index];
                expected.sort_unstable();
                assert_eq!(corrupted, expected);
            }
            other => panic!("expected TooFewShards, got {other:?}"),
        }
    });
}

#[test]
fn construction_is_validated() {
    assert_eq!(Gf16Code::new(0, 1, 64), Err(Gf16Error::UnsupportedCounts { original_count: 0, recovery_count: 1 }));
    assert!(matches!(Gf16Code::new(1, 0, 64), Err(Gf16Error::UnsupportedCounts { .. })));
    assert!(matches!(Gf16Code::new(32769, 32768, 64), Err(Gf16Error::UnsupportedCounts { .. })));
    assert!(Gf16Code::new(32768, 32768, 64).is_ok());
    assert!(Gf16Code::new(65535, 1, 2).is_ok());
    assert_eq!(Gf16Code::new(2, 2, 0), Err(Gf16Error::InvalidShardSize { shard_bytes: 0 }));
    assert_eq!(Gf16Code::new(2, 2, 63), Err(Gf16Error::InvalidShardSize { shard_bytes: 63 }));
}

#[test]
fn bad_inputs_get_typed_errors() {
    let cpu = Cpu::new();
    let code = Gf16Code::new(3, 2, 4).unwrap();
    let (a, b, c) = ([1u8, 2, 3, 4], [5u8, 6, 7, 8], [9u8, 10, 11, 12]);
    assert_eq!(code.encode(&cpu, &[&a, &b]), Err(Gf16Error::WrongOriginalCount { got: 2, expected: 3 }));
    assert_eq!(code.encode(&cpu, &[&a, &b[..2], &c]), Err(Gf16Error::WrongShardSize { index: 1, got: 2, expected: 4 }));
    assert_eq!(code.encode_shards(&cpu, &[&a, &b]), Err(Gf16Error::WrongOriginalCount { got: 2, expected: 3 }));
    let recovery = code.encode(&cpu, &[&a, &b, &c]).unwrap();
    let (r0, r1) = (&recovery[0][..], &recovery[1][..]);

    // Plain decode: the same checks, by codeword index.
    assert_eq!(code.decode(&cpu, &[(0, &a), (0, &a), (3, r0)]), Err(Gf16Error::DuplicateIndex { index: 0 }));
    assert_eq!(code.decode(&cpu, &[(0, &a), (5, r1), (3, r0)]), Err(Gf16Error::IndexOutOfRange { index: 5, total: 5 }));
    let wrong_size = code.decode(&cpu, &[(0, &a), (1, &[0; 6]), (3, r0)]);
    assert_eq!(wrong_size, Err(Gf16Error::WrongShardSize { index: 1, got: 6, expected: 4 }));
    assert_eq!(
        code.decode(&cpu, &[(4, r1), (0, &a)]),
        Err(Gf16Error::TooFewShards { have: 2, need: 3, corrupted: vec![] })
    );
    assert_eq!(code.decode(&cpu, &[(4, r1), (0, &a), (3, r0)]).unwrap(), vec![a.to_vec(), b.to_vec(), c.to_vec()]);
    // All originals present: returned as they are (borrowed), no decode needed.
    let all = code.decode(&cpu, &[(2, &c), (1, &b), (0, &a)]).unwrap();
    assert!(all.iter().all(|o| matches!(o, Cow::Borrowed(_))));
    assert_eq!(all, vec![a.to_vec(), b.to_vec(), c.to_vec()]);

    // Checksummed decode.
    let shards = code.encode_shards(&cpu, &[&a, &b, &c]).unwrap();
    assert_eq!(shards.len(), 5);
    assert!(shards[3..].iter().zip(&recovery).all(|(s, r)| &s.bytes == r));
    let dup = vec![shards[0].clone(), shards[0].clone(), shards[3].clone()];
    assert_eq!(code.decode_shards(&cpu, &dup), Err(Gf16Error::DuplicateIndex { index: 0 }));
    let out_of_range = vec![shards[0].clone(), Shard::new(5, vec![0; 4]), shards[3].clone()];
    assert_eq!(code.decode_shards(&cpu, &out_of_range), Err(Gf16Error::IndexOutOfRange { index: 5, total: 5 }));
    let wrong_size = vec![shards[0].clone(), Shard::new(1, vec![0; 6]), shards[3].clone()];
    assert_eq!(code.decode_shards(&cpu, &wrong_size), Err(Gf16Error::WrongShardSize { index: 1, got: 6, expected: 4 }));
    let too_few = code.decode_shards(&cpu, &shards[..2]);
    assert_eq!(too_few, Err(Gf16Error::TooFewShards { have: 2, need: 3, corrupted: vec![] }));
    let mut bad = shards[4].clone();
    bad.bytes[0] ^= 1;
    assert_eq!(code.check_shard(&bad), Err(Gf16Error::Integrity { index: 4 }));
    assert_eq!(code.check_shard(&shards[4]), Ok(()));
    // All originals present: returned as they are, no decode needed.
    assert_eq!(code.decode_shards(&cpu, &shards[..3]).unwrap(), vec![a.to_vec(), b.to_vec(), c.to_vec()]);
}

#[test]
fn canonical_shard_bytes_round_trip_through_decode() {
    let mut r = ChaCha8Rng::seed_from_u64(11);
    let code = Gf16Code::new(5, 3, 96).unwrap();
    let original = data(&mut r, 5, 96);
    let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
    let shards = code.encode_shards(&Cpu::new(), &refs).unwrap();
    let wire: Vec<Vec<u8>> = shards.iter().map(Shard::to_bytes).collect();
    let back: Vec<Shard> = wire[3..].iter().map(|w| Shard::from_bytes(w).unwrap()).collect();
    assert_eq!(code.decode_shards(&Reference::new(), &back).unwrap(), original);
}

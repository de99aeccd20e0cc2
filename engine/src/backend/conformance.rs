//! One conformance suite, run over every backend: each check feeds the backend under test
//! (the "prospect") and the [`Reference`] backend the same seeded inputs and compares
//! canonical bytes (compressed points, big-endian scalars, raw shard bytes).
//!
//! Instantiate it with [`backend_conformance!`](crate::backend_conformance) from a test file.
//! Sizes straddle typical workgroup edges; the adversarial cases are the classic GPU bugs:
//! zero and r−1 scalars, identity and repeated points, P + (−P), empty batches.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{Field, UniformRand};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::reference::Reference;
use super::{Backend, Direction, G1Bases, Gf16Received};
use crate::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective, fr_to_bytes, g1p_to_bytes, g2p_to_bytes};

/// Sizes every batched primitive is checked at (around 64-wide workgroup edges).
pub const SIZES: [usize; 7] = [1, 2, 63, 64, 65, 1 << 10, 1 << 12];

/// A deterministic RNG for case `seed`.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// GF(2^16) encode, then decode after losing as many shards as the code allows.
pub fn check_gf16(prospect: &dyn Backend) {
    let reference = Reference::new();
    for (case, &(k, m, len)) in
        [(1, 1, 2), (2, 2, 64), (3, 5, 130), (32, 32, 64), (63, 65, 128), (100, 30, 64)].iter().enumerate()
    {
        let mut r = rng(case as u64);
        let original: Vec<Vec<u8>> = (0..k).map(|_| (0..len).map(|_| r.r#gen()).collect()).collect();
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let got = prospect.gf16_encode(&refs, m).expect("prospect encode");
        let want = reference.gf16_encode(&refs, m).expect("reference encode");
        assert_eq!(got, want, "gf16_encode {k}:{m}x{len} differs from reference");

        // Lose the first min(k, m) originals; decode from the rest plus recovery shards.
        let lost = k.min(m);
        let kept = Gf16Received::new(
            k,
            m,
            (lost..k).map(|i| (i, refs[i])).collect(),
            (0..m).map(|j| (j, got[j].as_slice())).collect(),
        );
        let restored = prospect.gf16_decode(&kept).expect("prospect decode");
        assert_eq!(restored.len(), lost);
        for (i, shard) in restored {
            assert_eq!(shard, original[i], "gf16_decode {k}:{m} restored shard {i} wrongly");
        }

        // Reconstruct the whole codeword from exactly k shards chosen at random.
        let mut positions: Vec<usize> = (0..k + m).collect();
        positions.shuffle(&mut r);
        positions.truncate(k);
        let shard = |p: usize| if p < k { refs[p] } else { got[p - k].as_slice() };
        let chosen = Gf16Received::from_codeword(k, m, positions.iter().map(|&p| (p, shard(p))));
        let whole = prospect.gf16_reconstruct(&chosen).expect("prospect reconstruct");
        assert_eq!(whole, reference.gf16_reconstruct(&chosen).expect("reference reconstruct"));
        assert_eq!(whole.original.len() + whole.recovery.len(), m, "gf16_reconstruct {k}:{m}: shards missing");
        for (i, shard) in &whole.original {
            assert_eq!(shard, &original[*i], "gf16_reconstruct {k}:{m} restored original {i} wrongly");
        }
        for (j, shard) in &whole.recovery {
            assert_eq!(shard, &got[*j], "gf16_reconstruct {k}:{m} restored recovery {j} wrongly");
        }
        let one_more = Gf16Received::from_codeword(k, m, (0..=k).map(|p| (p, shard(p))));
        assert!(prospect.gf16_reconstruct(&one_more).is_err(), "k + 1 shards accepted");
    }
}

fn fr_bytes(v: &[Fr]) -> Vec<[u8; 32]> {
    v.iter().map(fr_to_bytes).collect()
}

/// NTT forward/inverse, plain and on a coset, batched, against the reference.
pub fn check_ntt(prospect: &dyn Backend) {
    let reference = Reference::new();
    for (case, size) in [1usize, 2, 4, 64, 256, 1 << 10].into_iter().enumerate() {
        let mut r = rng(100 + case as u64);
        let batch = if size <= 64 { 3 } else { 1 };
        let mut input: Vec<Fr> = (0..size * batch).map(|_| Fr::rand(&mut r)).collect();
        input[0] = Fr::ZERO;
        *input.last_mut().unwrap() = -Fr::ONE; // r − 1
        for coset in [None, Some(Fr::from(7u64))] {
            for dir in [Direction::Forward, Direction::Inverse] {
                let (mut a, mut b) = (input.clone(), input.clone());
                prospect.ntt(&mut a, size, dir, coset).expect("prospect ntt");
                reference.ntt(&mut b, size, dir, coset).expect("reference ntt");
                assert_eq!(fr_bytes(&a), fr_bytes(&b), "ntt size {size} {dir:?} coset {coset:?} differs");
            }
        }
        // Round trip through the prospect alone.
        let mut a = input.clone();
        prospect.ntt(&mut a, size, Direction::Forward, None).unwrap();
        prospect.ntt(&mut a, size, Direction::Inverse, None).unwrap();
        assert_eq!(a, input, "ntt round trip at size {size}");
    }
    assert!(prospect.ntt(&mut [Fr::ONE; 3], 3, Direction::Forward, None).is_err(), "size 3 must be refused");
}

fn random_g1(r: &mut ChaCha8Rng, n: usize) -> Vec<G1Affine> {
    let g = G1Projective::rand(r);
    // Cheap distinct points: multiples of one random point, plus adversarial ones below.
    let mut acc = g;
    let pts: Vec<G1Projective> = (0..n)
        .map(|_| {
            acc += g.double();
            acc
        })
        .collect();
    G1Projective::normalize_batch(&pts)
}

/// MSM at every size in [`SIZES`], with adversarial scalars and points.
pub fn check_msm(prospect: &dyn Backend) {
    let reference = Reference::new();
    for (case, &n) in SIZES.iter().enumerate() {
        let mut r = rng(200 + case as u64);
        let mut pts = random_g1(&mut r, n);
        if n >= 4 {
            pts[1] = G1Affine::identity();
            pts[2] = pts[0]; // repeated point: forces P + P in buckets
            pts[3] = -pts[0]; // P + (−P)
        }
        let bases = G1Bases::new(pts);
        let random: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut r)).collect();
        let zeros = vec![Fr::ZERO; n];
        let minus_one = vec![-Fr::ONE; n];
        let ones = vec![Fr::ONE; n];
        let short: Vec<Fr> = random[..n / 2].to_vec();
        let batch: Vec<&[Fr]> = vec![&random, &zeros, &minus_one, &ones, &short, &[]];
        let got = prospect.msm_g1(&bases, &batch).expect("prospect msm");
        let want = reference.msm_g1(&bases, &batch).expect("reference msm");
        let enc = |v: &[G1Projective]| v.iter().map(g1p_to_bytes).collect::<Vec<_>>();
        assert_eq!(enc(&got), enc(&want), "msm_g1 n={n} differs from reference");
    }
    let bases = G1Bases::new(vec![G1Affine::generator()]);
    assert!(prospect.msm_g1(&bases, &[&[Fr::ONE, Fr::ONE]]).is_err(), "more scalars than bases must be refused");
    assert!(prospect.msm_g1(&bases, &[]).expect("empty batch").is_empty());
}

/// G1 and G2 sums at every size, with identity, repeated and cancelling points.
pub fn check_sums(prospect: &dyn Backend) {
    let reference = Reference::new();
    for (case, &n) in SIZES.iter().enumerate() {
        let mut r = rng(300 + case as u64);
        let mut g1 = random_g1(&mut r, n);
        let base2 = G2Projective::rand(&mut r);
        let mut g2: Vec<G2Affine> =
            G2Projective::normalize_batch(&(1..=n as u64).map(|i| base2 * Fr::from(i)).collect::<Vec<_>>());
        if n >= 3 {
            (g1[1], g2[1]) = (G1Affine::identity(), G2Affine::identity());
            (g1[2], g2[2]) = (-g1[0], -g2[0]);
        }
        let twice: Vec<G1Affine> = vec![g1[0]; 2];
        let groups1: Vec<&[G1Affine]> = vec![&g1, &[], &twice];
        let groups2: Vec<&[G2Affine]> = vec![&g2, &[]];
        let (a, b) = (prospect.sum_g1(&groups1).unwrap(), reference.sum_g1(&groups1).unwrap());
        assert_eq!(
            a.iter().map(g1p_to_bytes).collect::<Vec<_>>(),
            b.iter().map(g1p_to_bytes).collect::<Vec<_>>(),
            "sum_g1 n={n}"
        );
        let (a, b) = (prospect.sum_g2(&groups2).unwrap(), reference.sum_g2(&groups2).unwrap());
        assert_eq!(
            a.iter().map(g2p_to_bytes).collect::<Vec<_>>(),
            b.iter().map(g2p_to_bytes).collect::<Vec<_>>(),
            "sum_g2 n={n}"
        );
    }
    assert_eq!(g1p_to_bytes(&prospect.sum_g1(&[&[]]).unwrap()[0]), g1p_to_bytes(&G1Projective::ZERO));
}

/// BLAKE3 leaves for chunks of awkward sizes (empty, one byte, around 1 KiB BLAKE3 chunks).
pub fn check_merkle_leaves(prospect: &dyn Backend) {
    let reference = Reference::new();
    let mut r = rng(400);
    let chunks: Vec<Vec<u8>> = [0usize, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 10_000]
        .iter()
        .map(|&n| (0..n).map(|_| r.r#gen()).collect())
        .collect();
    let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    assert_eq!(prospect.merkle_leaves(&refs).unwrap(), reference.merkle_leaves(&refs).unwrap());
    assert!(prospect.merkle_leaves(&[]).unwrap().is_empty());
}

/// BLS through the public API (aggregation, FastAggregateVerify, AggregateVerify, batch
/// verification and bisection) against the reference backend, whose hash to G2 and pairings
/// are arkworks': an implementation independent of the prospect's blst. Messages shared by
/// every signer (votes), by some, by none; forged triples at the ends and in the middle.
pub fn check_bls(prospect: &dyn Backend) {
    use crate::bls::{self, PublicKey, SecretKey, Signature};
    let reference = Reference::new();
    let mut r = rng(500);
    let n = 24;
    let sks: Vec<SecretKey> =
        (0..n).map(|_| SecretKey::key_gen(&r.r#gen::<[u8; 32]>(), b"conformance").expect("32-byte IKM")).collect();
    let pks: Vec<PublicKey> = sks.iter().map(SecretKey::public_key).collect();
    for distinct in [1, 5, n] {
        let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("view 7, message {}", i % distinct).into_bytes()).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let good: Vec<Signature> = sks.iter().zip(&refs).map(|(sk, m)| sk.sign(m).expect("sign")).collect();
        let agg = bls::aggregate(prospect, &good).expect("prospect aggregate");
        assert_eq!(agg, bls::aggregate(&reference, &good).expect("reference aggregate"), "aggregate of {n}");
        let partial = bls::aggregate(prospect, &good[1..]).expect("prospect aggregate");
        for (backend, name) in [(prospect, "prospect"), (&reference as &dyn Backend, "reference")] {
            let case = format!("{distinct} distinct messages on the {name}");
            assert_eq!(bls::aggregate_verify(backend, &pks, &refs, &agg), Ok(true), "{case}");
            assert_eq!(bls::aggregate_verify(backend, &pks, &refs, &partial), Ok(false), "{case}");
            if distinct == 1 {
                assert_eq!(bls::fast_aggregate_verify(backend, &pks, refs[0], &agg), Ok(true), "{case}");
                assert_eq!(bls::fast_aggregate_verify(backend, &pks, b"view 8", &agg), Ok(false), "{case}");
            }
        }
        let bad = [0, n / 2 - 1, n - 1];
        let mut forged = good.clone();
        for &i in &bad {
            forged[i] = good[(i + 1) % n]; // another signer's signature
        }
        let seed = r.r#gen::<u64>();
        for (sigs, want) in [(&good, vec![]), (&forged, bad.to_vec())] {
            let verdict = |b: &dyn Backend| bls::batch_verify_with_rng(b, &pks, &refs, sigs, &mut rng(seed));
            let invalid = |b: &dyn Backend| bls::batch_find_invalid_with_rng(b, &pks, &refs, sigs, &mut rng(seed));
            assert_eq!(verdict(prospect), Ok(want.is_empty()), "batch of {n}, {distinct} distinct messages");
            assert_eq!(verdict(prospect), verdict(&reference));
            assert_eq!(invalid(prospect), Ok(want.clone()), "bisection, {distinct} distinct messages");
            assert_eq!(invalid(prospect), invalid(&reference));
        }
    }
    assert_eq!(bls::batch_find_invalid(prospect, &[], &[], &[]), Ok(vec![]));
    assert_eq!(bls::batch_verify(prospect, &[], &[], &[]), Ok(false));
}

/// Generates one `#[test]` per conformance check for a backend expression. The example is not
/// run as a doctest (it expands to `#[test]` functions, which a doctest never runs); it runs for
/// real in `engine/tests/conformance.rs` and the gpu test files.
///
/// ```ignore
/// crema_engine::backend_conformance!(cpu, crema_engine::backend::Cpu::new());
/// ```
#[macro_export]
macro_rules! backend_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::backend::conformance as c;
            #[test]
            fn gf16() {
                c::check_gf16(&$make);
            }
            #[test]
            fn ntt() {
                c::check_ntt(&$make);
            }
            #[test]
            fn msm_g1() {
                c::check_msm(&$make);
            }
            #[test]
            fn sums() {
                c::check_sums(&$make);
            }
            #[test]
            fn merkle_leaves() {
                c::check_merkle_leaves(&$make);
            }
            #[test]
            fn bls() {
                c::check_bls(&$make);
            }
        }
    };
}

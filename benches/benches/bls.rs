//! BLS: Crema (through the cpu backend: blst arithmetic, keys summed on the backend) beside
//! blst 0.3 min_pk, one criterion group per operation. Both sides get pre-decoded,
//! pre-validated keys and signatures, so each loop times the same work: hash to G2, key
//! aggregation and the pairing check.
//!
//! `bls/decode_signature`: a compressed signature to a checked point (on the curve, in G2), with arkworks
//! beside blst.
//!
//! `bls/find_invalid_votes/{10,100,1000}`: n votes (distinct keys, one message) with one forged
//! signature at index n/2, and the indices of the bad votes as the answer. Crema batch-checks
//! them and bisects (`bls::batch_find_invalid`); blst, which has no bisection, batch-checks
//! (`verify_multiple_aggregate_signatures`) and on failure re-verifies every vote over all
//! cores: what a node on blst alone would do.

use std::hint::black_box;

use ark_serialize::CanonicalDeserialize;
use blst::BLST_ERROR;
use blst::min_pk as blst_pk;
use crema_engine::backend::Cpu;
use crema_engine::bls::{self, CertificateBuilder, Committee, DST_SIG, KeyTable, SecretKey};
use crema_engine::stake::{Fraction, StakeTable};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

/// The crema binary's allocator (see node/src/main.rs), so the benches measure what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Matching key pairs on both sides, from the same IKM.
struct Keys {
    ours: Vec<SecretKey>,
    theirs: Vec<blst_pk::SecretKey>,
}

fn keys(n: usize) -> Keys {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let ikms: Vec<[u8; 32]> = (0..n).map(|_| rng.r#gen()).collect();
    Keys {
        ours: ikms.iter().map(|ikm| SecretKey::key_gen(ikm, b"").expect("32-byte IKM")).collect(),
        theirs: ikms.iter().map(|ikm| blst_pk::SecretKey::key_gen(ikm, &[]).expect("32-byte IKM")).collect(),
    }
}

const MSG: &[u8] = b"crema bench message: view 42, block 0x0123456789abcdef";

fn sign_and_verify(c: &mut Criterion) {
    let k = keys(1);
    let (sk, bsk) = (&k.ours[0], &k.theirs[0]);
    let (pk, bpk) = (sk.public_key(), bsk.sk_to_pk());
    let (sig, bsig) = (sk.sign(MSG).unwrap(), bsk.sign(MSG, DST_SIG, &[]));
    assert_eq!(sig.to_bytes(), bsig.to_bytes(), "both sides must compute the same signature");

    let mut g = c.benchmark_group("bls/sign");
    g.bench_function("crema", |b| b.iter(|| sk.sign(black_box(MSG)).unwrap()));
    g.bench_function("blst", |b| b.iter(|| bsk.sign(black_box(MSG), DST_SIG, &[])));
    g.finish();

    // Decoding a received signature: decompression and the subgroup check (every vote and certificate a node
    // receives). arkworks is what crema decoded with before it went through blst.
    let bytes = sig.to_bytes();
    let mut g = c.benchmark_group("bls/decode_signature");
    g.bench_function("crema", |b| b.iter(|| bls::Signature::from_bytes(black_box(&bytes)).unwrap()));
    g.bench_function("blst", |b| b.iter(|| blst_pk::Signature::sig_validate(black_box(&bytes), true).unwrap()));
    g.bench_function("arkworks", |b| {
        b.iter(|| ark_bls12_381::G2Affine::deserialize_compressed(black_box(&bytes[..])).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("bls/verify");
    g.bench_function("crema", |b| b.iter(|| assert!(bls::verify(&pk, black_box(MSG), &sig).unwrap())));
    g.bench_function("blst", |b| {
        b.iter(|| assert_eq!(bsig.verify(false, black_box(MSG), DST_SIG, &[], &bpk, false), BLST_ERROR::BLST_SUCCESS))
    });
    g.finish();
}

fn fast_aggregate_verify(c: &mut Criterion) {
    let backend = Cpu::new();
    for n in [128usize, 1024] {
        let k = keys(n);
        let pks: Vec<_> = k.ours.iter().map(SecretKey::public_key).collect();
        let sigs: Vec<_> = k.ours.iter().map(|sk| sk.sign(MSG).unwrap()).collect();
        let agg = bls::aggregate(&backend, &sigs).unwrap();
        let bpks: Vec<_> = k.theirs.iter().map(|sk| sk.sk_to_pk()).collect();
        let bpk_refs: Vec<&blst_pk::PublicKey> = bpks.iter().collect();
        let bsig = blst_pk::Signature::from_bytes(&agg.to_bytes()).unwrap();

        let mut g = c.benchmark_group(format!("bls/fast_aggregate_verify/{n}"));
        g.bench_function("crema", |b| {
            b.iter(|| assert!(bls::fast_aggregate_verify(&backend, black_box(&pks), MSG, &agg).unwrap()))
        });
        g.bench_function("blst", |b| {
            b.iter(|| {
                assert_eq!(
                    bsig.fast_aggregate_verify(false, MSG, DST_SIG, black_box(&bpk_refs)),
                    BLST_ERROR::BLST_SUCCESS
                )
            })
        });
        g.finish();
    }
}

fn batch_verify(c: &mut Criterion) {
    let backend = Cpu::new();
    let n = 128;
    let k = keys(n);
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("message {i}").into_bytes()).collect();
    let msg_refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let pks: Vec<_> = k.ours.iter().map(SecretKey::public_key).collect();
    let sigs: Vec<_> = k.ours.iter().zip(&msgs).map(|(sk, m)| sk.sign(m).unwrap()).collect();
    let bpks: Vec<_> = k.theirs.iter().map(|sk| sk.sk_to_pk()).collect();
    let bpk_refs: Vec<&blst_pk::PublicKey> = bpks.iter().collect();
    let bsigs: Vec<_> = sigs.iter().map(|s| blst_pk::Signature::from_bytes(&s.to_bytes()).unwrap()).collect();
    let bsig_refs: Vec<&blst_pk::Signature> = bsigs.iter().collect();
    let mut rng = ChaCha20Rng::seed_from_u64(7);

    let mut g = c.benchmark_group(format!("bls/batch_verify/{n}"));
    g.bench_function("crema", |b| {
        b.iter(|| assert!(bls::batch_verify(&backend, black_box(&pks), &msg_refs, &sigs).unwrap()))
    });
    g.bench_function("blst", |b| {
        b.iter(|| {
            assert_eq!(blst_batch(&mut rng, &msg_refs, &bpk_refs, &bsig_refs), BLST_ERROR::BLST_SUCCESS);
        })
    });
    g.finish();
}

fn certificate_verify(c: &mut Criterion) {
    let backend = Cpu::new();
    let n = 1000;
    let k = keys(n);
    let mut keys = KeyTable::new();
    for sk in &k.ours {
        keys.insert(sk.public_key(), &bls::pop_prove(sk).unwrap()).unwrap();
    }
    let stakes = StakeTable::new((0..n as u64).map(|i| 1 + i % 7).collect()).unwrap();
    let table = Committee::new(keys, stakes).unwrap();
    let mut builder = CertificateBuilder::new(&table, MSG);
    for (i, sk) in k.ours.iter().enumerate() {
        builder.add_vote(i, &sk.sign(MSG).unwrap()).unwrap();
    }
    let cert = builder.build(&backend).unwrap();
    let bpks: Vec<_> = k.theirs.iter().map(|sk| sk.sk_to_pk()).collect();
    let bpk_refs: Vec<&blst_pk::PublicKey> = bpks.iter().collect();
    let bsig = blst_pk::Signature::from_bytes(&cert.signature.to_bytes()).unwrap();

    let mut g = c.benchmark_group(format!("bls/certificate_verify/{n}"));
    g.bench_function("crema", |b| {
        b.iter(|| assert!(cert.verify(&table, black_box(MSG), Fraction::TWO_THIRDS, &backend).unwrap()))
    });
    // blst has no certificates: the same work is a FastAggregateVerify over all signers' keys.
    g.bench_function("blst", |b| {
        b.iter(|| {
            assert_eq!(bsig.fast_aggregate_verify(false, MSG, DST_SIG, black_box(&bpk_refs)), BLST_ERROR::BLST_SUCCESS)
        })
    });
    g.finish();
}

/// blst's random-coefficient batch check, with fresh 64-bit coefficients each call as on our side.
fn blst_batch(
    rng: &mut ChaCha20Rng,
    msgs: &[&[u8]],
    pks: &[&blst_pk::PublicKey],
    sigs: &[&blst_pk::Signature],
) -> BLST_ERROR {
    let rands: Vec<blst::blst_scalar> = (0..msgs.len())
        .map(|_| {
            let mut s = blst::blst_scalar::default();
            s.b[..8].copy_from_slice(&rng.r#gen::<u64>().to_le_bytes());
            s
        })
        .collect();
    blst_pk::Signature::verify_multiple_aggregate_signatures(msgs, DST_SIG, pks, false, sigs, false, &rands, 64)
}

fn find_invalid_votes(c: &mut Criterion) {
    let backend = Cpu::new();
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for n in [10usize, 100, 1000] {
        let k = keys(n);
        let bad = n / 2;
        let pks: Vec<_> = k.ours.iter().map(SecretKey::public_key).collect();
        let mut sigs: Vec<_> = k.ours.iter().map(|sk| sk.sign(MSG).unwrap()).collect();
        // The forger's signature is a real one on another message.
        sigs[bad] = k.ours[bad].sign(b"a different block").unwrap();
        let msgs: Vec<&[u8]> = vec![MSG; n];
        let bpks: Vec<_> = k.theirs.iter().map(|sk| sk.sk_to_pk()).collect();
        let bpk_refs: Vec<&blst_pk::PublicKey> = bpks.iter().collect();
        let bsigs: Vec<_> = sigs.iter().map(|s| blst_pk::Signature::from_bytes(&s.to_bytes()).unwrap()).collect();
        let bsig_refs: Vec<&blst_pk::Signature> = bsigs.iter().collect();

        let mut g = c.benchmark_group(format!("bls/find_invalid_votes/{n}"));
        g.sample_size(10);
        g.bench_function("crema", |b| {
            b.iter(|| assert_eq!(bls::batch_find_invalid(&backend, black_box(&pks), &msgs, &sigs).unwrap(), [bad]))
        });
        g.bench_function("blst", |b| {
            b.iter(|| {
                assert_ne!(blst_batch(&mut rng, &msgs, &bpk_refs, &bsig_refs), BLST_ERROR::BLST_SUCCESS);
                let invalid: Vec<usize> = (0..n)
                    .into_par_iter()
                    .filter(|&i| bsigs[i].verify(false, MSG, DST_SIG, &[], &bpks[i], false) != BLST_ERROR::BLST_SUCCESS)
                    .collect();
                assert_eq!(invalid, [bad]);
            })
        });
        g.finish();
    }
}

/// Criterion with the embedded font registered for its plots (see `chart::register_font`).
fn config() -> Criterion {
    crema_benches::chart::register_font().expect("the embedded font loads");
    Criterion::default()
}

criterion_group! { name = benches; config = config(); targets = sign_and_verify, fast_aggregate_verify, batch_verify, certificate_verify, find_invalid_votes }
criterion_main!(benches);

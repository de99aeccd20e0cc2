//! Behaviour tests of the BLS facade, negative cases first.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup, PrimeGroup};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::backend::Cpu;
use crate::backend::Reference;
use crate::field::{self, DecodeError, Fq, G1Affine, G2Affine};
use crate::stake::{Fraction, StakeTable};

fn keys(n: u8) -> Vec<SecretKey> {
    (0..n).map(|i| SecretKey::key_gen(&[i.wrapping_add(1); 32], b"crema test").unwrap()).collect()
}

fn key_table(sks: &[SecretKey]) -> KeyTable {
    let mut t = KeyTable::new();
    for sk in sks {
        t.insert(sk.public_key(), &pop_prove(sk).unwrap()).unwrap();
    }
    t
}

fn table(sks: &[SecretKey], stakes: &[u64]) -> Committee {
    Committee::new(key_table(sks), StakeTable::new(stakes.to_vec()).unwrap()).unwrap()
}

/// A point on the G1 curve outside the prime-order subgroup, found by trying x = 0, 1, 2, …
fn g1_outside_subgroup() -> G1Affine {
    (0u64..)
        .find_map(|x| {
            let p = G1Affine::get_point_from_x_unchecked(Fq::from(x), false)?;
            (!p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
        })
        .unwrap()
}

#[test]
fn sign_verify_and_tampering() {
    let sk = &keys(1)[0];
    let pk = sk.public_key();
    let sig = sk.sign(b"hello").unwrap();
    assert!(verify(&pk, b"hello", &sig).unwrap());
    assert!(!verify(&pk, b"hellp", &sig).unwrap(), "wrong message must not verify");
    let other = keys(2)[1].public_key();
    assert!(!verify(&other, b"hello", &sig).unwrap(), "wrong key must not verify");
    // Tamper: a different valid point (2·sig) decodes but does not verify.
    let doubled = Signature::from_bytes(&field::g2p_to_bytes(&(sig.point().into_group().double()))).unwrap();
    assert!(!verify(&pk, b"hello", &doubled).unwrap());
    // Tamper: flip a byte; either it no longer decodes, or it decodes and fails.
    let mut bytes = sig.to_bytes();
    bytes[95] ^= 1;
    if let Ok(s) = Signature::from_bytes(&bytes) {
        assert!(!verify(&pk, b"hello", &s).unwrap());
    }
    let inf = Signature::from_bytes(&field::g2_to_bytes(&G2Affine::identity())).unwrap();
    assert!(inf.is_infinity());
    assert!(!verify(&pk, b"hello", &inf).unwrap());
}

#[test]
fn infinity_and_non_subgroup_keys_are_rejected() {
    let inf = field::g1_to_bytes(&G1Affine::identity());
    assert_eq!(PublicKey::from_bytes(&inf), Err(BlsError::InfinityPublicKey));
    assert_eq!(PublicKey::from_point(G1Affine::identity()), Err(BlsError::InfinityPublicKey));
    let bad = g1_outside_subgroup();
    assert_eq!(
        PublicKey::from_bytes(&field::g1_to_bytes(&bad)),
        Err(BlsError::InvalidPublicKey(DecodeError::NotInSubgroup { group: "G1" }))
    );
    assert!(PublicKey::from_point(bad).is_err());
}

#[test]
fn non_subgroup_signature_is_rejected() {
    let bad = (0u64..)
        .find_map(|x| {
            let p = G2Affine::get_point_from_x_unchecked(field::Fq2::new(Fq::from(x), Fq::from(1u64)), false)?;
            (!p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
        })
        .unwrap();
    assert_eq!(
        Signature::from_bytes(&field::g2_to_bytes(&bad)),
        Err(BlsError::InvalidSignature(DecodeError::NotInSubgroup { group: "G2" }))
    );
}

#[test]
fn aggregates_agree_across_backends_and_verify() {
    let sks = keys(5);
    let pks: Vec<_> = sks.iter().map(SecretKey::public_key).collect();
    let sigs: Vec<_> = sks.iter().map(|sk| sk.sign(b"m").unwrap()).collect();
    let a = aggregate(&Cpu::new(), &sigs).unwrap();
    let b = aggregate(&Reference::new(), &sigs).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert!(fast_aggregate_verify(&Cpu::new(), &pks, b"m", &a).unwrap());
    assert!(!fast_aggregate_verify(&Cpu::new(), &pks[1..], b"m", &a).unwrap(), "missing key");
    assert!(!fast_aggregate_verify(&Cpu::new(), &pks, b"n", &a).unwrap(), "wrong message");
    assert!(!fast_aggregate_verify(&Cpu::new(), &[], b"m", &a).unwrap(), "no keys");
    assert_eq!(aggregate(&Cpu::new(), &[]), Err(BlsError::Empty { op: "aggregate" }));

    // AggregateVerify with a repeated message (allowed in the POP suite) and distinct ones.
    let msgs: [&[u8]; 5] = [b"a", b"b", b"a", b"c", b"b"];
    let sigs: Vec<_> = sks.iter().zip(msgs).map(|(sk, m)| sk.sign(m).unwrap()).collect();
    let agg = aggregate(&Cpu::new(), &sigs).unwrap();
    assert!(aggregate_verify(&Cpu::new(), &pks, &msgs, &agg).unwrap());
    let swapped: [&[u8]; 5] = [b"b", b"a", b"a", b"c", b"b"];
    assert!(!aggregate_verify(&Cpu::new(), &pks, &swapped, &agg).unwrap());
    assert!(matches!(aggregate_verify(&Cpu::new(), &pks, &msgs[..4], &agg), Err(BlsError::LengthMismatch { .. })));
}

#[test]
fn batch_verify_catches_one_bad_triple() {
    let sks = keys(6);
    let pks: Vec<_> = sks.iter().map(SecretKey::public_key).collect();
    let msgs: Vec<&[u8]> = vec![b"x", b"y", b"x", b"z", b"w", b"x"];
    let mut sigs: Vec<_> = sks.iter().zip(&msgs).map(|(sk, m)| sk.sign(m).unwrap()).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    assert!(batch_verify_with_rng(&Cpu::new(), &pks, &msgs, &sigs, &mut rng).unwrap());
    assert!(batch_verify(&Cpu::new(), &pks, &msgs, &sigs).unwrap());
    // Two signatures swapped: their sum is unchanged, so only random coefficients catch it.
    sigs.swap(0, 1);
    assert!(!batch_verify_with_rng(&Cpu::new(), &pks, &msgs, &sigs, &mut rng).unwrap());
    assert!(!batch_verify(&Cpu::new(), &[], &[], &[]).unwrap());
}

#[test]
fn proof_of_possession() {
    let sks = keys(2);
    let pop = pop_prove(&sks[0]).unwrap();
    assert!(pop_verify(&sks[0].public_key(), &pop).unwrap());
    assert!(!pop_verify(&sks[1].public_key(), &pop).unwrap(), "PoP of another key");
    // A plain signature on the key bytes uses the wrong DST and must not pass as a PoP.
    let sig = sks[0].sign(&sks[0].public_key().to_bytes()).unwrap();
    assert!(!pop_verify(&sks[0].public_key(), &sig).unwrap());
}

#[test]
fn key_table_rejects_bad_pop_and_duplicates() {
    let sks = keys(3);
    let mut t = key_table(&sks[..2]);
    let pk0 = sks[0].public_key();
    assert_eq!(t.insert(pk0, &pop_prove(&sks[0]).unwrap()), Err(BlsError::DuplicateKey { index: 2, first: 0 }));
    let pk2 = sks[2].public_key();
    assert_eq!(t.insert(pk2, &pop_prove(&sks[0]).unwrap()), Err(BlsError::BadProofOfPossession { index: 2 }));
    let shared = t.clone();
    assert_eq!(t.insert(pk2, &pop_prove(&sks[2]).unwrap()), Ok(2));
    assert_eq!((t.index_of(&pk2), shared.index_of(&pk2)), (Some(2), None), "clones do not share later inserts");
    let stakes = StakeTable::new(vec![1, 2]).unwrap();
    assert_eq!(Committee::new(t, stakes).unwrap_err(), BlsError::CommitteeMismatch { keys: 3, stakes: 2 });
}

#[test]
fn certificates_need_stake_above_threshold_and_a_valid_aggregate() {
    let sks = keys(4);
    let t = table(&sks, &[10, 20, 30, 40]);
    let msg = b"view 12 block abc";
    let backend = Cpu::new();
    let mut builder = CertificateBuilder::new(&t, msg);
    builder.add_vote(3, &sks[3].sign(msg).unwrap()).unwrap();
    builder.add_vote(2, &sks[2].sign(msg).unwrap()).unwrap();
    assert_eq!(builder.add_vote(2, &sks[2].sign(msg).unwrap()), Err(BlsError::DuplicateVote { index: 2 }));
    assert_eq!(builder.add_vote(1, &sks[0].sign(msg).unwrap()), Err(BlsError::InvalidVote { index: 1 }));
    assert!(matches!(builder.add_vote(9, &sks[0].sign(msg).unwrap()), Err(BlsError::SignerOutOfRange { .. })));
    // 70 of 100: above 2/3 exactly? 70·3 = 210 > 200, yes.
    assert!(builder.reached(Fraction::TWO_THIRDS));
    let cert = builder.build(&backend).unwrap();
    assert_eq!(cert.signed_stake(&t).unwrap(), 70);
    assert!(cert.verify(&t, msg, Fraction::TWO_THIRDS, &backend).unwrap());
    assert!(!cert.verify(&t, b"other", Fraction::TWO_THIRDS, &backend).unwrap(), "wrong message");
    assert!(!cert.verify(&t, msg, Fraction::new(7, 10).unwrap(), &backend).unwrap(), "70 is not > 70");
    let decoded = Certificate::from_bytes(&cert.to_bytes()).unwrap();
    assert_eq!(decoded, cert);

    // Under threshold: a valid aggregate of 30 + 20 stake is still not a 2/3 certificate.
    let mut small = CertificateBuilder::new(&t, msg);
    small.add_vote(2, &sks[2].sign(msg).unwrap()).unwrap();
    small.add_vote(1, &sks[1].sign(msg).unwrap()).unwrap();
    let small = small.build(&backend).unwrap();
    assert!(!small.verify(&t, msg, Fraction::TWO_THIRDS, &backend).unwrap());
    assert!(small.verify(&t, msg, Fraction::ONE_THIRD, &backend).unwrap());

    // Claiming a signer who did not sign breaks the aggregate.
    let mut lying = cert.clone();
    lying.signers.set(0).unwrap();
    assert!(!lying.verify(&t, msg, Fraction::TWO_THIRDS, &backend).unwrap());

    // A bitmap sized for another table is an error, not a silent false.
    let wrong = Certificate { signers: SignerBitmap::new(5), signature: cert.signature };
    assert!(matches!(wrong.verify(&t, msg, Fraction::TWO_THIRDS, &backend), Err(BlsError::BadBitmap { .. })));
}

#[test]
fn sk_to_pk_matches_generator_multiple() {
    let mut one = [0u8; 32];
    one[31] = 1;
    let pk = SecretKey::from_bytes(&one).unwrap().public_key();
    assert_eq!(*pk.point(), crate::field::G1Projective::generator().into_affine());
}

#[test]
fn cancelling_keys_do_not_accept_the_infinity_signature() {
    let sk = &keys(1)[0];
    let neg = SecretKey::from_bytes(&field::fr_to_bytes(&-*sk.scalar())).unwrap();
    let pks = [sk.public_key(), neg.public_key()];
    let inf = Signature::from_bytes(&field::g2_to_bytes(&G2Affine::identity())).unwrap();
    assert!(!fast_aggregate_verify(&Cpu::new(), &pks, b"anything", &inf).unwrap());
    // Both did sign: the honest aggregate of their signatures is infinity too, and is refused.
    let agg = aggregate(&Cpu::new(), &[sk.sign(b"m").unwrap(), neg.sign(b"m").unwrap()]).unwrap();
    assert!(agg.is_infinity());
}

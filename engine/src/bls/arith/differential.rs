//! Differential tests: blst against arkworks, byte for byte, on seeded random inputs — every
//! primitive of [`Arith`], then the algorithms above it on both arithmetics (Sign, Verify,
//! PopProve/PopVerify, hash to G2, FastAggregateVerify, AggregateVerify, batch verification
//! and bisection). The edge cases are the ones a conversion bug would hit: infinity on either
//! side, the empty message, DSTs past 255 bytes, scalars at 1 and r − 1, a 64-bit all-ones
//! coefficient.

use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{Field, UniformRand};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Arith, Ark, Blst, miller_product};
use crate::backend::BlsArithmetic::{Arkworks, Blst as BlstChoice};
use crate::backend::{Cpu, Reference};
use crate::bls::{
    self, DST_POP, DST_SIG, PublicKey, SecretKey, Signature, batch_find_invalid_with_rng, batch_verify_with_rng,
    core_sign, core_verify, hash_to_g2_on,
};
use crate::field::{
    DecodeError, Fr, G1Affine, G1Projective, G2_BYTES, G2Affine, G2Projective, g1_to_bytes, g2_to_bytes,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn bytes(r: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    r.fill_bytes(&mut v);
    v
}

fn random_g1(r: &mut ChaCha8Rng) -> G1Affine {
    G1Projective::rand(r).into_affine()
}

fn random_g2(r: &mut ChaCha8Rng) -> G2Affine {
    G2Projective::rand(r).into_affine()
}

fn keys(r: &mut ChaCha8Rng, n: usize) -> Vec<SecretKey> {
    (0..n).map(|_| SecretKey::key_gen(&bytes(r, 32), b"differential").unwrap()).collect()
}

#[test]
fn point_conversions_round_trip() {
    let mut r = rng(1);
    for p in [G1Affine::identity(), G1Affine::generator(), random_g1(&mut r), -random_g1(&mut r)] {
        assert_eq!(Blst::g1_out(&Blst::g1(&p)), p);
    }
    for p in [G2Affine::identity(), G2Affine::generator(), random_g2(&mut r), -random_g2(&mut r)] {
        assert_eq!(Blst::g2_out(&Blst::g2(&p)), p);
    }
    assert_eq!(Blst::g1_out(&Blst::neg_g1_generator()), Ark::neg_g1_generator());
}

#[test]
fn hash_to_g2_agrees() {
    let mut r = rng(2);
    let long_dst = bytes(&mut r, 300); // past 255 bytes: RFC 9380's H2C-OVERSIZE-DST- rule
    for len in [0usize, 1, 31, 32, 33, 64, 135, 136, 137, 1000] {
        let msg = bytes(&mut r, len);
        for dst in [DST_SIG, DST_POP, &long_dst[..], b"x"] {
            let (a, b) = (Ark::hash_to_g2(&msg, dst).unwrap(), Blst::hash_to_g2(&msg, dst).unwrap());
            assert_eq!(g2_to_bytes(&a), g2_to_bytes(&Blst::g2_out(&b)), "message of {len} bytes, DST of {}", dst.len());
            assert_eq!(hash_to_g2_on(Arkworks, &msg, dst), hash_to_g2_on(BlstChoice, &msg, dst));
        }
    }
}

#[test]
fn scalar_multiplications_agree() {
    let mut r = rng(3);
    let p = random_g2(&mut r);
    for k in [Fr::ONE, -Fr::ONE, Fr::from(2u64), Fr::rand(&mut r), Fr::rand(&mut r)] {
        assert_eq!(Blst::g2_out(&Blst::mul_g2_secret(&Blst::g2(&p), &k)), Ark::mul_g2_secret(&p, &k));
    }
    assert!(Blst::g2_out(&Blst::mul_g2_secret(&Blst::g2(&G2Affine::identity()), &Fr::ONE)).is_zero());

    for n in [1usize, 2, 3, 31, 32, 33, 100] {
        let mut g1: Vec<G1Affine> = (0..n).map(|_| random_g1(&mut r)).collect();
        let mut g2: Vec<G2Affine> = (0..n).map(|_| random_g2(&mut r)).collect();
        let mut scalars: Vec<u64> = (0..n).map(|_| r.r#gen()).collect();
        scalars[0] = u64::MAX;
        if n >= 3 {
            (g1[1], g2[1]) = (G1Affine::identity(), G2Affine::identity());
            (g1[2], g2[2], scalars[2]) = (-g1[0], -g2[0], u64::MAX); // cancels term 0
        }
        let b1: Vec<_> = g1.iter().map(Blst::g1).collect();
        let b2: Vec<_> = g2.iter().map(Blst::g2).collect();
        assert_eq!(
            g1_to_bytes(&Blst::g1_out(&Blst::msm_g1_u64(&b1, &scalars))),
            g1_to_bytes(&Ark::msm_g1_u64(&g1, &scalars)),
            "G1 MSM of {n}"
        );
        assert_eq!(
            g2_to_bytes(&Blst::g2_out(&Blst::msm_g2_u64(&b2, &scalars))),
            g2_to_bytes(&Ark::msm_g2_u64(&g2, &scalars)),
            "G2 MSM of {n}"
        );
    }
    assert!(Blst::g2_out(&Blst::msm_g2_u64(&[], &[])).is_zero());
}

#[test]
fn pairings_agree_in_gt() {
    let mut r = rng(4);
    for n in [1usize, 2, 3, 8, 17, 40] {
        let mut g1: Vec<G1Affine> = (0..n).map(|_| random_g1(&mut r)).collect();
        let g2: Vec<G2Affine> = (0..n).map(|_| random_g2(&mut r)).collect();
        if n >= 2 {
            g1[1] = G1Affine::identity(); // pairs to one
        }
        let ark = Ark::final_exp(&miller_product::<Ark>(&g1, &g2));
        let b1: Vec<_> = g1.iter().map(Blst::g1).collect();
        let b2: Vec<_> = g2.iter().map(Blst::g2).collect();
        let blst = Blst::final_exp(&miller_product::<Blst>(&b1, &b2));
        assert_eq!(Ark::gt_bytes(&ark), Blst::gt_bytes(&blst), "{n} pairs");
        assert!(!Ark::gt_is_one(&ark) && !Blst::gt_is_one(&blst));
        // a / a = 1, and a / one = a.
        assert!(Blst::gt_is_one(&Blst::gt_div(&blst, &blst)) && Ark::gt_is_one(&Ark::gt_div(&ark, &ark)));
        let one = Blst::final_exp(&Blst::ml_one());
        assert!(Blst::gt_is_one(&one));
        assert_eq!(Blst::gt_bytes(&Blst::gt_div(&blst, &one)), Ark::gt_bytes(&ark));
    }
    // Bilinearity, the same on both: e(2P, Q) · e(−P, 2Q) = 1.
    let (p, q) = (random_g1(&mut r), random_g2(&mut r));
    let (p2, q2) = ((p.into_group().double()).into_affine(), (q.into_group().double()).into_affine());
    assert!(Ark::gt_is_one(&Ark::final_exp(&Ark::miller_loop(&[p2, -p], &[q, q2]))));
    let f = Blst::miller_loop(&[Blst::g1(&p2), Blst::g1(&-p)], &[Blst::g2(&q), Blst::g2(&q2)]);
    assert!(Blst::gt_is_one(&Blst::final_exp(&f)));
    // Only infinity: the empty product.
    assert!(Blst::gt_is_one(&Blst::final_exp(&Blst::miller_loop(&[Blst::g1(&G1Affine::identity())], &[Blst::g2(&q)]))));
}

/// Key, message, signature, DST and the expected verdict.
type VerifyCase<'a> = (&'a PublicKey, &'a [u8], &'a Signature, &'a [u8], bool);

#[test]
fn sign_and_verify_agree() {
    let mut r = rng(5);
    let sks = keys(&mut r, 6);
    let mut one = [0u8; 32];
    one[31] = 1;
    let edge =
        [SecretKey::from_bytes(&one).unwrap(), SecretKey::from_bytes(&crate::field::fr_to_bytes(&-Fr::ONE)).unwrap()];
    for (i, sk) in sks.iter().chain(&edge).enumerate() {
        let msg = bytes(&mut r, i * 17);
        let (a, b) =
            (core_sign(Arkworks, sk, &msg, DST_SIG).unwrap(), core_sign(BlstChoice, sk, &msg, DST_SIG).unwrap());
        assert_eq!(a.to_bytes(), b.to_bytes(), "signature {i}");
        assert_eq!(bls::pop_prove(sk).unwrap(), core_sign(Arkworks, sk, &sk.public_key().to_bytes(), DST_POP).unwrap());

        let pk = sk.public_key();
        let other = sks[(i + 1) % sks.len()].public_key();
        let doubled = Signature::from_bytes(&g2_to_bytes(&a.point().into_group().double().into_affine())).unwrap();
        let inf = Signature::from_bytes(&g2_to_bytes(&G2Affine::identity())).unwrap();
        let cases: [VerifyCase<'_>; 6] = [
            (&pk, &msg, &a, DST_SIG, true),
            (&pk, b"another message", &a, DST_SIG, false),
            (&other, &msg, &a, DST_SIG, false),
            (&pk, &msg, &doubled, DST_SIG, false),
            (&pk, &msg, &inf, DST_SIG, false),
            (&pk, &msg, &a, DST_POP, false),
        ];
        for (case, (pk, msg, sig, dst, want)) in cases.into_iter().enumerate() {
            assert_eq!(core_verify(Arkworks, pk, msg, sig, dst), Ok(want), "key {i} case {case} on arkworks");
            assert_eq!(core_verify(BlstChoice, pk, msg, sig, dst), Ok(want), "key {i} case {case} on blst");
        }
    }
}

/// Triples on `distinct` messages (round robin), all valid.
fn triples(r: &mut ChaCha8Rng, n: usize, distinct: usize) -> (Vec<PublicKey>, Vec<Vec<u8>>, Vec<Signature>) {
    let sks = keys(r, n);
    let msgs: Vec<Vec<u8>> = (0..n).map(|i| format!("message {}", i % distinct).into_bytes()).collect();
    let sigs = sks.iter().zip(&msgs).map(|(sk, m)| sk.sign(m).unwrap()).collect();
    (sks.iter().map(SecretKey::public_key).collect(), msgs, sigs)
}

#[test]
fn aggregate_verification_agrees() {
    let mut r = rng(6);
    let (cpu, reference) = (Cpu::new(), Reference::new());
    for (n, distinct) in [(1, 1), (5, 1), (7, 3), (12, 12)] {
        let (pks, msgs, sigs) = triples(&mut r, n, distinct);
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let agg = bls::aggregate(&cpu, &sigs).unwrap();
        assert_eq!(agg, bls::aggregate(&reference, &sigs).unwrap());
        for backend in [&cpu as &dyn crate::Backend, &reference] {
            assert_eq!(bls::aggregate_verify(backend, &pks, &refs, &agg), Ok(true), "{n}/{distinct}");
            if n > 1 {
                let missing_one = bls::aggregate(backend, &sigs[..n - 1]).unwrap();
                assert_eq!(bls::aggregate_verify(backend, &pks, &refs, &missing_one), Ok(false), "{n}/{distinct}");
            }
            if distinct == 1 {
                assert_eq!(bls::fast_aggregate_verify(backend, &pks, refs[0], &agg), Ok(true));
                assert_eq!(bls::fast_aggregate_verify(backend, &pks, b"not it", &agg), Ok(false));
                assert_eq!(bls::fast_aggregate_verify(backend, &pks[1..], refs[0], &agg), Ok(false));
            }
        }
    }
}

#[test]
fn batch_verification_and_bisection_agree() {
    let mut r = rng(7);
    let (cpu, reference) = (Cpu::new(), Reference::new());
    for (n, distinct) in [(1, 1), (2, 1), (9, 1), (9, 9), (16, 4), (33, 5)] {
        let (pks, msgs, mut sigs) = triples(&mut r, n, distinct);
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        // Forge a random subset (at least one) by swapping in another triple's signature.
        let bad: Vec<usize> = (0..n).filter(|&i| i == n / 2 || r.gen_bool(0.2)).collect();
        let good = sigs.clone();
        for &i in &bad {
            sigs[i] = if n > 1 {
                good[(i + 1) % n]
            } else {
                Signature::from_bytes(&g2_to_bytes(&G2Affine::identity())).unwrap()
            };
        }
        // A swapped-in signature is another key's, so it never verifies in its new place.
        for backend in [&cpu as &dyn crate::Backend, &reference] {
            let seed = r.r#gen();
            assert_eq!(batch_verify_with_rng(backend, &pks, &refs, &good, &mut rng(seed)), Ok(true));
            assert_eq!(batch_find_invalid_with_rng(backend, &pks, &refs, &good, &mut rng(seed)), Ok(vec![]));
            assert_eq!(batch_verify_with_rng(backend, &pks, &refs, &sigs, &mut rng(seed)), Ok(false));
            assert_eq!(
                batch_find_invalid_with_rng(backend, &pks, &refs, &sigs, &mut rng(seed)),
                Ok(bad.clone()),
                "{n}/{distinct} on {}",
                backend.name()
            );
        }
    }
}

/// The G2 decoding through arkworks that `field::g2_from_bytes` used before blst: the oracle.
fn ark_g2_from_bytes(bytes: &[u8]) -> Result<G2Affine, DecodeError> {
    let p = G2Affine::deserialize_with_mode(bytes, Compress::Yes, Validate::No)
        .map_err(|_| DecodeError::InvalidPoint { group: "G2" })?;
    if g2_to_bytes(&p) != bytes {
        return Err(DecodeError::InvalidPoint { group: "G2" });
    }
    if !p.is_zero() && !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(DecodeError::NotInSubgroup { group: "G2" });
    }
    Ok(p)
}

#[test]
fn g2_decoding_through_blst_gives_arkworks_answers() {
    let mut r = rng(11);
    let mut inputs: Vec<Vec<u8>> = vec![g2_to_bytes(&G2Affine::identity()).to_vec()];
    let mut in_subgroup = 0;
    let mut off_subgroup = 0;
    for _ in 0..64 {
        // Points of the subgroup, and each with its sort flag flipped (the other root: the point's negation).
        let p = g2_to_bytes(&random_g2(&mut r));
        let mut flipped = p;
        flipped[0] ^= 0x20;
        inputs.extend([p.to_vec(), flipped.to_vec()]);
        // On the curve but (almost surely) outside the subgroup: a random x with a root.
        let x = crate::field::Fq2::rand(&mut r);
        if let Some(q) = G2Affine::get_point_from_x_unchecked(x, r.r#gen()) {
            let mut enc = Vec::new();
            q.serialize_with_mode(&mut enc, Compress::Yes).unwrap();
            inputs.push(enc);
        }
        // Random x with the compression flag: mostly off the curve, some at or above p.
        let mut junk = bytes(&mut r, G2_BYTES);
        junk[0] = 0x80 | (junk[0] & 0x3f);
        inputs.push(junk);
    }
    // Broken flags: uncompressed, infinity with a payload, infinity with the sort flag, x = p - ... above p.
    let g = g2_to_bytes(&random_g2(&mut r));
    let mut no_compress = g;
    no_compress[0] &= 0x7f;
    let mut inf_junk = g2_to_bytes(&G2Affine::identity());
    inf_junk[G2_BYTES - 1] = 1;
    let mut inf_sorted = g2_to_bytes(&G2Affine::identity());
    inf_sorted[0] |= 0x20;
    let mut above_p = [0xffu8; G2_BYTES];
    above_p[0] = 0x9f;
    inputs.extend([no_compress.to_vec(), inf_junk.to_vec(), inf_sorted.to_vec(), above_p.to_vec()]);

    for input in &inputs {
        let (ours, theirs) = (crate::field::g2_from_bytes(input), ark_g2_from_bytes(input));
        assert_eq!(ours, theirs, "input {}", hex::encode(input));
        match theirs {
            Ok(_) => in_subgroup += 1,
            Err(DecodeError::NotInSubgroup { .. }) => off_subgroup += 1,
            Err(_) => {}
        }
    }
    // The cases the comparison is about were all reached.
    assert!(in_subgroup >= 129 && off_subgroup >= 20, "{in_subgroup} in, {off_subgroup} off the subgroup");
}

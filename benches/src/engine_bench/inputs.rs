//! Seeded benchmark inputs: bytes, shards, scalars, curve points, blobs, BLS certificates.
//!
//! Every input is a pure function of its seed, so two runs (and two machines) time the same
//! work. Points come from a random walk (`acc += one of 64 random steps`, normalised in
//! batches) rather than one random scalar multiplication each: a million G2 points would
//! otherwise take minutes to make, and an MSM or a sum does not care how its inputs arose.

use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use crema_engine::backend::Cpu;
use crema_engine::bls::{self, Certificate, CertificateBuilder, Committee, KeyTable, SecretKey};
use crema_engine::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crema_engine::kzg::{BYTES_PER_BLOB, Blob};
use crema_engine::stake::StakeTable;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic RNG for `seed`.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `len` random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng(seed).fill_bytes(&mut v);
    v
}

/// `count` random shards of `len` bytes each.
pub fn shards(seed: u64, count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut r = rng(seed);
    (0..count)
        .map(|_| {
            let mut v = vec![0u8; len];
            r.fill_bytes(&mut v);
            v
        })
        .collect()
}

/// `n` uniformly random scalars.
pub fn scalars(seed: u64, n: usize) -> Vec<Fr> {
    let mut r = rng(seed);
    (0..n).map(|_| Fr::rand(&mut r)).collect()
}

/// Points per batch normalisation: bounds the projective scratch to a few MiB.
const WALK_CHUNK: usize = 1 << 14;

/// `n` distinct-looking points of a curve group by a seeded random walk.
fn walk<P: CurveGroup>(seed: u64, n: usize) -> Vec<P::Affine> {
    let mut r = rng(seed);
    let steps = P::normalize_batch(&(0..64).map(|_| P::rand(&mut r)).collect::<Vec<_>>());
    let mut acc = P::rand(&mut r);
    let mut out = Vec::with_capacity(n);
    let mut chunk = Vec::with_capacity(WALK_CHUNK.min(n));
    for _ in 0..n {
        acc += steps[r.gen_range(0..steps.len())];
        chunk.push(acc);
        if chunk.len() == WALK_CHUNK {
            out.extend(P::normalize_batch(&chunk));
            chunk.clear();
        }
    }
    out.extend(P::normalize_batch(&chunk));
    out
}

/// `n` G1 points.
pub fn g1_points(seed: u64, n: usize) -> Vec<G1Affine> {
    walk::<G1Projective>(seed, n)
}

/// `n` G2 points.
pub fn g2_points(seed: u64, n: usize) -> Vec<G2Affine> {
    walk::<G2Projective>(seed, n)
}

/// A random blob whose every field element is canonical (top two bits cleared, so < r).
pub fn blob(seed: u64) -> Box<Blob> {
    let mut b = vec![0u8; BYTES_PER_BLOB];
    rng(seed).fill_bytes(&mut b);
    for element in b.chunks_mut(32) {
        element[0] &= 0x3f;
    }
    b.into_boxed_slice().try_into().expect("BYTES_PER_BLOB bytes")
}

/// The message every benchmark certificate signs.
pub const CERT_MSG: &[u8] = b"crema bench: view 42, block 0x0123456789abcdef";

/// A committee of `signers` keys (stakes 1..=7) and a certificate that all of them signed.
pub fn certificate(seed: u64, signers: usize) -> anyhow::Result<(Committee, Certificate)> {
    let mut r = rng(seed);
    let keys = (0..signers).map(|_| SecretKey::key_gen(&r.r#gen::<[u8; 32]>(), b"")).collect::<Result<Vec<_>, _>>()?;
    let mut table = KeyTable::new();
    for sk in &keys {
        table.insert(sk.public_key(), &bls::pop_prove(sk)?)?;
    }
    let table = Committee::new(table, StakeTable::new((0..signers as u64).map(|i| 1 + i % 7).collect())?)?;
    let mut builder = CertificateBuilder::new(&table, CERT_MSG);
    for (i, sk) in keys.iter().enumerate() {
        builder.add_vote(i, &sk.sign(CERT_MSG)?)?;
    }
    // Built on the CPU: the input is shared by every backend under test.
    let cert = builder.build(&Cpu::new())?;
    Ok((table, cert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_deterministic_and_distinct() {
        assert_eq!(bytes(1, 64), bytes(1, 64));
        assert_ne!(bytes(1, 64), bytes(2, 64));
        let pts = g1_points(3, 100);
        assert_eq!(pts, g1_points(3, 100));
        let mut dedup = pts.clone();
        dedup.sort_by_key(crema_engine::field::g1_to_bytes);
        dedup.dedup();
        assert_eq!(dedup.len(), 100, "a random walk must not repeat points");
        assert_eq!(g2_points(4, 3).len(), 3);
    }

    #[test]
    fn blob_elements_are_canonical() {
        let b = blob(5);
        assert!(b.chunks(32).all(|e| crema_engine::field::fr_from_bytes(e).is_ok()));
    }
}

//! The gpu backend against the reference, byte for byte (BLAKE3 here; the GF(2^16) kernels in
//! gpu_gf16.rs, the BLS12-381 algebra in gpu_algebra.rs), and a check that no op is left
//! refusing as "not ported".
//!
//! Without an adapter these tests print a loud skip; with `CREMA_REQUIRE_GPU=1` they fail.

use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use crema_engine::backend::conformance;
use crema_engine::backend::{Cpu, Gf16Received, Gpu};
use crema_engine::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crema_engine::{Backend, Direction, G1Bases};

fn gpu() -> Option<Gpu> {
    match Gpu::new() {
        Ok(g) => {
            eprintln!("GPU adapter: {} ({}, {})", g.adapter().name, g.adapter().backend, g.adapter().device_type);
            Some(g)
        }
        Err(e) => {
            crema_kernels::skip_gpu_test(e);
            None
        }
    }
}

#[test]
fn merkle_leaves_match_the_reference() {
    let Some(g) = gpu() else { return };
    conformance::check_merkle_leaves(&g);
    // Batches around the 64-wide workgroup grid.
    for n in conformance::SIZES {
        let chunks: Vec<Vec<u8>> = (0..n).map(|i| vec![(i % 251) as u8; 32 + i % 100]).collect();
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let want: Vec<[u8; 32]> = chunks.iter().map(|c| *blake3::hash(c).as_bytes()).collect();
        assert_eq!(g.merkle_leaves(&refs).unwrap(), want, "batch of {n}");
    }
}

/// Every op, on real (non-empty) work: it must dispatch kernels on the device (an op that
/// returned early, or ran on the host, dispatches nothing) and agree with the cpu backend.
#[test]
fn every_op_runs_on_the_device() {
    let Some(g) = gpu() else { return };
    let cpu = Cpu::new();
    let mut r = conformance::rng(7);
    let on_device = |op: &str, run: &mut dyn FnMut()| {
        let before = g.dispatches();
        run();
        assert!(g.dispatches() > before, "{op} dispatched no kernel");
    };

    let data: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i.wrapping_mul(37).wrapping_add(1); 64]).collect();
    let shards: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let mut recovery = Vec::new();
    on_device("gf16_encode", &mut || recovery = g.gf16_encode(&shards, 2).expect("encode"));
    assert_eq!(recovery, cpu.gf16_encode(&shards, 2).unwrap());
    let received = Gf16Received::new(
        4,
        2,
        vec![(1, shards[1]), (3, shards[3])],
        vec![(0, &recovery[0][..]), (1, &recovery[1][..])],
    );
    let mut restored = Vec::new();
    on_device("gf16_decode", &mut || restored = g.gf16_decode(&received).expect("decode"));
    assert_eq!(restored, vec![(0, data[0].clone()), (2, data[2].clone())]);

    let values: Vec<Fr> = (0..16).map(|_| Fr::rand(&mut r)).collect();
    let (mut ours, mut theirs) = (values.clone(), values.clone());
    on_device("ntt", &mut || g.ntt(&mut ours, 16, Direction::Forward, None).expect("ntt"));
    cpu.ntt(&mut theirs, 16, Direction::Forward, None).unwrap();
    assert_eq!(ours, theirs);

    let points: Vec<G1Affine> = (0..16).map(|_| G1Projective::rand(&mut r).into_affine()).collect();
    let bases = G1Bases::new(points.clone());
    let mut msm = Vec::new();
    on_device("msm_g1", &mut || msm = g.msm_g1(&bases, &[&values]).expect("msm"));
    assert_eq!(msm, cpu.msm_g1(&bases, &[&values]).unwrap());
    let mut sum = Vec::new();
    on_device("sum_g1", &mut || sum = g.sum_g1(&[&points]).expect("sum_g1"));
    assert_eq!(sum, cpu.sum_g1(&[&points]).unwrap());
    let points2: Vec<G2Affine> = (0..4).map(|_| G2Projective::rand(&mut r).into_affine()).collect();
    let mut sum2 = Vec::new();
    on_device("sum_g2", &mut || sum2 = g.sum_g2(&[&points2]).expect("sum_g2"));
    assert_eq!(sum2, cpu.sum_g2(&[&points2]).unwrap());
    let mut leaves = Vec::new();
    on_device("merkle_leaves", &mut || leaves = g.merkle_leaves(&shards).expect("merkle"));
    assert_eq!(leaves, cpu.merkle_leaves(&shards).unwrap());
}

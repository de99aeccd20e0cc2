//! The gpu backend against the reference, byte for byte (BLAKE3 here; the GF(2^16) kernels in
//! gpu_gf16.rs, the BLS12-381 algebra in gpu_algebra.rs), and a check that no op is left
//! refusing as "not ported".
//!
//! Without an adapter these tests print a loud skip; with `CREMA_REQUIRE_GPU=1` they fail.

use crema_engine::backend::{Gf16Received, Gpu, conformance};
use crema_engine::{Backend, BackendError, Direction, G1Bases};

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

#[test]
fn every_op_runs_on_the_device() {
    let Some(g) = gpu() else { return };
    let unavailable = |r: Result<(), BackendError>| matches!(r, Err(BackendError::Unavailable { .. }));
    assert!(!unavailable(g.gf16_encode(&[&[0u8; 64][..]], 1).map(drop)));
    let shard = g.gf16_encode(&[&[7u8; 64][..]], 1).expect("encode");
    let received = Gf16Received::new(1, 1, vec![], vec![(0, shard[0].as_slice())]);
    assert!(!unavailable(g.gf16_decode(&received).map(drop)));
    assert!(!unavailable(g.ntt(&mut [], 1, Direction::Forward, None)));
    assert!(!unavailable(g.msm_g1(&G1Bases::new(vec![]), &[]).map(drop)));
    assert!(!unavailable(g.sum_g1(&[]).map(drop)));
    assert!(!unavailable(g.sum_g2(&[]).map(drop)));
    assert!(!unavailable(g.merkle_leaves(&[]).map(drop)));
}

//! The gpu backend's Leopard GF(2^16) kernels against reed-solomon-simd and the reference,
//! byte for byte: counts around workgroup and chunk edges, shard sizes around the 64-byte
//! block, random losses up to the maximum, the extreme counts, forced column chunking, and
//! bad inputs (typed errors, never panics).
//!
//! Without an adapter these tests print a loud skip; with `CREMA_REQUIRE_GPU=1` they fail.

use crema_engine::backend::gpu::{gf16_decode_layout, gf16_tables};
use crema_engine::backend::{Gf16Received, Gpu, conformance};
use crema_engine::gf16::{plan_decode, use_high_rate};
use crema_engine::{Backend, BackendError};
use crema_kernels::{Gf16Rate, GpuError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gpu() -> Option<Gpu> {
    match Gpu::new() {
        Ok(g) => Some(g),
        Err(e) => {
            crema_kernels::skip_gpu_test(e);
            None
        }
    }
}

fn random_shards(r: &mut ChaCha8Rng, k: usize, len: usize) -> Vec<Vec<u8>> {
    (0..k).map(|_| (0..len).map(|_| r.r#gen()).collect()).collect()
}

/// Keeps a random `k` of the `k + m` shards (the most the code can lose), or all but `lose`.
fn survivors<'a>(
    r: &mut ChaCha8Rng,
    original: &'a [Vec<u8>],
    recovery: &'a [Vec<u8>],
    lose: usize,
) -> Gf16Received<'a> {
    let (k, m) = (original.len(), recovery.len());
    let mut positions: Vec<usize> = (0..k + m).collect();
    positions.shuffle(r);
    positions.truncate(k + m - lose.min(m));
    positions.sort_unstable();
    let shard = |p: usize| if p < k { original[p].as_slice() } else { recovery[p - k].as_slice() };
    Gf16Received::from_codeword(k, m, positions.into_iter().map(|p| (p, shard(p))))
}

/// Encode on the GPU against reed-solomon-simd; then decode on the GPU after losing `lose`
/// random shards, against reed-solomon-simd's decode and the truth.
fn check(g: &Gpu, r: &mut ChaCha8Rng, k: usize, m: usize, len: usize, lose: usize) {
    let original = random_shards(r, k, len);
    let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
    let want = reed_solomon_simd::encode(k, m, &refs).expect("reed-solomon-simd encode");
    let got = g.gf16_encode(&refs, m).expect("gpu encode");
    assert!(got == want, "gpu encode {k}:{m} x {len} differs from reed-solomon-simd");

    let kept = survivors(r, &original, &want, lose);
    let theirs: Vec<(usize, Vec<u8>)> =
        reed_solomon_simd::decode(k, m, kept.original.iter().copied(), kept.recovery.iter().copied())
            .expect("rs decode")
            .into_iter()
            .collect();
    let ours = g.gf16_decode(&kept).expect("gpu decode");
    assert!(ours == theirs, "gpu decode {k}:{m} x {len} (lost {lose}) differs from reed-solomon-simd");
    for (i, shard) in &ours {
        assert!(shard == &original[*i], "gpu decode {k}:{m} x {len} restored original {i} wrongly");
    }
}

#[test]
fn gf16_passes_the_conformance_suite() {
    let Some(g) = gpu() else { return };
    conformance::check_gf16(&g);
}

#[test]
fn gf16_matches_reed_solomon_simd_around_workgroup_edges() {
    let Some(g) = gpu() else { return };
    let mut r = ChaCha8Rng::seed_from_u64(10);
    // Ties (k2 == m2 both ways), one or many chunks on either side, non powers of two.
    let counts =
        [(1, 1), (2, 2), (3, 5), (5, 3), (32, 32), (63, 65), (65, 63), (100, 30), (30, 100), (1, 300), (300, 1)];
    for (k, m) in counts {
        for len in [2, 62, 64, 66, 128, 1000] {
            let lose = r.gen_range(1..=m);
            check(&g, &mut r, k, m, len, lose);
        }
        // The most the code can lose.
        check(&g, &mut r, k, m, 66, m);
    }
}

#[test]
fn gf16_large_counts() {
    let Some(g) = gpu() else { return };
    let mut r = ChaCha8Rng::seed_from_u64(11);
    check(&g, &mut r, 1000, 3000, 2, 3000);
    check(&g, &mut r, 3000, 1000, 66, 1000);
    check(&g, &mut r, 4096, 4096, 64, 4096);
    // More than 256 original chunks: the fold kernel runs first (40000:3 leaves a partial
    // group of 16 chunks). The largest counts Leopard allows on either side.
    check(&g, &mut r, 40000, 3, 66, 3);
    check(&g, &mut r, 65535, 1, 8, 1);
    check(&g, &mut r, 1, 65535, 2, 65535);
}

/// The VID shape (334 originals x 30 000 bytes -> 666 recovery shards, 30 MB in all).
#[test]
fn gf16_vid_shape() {
    let Some(g) = gpu() else { return };
    let mut r = ChaCha8Rng::seed_from_u64(12);
    check(&g, &mut r, 334, 666, 30_000, 666);

    // avidm's recovery: the whole codeword from the last 334 recovery shards, in one decode,
    // byte for byte what the cpu backend gives.
    let (k, m, len) = (334, 666, 3_008);
    let original = random_shards(&mut r, k, len);
    let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
    let recovery = reed_solomon_simd::encode(k, m, &refs).unwrap();
    let kept = Gf16Received::new(k, m, vec![], (m - k..m).map(|j| (j, recovery[j].as_slice())).collect());
    let ours = g.gf16_reconstruct(&kept).expect("gpu reconstruct");
    let cpu = crema_engine::backend::Cpu::new().gf16_reconstruct(&kept).unwrap();
    assert!(ours == cpu, "gpu reconstruct differs from cpu");
    assert!(
        ours.original.iter().all(|(i, s)| s == &original[*i]) && ours.recovery.iter().all(|(j, s)| s == &recovery[*j])
    );
}

/// Column chunking: buffers capped far below the adapter's limit cut every shard into many
/// 64-byte-aligned ranges (one job each); the bytes must not change.
#[test]
fn gf16_column_chunks_join_exactly() {
    let Some(g) = gpu() else { return };
    // The kernels' own API on the backend's device: no second device to fail (or skip) on.
    let ctx = g.context();
    let tables = gf16_tables();
    let mut r = ChaCha8Rng::seed_from_u64(13);
    for (k, m, len) in [(20, 40, 1000), (40, 20, 1002), (3, 5, 194)] {
        let original = random_shards(&mut r, k, len);
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let want = reed_solomon_simd::encode(k, m, &refs).unwrap();
        let rate = if use_high_rate(k, m) { Gf16Rate::High } else { Gf16Rate::Low };
        // Room for one or two 64-byte blocks of the largest buffer per job.
        let rows = if rate == Gf16Rate::High { k.next_multiple_of(m.next_power_of_two()) } else { m + 2 * k };
        for blocks in [1, 2] {
            let limit = (rows.next_power_of_two() * 64 * blocks) as u64;
            let got = ctx.gf16_encode_limited(&tables, &refs, m, rate, limit).unwrap();
            assert!(got == want, "chunked encode {k}:{m} x {len}, {blocks} blocks per job");
        }

        let kept = survivors(&mut r, &original, &want, m);
        let plan = plan_decode(&kept).unwrap().expect("something is missing");
        let (received, restore) = (plan.received(&kept), plan.restore());
        let d = gf16_decode_layout(&plan, &received, &restore);
        let got = ctx.gf16_decode_limited(&tables, &d, (plan.size * 64) as u64).unwrap();
        for (i, shard) in plan.missing.iter().zip(&got) {
            assert!(shard == &original[*i], "chunked decode {k}:{m} x {len} restored {i} wrongly");
        }
        assert_eq!(g.gf16_decode(&kept).unwrap().len(), plan.missing.len());
    }
}

#[test]
fn gf16_bad_inputs_are_typed_errors() {
    let Some(g) = gpu() else { return };
    let invalid = |r: Result<(), BackendError>| matches!(r, Err(BackendError::InvalidInput { .. }));
    let (a, b): (&'static [u8], &'static [u8]) = (&[1, 2, 3, 4], &[5, 6, 7, 8]);
    assert!(invalid(g.gf16_encode(&[a], 0).map(drop)));
    assert!(invalid(g.gf16_encode(&[], 1).map(drop)));
    assert!(invalid(g.gf16_encode(&[a, b], 65535).map(drop)));
    assert!(invalid(g.gf16_encode(&[&a[..3]], 1).map(drop)));
    assert!(invalid(g.gf16_encode(&[a, &b[..2]], 1).map(drop)));
    let call = |k, original: &[(usize, &'static [u8])], recovery: &[(usize, &'static [u8])]| {
        Gf16Received::new(k, 2, original.to_vec(), recovery.to_vec())
    };
    assert!(invalid(g.gf16_decode(&call(2, &[(2, a)], &[(0, b)])).map(drop)));
    assert!(invalid(g.gf16_decode(&call(2, &[(0, a), (0, a)], &[])).map(drop)));
    assert!(invalid(g.gf16_decode(&call(3, &[(0, a)], &[(1, b)])).map(drop)));
    assert!(invalid(g.gf16_decode(&call(2, &[(0, a)], &[(1, &b[..2])])).map(drop)));
    assert_eq!(g.gf16_decode(&call(2, &[(0, a), (1, b)], &[])).unwrap(), vec![]);

    // The kernels' own API checks what the engine would never pass.
    let ctx = g.context();
    let bad = |r: Result<Vec<Vec<u8>>, GpuError>| matches!(r, Err(GpuError::InvalidInput { .. }));
    let plan = plan_decode(&call(2, &[(0, a)], &[(0, b)])).unwrap().expect("original 1 is missing");
    let twice = [(plan.original_base, a), (plan.original_base, b)];
    let restore = plan.restore();
    assert!(bad(ctx.gf16_decode(&gf16_tables(), &gf16_decode_layout(&plan, &twice, &restore))));
    let mut short = gf16_tables();
    short.log_walsh = &short.log_walsh[1..];
    assert!(bad(ctx.gf16_encode(&short, &[a], 1, Gf16Rate::High)));
}

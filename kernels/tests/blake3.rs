//! The BLAKE3 kernel against the `blake3` crate on the GPU adapter (lavapipe in CI).

use crema_kernels::GpuContext;

/// The context, or a loud skip; with `CREMA_REQUIRE_GPU=1` a missing adapter fails the test.
fn gpu() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => {
            eprintln!("GPU adapter: {} ({}, {})", ctx.adapter().name, ctx.adapter().backend, ctx.adapter().device_type);
            Some(ctx)
        }
        Err(e) => {
            crema_kernels::skip_gpu_test(e);
            None
        }
    }
}

#[test]
fn blake3_matches_the_crate_at_every_edge() {
    let Some(ctx) = gpu() else { return };
    // Lengths around word, block (64), chunk (1024) and tree (2, 3, 4 chunks) edges.
    let lens = [0usize, 1, 3, 4, 5, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 3072, 4097, 10_000, 65_537];
    let inputs: Vec<Vec<u8>> = lens.iter().map(|&n| (0..n).map(|i| (i * 31 + n) as u8).collect()).collect();
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let got = ctx.blake3_many(&refs).unwrap();
    for (i, input) in inputs.iter().enumerate() {
        assert_eq!(got[i], *blake3::hash(input).as_bytes(), "length {}", input.len());
    }
    assert!(ctx.blake3_many(&[]).unwrap().is_empty());
}

#[test]
fn blake3_batches_off_the_workgroup_grid() {
    let Some(ctx) = gpu() else { return };
    for n in [1usize, 2, 63, 64, 65, 1000] {
        let inputs: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 100 + i % 7]).collect();
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let want: Vec<[u8; 32]> = inputs.iter().map(|x| *blake3::hash(x).as_bytes()).collect();
        assert_eq!(ctx.blake3_many(&refs).unwrap(), want, "batch of {n}");
    }
}

#[test]
fn kernel_time_is_reported_when_the_adapter_has_timestamps() {
    let Some(ctx) = gpu() else { return };
    let _ = ctx.take_kernel_nanos();
    let inputs = vec![vec![7u8; 4096]; 256];
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    ctx.blake3_many(&refs).unwrap();
    match ctx.take_kernel_nanos() {
        Some(ns) => {
            assert!(ns > 0, "a dispatch ran, so some kernel time must be recorded");
            assert_eq!(ctx.take_kernel_nanos(), Some(0), "taking the counter resets it");
        }
        None => assert!(!ctx.adapter().timestamp_query),
    }
}

//! Rough timings of the gpu backend's GF(2^16) kernels beside reed-solomon-simd on this
//! machine: `cargo run --release -p crema-engine --example gf16_gpu_timings [k:m:bytes ...]`.
//! Prints the median of a few runs, end to end (upload, kernels, readback) and, when the
//! adapter has timestamp queries, inside the kernels alone. `RUNS=n` sets the runs, `LIMIT=bytes`
//! caps the buffers (more, smaller column jobs). Not a benchmark suite: on lavapipe
//! (a CPU adapter) the figures say nothing about a real GPU.

use std::time::{Duration, Instant};

use crema_engine::backend::Gf16Received;
use crema_engine::backend::gpu::{gf16_decode_layout, gf16_tables};
use crema_engine::gf16::{plan_decode, use_high_rate};
use crema_kernels::{Gf16Rate, GpuContext};

/// Median and minimum: on a shared machine the minimum is the steadier figure to compare.
fn median(mut v: Vec<Duration>) -> String {
    v.sort();
    format!("{:.1?} (min {:.1?})", v[v.len() / 2], v[0])
}

fn main() {
    let shapes: Vec<(usize, usize, usize)> = std::env::args()
        .skip(1)
        .map(|a| {
            let v: Vec<usize> = a.split(':').map(|x| x.parse().expect("k:m:bytes")).collect();
            (v[0], v[1], v[2])
        })
        .collect();
    let shapes =
        if shapes.is_empty() { vec![(1024, 1024, 1024), (4096, 4096, 1024), (334, 666, 30_000)] } else { shapes };
    let at = Instant::now();
    let ctx = GpuContext::new().expect("a GPU adapter");
    println!(
        "adapter: {} ({}), context and pipelines built in {:.1?}",
        ctx.adapter().name,
        ctx.adapter().device_type,
        at.elapsed()
    );
    let tables = gf16_tables();
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    for (k, m, len) in shapes {
        let original: Vec<Vec<u8>> =
            (0..k).map(|i| (0..len).map(|b| ((i * 2_654_435_761 + b * 40_503) >> 13) as u8).collect()).collect();
        let refs: Vec<&[u8]> = original.iter().map(Vec::as_slice).collect();
        let rate = if use_high_rate(k, m) { Gf16Rate::High } else { Gf16Rate::Low };
        let at = Instant::now();
        let _ = ctx.gf16_encode(&tables, &refs, m, rate).expect("warm-up");
        println!("first encode {k}:{m} x {len} (builds its pipelines): {:.1?}", at.elapsed());
        let mut cpu = Vec::new();
        let (mut gpu, mut kernel) = (Vec::new(), Vec::new());
        let mut recovery = Vec::new();
        for _ in 0..runs {
            let at = Instant::now();
            recovery = reed_solomon_simd::encode(k, m, &refs).unwrap();
            cpu.push(at.elapsed());
            let _ = ctx.take_kernel_nanos();
            let at = Instant::now();
            let got = match std::env::var("LIMIT").ok().and_then(|l| l.parse().ok()) {
                Some(limit) => ctx.gf16_encode_limited(&tables, &refs, m, rate, limit).unwrap(),
                None => ctx.gf16_encode(&tables, &refs, m, rate).unwrap(),
            };
            gpu.push(at.elapsed());
            kernel.push(Duration::from_nanos(ctx.take_kernel_nanos().unwrap_or(0)));
            assert!(got == recovery, "gpu encode differs");
        }
        println!(
            "encode {k}:{m} x {len} ({rate:?}): reed-solomon-simd {}, gpu {}, kernels {}",
            median(cpu),
            median(gpu),
            median(kernel)
        );

        // Decode after losing the first min(k, m) originals.
        let lost = k.min(m);
        let kept = Gf16Received::new(
            k,
            m,
            (lost..k).map(|i| (i, refs[i])).collect(),
            (0..m).map(|j| (j, recovery[j].as_slice())).collect(),
        );
        let plan = plan_decode(&kept).unwrap().expect("originals missing");
        let (received, restore) = (plan.received(&kept), plan.restore());
        let d = gf16_decode_layout(&plan, &received, &restore);
        let (orig, rec) = (&kept.original, &kept.recovery);
        let (mut cpu, mut gpu, mut kernel) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let at = Instant::now();
            let _ = reed_solomon_simd::decode(k, m, orig.iter().copied(), rec.iter().copied()).unwrap();
            cpu.push(at.elapsed());
            let _ = ctx.take_kernel_nanos();
            let at = Instant::now();
            let got = match std::env::var("LIMIT").ok().and_then(|l| l.parse().ok()) {
                Some(limit) => ctx.gf16_decode_limited(&tables, &d, limit).unwrap(),
                None => ctx.gf16_decode(&tables, &d).unwrap(),
            };
            gpu.push(at.elapsed());
            kernel.push(Duration::from_nanos(ctx.take_kernel_nanos().unwrap_or(0)));
            assert!(got.iter().zip(&plan.missing).all(|(s, &i)| s == &original[i]), "gpu decode wrong");
        }
        println!(
            "decode {k}:{m} x {len}, {lost} lost: reed-solomon-simd {}, gpu {}, kernels {}",
            median(cpu),
            median(gpu),
            median(kernel)
        );
    }
}

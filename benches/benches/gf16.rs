//! GF(2^16) encode and decode at 1 KiB shards: ours (the cpu backend through `Gf16Code`, and
//! the raw backend call) beside raw reed-solomon-simd, in one criterion group per shape.
//!
//! Throughput counts the original data bytes (`k × 1 KiB`), for encode and decode alike.
//! Decode loses as many originals as there are recovery shards (the worst case).

use crema_engine::backend::Backend;
use crema_engine::backend::Cpu;
use crema_engine::erasure::gf16::{Gf16Code, Shard};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

/// The crema binary's allocator (see node/src/main.rs), so the benches measure what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SHARD_BYTES: usize = 1024;
const SHAPES: [(usize, usize); 3] = [(32, 32), (1024, 1024), (4096, 4096)];

fn original(k: usize) -> Vec<Vec<u8>> {
    let mut r = ChaCha8Rng::seed_from_u64(k as u64);
    (0..k).map(|_| (0..SHARD_BYTES).map(|_| r.r#gen()).collect()).collect()
}

fn encode(c: &mut Criterion) {
    let cpu = Cpu::new();
    for (k, m) in SHAPES {
        let data = original(k);
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let code = Gf16Code::new(k, m, SHARD_BYTES).unwrap();
        let mut g = c.benchmark_group(format!("gf16_encode/{k}:{m}x1KiB"));
        g.throughput(Throughput::Bytes((k * SHARD_BYTES) as u64));
        g.bench_function(BenchmarkId::from_parameter("reed-solomon-simd"), |b| {
            b.iter(|| reed_solomon_simd::encode(k, m, black_box(&refs)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-cpu-backend"), |b| {
            b.iter(|| cpu.gf16_encode(black_box(&refs), m).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-Gf16Code"), |b| {
            b.iter(|| code.encode(&cpu, black_box(&refs)).unwrap())
        });
        g.finish();
    }
}

fn decode(c: &mut Criterion) {
    let cpu = Cpu::new();
    for (k, m) in SHAPES {
        let data = original(k);
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let code = Gf16Code::new(k, m, SHARD_BYTES).unwrap();
        let shards: Vec<Shard> = code.encode(&cpu, &refs).unwrap();
        // Lose the first min(k, m) originals; keep the rest and every recovery shard.
        let lost = k.min(m);
        let kept_orig: Vec<(usize, &[u8])> = (lost..k).map(|i| (i, refs[i])).collect();
        let kept_rec: Vec<(usize, &[u8])> = (0..m).map(|j| (j, shards[k + j].bytes.as_slice())).collect();
        let received: Vec<Shard> = shards[lost..].to_vec();

        let mut g = c.benchmark_group(format!("gf16_decode/{k}:{m}x1KiB"));
        g.throughput(Throughput::Bytes((k * SHARD_BYTES) as u64));
        g.bench_function(BenchmarkId::from_parameter("reed-solomon-simd"), |b| {
            b.iter(|| reed_solomon_simd::decode(k, m, kept_orig.iter().copied(), kept_rec.iter().copied()).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-cpu-backend"), |b| {
            b.iter(|| cpu.gf16_decode(k, m, black_box(&kept_orig), black_box(&kept_rec)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-Gf16Code"), |b| {
            b.iter(|| code.decode(&cpu, black_box(&received)).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);

//! GF(2^16) encode and decode at 1 KiB shards, one criterion group per shape: raw
//! reed-solomon-simd beside ours on the cpu backend — the backend primitive, the `Gf16Code`
//! facade over borrowed slices (which should cost what the primitive costs), and the facade's
//! opt-in checksummed layer (`encode_shards` / `decode_shards`: a copy of the originals and a
//! BLAKE3 checksum per shard on top).
//!
//! Throughput counts the original data bytes (`k × 1 KiB`), for encode and decode alike.
//! Decode loses as many originals as there are recovery shards (the worst case).

use crema_engine::backend::{Backend, Cpu, Gf16Received};
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
        g.bench_function(BenchmarkId::from_parameter("crema-Gf16Code-checksummed"), |b| {
            b.iter(|| code.encode_shards(&cpu, black_box(&refs)).unwrap())
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
        let shards: Vec<Shard> = code.encode_shards(&cpu, &refs).unwrap();
        // Lose the first min(k, m) originals; keep the rest and every recovery shard.
        let lost = k.min(m);
        let kept: Vec<(usize, &[u8])> = (lost..k + m).map(|p| (p, shards[p].bytes.as_slice())).collect();
        let request = Gf16Received::from_codeword(k, m, kept.iter().copied());
        let received: Vec<Shard> = shards[lost..].to_vec();

        let mut g = c.benchmark_group(format!("gf16_decode/{k}:{m}x1KiB"));
        g.throughput(Throughput::Bytes((k * SHARD_BYTES) as u64));
        g.bench_function(BenchmarkId::from_parameter("reed-solomon-simd"), |b| {
            let (original, recovery) = (&request.original, &request.recovery);
            b.iter(|| reed_solomon_simd::decode(k, m, original.iter().copied(), recovery.iter().copied()).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-cpu-backend"), |b| {
            b.iter(|| cpu.gf16_decode(black_box(&request)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-Gf16Code"), |b| {
            b.iter(|| code.decode(&cpu, black_box(&kept)).unwrap())
        });
        g.bench_function(BenchmarkId::from_parameter("crema-Gf16Code-checksummed"), |b| {
            b.iter(|| code.decode_shards(&cpu, black_box(&received)).unwrap())
        });
        g.finish();
    }
}

/// Criterion with the embedded font registered for its plots (see `chart::register_font`).
fn config() -> Criterion {
    crema_benches::chart::register_font().expect("the embedded font loads");
    Criterion::default()
}

criterion_group! { name = benches; config = config(); targets = encode, decode }
criterion_main!(benches);

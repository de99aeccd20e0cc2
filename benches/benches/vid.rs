//! AvidM VID: disperse 1, 5, 10 and 32 MB to 100 and 1000 weight units, verify one share (10
//! units, and a 1-unit share of 1000 single-unit nodes), and recover at the threshold (1/3), on
//! the cpu backend. DESIGN.md §7's goals for 10 MB to 1000
//! units: disperse ≤ 10 ms, verify_share ≤ 20 µs, recover ≤ 30 ms.
//!
//! KZG VID: disperse 1 MiB (9 blobs) to 100 and 1000 weight units, verify one share, and recover
//! at the threshold (1/2) both from the systematic half (cells read off) and from the other half
//! (per-blob recovery, the worst case). FK20 proofs dominate (~9 × compute_cells_and_kzg_proofs).

use crema_engine::backend::Cpu;
use crema_engine::stake::Fraction;
use crema_engine::vid::{Avidm, Kzg, VidScheme, Weights};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

/// The crema binary's allocator (see node/src/main.rs), so the benches measure what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MB: usize = 1_000_000;

fn payload(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    ChaCha8Rng::seed_from_u64(len as u64).fill_bytes(&mut v);
    v
}

fn scheme(units: u32) -> Avidm {
    // 100 nodes sharing the units equally.
    Avidm::new(Weights::new(vec![units / 100; 100]).unwrap(), Fraction::ONE_THIRD)
}

fn disperse(c: &mut Criterion) {
    let cpu = Cpu::new();
    let mut g = c.benchmark_group("vid_avidm_disperse");
    g.sample_size(10);
    for mb in [1, 5, 10, 32] {
        let data = payload(mb * MB);
        g.throughput(Throughput::Bytes(data.len() as u64));
        for units in [100, 1000] {
            let s = scheme(units);
            g.bench_function(BenchmarkId::new(format!("{units}units"), format!("{mb}MB")), |b| {
                b.iter(|| s.disperse(&cpu, black_box(&data)).unwrap())
            });
        }
    }
    g.finish();
}

fn verify_and_recover(c: &mut Criterion) {
    let cpu = Cpu::new();
    let s = scheme(1000);
    let data = payload(10 * MB);
    let d = s.disperse(&cpu, &data).unwrap();
    let mut g = c.benchmark_group("vid_avidm_10MB_1000units");
    g.sample_size(10);
    g.bench_function("verify_share", |b| {
        b.iter(|| s.verify_share(&cpu, &d.commitment, &d.common, black_box(&d.shares[57]), 57).unwrap())
    });
    // A node of weight 1 among 1000: its share is one 30 KB unit.
    let single = Avidm::new(Weights::new(vec![1; 1000]).unwrap(), Fraction::ONE_THIRD);
    let d1 = single.disperse(&cpu, &data).unwrap();
    g.bench_function("verify_share_1_unit", |b| {
        b.iter(|| single.verify_share(&cpu, &d1.commitment, &d1.common, black_box(&d1.shares[570]), 570).unwrap())
    });
    // The last 34 nodes (340 units ≥ 334): every original lost, the worst decode.
    let kept = d.shares[66..].to_vec();
    g.bench_function("recover_at_threshold", |b| {
        b.iter(|| s.recover(&cpu, &d.commitment, &d.common, black_box(&kept)).unwrap())
    });
    g.finish();
}

const MIB: usize = 1 << 20;

fn kzg_scheme(units: u32) -> Kzg {
    Kzg::new(Weights::new(vec![units / 100; 100]).unwrap(), Fraction::ONE_HALF).unwrap()
}

fn kzg_disperse(c: &mut Criterion) {
    let cpu = Cpu::new();
    // Build the process-wide context's FK20 tables (seconds) outside the measurements.
    kzg_scheme(100).disperse(&cpu, &[]).unwrap();
    let data = payload(MIB);
    let mut g = c.benchmark_group("vid_kzg_disperse_1MiB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    for units in [100, 1000] {
        let s = kzg_scheme(units);
        g.bench_function(format!("{units}units"), |b| b.iter(|| s.disperse(&cpu, black_box(&data)).unwrap()));
    }
    g.finish();
}

fn kzg_verify_and_recover(c: &mut Criterion) {
    let cpu = Cpu::new();
    let s = kzg_scheme(1000);
    let d = s.disperse(&cpu, &payload(MIB)).unwrap();
    let mut g = c.benchmark_group("vid_kzg_1MiB_1000units");
    g.sample_size(10);
    // Node 57 of 100 (weight 10): cells 72..75 of each of the 9 blobs (27 cells), in one batch.
    g.bench_function("verify_share", |b| {
        b.iter(|| s.verify_share(&cpu, &d.commitment, &d.common, black_box(&d.shares[57]), 57).unwrap())
    });
    // Half of the weight: the first 50 nodes hold cells 0..64 (the blobs themselves), the last
    // 50 hold cells 64..128 (every blob goes through recover_cells_and_kzg_proofs).
    let (first, last) = (d.shares[..50].to_vec(), d.shares[50..].to_vec());
    g.bench_function("recover_at_threshold_systematic", |b| {
        b.iter(|| s.recover(&cpu, &d.commitment, &d.common, black_box(&first)).unwrap())
    });
    g.bench_function("recover_at_threshold_worst", |b| {
        b.iter(|| s.recover(&cpu, &d.commitment, &d.common, black_box(&last)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, disperse, verify_and_recover);
criterion_group!(kzg_benches, kzg_disperse, kzg_verify_and_recover);
criterion_main!(benches, kzg_benches);

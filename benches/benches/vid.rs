//! AvidM VID: disperse 1, 10 and 32 MB to 100 and 1000 weight units, verify one share, and
//! recover at the threshold (1/3), on the cpu backend. DESIGN.md §7's goals for 10 MB to 1000
//! units: disperse ≤ 10 ms, verify_share ≤ 20 µs, recover ≤ 30 ms.

use crema_engine::backend::cpu::Cpu;
use crema_engine::vid::avidm::Avidm;
use crema_engine::vid::{Fraction, VidScheme, Weights};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

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
    for mb in [1, 10, 32] {
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
    // The last 34 nodes (340 units ≥ 334): every original lost, the worst decode.
    let kept = d.shares[66..].to_vec();
    g.bench_function("recover_at_threshold", |b| {
        b.iter(|| s.recover(&cpu, &d.commitment, &d.common, black_box(&kept)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, disperse, verify_and_recover);
criterion_main!(benches);

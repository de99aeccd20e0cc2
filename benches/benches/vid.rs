//! AvidM VID: disperse 1, 5, 10 and 32 MB to 100 and 1000 weight units, verify one share (10
//! units, and a 1-unit share of 1000 single-unit nodes), and recover at the threshold (1/3), on
//! the cpu backend.
//!
//! Beside them, `vid_avidm_10MB_1000units/floor`: the same 10 MB → 1000-unit shape done with
//! nothing but the peers — reed-solomon-simd encoding the 666 recovery shards from the 334
//! originals, every shard cut into 64-byte-aligned column ranges spread over all cores (one
//! crate encoder per range), then BLAKE3 (the `blake3` crate) of all 1000 units over all cores.
//! DESIGN.md §7: disperse ≤ 1.2× the floor, recover at the threshold ≤ 2× the floor. The bench
//! prints which GF(2^16) engine each side ran (crema's AVX-512 one where the CPU has
//! AVX-512BW; reed-solomon-simd's AVX2/SSSE3/NEON pick for the floor).
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
use rayon::prelude::*;
use reed_solomon_simd::ReedSolomonEncoder;
use std::cell::RefCell;
use std::hint::black_box;
use std::ops::Range;

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
    let units: Vec<&Vec<u8>> = d.shares.iter().flat_map(|s| s.units.iter()).collect();
    let mut floor = Floor::new(&units[..334], 666);
    let leaves: Vec<[u8; 32]> = units.iter().map(|u| *blake3::hash(u).as_bytes()).collect();
    assert!(floor.run() == leaves, "the floor must compute the dispersal's own units");
    eprintln!(
        "GF(2^16) engines: crema cpu backend {}; floor reed-solomon-simd {}",
        Cpu::gf16_engine(),
        reed_solomon_simd_engine()
    );
    g.bench_function("floor", |b| b.iter(|| floor.run()));
    g.finish();
}

/// The GF(2^16) engine reed-solomon-simd's `DefaultEngine` picks on this CPU (its own order).
fn reed_solomon_simd_engine() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            return "AVX2";
        }
        if std::is_x86_feature_detected!("ssse3") {
            return "SSSE3";
        }
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        return "NEON";
    }
    "NoSimd"
}

/// Bytes of each shard one crate encoder call takes: the encoder's work buffer (1024 rows for
/// 334:666) then stays within the 1 MiB a core's L2 holds, which is what makes it fast.
const FLOOR_RANGE_BYTES: usize = 1024;

thread_local! {
    /// Each thread's encoder, reset per range (its work buffer is reused, as crema's is).
    static ENCODER: RefCell<Option<ReedSolomonEncoder>> = const { RefCell::new(None) };
}

/// The dispersal floor: the originals (owned, outside the timing), the recovery shards it
/// writes (allocated once), and the column ranges.
struct Floor {
    originals: Vec<Vec<u8>>,
    recovery: Vec<Vec<u8>>,
    ranges: Vec<Range<usize>>,
}

impl Floor {
    fn new(originals: &[&Vec<u8>], recovery: usize) -> Self {
        let len = originals[0].len();
        let ranges = (0..len).step_by(FLOOR_RANGE_BYTES).map(|s| s..(s + FLOOR_RANGE_BYTES).min(len)).collect();
        Self {
            originals: originals.iter().map(|o| o.to_vec()).collect(),
            recovery: vec![vec![0; len]; recovery],
            ranges,
        }
    }

    /// Encodes every column range (over all cores), then hashes every unit (over all cores).
    fn run(&mut self) -> Vec<[u8; 32]> {
        let (k, m) = (self.originals.len(), self.recovery.len());
        // Each range's output: its piece of every recovery shard.
        let mut pieces: Vec<Vec<&mut [u8]>> = self.ranges.iter().map(|_| Vec::with_capacity(m)).collect();
        for shard in &mut self.recovery {
            for (r, piece) in shard.chunks_mut(FLOOR_RANGE_BYTES).enumerate() {
                pieces[r].push(piece);
            }
        }
        let originals = &self.originals;
        self.ranges.par_iter().zip(pieces).for_each(|(cols, mut out)| {
            ENCODER.with(|cell| {
                let mut cell = cell.borrow_mut();
                let encoder = match cell.as_mut() {
                    Some(e) => {
                        e.reset(k, m, cols.len()).unwrap();
                        e
                    }
                    None => cell.insert(ReedSolomonEncoder::new(k, m, cols.len()).unwrap()),
                };
                for o in originals {
                    encoder.add_original_shard(&o[cols.clone()]).unwrap();
                }
                let result = encoder.encode().unwrap();
                for (piece, rec) in out.iter_mut().zip(result.recovery_iter()) {
                    piece.copy_from_slice(rec);
                }
            })
        });
        self.originals.par_iter().chain(self.recovery.par_iter()).map(|u| *blake3::hash(u).as_bytes()).collect()
    }
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

/// Criterion with the embedded font registered for its plots (see `chart::register_font`).
fn config() -> Criterion {
    crema_benches::chart::register_font().expect("the embedded font loads");
    Criterion::default()
}

criterion_group! { name = benches; config = config(); targets = disperse, verify_and_recover }
criterion_group! { name = kzg_benches; config = config(); targets = kzg_disperse, kzg_verify_and_recover }
criterion_main!(benches, kzg_benches);

//! KZG (EIP-4844 + EIP-7594) side by side with rust_eth_kzg 0.10 (multithreaded, precompute
//! width 8) and c-kzg 2.x (single-threaded, precompute 8), on the same seeded blobs.

use std::hint::black_box;

use c_kzg::ethereum_kzg_settings;
use crema_engine::BackendChoice;
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Bytes48, Cell, KzgContext};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_eth_kzg::{DASContext, TrustedSetup, UsePrecomp};

/// The crema binary's allocator (see node/src/main.rs), so the benches measure what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn blob(seed: u64) -> Box<Blob> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut b: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().expect("blob size");
    r.fill(&mut b[..]);
    for chunk in b.chunks_mut(32) {
        chunk[0] &= 0x3f; // keep every element below the modulus
    }
    b
}

struct Peers {
    crema: KzgContext,
    eth: DASContext,
    ckzg: &'static c_kzg::KzgSettings,
}

fn peers() -> Peers {
    let crema = KzgContext::new(BackendChoice::Cpu.build().expect("cpu")).expect("crema context");
    // Build the fixed-base tables up front (both peers precompute theirs in their constructors).
    crema.warm_up().expect("warm up");
    let eth = DASContext::new(&TrustedSetup::default(), UsePrecomp::Yes { width: 8 });
    Peers { crema, eth, ckzg: ethereum_kzg_settings(8) }
}

fn bench_kzg(c: &mut Criterion) {
    let p = peers();
    let blobs: Vec<Box<Blob>> = (0..64).map(blob).collect();
    let cblobs: Vec<c_kzg::Blob> = blobs.iter().map(|b| c_kzg::Blob::new(**b)).collect();
    let commitments: Vec<Bytes48> = blobs.iter().map(|b| p.crema.blob_to_kzg_commitment(b).expect("commit")).collect();
    let proofs: Vec<Bytes48> =
        blobs.iter().zip(&commitments).map(|(b, cm)| p.crema.compute_blob_kzg_proof(b, cm).expect("proof")).collect();
    // Warm the FK20 tables outside the timed loops (both peers build theirs up front).
    let (cells, cell_proofs) = p.crema.compute_cells_and_kzg_proofs(&blobs[0]).expect("cells");

    let mut g = c.benchmark_group("blob_to_kzg_commitment");
    g.bench_function("crema", |b| b.iter(|| p.crema.blob_to_kzg_commitment(black_box(&blobs[0])).unwrap()));
    g.bench_function("rust_eth_kzg", |b| b.iter(|| p.eth.blob_to_kzg_commitment(black_box(&blobs[0])).unwrap()));
    g.bench_function("c_kzg", |b| b.iter(|| p.ckzg.blob_to_kzg_commitment(black_box(&cblobs[0])).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("compute_blob_kzg_proof");
    let cc = c_kzg::Bytes48::new(commitments[0]);
    g.bench_function("crema", |b| b.iter(|| p.crema.compute_blob_kzg_proof(&blobs[0], &commitments[0]).unwrap()));
    g.bench_function("rust_eth_kzg", |b| b.iter(|| p.eth.compute_blob_kzg_proof(&blobs[0], &commitments[0]).unwrap()));
    g.bench_function("c_kzg", |b| b.iter(|| p.ckzg.compute_blob_kzg_proof(&cblobs[0], &cc).unwrap()));
    g.finish();

    for n in [8usize, 64] {
        let mut g = c.benchmark_group(format!("verify_blob_kzg_proof_batch/{n}"));
        g.sample_size(10);
        let bs: Vec<&Blob> = blobs[..n].iter().map(|b| &**b).collect();
        let cs: Vec<&Bytes48> = commitments[..n].iter().collect();
        let ps: Vec<&Bytes48> = proofs[..n].iter().collect();
        let ccs: Vec<c_kzg::Bytes48> = cs.iter().map(|x| c_kzg::Bytes48::new(**x)).collect();
        let cps: Vec<c_kzg::Bytes48> = ps.iter().map(|x| c_kzg::Bytes48::new(**x)).collect();
        g.bench_function("crema", |b| b.iter(|| assert!(p.crema.verify_blob_kzg_proof_batch(&bs, &cs, &ps).unwrap())));
        g.bench_function("rust_eth_kzg", |b| {
            b.iter(|| p.eth.verify_blob_kzg_proof_batch(bs.clone(), cs.clone(), ps.clone()).unwrap())
        });
        g.bench_function("c_kzg", |b| {
            b.iter(|| assert!(p.ckzg.verify_blob_kzg_proof_batch(&cblobs[..n], &ccs, &cps).unwrap()))
        });
        g.finish();
    }

    let mut g = c.benchmark_group("compute_cells_and_kzg_proofs");
    g.sample_size(10);
    g.bench_function("crema", |b| b.iter(|| p.crema.compute_cells_and_kzg_proofs(black_box(&blobs[0])).unwrap()));
    g.bench_function("rust_eth_kzg", |b| b.iter(|| p.eth.compute_cells_and_kzg_proofs(black_box(&blobs[0])).unwrap()));
    g.bench_function("c_kzg", |b| b.iter(|| p.ckzg.compute_cells_and_kzg_proofs(black_box(&cblobs[0])).unwrap()));
    g.finish();

    // Recover from the odd half (64 of 128 cells).
    let idx: Vec<u64> = (1..128).step_by(2).collect();
    let half: Vec<&Cell> = idx.iter().map(|&i| &cells[i as usize]).collect();
    let chalf: Vec<c_kzg::Cell> = half.iter().map(|c| c_kzg::Cell::new(**c)).collect();
    let mut g = c.benchmark_group("recover_cells_and_kzg_proofs");
    g.sample_size(10);
    g.bench_function("crema", |b| b.iter(|| p.crema.recover_cells_and_kzg_proofs(&idx, &half).unwrap()));
    g.bench_function("rust_eth_kzg", |b| {
        b.iter(|| p.eth.recover_cells_and_kzg_proofs(idx.clone(), half.clone()).unwrap())
    });
    g.bench_function("c_kzg", |b| b.iter(|| p.ckzg.recover_cells_and_kzg_proofs(&idx, &chalf).unwrap()));
    g.finish();

    // Verify all 128 cells of one blob.
    let all: Vec<u64> = (0..128).collect();
    let cell_refs: Vec<&Cell> = cells.iter().collect();
    let proof_refs: Vec<&Bytes48> = cell_proofs.iter().collect();
    let com = vec![&commitments[0]; 128];
    let ccells: Vec<c_kzg::Cell> = cells.iter().map(|c| c_kzg::Cell::new(*c)).collect();
    let cproofs: Vec<c_kzg::Bytes48> = cell_proofs.iter().map(|x| c_kzg::Bytes48::new(*x)).collect();
    let ccom = vec![c_kzg::Bytes48::new(commitments[0]); 128];
    let mut g = c.benchmark_group("verify_cell_kzg_proof_batch/128");
    g.sample_size(10);
    g.bench_function("crema", |b| {
        b.iter(|| assert!(p.crema.verify_cell_kzg_proof_batch(&com, &all, &cell_refs, &proof_refs).unwrap()))
    });
    g.bench_function("rust_eth_kzg", |b| {
        b.iter(|| p.eth.verify_cell_kzg_proof_batch(com.clone(), &all, cell_refs.clone(), proof_refs.clone()).unwrap())
    });
    g.bench_function("c_kzg", |b| {
        b.iter(|| assert!(p.ckzg.verify_cell_kzg_proof_batch(&ccom, &all, &ccells, &cproofs).unwrap()))
    });
    g.finish();
}

/// Criterion with the embedded font registered for its plots (see `chart::register_font`).
fn config() -> Criterion {
    crema_benches::chart::register_font().expect("the embedded font loads");
    Criterion::default()
}

criterion_group! { name = benches; config = config(); targets = bench_kzg }
criterion_main!(benches);

//! Rough wall-clock timings of the KZG context's phases (setup load, first and repeated
//! calls), for the short-CLI-run question. `cargo run --release -p crema-engine --example kzg_timing
//! [-- --warm-up]` (without it the first calls show the lazy path: tables build in the background).

use std::time::Instant;

use crema_engine::BackendChoice;
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Cell, KzgContext, TrustedSetup};

fn main() {
    let t = Instant::now();
    TrustedSetup::ethereum().expect("setup");
    println!("setup load (hash + decode): {:?}", t.elapsed());
    let t = Instant::now();
    let ctx = KzgContext::new(BackendChoice::Cpu.build().expect("cpu")).expect("context");
    println!("context: {:?}", t.elapsed());
    let mut blob: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().expect("size");
    for (i, chunk) in blob.chunks_mut(32).enumerate() {
        chunk[31] = i as u8;
        chunk[1] = (i * 7) as u8;
    }
    if std::env::args().any(|a| a == "--warm-up") {
        let t = Instant::now();
        ctx.warm_up().expect("warm up");
        println!("warm_up (FK20 load + fixed-base tables): {:?}", t.elapsed());
    }
    for round in 0..3 {
        let t = Instant::now();
        let c = ctx.blob_to_kzg_commitment(&blob).expect("commit");
        let t1 = t.elapsed();
        let t = Instant::now();
        let (cells, proofs) = ctx.compute_cells_and_kzg_proofs(&blob).expect("cells");
        let t2 = t.elapsed();
        let idx: Vec<u64> = (0..128).collect();
        let refs: Vec<&Cell> = cells.iter().collect();
        let t = Instant::now();
        let ok = ctx.verify_cell_kzg_proof_batch(&vec![&c; 128], &idx, &refs, &proofs.iter().collect::<Vec<_>>());
        let t3 = t.elapsed();
        let half: Vec<u64> = (64..128).collect();
        let t = Instant::now();
        ctx.recover_cells_and_kzg_proofs(&half, &refs[64..]).expect("recover");
        let t4 = t.elapsed();
        println!("round {round}: commit {t1:?}, cells+proofs {t2:?}, verify128 {t3:?} ({ok:?}), recover {t4:?}");
    }
}

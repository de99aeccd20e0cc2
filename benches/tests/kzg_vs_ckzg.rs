//! Fresh random blobs through Crema and c-kzg 2.x side by side: identical commitments, blob and
//! point proofs, cells, cell proofs and recovered cells, and the same verdicts. The seed is fresh
//! per run (printed; set `CREMA_KZG_SEED` to replay one); the public vectors cover fixed cases.

use c_kzg::ethereum_kzg_settings;
use crema_engine::BackendChoice;
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Bytes48, Cell, KzgContext};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn seed() -> u64 {
    let seed = std::env::var("CREMA_KZG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("kzg_vs_ckzg seed: {seed} (replay with CREMA_KZG_SEED={seed})");
    seed
}

/// A blob of uniformly random canonical field elements (rejection-sampled below the modulus).
fn random_blob(r: &mut ChaCha8Rng) -> Box<Blob> {
    const R_BE: [u8; 32] = [
        0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd,
        0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
    ];
    let mut b: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().expect("blob size");
    for fe in b.chunks_mut(32) {
        loop {
            r.fill(fe);
            fe[0] &= 0x7f;
            if *fe < R_BE[..] {
                break;
            }
        }
    }
    b
}

#[test]
fn fresh_random_blobs_match_ckzg_byte_for_byte() {
    let mut r = ChaCha8Rng::seed_from_u64(seed());
    let crema = KzgContext::new(BackendChoice::Cpu.build().expect("cpu")).expect("context");
    let ckzg = ethereum_kzg_settings(0);
    for _ in 0..2 {
        let blob = random_blob(&mut r);
        let cblob = c_kzg::Blob::new(*blob);

        let commitment = crema.blob_to_kzg_commitment(&blob).expect("commit");
        assert_eq!(commitment, *ckzg.blob_to_kzg_commitment(&cblob).expect("c-kzg commit").to_bytes());
        let ccommitment = c_kzg::Bytes48::new(commitment);

        let proof = crema.compute_blob_kzg_proof(&blob, &commitment).expect("blob proof");
        assert_eq!(proof, *ckzg.compute_blob_kzg_proof(&cblob, &ccommitment).expect("c-kzg proof").to_bytes());

        let mut z = [0u8; 32];
        r.fill(&mut z[1..]);
        let (pz, y) = crema.compute_kzg_proof(&blob, &z).expect("point proof");
        let (cpz, cy) = ckzg.compute_kzg_proof(&cblob, &c_kzg::Bytes32::new(z)).expect("c-kzg point proof");
        assert_eq!((pz, y), (*cpz.to_bytes(), *cy));

        let (cells, proofs) = crema.compute_cells_and_kzg_proofs(&blob).expect("cells");
        let (ccells, cproofs) = ckzg.compute_cells_and_kzg_proofs(&cblob).expect("c-kzg cells");
        for i in 0..128 {
            assert_eq!(cells[i], ccells[i].to_bytes(), "cell {i}");
            assert_eq!(proofs[i], *cproofs[i].to_bytes(), "cell proof {i}");
        }

        // Recover from a random half; both libraries give back every cell and proof.
        let mut idx: Vec<u64> = (0..128).collect();
        idx.shuffle(&mut r);
        idx.truncate(64);
        idx.sort_unstable();
        let given: Vec<&Cell> = idx.iter().map(|&i| &cells[i as usize]).collect();
        let (rc, rp) = crema.recover_cells_and_kzg_proofs(&idx, &given).expect("recover");
        let cgiven: Vec<c_kzg::Cell> = given.iter().map(|c| c_kzg::Cell::new(**c)).collect();
        let (crc, crp) = ckzg.recover_cells_and_kzg_proofs(&idx, &cgiven).expect("c-kzg recover");
        assert_eq!((rc, rp), (cells.clone(), proofs.clone()));
        assert!((0..128).all(|i| crc[i].to_bytes() == cells[i] && *crp[i].to_bytes() == proofs[i]));

        // Same verdicts on a random subset of cells, and after one byte of one cell flips.
        let mut cell_refs: Vec<Cell> = idx.iter().map(|&i| cells[i as usize]).collect();
        let proof_refs: Vec<&Bytes48> = idx.iter().map(|&i| &proofs[i as usize]).collect();
        let coms = vec![&commitment; idx.len()];
        let cproofs_sel: Vec<c_kzg::Bytes48> = proof_refs.iter().map(|p| c_kzg::Bytes48::new(**p)).collect();
        let ccoms = vec![ccommitment; idx.len()];
        for tamper in [false, true] {
            if tamper {
                cell_refs[7][31] ^= 1;
            }
            let refs: Vec<&Cell> = cell_refs.iter().collect();
            let ours = crema.verify_cell_kzg_proof_batch(&coms, &idx, &refs, &proof_refs);
            let ccells_sel: Vec<c_kzg::Cell> = cell_refs.iter().map(|c| c_kzg::Cell::new(*c)).collect();
            let theirs = ckzg.verify_cell_kzg_proof_batch(&ccoms, &idx, &ccells_sel, &cproofs_sel);
            assert_eq!(ours.ok(), theirs.ok(), "tampered = {tamper}");
        }
    }
}

//! The KZG byte API end to end on fresh seeded blobs, and its typed errors on bad input.

use std::sync::OnceLock;

use crema_engine::BackendChoice;
use crema_engine::kzg::{BYTES_PER_BLOB, Blob, Cell, KzgContext, KzgError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn ctx() -> &'static KzgContext {
    static CTX: OnceLock<KzgContext> = OnceLock::new();
    CTX.get_or_init(|| KzgContext::new(BackendChoice::Cpu.build().expect("cpu")).expect("context"))
}

/// A blob of canonical field elements (top byte kept below the modulus' 0x73).
fn blob(seed: u64) -> Box<Blob> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut b: Box<Blob> = vec![0u8; BYTES_PER_BLOB].into_boxed_slice().try_into().unwrap();
    r.fill(&mut b[..]);
    for chunk in b.chunks_mut(32) {
        chunk[0] &= 0x3f;
    }
    b
}

#[test]
fn blob_proofs_round_trip_and_reject_tampering() {
    let (b1, b2) = (blob(1), blob(2));
    let c1 = ctx().blob_to_kzg_commitment(&b1).unwrap();
    let c2 = ctx().blob_to_kzg_commitment(&b2).unwrap();
    let p1 = ctx().compute_blob_kzg_proof(&b1, &c1).unwrap();
    let p2 = ctx().compute_blob_kzg_proof(&b2, &c2).unwrap();
    assert!(ctx().verify_blob_kzg_proof(&b1, &c1, &p1).unwrap());
    assert!(!ctx().verify_blob_kzg_proof(&b1, &c1, &p2).unwrap());
    assert!(ctx().verify_blob_kzg_proof_batch(&[&b1, &b2], &[&c1, &c2], &[&p1, &p2]).unwrap());
    assert!(!ctx().verify_blob_kzg_proof_batch(&[&b1, &b2], &[&c1, &c2], &[&p2, &p1]).unwrap());
    assert!(matches!(
        ctx().verify_blob_kzg_proof_batch(&[&b1], &[&c1, &c2], &[&p1]),
        Err(KzgError::LengthMismatch { .. })
    ));
}

#[test]
fn cells_recover_and_verify() {
    let b = blob(3);
    let c = ctx().blob_to_kzg_commitment(&b).unwrap();
    let (cells, proofs) = ctx().compute_cells_and_kzg_proofs(&b).unwrap();
    assert_eq!(ctx().compute_cells(&b).unwrap(), cells);
    let idx: Vec<u64> = (0..128).collect();
    let cell_refs: Vec<&Cell> = cells.iter().collect();
    let proof_refs: Vec<_> = proofs.iter().collect();
    assert!(ctx().verify_cell_kzg_proof_batch(&vec![&c; 128], &idx, &cell_refs, &proof_refs).unwrap());
    let mut bad = cells[9];
    bad[31] ^= 1;
    let mut tampered = cell_refs.clone();
    tampered[9] = &bad;
    assert!(!ctx().verify_cell_kzg_proof_batch(&vec![&c; 128], &idx, &tampered, &proof_refs).unwrap());

    let keep: Vec<u64> = (64..128).collect();
    let kept: Vec<&Cell> = keep.iter().map(|&i| &cells[i as usize]).collect();
    let (rc, rp) = ctx().recover_cells_and_kzg_proofs(&keep, &kept).unwrap();
    assert_eq!(rc, cells);
    assert_eq!(rp, proofs);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut b = blob(4);
    b[5 * 32..6 * 32].fill(0xff);
    assert_eq!(ctx().blob_to_kzg_commitment(&b), Err(KzgError::NonCanonicalFieldElement { what: "blob", index: 5 }));
    let not_on_curve = {
        let mut p = [0u8; 48];
        p[0] = 0x80;
        p[47] = 7;
        p
    };
    assert!(matches!(
        ctx().verify_kzg_proof(&not_on_curve, &[0; 32], &[0; 32], &not_on_curve),
        Err(KzgError::InvalidPoint { what: "commitment", .. })
    ));
    let cell = [0u8; 2048];
    let cells: Vec<&Cell> = vec![&cell; 64];
    let mut idx: Vec<u64> = (0..64).collect();
    idx[1] = 0;
    assert_eq!(ctx().recover_cells_and_kzg_proofs(&idx, &cells), Err(KzgError::DuplicateCellIndex { index: 0 }));
    idx[1] = 200;
    assert_eq!(ctx().recover_cells_and_kzg_proofs(&idx, &cells), Err(KzgError::CellIndexOutOfRange { index: 200 }));
    assert!(matches!(
        ctx().recover_cells_and_kzg_proofs(&idx[..63], &cells[..63]),
        Err(KzgError::WrongCellCount { got: 63, .. })
    ));
}

#[test]
fn recover_cells_gives_the_cells_of_recover_cells_and_kzg_proofs() {
    let cells = ctx().compute_cells(&blob(77)).unwrap();
    let idx: Vec<u64> = (0..128).filter(|i| i % 3 != 0).take(64).collect();
    let given: Vec<&Cell> = idx.iter().map(|&i| &cells[i as usize]).collect();
    assert_eq!(ctx().recover_cells(&idx, &given).unwrap(), cells);
    assert_eq!(ctx().recover_cells_and_kzg_proofs(&idx, &given).unwrap().0, cells);
    // The same input checks as the spec function.
    assert!(matches!(ctx().recover_cells(&idx[..63], &given[..63]), Err(KzgError::WrongCellCount { .. })));
    let mut dup = idx.clone();
    dup[1] = dup[0];
    assert!(matches!(ctx().recover_cells(&dup, &given), Err(KzgError::DuplicateCellIndex { .. })));
}

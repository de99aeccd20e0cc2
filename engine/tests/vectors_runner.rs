//! The `crema vectors` runner against crafted cases: it never panics, a case that expects
//! failure passes only when the input is refused (never on a device error), a malformed case
//! fails, and a walk neither loops nor runs a case twice.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ark_ec::AffineRepr;
use crema_engine::backend::Cpu;
use crema_engine::field::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use crema_engine::vectors::{self, CaseKind, Runner};
use crema_engine::{Backend, BackendError, Direction, G1Bases, Gf16Received};

/// A backend whose device fails every call, as a broken GPU would.
#[derive(Debug)]
struct Broken;

fn device(op: &'static str) -> BackendError {
    BackendError::Device { op, reason: "the device was lost".into() }
}

impl Backend for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn gf16_encode(&self, _: &[&[u8]], _: usize) -> Result<Vec<Vec<u8>>, BackendError> {
        Err(device("gf16_encode"))
    }
    fn gf16_decode(&self, _: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
        Err(device("gf16_decode"))
    }
    fn ntt(&self, _: &mut [Fr], _: usize, _: Direction, _: Option<Fr>) -> Result<(), BackendError> {
        Err(device("ntt"))
    }
    fn msm_g1(&self, _: &G1Bases, _: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        Err(device("msm_g1"))
    }
    fn sum_g1(&self, _: &[&[G1Affine]]) -> Result<Vec<G1Projective>, BackendError> {
        Err(device("sum_g1"))
    }
    fn sum_g2(&self, _: &[&[G2Affine]]) -> Result<Vec<G2Projective>, BackendError> {
        Err(device("sum_g2"))
    }
    fn merkle_leaves(&self, _: &[&[u8]]) -> Result<Vec<[u8; 32]>, BackendError> {
        Err(device("merkle_leaves"))
    }
}

fn kzg(function: &str) -> CaseKind {
    CaseKind::Kzg { function: function.into() }
}

fn zero_blob() -> String {
    format!("0x{}", "00".repeat(crema_engine::kzg::BYTES_PER_BLOB))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crema-vectors-runner-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_case(root: &Path, function: &str, case: &str, yaml: &str) -> PathBuf {
    let dir = root.join(function).join("suite").join(case);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.yaml");
    fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn an_expected_failure_does_not_pass_on_a_device_error() {
    // A valid blob with `output: null`: a working backend computes a commitment (so the case
    // fails as "expected failure"), and a broken one must fail it too, naming the device error,
    // instead of counting the error as the expected refusal.
    let yaml = format!("input:\n  blob: '{}'\noutput: null\n", zero_blob());
    let broken = Runner::new(Arc::new(Broken)).run_text(&kzg("blob_to_kzg_commitment"), &yaml);
    let reason = broken.expect_err("a device error is no expected failure");
    assert!(reason.contains("device"), "{reason}");
    let cpu = Runner::new(Arc::new(Cpu::new())).run_text(&kzg("blob_to_kzg_commitment"), &yaml);
    assert!(cpu.expect_err("the call succeeds").contains("expected failure"));

    // A refused input still passes on the broken backend: it is refused before any device work.
    let non_canonical =
        format!("input:\n  blob: '0x{}'\noutput: null\n", "ff".repeat(crema_engine::kzg::BYTES_PER_BLOB));
    Runner::new(Arc::new(Broken)).run_text(&kzg("blob_to_kzg_commitment"), &non_canonical).unwrap();

    // BLS: an aggregation the device cannot do fails the case whatever it expects.
    let sig = hex::encode(crema_engine::field::g2_to_bytes(&G2Affine::generator()));
    let json = format!("{{\"input\": [\"0x{sig}\"], \"output\": null}}");
    let bls = Runner::new(Arc::new(Broken)).run_text(&CaseKind::Bls { handler: "aggregate".into() }, &json);
    assert!(bls.expect_err("device error").contains("device"));
}

#[test]
fn a_multibyte_character_at_the_summary_cut_is_no_panic() {
    // The failure message shows the first 200 characters of the expected output; a 2-byte
    // character straddling byte 200 used to panic (`&s[..200]`).
    for pad in 190..=202 {
        let output = format!("{}{}", "a".repeat(pad), "é".repeat(20));
        let yaml = format!("input:\n  blob: '0x00'\noutput: '{output}'\n");
        let reason = Runner::new(Arc::new(Cpu::new())).run_text(&kzg("blob_to_kzg_commitment"), &yaml).unwrap_err();
        assert!(reason.starts_with("input refused, expected"), "{reason}");
        assert!(reason.ends_with('…'), "{reason}");
    }
}

#[test]
fn malformed_cases_fail_instead_of_passing_as_refusals() {
    let runner = Runner::new(Arc::new(Cpu::new()));
    let cases = [
        ("blob_to_kzg_commitment", "input: {}\noutput: null\n", "malformed"),
        ("blob_to_kzg_commitment", "input:\n  blob: 7\noutput: null\n", "malformed"),
        ("blob_to_kzg_commitment", "output: null\n", "no \"input\""),
        ("blob_to_kzg_commitment", "input: {blob: '0x00'}\n", "no \"output\""),
        ("recover_cells_and_kzg_proofs", "input: {cell_indices: 3, cells: []}\noutput: null\n", "malformed"),
        ("recover_cells_and_kzg_proofs", "input: {cell_indices: ['x'], cells: []}\noutput: null\n", "malformed"),
        ("blob_to_kzg_commitment", "[unclosed", "bad yaml"),
        ("no_such_function", "input: {}\noutput: null\n", "unknown KZG function"),
    ];
    for (function, yaml, want) in cases {
        let reason = runner.run_text(&kzg(function), yaml).expect_err(yaml);
        assert!(reason.contains(want), "{yaml:?}: {reason}");
    }
    // Refusals that the public suites rely on still pass: bad hex, a wrong length, a negative index.
    for yaml in [
        "input: {blob: '0xzz'}\noutput: null\n",
        "input: {blob: '0x00'}\noutput: null\n",
        "input: {cell_indices: [-1], cells: ['0x00']}\noutput: null\n",
    ] {
        let function =
            if yaml.contains("cell_indices") { "recover_cells_and_kzg_proofs" } else { "blob_to_kzg_commitment" };
        runner.run_text(&kzg(function), yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"));
    }
}

#[test]
fn a_walk_runs_each_case_once_and_ends_on_a_symlink_loop() {
    let root = scratch("walk");
    let yaml = "input: {blob: '0x00'}\noutput: null\n";
    write_case(&root, "blob_to_kzg_commitment", "short", yaml);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&root, root.join("blob_to_kzg_commitment/loop")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("again")).unwrap();
    }
    let paths = [root.clone(), root.clone(), root.join("blob_to_kzg_commitment")];
    let outcome = vectors::run(&paths, Arc::new(Cpu::new()), |f| panic!("{}: {}", f.path.display(), f.reason)).unwrap();
    assert_eq!(outcome.total(), 1, "{}", outcome.summary());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_oversized_case_file_is_refused_unread() {
    let root = scratch("big");
    let path = write_case(&root, "blob_to_kzg_commitment", "big", "");
    fs::File::create(&path).unwrap().set_len(vectors::MAX_CASE_BYTES + 1).unwrap();
    let mut reasons = Vec::new();
    let outcome =
        vectors::run(std::slice::from_ref(&root), Arc::new(Cpu::new()), |f| reasons.push(f.reason.clone())).unwrap();
    assert_eq!((outcome.passed, reasons.len()), (0, 1));
    assert!(reasons[0].contains("limit"), "{reasons:?}");
    fs::remove_dir_all(&root).unwrap();
}

//! Runs the public ethereum bls12-381-tests cases (`../shared/vectors/bls`, when present) and
//! the repo's own py_ecc-generated cases (`fixtures/bls`) through the `crema vectors` runner,
//! on every backend.

use std::path::{Path, PathBuf};

use crema_engine::backend::Cpu;
use crema_engine::backend::Reference;
use crema_engine::vectors;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/bls");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bls");

fn run_all(dir: &Path, backend: &dyn crema_engine::Backend) -> vectors::Outcome {
    let outcome =
        vectors::run(&[PathBuf::from(dir)], backend, |f| eprintln!("FAIL {}: {}", f.path.display(), f.reason))
            .expect("vector directory is readable");
    eprintln!("{} on {}: {}", dir.display(), backend.name(), outcome.summary());
    outcome
}

#[test]
fn shared_bls_vectors_all_pass() {
    let dir = Path::new(SHARED);
    if !dir.is_dir() {
        eprintln!("SKIPPED: {SHARED} is absent; the public bls12-381-tests vectors were not run");
        return;
    }
    for outcome in [run_all(dir, &Cpu::new()), run_all(dir, &Reference::new())] {
        assert_eq!(outcome.failures, vec![], "every public BLS case must pass");
        assert!(outcome.total() >= 60, "expected at least 60 public cases, found {}", outcome.total());
    }
}

#[test]
fn fixture_bls_cases_all_pass() {
    let outcome = run_all(Path::new(FIXTURES), &Cpu::new());
    assert_eq!(outcome.failures, vec![], "every fixture case must pass");
    assert!(outcome.total() >= 20, "expected the committed fixtures, found {} cases", outcome.total());
}

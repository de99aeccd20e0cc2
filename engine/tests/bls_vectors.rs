//! Runs the public ethereum bls12-381-tests cases (`../shared/vectors/bls`, when present) and
//! the repo's own py_ecc-generated cases (`fixtures/bls`) through the `crema vectors` runner,
//! on every backend.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crema_engine::backend::{Cpu, Reference};
use crema_engine::{Backend, vectors};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/bls");

fn run_all(dir: &Path, backend: Arc<dyn Backend>) -> vectors::Outcome {
    let name = backend.name();
    let outcome =
        vectors::run(&[PathBuf::from(dir)], backend, |f| eprintln!("FAIL {}: {}", f.path.display(), f.reason))
            .expect("vector directory is readable");
    eprintln!("{} on {name}: {}", dir.display(), outcome.summary());
    outcome
}

#[test]
fn shared_bls_vectors_all_pass() {
    let Some(dir) = common::shared_vectors("bls") else { return };
    for outcome in [run_all(&dir, Arc::new(Cpu::new())), run_all(&dir, Arc::new(Reference::new()))] {
        assert_eq!(outcome.failures, vec![], "every public BLS case must pass");
        assert!(outcome.total() >= 60, "expected at least 60 public cases, found {}", outcome.total());
    }
}

#[test]
fn fixture_bls_cases_all_pass() {
    let outcome = run_all(Path::new(FIXTURES), Arc::new(Cpu::new()));
    assert_eq!(outcome.failures, vec![], "every fixture case must pass");
    assert!(outcome.total() >= 20, "expected the committed fixtures, found {} cases", outcome.total());
}

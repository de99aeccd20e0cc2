//! Every c-kzg-4844 / consensus-spec-tests KZG case under `../shared/vectors/kzg` must pass on
//! the cpu backend. Skips loudly when the vectors are absent (fails under `CI=true`).

use crate::common;

use crema_engine::BackendChoice;
use crema_engine::vectors::{self, CaseKind};

#[test]
fn all_kzg_reference_vectors_pass() {
    let Some(root) = common::shared_vectors("kzg") else { return };
    let cases = vectors::collect(std::slice::from_ref(&root)).expect("walk vectors");
    let functions: std::collections::BTreeSet<_> = cases
        .iter()
        .filter_map(|(_, k)| match k {
            CaseKind::Kzg { function } => Some(function.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(functions.len(), vectors::kzg::FUNCTIONS.len(), "every function folder has cases: {functions:?}");
    let backend = BackendChoice::Cpu.build().expect("cpu backend");
    let outcome =
        vectors::run(&[root], backend, |f| eprintln!("FAIL {}: {}", f.path.display(), f.reason)).expect("run vectors");
    eprintln!("{}", outcome.summary());
    assert!(outcome.total() >= 300, "only {} cases found", outcome.total());
    assert!(outcome.failures.is_empty(), "{}", outcome.summary());
}

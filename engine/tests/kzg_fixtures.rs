//! The repo's own ckzg-generated fixtures (`fixtures/kzg`) must all pass on the cpu backend.

use std::path::PathBuf;

use crema_engine::BackendChoice;
use crema_engine::vectors;

#[test]
fn ckzg_fixtures_pass() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/kzg"));
    let backend = BackendChoice::Cpu.build().expect("cpu backend");
    let outcome =
        vectors::run(&[root], backend, |f| eprintln!("FAIL {}: {}", f.path.display(), f.reason)).expect("run fixtures");
    eprintln!("{}", outcome.summary());
    // 10 functions (the two *_challenge ones have no ckzg binding), two cases each.
    assert_eq!(outcome.total(), 20, "{}", outcome.summary());
    assert!(outcome.failures.is_empty(), "{}", outcome.summary());
}

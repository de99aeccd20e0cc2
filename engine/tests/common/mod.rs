//! Helpers shared by the integration test files: where the team's reference data lives, and what a
//! test does when it is absent.

use std::path::PathBuf;

/// `../shared/vectors/<name>` (beside the repo), when it exists. When it does not, a loud skip
/// on a developer's machine; under `CI=true` a panic, so a CI run without the reference suite
/// fails instead of passing on the repo's own fixtures alone.
pub fn shared_vectors(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors")).join(name);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but the reference data {} is missing", path.display());
    }
    eprintln!("!!!!!!!! SKIPPING: {} is absent; the public reference data was not checked !!!!!!!!", path.display());
    None
}
